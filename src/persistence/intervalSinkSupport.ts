/**
 * What every `IntervalSink` does the same way: checking its arguments, the fencing rule and
 * which rows of a batch are written. Kept out of `IntervalSink.ts` (the interface) and shared so
 * the PostgreSQL and LevelDB sinks cannot drift apart.
 */
import { ID_PATTERN } from '../domain/index.ts';
import { FencedWriteError } from '../errors.ts';
import type { IntervalBatch, IntervalQuery, SiteWriteMark, StoredInterval } from './IntervalSink.ts';

/** @throws TypeError unless `id` is a string matching `ID_PATTERN` (what keys and subjects allow). */
export function assertIntervalId(kind: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new TypeError(`invalid ${kind} id ${JSON.stringify(id)}: must match ${ID_PATTERN.source}`);
  }
}

function assertCount(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${what} must be a non-negative integer, got ${JSON.stringify(value)}`);
  }
}

/**
 * Checks a batch before anything is read or written: ids, every row of the batch's tenant and
 * site, `outSeq` ascending, `upTo` at or past the last row. A malformed batch is a caller's bug.
 * @throws TypeError
 */
export function assertIntervalBatch(batch: IntervalBatch): void {
  assertIntervalId('tenant', batch.tenant);
  assertIntervalId('site', batch.site);
  const where = `interval batch of ${batch.tenant}/${batch.site}`;
  if (batch.epoch !== null) assertCount(`${where}: epoch`, batch.epoch);
  assertCount(`${where}: upTo`, batch.upTo);
  let previous = 0;
  for (const row of batch.rows) {
    assertCount(`${where}: outSeq`, row.outSeq);
    if (row.tenant !== batch.tenant || row.record.site !== batch.site) {
      throw new TypeError(`${where}: holds a row of ${row.tenant}/${row.record.site}`);
    }
    assertIntervalId('agent', row.record.agentId);
    assertCount(`${where}: intervalStart`, row.record.intervalStart);
    if (row.outSeq < previous) throw new TypeError(`${where}: rows are not in ascending outSeq`);
    previous = row.outSeq;
  }
  if (batch.upTo < previous) {
    throw new TypeError(`${where}: upTo ${batch.upTo} is below its last row's outSeq ${previous}`);
  }
}

/** @throws TypeError for an invalid tenant, site or agent id, or a non-numeric range. */
export function assertIntervalQuery(query: IntervalQuery): void {
  assertIntervalId('tenant', query.tenant);
  for (const site of query.sites ?? []) assertIntervalId('site', site);
  if (query.agentId !== undefined) assertIntervalId('agent', query.agentId);
  if (typeof query.from !== 'number' || typeof query.to !== 'number' || Number.isNaN(query.from + query.to)) {
    throw new TypeError('interval query: from and to must be numbers');
  }
}

/**
 * The mark after writing `batch` over `stored`.
 * @throws FencedWriteError when the stored epoch is higher than the batch's (not for `null`).
 */
export function nextWriteMark(batch: IntervalBatch, stored: SiteWriteMark): SiteWriteMark {
  if (batch.epoch !== null && stored.epoch > batch.epoch) {
    throw new FencedWriteError(batch.tenant, batch.site, batch.epoch, stored.epoch);
  }
  return {
    epoch: batch.epoch === null ? stored.epoch : Math.max(stored.epoch, batch.epoch),
    position: Math.max(stored.position, batch.upTo),
  };
}

/**
 * The rows of a batch to upsert: those above the stored position, and of rows with the same key
 * (agent and `intervalStart`) only the last — one statement may not update a row twice.
 */
export function rowsToWrite(rows: readonly StoredInterval[], position: number): StoredInterval[] {
  const byKey = new Map<string, StoredInterval>();
  for (const row of rows) {
    if (row.outSeq <= position) continue;
    const key = `${row.record.agentId}!${row.record.intervalStart}`;
    // Deleted first so the kept row takes the later place: the result stays in outSeq order.
    byKey.delete(key);
    byKey.set(key, row);
  }
  return [...byKey.values()];
}

/** The message of an error for a wrapping message (an AggregateError's own message may be empty). */
export function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const parts = [error.message];
  if (error instanceof AggregateError && error.message === '') {
    parts[0] = error.errors.map((inner) => reasonOf(inner)).join('; ');
  }
  // abstract-level reports a failed open as LEVEL_DATABASE_NOT_OPEN; the reason is its cause.
  if (error.cause instanceof Error) parts.push(error.cause.message);
  return parts.filter((part) => part !== '').join(': ') || error.name;
}
