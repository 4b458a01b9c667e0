/**
 * intervalReport against a scripted day whose figures were worked out by hand (below, beside each
 * expectation): rows as stored, totals per agent and local day as sums of seconds, then the
 * percentage of the sums.
 */
import { describe, expect, it } from 'vitest';
import { type IntervalRecord, intervalReport } from '../../src/domain/index.ts';

const at = (iso: string) => Date.parse(iso);

function rec(
  site: string,
  agentId: string,
  start: string,
  f: Omit<IntervalRecord, 'site' | 'agentId' | 'intervalStart' | 'intervalMinutes' | 'sourceSeq'>,
): IntervalRecord {
  return { site, agentId, intervalStart: at(start), intervalMinutes: 15, sourceSeq: 1, ...f };
}

// Agent A1 at paris (Europe/Paris, UTC+1 in January). 09:00Z is DESIGN.md's worked example
// (10:00 local), 09:15Z its next interval.
const a1 = [
  rec('paris', 'A1', '2026-01-05T08:45:00Z', {
    secondsByPresence: { ON_QUEUE: 120 },
    adherenceScheduleSecs: 0,
    exceptionDurationSecs: 0,
    adherencePercentage: null,
    conformanceScheduleSecs: 0,
    conformanceActualSecs: 120,
    conformancePercentage: null,
  }),
  rec('paris', 'A1', '2026-01-05T09:00:00Z', {
    secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 30,
    adherencePercentage: 96.67,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 830,
    conformancePercentage: 92.22,
  }),
  rec('paris', 'A1', '2026-01-05T09:15:00Z', {
    secondsByPresence: { MEAL: 60, ON_QUEUE: 840 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 60,
    adherencePercentage: 93.33,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 840,
    conformancePercentage: 93.33,
  }),
  // The schedule ends at 09:31Z: one scheduled minute, all of it an exception.
  rec('paris', 'A1', '2026-01-05T09:30:00Z', {
    secondsByPresence: { BUSY: 900 },
    adherenceScheduleSecs: 60,
    exceptionDurationSecs: 60,
    adherencePercentage: 0,
    conformanceScheduleSecs: 60,
    conformanceActualSecs: 0,
    conformancePercentage: 0,
  }),
  // 23:45 local, still 5 January in Paris.
  rec('paris', 'A1', '2026-01-05T22:45:00Z', {
    secondsByPresence: { BREAK: 900 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 0,
    adherencePercentage: 100,
    conformanceScheduleSecs: 0,
    conformanceActualSecs: 0,
    conformancePercentage: null,
  }),
  // 00:00 local: 6 January in Paris though still 5 January in UTC.
  rec('paris', 'A1', '2026-01-05T23:00:00Z', {
    secondsByPresence: { OFFLINE: 900 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 900,
    adherencePercentage: 0,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 0,
    conformancePercentage: 0,
  }),
];

// Agent A2 at paris: seconds with milliseconds, whose float sums would drift.
const a2 = [
  rec('paris', 'A2', '2026-01-05T09:00:00Z', {
    secondsByPresence: { ON_QUEUE: 899.9, BUSY: 0.1 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 0,
    adherencePercentage: 100,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 899.9,
    conformancePercentage: 99.99,
  }),
  rec('paris', 'A2', '2026-01-05T09:15:00Z', {
    secondsByPresence: { ON_QUEUE: 899.8, BUSY: 0.2 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 0,
    adherencePercentage: 100,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 899.8,
    conformancePercentage: 99.98,
  }),
];

// Agent A3 at tokyo (Asia/Tokyo, UTC+9): 16:00Z is 01:00 on 6 January there.
const a3 = [
  rec('tokyo', 'A3', '2026-01-05T16:00:00Z', {
    secondsByPresence: { ON_QUEUE: 900 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 0,
    adherencePercentage: 100,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 900,
    conformancePercentage: 100,
  }),
];

const zones: Record<string, string> = { paris: 'Europe/Paris', tokyo: 'Asia/Tokyo' };
const zoneOf = (site: string) => zones[site] ?? 'UTC';

describe('intervalReport', () => {
  // Shuffled on purpose: the report orders by site, agent, start whatever the input order.
  const report = intervalReport([...a3, a1[5]!, ...a2, ...a1.slice(0, 5)].reverse(), zoneOf);

  it('gives one row per record, ordered by site, agent and start, with the stored figures unchanged', () => {
    expect(report.intervals.map((r) => [r.site, r.agentId, new Date(r.intervalStart).toISOString()])).toEqual(
      [
        ['paris', 'A1', '2026-01-05T08:45:00.000Z'],
        ['paris', 'A1', '2026-01-05T09:00:00.000Z'],
        ['paris', 'A1', '2026-01-05T09:15:00.000Z'],
        ['paris', 'A1', '2026-01-05T09:30:00.000Z'],
        ['paris', 'A1', '2026-01-05T22:45:00.000Z'],
        ['paris', 'A1', '2026-01-05T23:00:00.000Z'],
        ['paris', 'A2', '2026-01-05T09:00:00.000Z'],
        ['paris', 'A2', '2026-01-05T09:15:00.000Z'],
        ['tokyo', 'A3', '2026-01-05T16:00:00.000Z'],
      ],
    );
    const { sourceSeq: _, ...worked } = a1[1]!;
    expect(report.intervals[1]).toEqual({ ...worked, day: '2026-01-05' });
    // Presence keys in PRESENCES order (the record had ON_QUEUE, BUSY, MEAL): the same from any sink.
    expect(Object.keys(report.intervals[1]!.secondsByPresence)).toEqual(['BUSY', 'MEAL', 'ON_QUEUE']);
    expect(Object.keys(report.totals[0]!.secondsByPresence)).toEqual(['BUSY', 'BREAK', 'MEAL', 'ON_QUEUE']);
    expect(report.intervals.map((r) => r.day)).toEqual([
      '2026-01-05',
      '2026-01-05',
      '2026-01-05',
      '2026-01-05',
      '2026-01-05',
      '2026-01-06', // 23:00Z is midnight in Paris
      '2026-01-05',
      '2026-01-05',
      '2026-01-06', // 16:00Z is 01:00 in Tokyo
    ]);
  });

  it('sums seconds per agent and local day, then takes the percentages of the sums', () => {
    expect(report.totals).toEqual([
      {
        site: 'paris',
        agentId: 'A1',
        day: '2026-01-05',
        timeZone: 'Europe/Paris',
        intervals: 5,
        adherenceScheduleSecs: 2760, // 0 + 900 + 900 + 60 + 900
        exceptionDurationSecs: 150, // 0 + 30 + 60 + 60 + 0
        adherencePercentage: 94.57, // (1 − 150/2760) × 100 = 94.5652…
        conformanceScheduleSecs: 1860, // 0 + 900 + 900 + 60 + 0
        conformanceActualSecs: 1790, // 120 + 830 + 840 + 0 + 0
        conformancePercentage: 96.24, // 1790/1860 × 100 = 96.2365…
        secondsByPresence: { ON_QUEUE: 1790, BUSY: 940, MEAL: 90, BREAK: 900 },
      },
      {
        site: 'paris',
        agentId: 'A1',
        day: '2026-01-06',
        timeZone: 'Europe/Paris',
        intervals: 1,
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 900,
        adherencePercentage: 0,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 0,
        conformancePercentage: 0,
        secondsByPresence: { OFFLINE: 900 },
      },
      {
        site: 'paris',
        agentId: 'A2',
        day: '2026-01-05',
        timeZone: 'Europe/Paris',
        intervals: 2,
        adherenceScheduleSecs: 1800,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 1800,
        conformanceActualSecs: 1799.7, // 899.9 + 899.8, not 1799.6999…
        conformancePercentage: 99.98, // 1799.7/1800 × 100 = 99.9833…
        secondsByPresence: { ON_QUEUE: 1799.7, BUSY: 0.3 }, // 0.1 + 0.2, not 0.30000000000000004
      },
      {
        site: 'tokyo',
        agentId: 'A3',
        day: '2026-01-06',
        timeZone: 'Asia/Tokyo',
        intervals: 1,
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 900,
        conformancePercentage: 100,
        secondsByPresence: { ON_QUEUE: 900 },
      },
    ]);
  });

  it('is not an average of the intervals’ percentages', () => {
    const day = report.totals[0]!;
    const adh = a1
      .slice(0, 5)
      .flatMap((r) => (r.adherencePercentage === null ? [] : [r.adherencePercentage]));
    const conf = a1
      .slice(0, 5)
      .flatMap((r) => (r.conformancePercentage === null ? [] : [r.conformancePercentage]));
    // (96.67 + 93.33 + 0 + 100) / 4 = 72.5: the one-minute interval would weigh as much as a full one.
    expect(adh.reduce((s, x) => s + x, 0) / adh.length).toBe(72.5);
    expect(day.adherencePercentage).toBe(94.57);
    // (92.22 + 93.33 + 0) / 3 = 61.85
    expect(Math.round((conf.reduce((s, x) => s + x, 0) / conf.length) * 100) / 100).toBe(61.85);
    expect(day.conformancePercentage).toBe(96.24);
  });

  it('gives null percentages for a day with nothing scheduled, and nothing for no records', () => {
    const only = intervalReport([a1[0]!], zoneOf);
    expect(only.totals[0]).toMatchObject({
      adherenceScheduleSecs: 0,
      adherencePercentage: null,
      conformanceActualSecs: 120,
      conformancePercentage: null,
    });
    expect(intervalReport([], zoneOf)).toEqual({ intervals: [], totals: [] });
  });

  it('never goes below 0 % adherence', () => {
    // Stored records can carry more exception than schedule only by a bug; the clamp still holds.
    const odd = { ...a1[3]!, exceptionDurationSecs: 120 };
    expect(intervalReport([odd], zoneOf).totals[0]!.adherencePercentage).toBe(0);
  });

  it('throws RangeError for an unknown time zone', () => {
    expect(() => intervalReport(a3, () => 'Mars/Olympus')).toThrow(RangeError);
  });
});
