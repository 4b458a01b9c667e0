/**
 * `InputCut` follows the site's event time by `SiteSupervisor`'s own rule, so an export ends exactly
 * where the live site's event time first reached `to + margin`: checked against a real supervisor
 * on generated input (states, reasons, clock ticks, schedules, commands, late and invalid messages,
 * clock errors a month ahead), and on hand-made cases.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InputCut, SiteReplay } from '../../src/actors/index.ts';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import {
  clockMsg,
  reasonMsg,
  scheduleMsg,
  stateMsg,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';

const DAY = 86_400_000;
const decode = (m: WireMessage) => decodeInput(m.subject, m.data, defaultDecodeOptions);

const step = fc.oneof(
  fc.record({ kind: fc.constant('state' as const), dt: fc.integer({ min: -90_000, max: 120_000 }) }),
  fc.record({ kind: fc.constant('reason' as const), dt: fc.integer({ min: -90_000, max: 120_000 }) }),
  fc.record({ kind: fc.constant('clock' as const), dt: fc.integer({ min: -5_000, max: 60_000 }) }),
  fc.record({ kind: fc.constant('jump' as const), dt: fc.constant(40 * DAY) }),
  fc.record({ kind: fc.constant('schedule' as const), dt: fc.constant(0) }),
  fc.record({ kind: fc.constant('command' as const), dt: fc.constant(90 * DAY) }),
  fc.record({ kind: fc.constant('badStatus' as const), dt: fc.integer({ min: 0, max: 60_000 }) }),
);

function message(kind: string, ts: number, i: number): WireMessage {
  const agent = `A${i % 3}`;
  switch (kind) {
    case 'state':
      return stateMsg(agent, 'Ready', null, ts);
    case 'reason':
      return reasonMsg(agent, 'Break', ts);
    case 'schedule':
      return scheduleMsg(agent, ts, ts + DAY, [{ start: ts, end: ts + 3_600_000, category: 'Meal' }]);
    case 'command':
      return {
        subject: 'wfm.command.T1.S1',
        data: JSON.stringify({
          command: 'transfer',
          id: `x${i}`,
          from: 'A0',
          to: 'A1',
          ts,
          requestedBy: 'op',
        }),
      };
    case 'badStatus':
      return {
        subject: `wfm.stat.T1.S1.${agent}`,
        data: JSON.stringify({
          statistic: 'CurrentState',
          agentId: agent,
          status: 'Away',
          callType: null,
          ts,
        }),
      };
    default:
      return clockMsg(ts);
  }
}

describe('InputCut', () => {
  it('admits exactly the prefix in which the supervisor’s event time stays below to + margin', () => {
    fc.assert(
      fc.property(
        fc.array(step, { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 3_000_000 }),
        fc.integer({ min: 0, max: 600_000 }),
        (steps, toOffset, marginMs) => {
          let ts = utc(9, 0);
          const messages = steps.map((s, i) => {
            // A clock error or a command's admin clock leaves the traffic's time where it was.
            if (s.kind === 'jump' || s.kind === 'command') return message(s.kind, ts + s.dt, i);
            ts = Math.max(0, ts + s.dt);
            return message(s.kind, ts, i);
          });
          const to = utc(9, 0) + toOffset;
          const cut = new InputCut({ to, marginMs });
          const replay = new SiteReplay({ agent: { tenant: 'T1', site: 'S1' }, decode: {} });
          let admittedAll = true;
          messages.forEach((m, i) => {
            const admitted = cut.admits(decode(m));
            replay.apply({ seq: i + 1, subject: m.subject, data: new TextEncoder().encode(m.data) });
            // A message belongs to the prefix iff the site's event time after it is below the limit
            // and every message before it belonged too.
            admittedAll &&= replay.siteTime < to + marginMs;
            expect(admitted).toBe(admittedAll);
            if (admitted) expect(cut.siteTime).toBe(replay.siteTime);
            expect(cut.ended).toBe(!admittedAll);
          });
          replay.stop();
        },
      ),
      { numRuns: 300 },
    );
  });

  it('ends at the first tick reaching the limit, and admits nothing after it', () => {
    const cut = new InputCut({ to: utc(10, 0), marginMs: 60_000 });
    expect(cut.siteTime).toBe(-1);
    expect(cut.admits(decode(stateMsg('A1', 'Ready', null, utc(9, 0))))).toBe(true);
    expect(cut.admits(decode(clockMsg(utc(10, 0, 59, 999))))).toBe(true);
    // A clock error a month ahead moves nothing: the supervisor refuses it (bad_ts).
    expect(cut.admits(decode(clockMsg(utc(10, 0) + 40 * DAY)))).toBe(true);
    expect(cut.admits(decode(scheduleMsg('A1', utc(11, 0), utc(12, 0), [])))).toBe(true);
    expect(cut.siteTime).toBe(utc(10, 0, 59, 999));
    expect(cut.admits(decode(clockMsg(utc(10, 1))))).toBe(false);
    expect(cut.ended).toBe(true);
    expect(cut.admits(decode(scheduleMsg('A1', utc(11, 0), utc(12, 0), [])))).toBe(false);
    expect(cut.admits(decode(clockMsg(utc(9, 0))))).toBe(false);
  });

  it('without to admits everything', () => {
    const cut = new InputCut();
    expect(cut.admits(decode(clockMsg(utc(23, 0))))).toBe(true);
    expect(cut.admits(decode(clockMsg(utc(23, 0) + 30 * DAY)))).toBe(true);
    expect(cut.ended).toBe(false);
    expect(() => new InputCut({ to: 0, marginMs: -1 })).toThrow(
      new RangeError('marginMs must be a non-negative integer, got -1'),
    );
  });
});
