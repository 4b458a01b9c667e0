import { describe, expect, it } from 'vitest';
import { type SiteCapture, type SiteSnapshot, SiteSupervisor } from '../../src/actors/index.ts';
import type { AgentOptions } from '../../src/domain/index.ts';
import {
  act,
  clockMsg,
  feed,
  intervalOut,
  SITE,
  scheduleMsg,
  stateMsg,
  TENANT,
  utc,
} from '../helpers/agentScenario.ts';

type Grid = Pick<AgentOptions, 'intervalMinutes' | 'offsetMinutes'>;

function site(grid: Grid, snapshot?: SiteSnapshot): SiteSupervisor {
  return new SiteSupervisor({ tenant: TENANT, site: SITE, ...grid }, snapshot);
}

/** What a checkpoint store gives back for a capture (JSON all the way). */
function loaded(capture: SiteCapture): SiteSnapshot {
  return JSON.parse(JSON.stringify(capture));
}

const onQueue = (intervalStart: number, seconds: number, sourceSeq: number) => ({
  intervalStart,
  secondsByPresence: { ON_QUEUE: seconds },
  adherenceScheduleSecs: 0,
  exceptionDurationSecs: 0,
  adherencePercentage: null,
  conformanceScheduleSecs: 0,
  conformanceActualSecs: seconds,
  conformancePercentage: null,
  sourceSeq,
});

describe('SiteSupervisor: a site restarted with a new time profile', () => {
  it('15 -> 30 minutes at site time 10:07: 10:00 and 10:15 stay 15-minute records, then 10:30-11:00 is one', () => {
    const before = site({ intervalMinutes: 15, offsetMinutes: 0 });
    feed(before, [stateMsg('A1', 'Ready', null, utc(10, 0)), clockMsg(utc(10, 7))]);
    const after = site({ intervalMinutes: 30, offsetMinutes: 0 }, loaded(before.capture()));
    before.stop();
    expect(after.restoredOptionsChanged).toBe(true);
    expect(after.options.profile.entries).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
      { from: utc(10, 30), intervalMinutes: 30, offsetMinutes: 0 },
    ]);
    const results = feed(
      after,
      [
        clockMsg(utc(10, 16)), // 3: 10:00 closes (end 10:15 + 60 s)
        clockMsg(utc(10, 31)), // 4: 10:15 closes, still on the 15-minute grid
        stateMsg('A1', 'NotReady', null, utc(10, 40)), // 5
        clockMsg(utc(11, 0, 59)), // 6: 10:30-11:00 not closed yet (11:01)
        clockMsg(utc(11, 1)), // 7: closes
      ],
      3,
    );
    expect(results.map((r) => r.outputs.filter((o) => o.kind === 'interval'))).toEqual([
      [intervalOut('A1', onQueue(utc(10, 0), 900, 3), 0, 15)],
      [intervalOut('A1', onQueue(utc(10, 15), 900, 4), 0, 15)],
      [],
      [],
      [
        intervalOut(
          'A1',
          {
            intervalStart: utc(10, 30),
            secondsByPresence: { ON_QUEUE: 600, BUSY: 1200 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 600,
            conformancePercentage: null,
            sourceSeq: 7,
          },
          0,
          30,
        ),
      ],
    ]);
    expect(results.flatMap((r) => r.dlq)).toEqual([]);
    after.stop();
  });

  it('persists the history: a later restart under the same configuration gives the same grids', () => {
    const a = site({ intervalMinutes: 15, offsetMinutes: 0 });
    feed(a, [stateMsg('A1', 'Ready', null, utc(10, 0)), clockMsg(utc(10, 7))]);
    const b = site({ intervalMinutes: 30, offsetMinutes: 0 }, loaded(a.capture()));
    feed(b, [clockMsg(utc(10, 16))], 3);
    const capture = b.capture();
    expect(capture.site.profiles).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
      { from: utc(10, 30), intervalMinutes: 30, offsetMinutes: 0 },
    ]);
    // A crash restart: same configuration, from the checkpoint taken after the switch was decided.
    const c = site({ intervalMinutes: 30, offsetMinutes: 0 }, loaded(capture));
    expect(c.restoredOptionsChanged).toBe(false);
    expect(c.options.profile.entries).toEqual(capture.site.profiles);
    const rest = [clockMsg(utc(10, 31)), clockMsg(utc(11, 1)), clockMsg(utc(11, 31))];
    const fromB = feed(b, rest, 4);
    expect(feed(c, rest, 4)).toEqual(fromB);
    expect(
      fromB.map((r) => r.outputs.map((o) => (o.kind === 'interval' ? o.payload.intervalMinutes : null))),
    ).toEqual([[15], [30], [30]]);
    for (const s of [a, b, c]) s.stop();
  });

  it('a new offset off the old grid cuts the last old interval short at the switch point', () => {
    // 15/0 at 10:07 (interval ends 10:15); 60 minutes offset 10: boundaries 10:10, 11:10.
    const a = site({ intervalMinutes: 15, offsetMinutes: 0 });
    feed(a, [stateMsg('A1', 'Ready', null, utc(10, 0)), clockMsg(utc(10, 7))]);
    const b = site({ intervalMinutes: 60, offsetMinutes: 10 }, loaded(a.capture()));
    const results = feed(b, [clockMsg(utc(11, 11)), clockMsg(utc(12, 11))], 3);
    expect(results.map((r) => r.outputs)).toEqual([
      [
        intervalOut('A1', onQueue(utc(10, 0), 900, 3), 0, 15),
        intervalOut('A1', onQueue(utc(10, 15), 900, 3), 1, 15),
        intervalOut('A1', onQueue(utc(10, 30), 900, 3), 2, 15),
        intervalOut('A1', onQueue(utc(10, 45), 900, 3), 3, 15),
        // 11:00-11:10: cut short at the switch point; it keeps the grid it belongs to.
        intervalOut('A1', onQueue(utc(11, 0), 600, 3), 4, 15),
      ],
      [intervalOut('A1', onQueue(utc(11, 10), 3600, 4), 0, 60)],
    ]);
    a.stop();
    b.stop();
  });

  it('a site with no event time yet takes the new profile at once', () => {
    const a = site({ intervalMinutes: 15, offsetMinutes: 0 });
    feed(a, [scheduleMsg('A1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')])]);
    expect(a.siteTime).toBe(-1);
    const b = site({ intervalMinutes: 30, offsetMinutes: 0 }, loaded(a.capture()));
    expect(b.options.profile.entries).toEqual([{ from: null, intervalMinutes: 30, offsetMinutes: 0 }]);
    const results = feed(b, [stateMsg('A1', 'Ready', null, utc(10, 0)), clockMsg(utc(10, 31))], 2);
    expect(results[1]!.outputs).toEqual([
      intervalOut(
        'A1',
        {
          intervalStart: utc(10, 0),
          secondsByPresence: { ON_QUEUE: 1800 },
          adherenceScheduleSecs: 1800,
          exceptionDurationSecs: 0,
          adherencePercentage: 100,
          conformanceScheduleSecs: 1800,
          conformanceActualSecs: 1800,
          conformancePercentage: 100,
          sourceSeq: 3,
        },
        0,
        30,
      ),
    ]);
    a.stop();
    b.stop();
  });
});
