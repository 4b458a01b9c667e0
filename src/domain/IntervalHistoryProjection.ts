import type { IntervalRecord, TransferRecord } from './types.ts';

/**
 * One site's interval history as the WFM database holds it, built in memory from the site's
 * interval records and transfer records in `WFM_OUT` order — the projection the sinks make
 * (DESIGN guarantee 3, "User data transfer"): a record is an upsert keyed by agent and interval
 * start (the later one wins); an applied transfer deletes the target's rows and re-keys the
 * source's to the target (`agentId` rewritten), so the rows written before it move and those after
 * it do not; a refused one changes nothing. `replay` reports and compares through it, so its
 * figures are those `report` prints from the database. Pure.
 */
export class IntervalHistoryProjection {
  // agentId → intervalStart → record.
  readonly #rows = new Map<string, Map<number, IntervalRecord>>();

  /** Upserts one interval record. */
  record(record: IntervalRecord): void {
    let rows = this.#rows.get(record.agentId);
    if (rows === undefined) {
      rows = new Map();
      this.#rows.set(record.agentId, rows);
    }
    rows.set(record.intervalStart, record);
  }

  /** Applies one transfer record (an applied one moves rows; a refused one does nothing). */
  transfer(transfer: Pick<TransferRecord, 'from' | 'to' | 'result'>): void {
    if (transfer.result !== 'applied' || transfer.from === transfer.to) return;
    const source = this.#rows.get(transfer.from);
    this.#rows.delete(transfer.to);
    if (source === undefined) return;
    this.#rows.delete(transfer.from);
    const moved = new Map<number, IntervalRecord>();
    for (const [start, row] of source) moved.set(start, { ...row, agentId: transfer.to });
    this.#rows.set(transfer.to, moved);
  }

  /** Number of rows held. */
  get size(): number {
    let n = 0;
    for (const rows of this.#rows.values()) n += rows.size;
    return n;
  }

  /** Every row, by agent id (code-unit order) then interval start. */
  rows(): IntervalRecord[] {
    const agents = [...this.#rows.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return agents.flatMap((agent) =>
      [...this.#rows.get(agent)!.values()].sort((a, b) => a.intervalStart - b.intervalStart),
    );
  }
}
