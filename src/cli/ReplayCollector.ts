import type { SiteResult } from '../actors/index.ts';
import { IntervalHistoryProjection, type IntervalRecord, type TransferRecord } from '../domain/index.ts';
import type { HistoryMessage } from '../streams/index.ts';

/** The report range of a replay (epoch ms; null: unbounded). */
export interface ReplayRange {
  from: number | null;
  to: number | null;
}

/** Whether an interval starting at `start` is one the range reports. */
export function inRange(range: ReplayRange, start: number): boolean {
  return (range.from === null || start >= range.from) && (range.to === null || start < range.to);
}

/**
 * What `replay` keeps of the outputs, one input's result at a time: the interval records of the
 * report range as published (for `--format json`), and the site's history as the database would
 * hold it (interval rows of the range, moved by transfers as the sinks move them). Rows outside
 * the range are never kept: a transfer moves an agent's rows whatever their interval, so leaving
 * them out changes no row inside it — and a day of a large site stays small.
 */
export class ReplayCollector {
  readonly #range: ReplayRange;
  readonly #projection = new IntervalHistoryProjection();
  readonly #published: IntervalRecord[] = [];

  constructor(range: ReplayRange) {
    this.#range = range;
  }

  /** Takes one input's outputs (in production order). */
  add(result: SiteResult): void {
    for (const output of result.outputs) {
      if (output.kind === 'interval') {
        if (!inRange(this.#range, output.payload.intervalStart)) continue;
        this.#published.push(output.payload);
        this.#projection.record(output.payload);
      } else if (output.kind === 'transfer') {
        this.#projection.transfer(output.payload);
      }
    }
  }

  /** The range's interval records in the order the live site would have published them. */
  get published(): readonly IntervalRecord[] {
    return this.#published;
  }

  /** The range's rows as the database would hold them, by agent and start. */
  rows(): IntervalRecord[] {
    return this.#projection.rows();
  }
}

/**
 * The range's rows of the live history as the database holds them after the live site processed
 * input up to `lastSeq`: the `WFM_OUT` interval and transfer records whose `sourceSeq` is at most
 * `lastSeq`, projected. A replay of that same input prefix under the same rules produces exactly
 * these (DESIGN "Determinism"); what the live site wrote after it is not part of the comparison.
 */
export function liveRows(
  items: readonly HistoryMessage[],
  lastSeq: number,
  range: ReplayRange,
): IntervalRecord[] {
  const projection = new IntervalHistoryProjection();
  for (const item of items) {
    if ('transfer' in item) {
      const t: TransferRecord = item.transfer;
      if (t.sourceSeq <= lastSeq) projection.transfer(t);
    } else if (item.record.sourceSeq <= lastSeq && inRange(range, item.record.intervalStart)) {
      projection.record(item.record);
    }
  }
  return projection.rows();
}

/**
 * The rows whose interval ends by `closedBy` (epoch ms): `--compare` compares only intervals both
 * rule sets have closed by the end of the input — the site's event time less the larger of the two
 * adherence thresholds — so an interval still open under one of them is not shown as a difference.
 */
export function closedBy(rows: readonly IntervalRecord[], closedByMs: number): IntervalRecord[] {
  return rows.filter((r) => r.intervalStart + r.intervalMinutes * 60_000 <= closedByMs);
}
