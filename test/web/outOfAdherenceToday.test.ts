/**
 * The grid's "min out today": an agent's out-of-adherence time over its site's local day so far,
 * from the exceptions its context keeps and its running stretch — not only its open intervals,
 * which hold the last quarter of an hour or so (the agent context comes from the pure agent core).
 */
import { describe, expect, it } from 'vitest';
import { AGENT_HISTORY_MAX, localDayStart } from '../../src/domain/index.ts';
import { agentRow, outOfAdherenceSecs } from '../../src/web/index.ts';
import { AgentHarness, utc } from '../helpers/agentScenario.ts';

const MIN = 60_000;
const yesterday = (h: number, m: number) => utc(h, m) - 24 * 60 * MIN;

/**
 * On queue all day, with its out-of-adherence stretches (NotReady while OnQueueWork is scheduled):
 * 23:50–00:10 across midnight (UTC), 08:00–08:20 and, running, from 10:05; site time 10:10.
 */
function dayOfAgent(): AgentHarness {
  const a = new AgentHarness();
  a.schedule(yesterday(0, 0), utc(23, 59), [
    { start: yesterday(0, 0), end: utc(23, 59), category: 'OnQueueWork' },
  ]);
  a.state('Ready', yesterday(23, 0));
  a.state('NotReady', yesterday(23, 50));
  a.state('Ready', utc(0, 10));
  a.state('NotReady', utc(8, 0));
  a.state('Ready', utc(8, 20));
  a.state('NotReady', utc(10, 5));
  a.advance(utc(10, 10));
  return a;
}

describe('out of adherence today', () => {
  it('counts the stretches of the site day so far, the closed intervals of the morning included', () => {
    const a = dayOfAgent();
    // The morning's intervals are closed and gone from the context: only today's open one is left.
    expect(a.ctx.intervals.map((i) => i.start)).toEqual([utc(10, 0)]);
    expect(a.ctx.exceptions.map((e) => [e.start, e.end])).toEqual([
      [yesterday(23, 50), utc(0, 10)],
      [utc(8, 0), utc(8, 20)],
    ]);
    const now = utc(10, 10);
    // UTC: 10 minutes after midnight, 20 in the morning, 5 running.
    expect(outOfAdherenceSecs(a.ctx, now, localDayStart(now, 'UTC'))).toBe((10 + 20 + 5) * 60);
    // Paris (UTC+1): its day began at 23:00 UTC, so the whole stretch across midnight is today's.
    expect(outOfAdherenceSecs(a.ctx, now, localDayStart(now, 'Europe/Paris'))).toBe((20 + 20 + 5) * 60);
    const row = agentRow('S1', 'primary', a.ctx, now, localDayStart(now, 'UTC'));
    expect(row).toMatchObject({
      adherenceState: 'OutOfAdherence',
      secondsInState: 300,
      outOfAdherenceTodaySecs: 2100,
    });
  });

  it('counts a running stretch from its start before it is an exception, and from midnight when older', () => {
    const a = new AgentHarness();
    a.schedule(yesterday(0, 0), utc(23, 59), [
      { start: yesterday(0, 0), end: utc(23, 59), category: 'OnQueueWork' },
    ]);
    a.state('NotReady', yesterday(23, 30));
    a.advance(utc(0, 0, 30));
    // Out since 23:30 yesterday: today has 30 seconds of it, under the 60-second threshold or not.
    expect(outOfAdherenceSecs(a.ctx, utc(0, 0, 30), utc(0, 0))).toBe(30);
    expect(outOfAdherenceSecs(a.ctx, utc(0, 0, 30), yesterday(0, 0))).toBe(30 * 60 + 30);
    // Before the site has an event time there is no day.
    expect(outOfAdherenceSecs(a.ctx, -1, -1)).toBe(0);
  });

  it(`leaves out the earliest when a day had more than the ${AGENT_HISTORY_MAX} exceptions an agent keeps`, () => {
    const a = new AgentHarness();
    a.schedule(utc(0, 0), utc(23, 59), [{ start: utc(0, 0), end: utc(23, 59), category: 'OnQueueWork' }]);
    a.state('Ready', utc(0, 0));
    // 60 stretches of 2 minutes, 5 minutes apart, from 01:00.
    for (let i = 0; i < 60; i++) {
      a.state('NotReady', utc(1, 0) + i * 5 * MIN);
      a.state('Ready', utc(1, 2) + i * 5 * MIN);
    }
    expect(a.ctx.exceptions).toHaveLength(AGENT_HISTORY_MAX);
    expect(outOfAdherenceSecs(a.ctx, utc(12, 0), utc(0, 0))).toBe(AGENT_HISTORY_MAX * 2 * 60);
  });
});
