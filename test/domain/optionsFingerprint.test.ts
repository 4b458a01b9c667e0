import { describe, expect, it } from 'vitest';
import { optionsFingerprint, resolveAgentOptions } from '../../src/domain/index.ts';

describe('optionsFingerprint', () => {
  it('is a stable text of exactly the options that decide outputs', () => {
    expect(optionsFingerprint(resolveAgentOptions({ tenant: 'T1', site: 'S1' }))).toBe(
      '{"mappedReasons":["Break","Meal","Meeting","Training"],"adherenceExceptionThresholdSeconds":60,' +
        '"nonOnQueueActivitiesEquivalent":false,"intervalMinutes":15,"offsetMinutes":0}',
    );
  });

  it('does not depend on the order of mapped reasons, repeats, or the tenant and site', () => {
    const a = resolveAgentOptions({ tenant: 'T1', site: 'S1', mappedReasons: ['Meal', 'Break'] });
    const b = resolveAgentOptions({ tenant: 'T2', site: 'S9', mappedReasons: ['Break', 'Meal', 'Break'] });
    expect(optionsFingerprint(b)).toBe(optionsFingerprint(a));
  });

  it.each([
    ['mappedReasons', { mappedReasons: ['Break'] }],
    ['adherenceExceptionThresholdSeconds', { adherenceExceptionThresholdSeconds: 30 }],
    ['nonOnQueueActivitiesEquivalent', { nonOnQueueActivitiesEquivalent: true }],
    ['intervalMinutes', { intervalMinutes: 30 }],
    ['offsetMinutes', { offsetMinutes: 5 }],
  ])('changes with %s', (_name, change) => {
    const base = resolveAgentOptions({ tenant: 'T1', site: 'S1' });
    expect(optionsFingerprint(resolveAgentOptions({ tenant: 'T1', site: 'S1', ...change }))).not.toBe(
      optionsFingerprint(base),
    );
  });
});
