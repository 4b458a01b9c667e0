/**
 * `wfm-agg report`'s figures: interval records as rows, and totals per agent and local day
 * computed the Genesys Cloud way — seconds are summed first and the percentage is taken of the
 * sums, never an average of the intervals' percentages (an average would weigh a 5-minute
 * interval like a 15-minute one and an interval with 60 scheduled seconds like a full one).
 * Pure: no I/O, no wall clock.
 */
import { localDay } from './localTime.ts';
import { type IntervalRecord, PRESENCES, type Presence } from './types.ts';

/** One interval of one agent, as the report shows it: the stored record's figures as they are. */
export interface IntervalReportRow {
  site: string;
  agentId: string;
  /** Epoch ms. */
  intervalStart: number;
  intervalMinutes: number;
  /** The site's local day (`YYYY-MM-DD`) the interval counts toward: the day its start falls on. */
  day: string;
  adherenceScheduleSecs: number;
  exceptionDurationSecs: number;
  adherencePercentage: number | null;
  conformanceScheduleSecs: number;
  conformanceActualSecs: number;
  conformancePercentage: number | null;
  /** Keys in `PRESENCES` order, whatever order the sink returned them in. */
  secondsByPresence: Partial<Record<Presence, number>>;
}

/** Sums over one agent's intervals of one local day of its site, and the percentages of the sums. */
export interface IntervalReportTotal {
  site: string;
  agentId: string;
  /** `YYYY-MM-DD` in `timeZone`. */
  day: string;
  /** The site's IANA time zone the day is reckoned in. */
  timeZone: string;
  /** How many interval records were summed. */
  intervals: number;
  adherenceScheduleSecs: number;
  exceptionDurationSecs: number;
  /** `max(0, (1 − exception / schedule) × 100)` of the sums, 2 decimals; null when nothing was scheduled. */
  adherencePercentage: number | null;
  conformanceScheduleSecs: number;
  conformanceActualSecs: number;
  /** `actual / schedule × 100` of the sums, 2 decimals; null when no on-queue work was scheduled. */
  conformancePercentage: number | null;
  /** Keys in `PRESENCES` order. */
  secondsByPresence: Partial<Record<Presence, number>>;
}

/** Rows ordered by site, agent, interval start; totals by site, agent, day. */
export interface IntervalReport {
  intervals: IntervalReportRow[];
  totals: IntervalReportTotal[];
}

/**
 * Two decimals, as `toIntervalRecord` (intervalAccounting.ts) rounds the records' percentages, so
 * a day with one interval shows the same figure as that interval.
 */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/**
 * Seconds are whole milliseconds divided by 1000; summing such floats drifts (0.1 + 0.2), so sums
 * are brought back to the millisecond they stand for.
 */
function roundMs(secs: number): number {
  return Math.round(secs * 1000) / 1000;
}

/**
 * `a + b` per presence, keys in `PRESENCES` order: a sink may hand the map back in another key
 * order (PostgreSQL's jsonb sorts keys), and the same history must print the same from either.
 */
function sumPresence(
  a: Partial<Record<Presence, number>>,
  b: Partial<Record<Presence, number>>,
): Partial<Record<Presence, number>> {
  const sum: Partial<Record<Presence, number>> = {};
  for (const presence of PRESENCES) {
    const x = a[presence];
    const y = b[presence];
    if (x !== undefined || y !== undefined) sum[presence] = roundMs((x ?? 0) + (y ?? 0));
  }
  return sum;
}

/**
 * The report of `records`: one row per record (its stored figures unchanged), then totals per
 * site, agent and the site's local day of each interval's start (`timeZoneOf(site)`, an IANA zone).
 * An interval that straddles local midnight counts toward the day it starts in.
 * @throws RangeError when `timeZoneOf` gives an unknown time zone
 */
export function intervalReport(
  records: readonly IntervalRecord[],
  timeZoneOf: (site: string) => string,
): IntervalReport {
  // The sinks already return this order; sorting again keeps the function right for any input.
  const sorted = [...records].sort(
    (a, b) => cmp(a.site, b.site) || cmp(a.agentId, b.agentId) || a.intervalStart - b.intervalStart,
  );
  const intervals: IntervalReportRow[] = [];
  const totals: IntervalReportTotal[] = [];
  for (const r of sorted) {
    const timeZone = timeZoneOf(r.site);
    const day = localDay(r.intervalStart, timeZone);
    intervals.push({
      site: r.site,
      agentId: r.agentId,
      intervalStart: r.intervalStart,
      intervalMinutes: r.intervalMinutes,
      day,
      adherenceScheduleSecs: r.adherenceScheduleSecs,
      exceptionDurationSecs: r.exceptionDurationSecs,
      adherencePercentage: r.adherencePercentage,
      conformanceScheduleSecs: r.conformanceScheduleSecs,
      conformanceActualSecs: r.conformanceActualSecs,
      conformancePercentage: r.conformancePercentage,
      secondsByPresence: sumPresence(r.secondsByPresence, {}),
    });
    // Sorted by site, agent and start, so one (site, agent, day) group is one run of rows.
    let total = totals.at(-1);
    if (total === undefined || total.site !== r.site || total.agentId !== r.agentId || total.day !== day) {
      total = emptyTotal(r.site, r.agentId, day, timeZone);
      totals.push(total);
    }
    total.intervals += 1;
    total.adherenceScheduleSecs = roundMs(total.adherenceScheduleSecs + r.adherenceScheduleSecs);
    total.exceptionDurationSecs = roundMs(total.exceptionDurationSecs + r.exceptionDurationSecs);
    total.conformanceScheduleSecs = roundMs(total.conformanceScheduleSecs + r.conformanceScheduleSecs);
    total.conformanceActualSecs = roundMs(total.conformanceActualSecs + r.conformanceActualSecs);
    total.secondsByPresence = sumPresence(total.secondsByPresence, r.secondsByPresence);
  }
  for (const t of totals) {
    t.adherencePercentage =
      t.adherenceScheduleSecs === 0
        ? null
        : round2(Math.max(0, (1 - t.exceptionDurationSecs / t.adherenceScheduleSecs) * 100));
    t.conformancePercentage =
      t.conformanceScheduleSecs === 0
        ? null
        : round2((t.conformanceActualSecs / t.conformanceScheduleSecs) * 100);
  }
  return { intervals, totals };
}

function emptyTotal(site: string, agentId: string, day: string, timeZone: string): IntervalReportTotal {
  return {
    site,
    agentId,
    day,
    timeZone,
    intervals: 0,
    adherenceScheduleSecs: 0,
    exceptionDurationSecs: 0,
    adherencePercentage: null,
    conformanceScheduleSecs: 0,
    conformanceActualSecs: 0,
    conformancePercentage: null,
    secondsByPresence: {},
  };
}

/**
 * Code-unit order, whatever collation the sink sorted with: both sinks give the same report.
 */
function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
