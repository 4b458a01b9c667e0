/**
 * `wfm-agg replay --compare`: what a what-if changes in a site's interval history, interval by
 * interval, and over all of it. Pure.
 */
import { type IntervalRecord, PRESENCES, type Presence } from './types.ts';

/** The figures of one interval record, or the sums of many (what a difference shows). */
export interface IntervalFigures {
  adherenceScheduleSecs: number;
  exceptionDurationSecs: number;
  adherencePercentage: number | null;
  conformanceScheduleSecs: number;
  conformanceActualSecs: number;
  conformancePercentage: number | null;
  /** Keys in `PRESENCES` order, presences with time only. */
  secondsByPresence: Partial<Record<Presence, number>>;
}

/** The fields of a record a difference can be in (`sourceSeq` is not one: see {@link compareIntervals}). */
export const COMPARED_FIELDS = [
  'intervalMinutes',
  'adherenceScheduleSecs',
  'exceptionDurationSecs',
  'adherencePercentage',
  'conformanceScheduleSecs',
  'conformanceActualSecs',
  'conformancePercentage',
  'secondsByPresence',
] as const;
/** One of {@link COMPARED_FIELDS}. */
export type ComparedField = (typeof COMPARED_FIELDS)[number];

/**
 * One interval of one agent whose record differs: `changed` (both have it; `fields` say where),
 * `added` (only the replay has it) or `removed` (only the live history has it).
 */
export interface IntervalDifference {
  site: string;
  agentId: string;
  intervalStart: number;
  intervalMinutes: number;
  change: 'changed' | 'added' | 'removed';
  fields: ComparedField[];
  before: IntervalFigures | null;
  after: IntervalFigures | null;
}

/** The whole comparison: how many intervals each side has, how many differ, and the sums. */
export interface IntervalComparison {
  differences: IntervalDifference[];
  total: {
    /** Records on each side. */
    beforeIntervals: number;
    afterIntervals: number;
    changed: number;
    added: number;
    removed: number;
    /** Sums over every record of each side, percentages of the sums (as `report` totals). */
    before: IntervalFigures;
    after: IntervalFigures;
  };
}

const round2 = (x: number) => Math.round(x * 100) / 100;
// Seconds are whole ms / 1000: sums are brought back to the millisecond they stand for.
const roundMs = (x: number) => Math.round(x * 1000) / 1000;
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function presences(p: Partial<Record<Presence, number>>): Partial<Record<Presence, number>> {
  const out: Partial<Record<Presence, number>> = {};
  for (const presence of PRESENCES) {
    const s = p[presence];
    if (s !== undefined && s > 0) out[presence] = s;
  }
  return out;
}

function figures(r: IntervalRecord): IntervalFigures {
  const { adherenceScheduleSecs, exceptionDurationSecs, adherencePercentage } = r;
  const { conformanceScheduleSecs, conformanceActualSecs, conformancePercentage } = r;
  return {
    ...{ adherenceScheduleSecs, exceptionDurationSecs, adherencePercentage },
    ...{ conformanceScheduleSecs, conformanceActualSecs, conformancePercentage },
    secondsByPresence: presences(r.secondsByPresence),
  };
}

/** Sums of `records`, with the percentages of the sums (null where nothing was scheduled). */
export function sumFigures(records: readonly IntervalRecord[]): IntervalFigures {
  const sum = {
    adherenceScheduleSecs: 0,
    exceptionDurationSecs: 0,
    conformanceScheduleSecs: 0,
    conformanceActualSecs: 0,
  };
  const byPresence: Partial<Record<Presence, number>> = {};
  for (const r of records) {
    for (const key of Object.keys(sum) as (keyof typeof sum)[]) sum[key] = roundMs(sum[key] + r[key]);
    for (const [p, s] of Object.entries(r.secondsByPresence) as [Presence, number][]) {
      byPresence[p] = roundMs((byPresence[p] ?? 0) + s);
    }
  }
  return {
    ...sum,
    adherencePercentage:
      sum.adherenceScheduleSecs === 0
        ? null
        : round2(Math.max(0, (1 - sum.exceptionDurationSecs / sum.adherenceScheduleSecs) * 100)),
    conformancePercentage:
      sum.conformanceScheduleSecs === 0
        ? null
        : round2((sum.conformanceActualSecs / sum.conformanceScheduleSecs) * 100),
    secondsByPresence: presences(byPresence),
  };
}

function changedFields(a: IntervalRecord, b: IntervalRecord): ComparedField[] {
  return COMPARED_FIELDS.filter((field) =>
    field === 'secondsByPresence'
      ? JSON.stringify(presences(a.secondsByPresence)) !== JSON.stringify(presences(b.secondsByPresence))
      : a[field] !== b[field],
  );
}

const keyOf = (r: IntervalRecord) => `${r.site}\u0000${r.agentId}\u0000${r.intervalStart}`;

/**
 * The differences between `before` (the history the live system wrote) and `after` (the replay's),
 * keyed by site, agent and interval start, ordered by site, agent, start. Records equal in every
 * {@link COMPARED_FIELDS} field are no difference: `sourceSeq` is left out, since a what-if may
 * close the same interval from another input (a longer threshold waits for a later one).
 */
export function compareIntervals(
  before: readonly IntervalRecord[],
  after: readonly IntervalRecord[],
): IntervalComparison {
  const beforeByKey = new Map(before.map((r) => [keyOf(r), r]));
  const afterByKey = new Map(after.map((r) => [keyOf(r), r]));
  const differences: IntervalDifference[] = [];
  for (const [key, a] of beforeByKey) {
    const b = afterByKey.get(key);
    const base = { site: a.site, agentId: a.agentId, intervalStart: a.intervalStart };
    if (b === undefined) {
      differences.push({
        ...base,
        intervalMinutes: a.intervalMinutes,
        change: 'removed',
        fields: [],
        before: figures(a),
        after: null,
      });
      continue;
    }
    const fields = changedFields(a, b);
    if (fields.length > 0) {
      const intervalMinutes = b.intervalMinutes;
      differences.push({
        ...base,
        intervalMinutes,
        change: 'changed',
        fields,
        before: figures(a),
        after: figures(b),
      });
    }
  }
  for (const [key, b] of afterByKey) {
    if (beforeByKey.has(key)) continue;
    differences.push({
      ...{ site: b.site, agentId: b.agentId, intervalStart: b.intervalStart },
      intervalMinutes: b.intervalMinutes,
      change: 'added',
      fields: [],
      before: null,
      after: figures(b),
    });
  }
  differences.sort(
    (x, y) => cmp(x.site, y.site) || cmp(x.agentId, y.agentId) || x.intervalStart - y.intervalStart,
  );
  const count = (change: IntervalDifference['change']) =>
    differences.filter((d) => d.change === change).length;
  return {
    differences,
    total: {
      beforeIntervals: beforeByKey.size,
      afterIntervals: afterByKey.size,
      changed: count('changed'),
      added: count('added'),
      removed: count('removed'),
      before: sumFigures([...beforeByKey.values()]),
      after: sumFigures([...afterByKey.values()]),
    },
  };
}
