import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  agentInputSubjects,
  dlqSubject,
  ID_PATTERN,
  outputSubject,
  parseSubject,
  type SubjectAddress,
  tenantInputFilter,
} from '../../src/domain/index.ts';
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

  // The contract read literally: split at dots, each id matched by ID_PATTERN. parseSubject scans
  // the subject once instead (it runs for every input) and must say exactly the same.
  function byTheContract(subject: string): SubjectAddress | null {
    const parts = subject.split('.');
    const [wfm, kind, tenant, site, agentId] = parts;
    if (wfm !== 'wfm' || tenant === undefined || site === undefined) return null;
    if (!ID_PATTERN.test(tenant) || !ID_PATTERN.test(site)) return null;
    if (kind === 'clock' || kind === 'command') return parts.length === 4 ? { kind, tenant, site } : null;
    if (kind !== 'stat' && kind !== 'schedule') return null;
    if (parts.length !== 5 || agentId === undefined || !ID_PATTERN.test(agentId)) return null;
    return { kind, tenant, site, agentId };
  }

  it.each([
    'wfm.stat.T1.S1.A1.',
    'wfm.stat.T1.S1.',
    'wfm.stat..S1.A1',
    'wfm.clock.T1.S1.',
    'wfm.clock.T1.',
    'wfm.command.T1.S1',
    'wfm.command.T1.S1.A1',
    'wfm.stat.T1.S1.A-_9z',
    `wfm.stat.T1.S1.${'a'.repeat(64)}`,
    `wfm.stat.T1.S1.${'a'.repeat(65)}`,
    `wfm.stat.${'t'.repeat(65)}.S1.A1`,
    'wfm.stat.T1.S 1.A1',
    'wfm.stat.T1.S1.Ä1',
    'wfm.',
    'wfm..',
    'wfmx.stat.T1.S1.A1',
  ])('reads %j as the contract does', (s) => {
    expect(parseSubject(s)).toEqual(byTheContract(s));
  });

  it('reads any subject as the contract does', () => {
    const token = fc.oneof(
      fc.constantFrom('wfm', 'stat', 'schedule', 'clock', 'command', 'T1', 'S1', 'A1', ''),
      fc.stringMatching(/^[A-Za-z0-9_-]{60,66}$/),
      fc.string({ unit: fc.constantFrom('a', 'Z', '0', '_', '-', ' ', 'ä', '*', '>', '/'), maxLength: 6 }),
    );
    const subject = fc.array(token, { minLength: 1, maxLength: 7 }).map((parts) => parts.join('.'));
    const wellFormed = fc
      .tuple(
        fc.constantFrom('stat', 'schedule', 'clock', 'command', 'gc'),
        fc.array(fc.stringMatching(/^[A-Za-z0-9_-]{0,3}$/), { minLength: 1, maxLength: 4 }),
      )
      .map(([kind, ids]) => ['wfm', kind, ...ids].join('.'));
    fc.assert(
      fc.property(fc.oneof(subject, wellFormed), (s) => {
        expect(parseSubject(s)).toEqual(byTheContract(s));
      }),
      { numRuns: 5000 },
    );
  });

  it('output, dlq and filter subjects', () => {
    expect(outputSubject(gcOut('A1', 'BUSY', 'OFF_QUEUE', 0, 1))).toBe('wfm.gc.T1.S1.A1');
    expect(dlqSubject('T1')).toBe('wfm.dlq.T1');
    expect(tenantInputFilter('T1')).toBe('wfm.*.T1.>');
  });

  it("an agent's input subjects are the ones parsed as that agent's schedule and statistics", () => {
    const subjects = agentInputSubjects('T1', 'S1', 'A1');
    expect(subjects).toEqual(['wfm.schedule.T1.S1.A1', 'wfm.stat.T1.S1.A1']);
    expect(subjects.map(parseSubject)).toEqual([
      { kind: 'schedule', tenant: 'T1', site: 'S1', agentId: 'A1' },
      { kind: 'stat', tenant: 'T1', site: 'S1', agentId: 'A1' },
    ]);
  });
});
