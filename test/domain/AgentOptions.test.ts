import { describe, expect, it } from 'vitest';
import { defaultAgentOptions, resolveAgentOptions } from '../../src/domain/index.ts';

describe('resolveAgentOptions', () => {
  it('defaults', () => {
    expect(defaultAgentOptions).toEqual({
      mappedReasons: ['Break', 'Meal', 'Meeting', 'Training'],
      adherenceExceptionThresholdSeconds: 60,
      nonOnQueueActivitiesEquivalent: false,
      intervalMinutes: 15,
      offsetMinutes: 0,
    });
    const r = resolveAgentOptions({ tenant: 'T1', site: 'S1' });
    expect(r.thresholdMs).toBe(60_000);
    expect([...r.mappedReasonSet]).toEqual(['Break', 'Meal', 'Meeting', 'Training']);
    expect(r.profile.entries).toEqual([{ from: null, intervalMinutes: 15, offsetMinutes: 0 }]);
  });

  it('overrides', () => {
    const r = resolveAgentOptions({
      tenant: 'T1',
      site: 'S1',
      mappedReasons: ['Break'],
      adherenceExceptionThresholdSeconds: 0,
      intervalMinutes: 30,
      offsetMinutes: 5,
    });
    expect(r.thresholdMs).toBe(0);
    expect([...r.mappedReasonSet]).toEqual(['Break']);
    expect(r.profile.entries).toEqual([{ from: null, intervalMinutes: 30, offsetMinutes: 5 }]);
  });

  it('rejects a reason that has no presence of its own', () => {
    expect(() => resolveAgentOptions({ tenant: 'T1', site: 'S1', mappedReasons: ['Personal'] })).toThrow(
      new RangeError('mappedReasons: Personal is not one of Break, Meal, Meeting, Training'),
    );
    expect(() => resolveAgentOptions({ tenant: 'T1', site: 'S1', mappedReasons: ['toString'] })).toThrow(
      RangeError,
    );
  });

  it.each([-1, 1.5, Number.NaN])('rejects threshold %s', (t) => {
    expect(() =>
      resolveAgentOptions({ tenant: 'T1', site: 'S1', adherenceExceptionThresholdSeconds: t }),
    ).toThrow(new RangeError(`adherenceExceptionThresholdSeconds must be a non-negative integer, got ${t}`));
  });

  it('rejects a bad time profile', () => {
    expect(() => resolveAgentOptions({ tenant: 'T1', site: 'S1', intervalMinutes: 7 })).toThrow(RangeError);
    expect(() => resolveAgentOptions({ tenant: 'T1', site: 'S1', offsetMinutes: 15 })).toThrow(RangeError);
  });
});
