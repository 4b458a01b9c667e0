import type { ResolvedAgentOptions } from './AgentOptions.ts';
import type { IntervalRecord, Presence } from './types.ts';

/** Accumulators of one open interval of one agent, in milliseconds. JSON-safe. */
export interface IntervalAcc {
  /** Interval start, epoch ms. */
  start: number;
  /** Known time by presence. */
  presenceMs: Partial<Record<Presence, number>>;
  /** Time covered by any scheduled activity. */
  schedMs: number;
  /** Time inside out-of-adherence stretches known to be exceptions. */
  excMs: number;
  /** Time of the current stretch not yet known to be an exception. */
  pendingMs: number;
  /** Time scheduled as OnQueueWork. */
  confSchedMs: number;
}

/** A new, empty accumulator for the interval starting at `start`. */
export function emptyInterval(start: number): IntervalAcc {
  return { start, presenceMs: {}, schedMs: 0, excMs: 0, pendingMs: 0, confSchedMs: 0 };
}

/** Two decimals, the precision of the percentages in DESIGN.md's worked example. */
function round2(x: number): number {
  return Math.round(x * 100) / 100;
}

/** True when the interval had any scheduled or logged-in time, so it gets a record. */
export function isReportable(acc: IntervalAcc): boolean {
  if (acc.schedMs > 0) return true;
  for (const [presence, ms] of Object.entries(acc.presenceMs)) {
    if (presence !== 'OFFLINE' && ms > 0) return true;
  }
  return false;
}

/** The closed interval record of an accumulator (DESIGN.md "Intervals" formulas). */
export function toIntervalRecord(
  agentId: string,
  acc: IntervalAcc,
  sourceSeq: number,
  options: ResolvedAgentOptions,
): IntervalRecord {
  const secondsByPresence: Partial<Record<Presence, number>> = {};
  for (const [presence, ms] of Object.entries(acc.presenceMs) as [Presence, number][]) {
    if (ms > 0) secondsByPresence[presence] = ms / 1000;
  }
  const onQueueMs = acc.presenceMs.ON_QUEUE ?? 0;
  return {
    agentId,
    site: options.site,
    intervalStart: acc.start,
    // The grid the interval belongs to: after a time-profile switch, not necessarily today's.
    intervalMinutes: options.profile.intervalMinutesAt(acc.start),
    secondsByPresence,
    adherenceScheduleSecs: acc.schedMs / 1000,
    exceptionDurationSecs: acc.excMs / 1000,
    adherencePercentage: acc.schedMs === 0 ? null : round2(Math.max(0, (1 - acc.excMs / acc.schedMs) * 100)),
    conformanceScheduleSecs: acc.confSchedMs / 1000,
    conformanceActualSecs: onQueueMs / 1000,
    conformancePercentage: acc.confSchedMs === 0 ? null : round2((onQueueMs / acc.confSchedMs) * 100),
    sourceSeq,
  };
}
