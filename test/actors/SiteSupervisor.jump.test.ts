import { describe, expect, it } from 'vitest';
import { MAX_FORWARD_JUMP_MS, SiteSupervisor } from '../../src/actors/index.ts';
import { type Decoded, decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const DAY = 86_400_000;
const decode = (subject: string, payload: unknown): Decoded =>
  decodeInput(subject, JSON.stringify(payload), defaultDecodeOptions);
const stat = (agentId: string, status: string, ts: number) =>
  decode(`wfm.stat.T1.S1.${agentId}`, { statistic: 'CurrentState', agentId, status, callType: null, ts });
const clock = (ts: number) => decode('wfm.clock.T1.S1', { ts });

describe('SiteSupervisor: event-time jumps', () => {
  it('refuses a stat or clock ts more than 31 days past the site time as bad_ts, and keeps going', () => {
    const site = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
    site.process(1, 'wfm.stat.T1.S1.a1', stat('a1', 'LoggedOff', T0));
    const tooFar = T0 + MAX_FORWARD_JUMP_MS + 1;
    expect(site.process(2, 'wfm.clock.T1.S1', clock(tooFar))).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: 'T1',
          seq: 2,
          ordinal: 0,
          subject: 'wfm.clock.T1.S1',
          reason: 'bad_ts',
          detail: `ts ${tooFar} jumps more than 31 days past the site's event time ${T0}`,
        },
      ],
    });
    expect(site.siteTime).toBe(T0);
    expect(
      site.process(3, 'wfm.stat.T1.S1.a1', stat('a1', 'Ready', T0 + 60_000)).outputs.map((o) => o.kind),
    ).toEqual(['gc', 'adherence']);
  });

  it('crosses 30 days of an offline, unscheduled agent with no interval records but the ones with time', () => {
    const site = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
    site.process(1, 'wfm.stat.T1.S1.a1', stat('a1', 'Ready', T0));
    site.process(2, 'wfm.stat.T1.S1.a1', stat('a1', 'LoggedOff', T0 + 5 * 60_000));
    const result = site.process(3, 'wfm.clock.T1.S1', clock(T0 + 30 * DAY));
    // Only 09:00 had logged-in time; the ~2,880 offline intervals after it produce nothing.
    expect(
      result.outputs.map((o) => [o.kind, o.kind === 'interval' ? o.payload.intervalStart : null]),
    ).toEqual([['interval', T0]]);
    // Agents advance to their due deadlines: the last one is the close of 30 d − 30 min at −14 min.
    const [agent] = [...site.agents()];
    expect(agent?.context.acctTs).toBe(T0 + 30 * DAY - 14 * 60_000);
    expect(agent?.context.intervals.map((i) => i.start)).toEqual([T0 + 30 * DAY - 15 * 60_000]);
  });
});

describe('SiteSupervisor: an input the core cannot handle', () => {
  it('goes to the DLQ as internal_error; the agent keeps its state and every agent keeps going', () => {
    const site = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
    site.process(1, 'wfm.stat.T1.S1.a1', stat('a1', 'Ready', T0));
    // Not reachable through decodeInput (it validates schedules); built by hand to make the core throw.
    const broken = {
      ok: true,
      address: { kind: 'schedule', tenant: 'T1', site: 'S1', agentId: 'a1' },
      event: { type: 'schedule', agentId: 'a1', from: T0, to: T0 + DAY, activities: null },
    } as unknown as Decoded;
    const result = site.process(2, 'wfm.schedule.T1.S1.a1', broken);
    expect(result.outputs).toEqual([]);
    expect(result.dlq).toHaveLength(1);
    expect(result.dlq[0]).toMatchObject({
      seq: 2,
      subject: 'wfm.schedule.T1.S1.a1',
      reason: 'internal_error',
    });
    expect(
      site.process(3, 'wfm.stat.T1.S1.a1', stat('a1', 'NotReady', T0 + 60_000)).outputs.map((o) => o.kind),
    ).toEqual(['gc', 'adherence']);
    expect(
      site.process(4, 'wfm.stat.T1.S1.a2', stat('a2', 'Ready', T0 + 60_000)).outputs.map((o) => o.kind),
    ).toEqual(['gc', 'adherence']);
  });
});
