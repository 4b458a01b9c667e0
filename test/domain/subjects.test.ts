import { describe, expect, it } from 'vitest';
import { dlqSubject, outputSubject, parseSubject, tenantInputFilter } from '../../src/domain/index.ts';
import { gcOut } from '../helpers/agentScenario.ts';

describe('subjects', () => {
  it('parses the three input subjects', () => {
    expect(parseSubject('wfm.stat.T1.S1.A1')).toEqual({
      kind: 'stat',
      tenant: 'T1',
      site: 'S1',
      agentId: 'A1',
    });
    expect(parseSubject('wfm.schedule.T1.S1.A1')).toEqual({
      kind: 'schedule',
      tenant: 'T1',
      site: 'S1',
      agentId: 'A1',
    });
    expect(parseSubject('wfm.clock.T1.S1')).toEqual({ kind: 'clock', tenant: 'T1', site: 'S1' });
  });

  it.each([
    'wfm.stat.T1.S1',
    'wfm.clock.T1.S1.A1',
    'wfm.dlq.T1',
    'wfm.gc.T1.S1.A1',
    'x.stat.T1.S1.A1',
    'wfm',
  ])('refuses %j', (s) => {
    expect(parseSubject(s)).toBeNull();
  });

  it('output, dlq and filter subjects', () => {
    expect(outputSubject(gcOut('A1', 'BUSY', 'OFF_QUEUE', 0, 1))).toBe('wfm.gc.T1.S1.A1');
    expect(dlqSubject('T1')).toBe('wfm.dlq.T1');
    expect(tenantInputFilter('T1')).toBe('wfm.*.T1.>');
  });
});
