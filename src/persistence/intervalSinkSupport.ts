/**
 * What every `IntervalSink` does the same way: checking its arguments, the fencing rule and
 * which rows of a batch are written. Kept out of `IntervalSink.ts` (the interface) and shared so
 * the PostgreSQL and LevelDB sinks cannot drift apart.
 */
import { ID_PATTERN, type TransferRecord } from '../domain/index.ts';
import { FencedWriteError } from '../errors.ts';
import {
  type IntervalBatch,
  type IntervalQuery,
  isStoredTransfer,
  type SiteWriteMark,
  type StoredHistoryItem,
  type StoredInterval,
  type StoredTransfer,
  type TransferAudit,
  type TransferQuery,
} from './IntervalSink.ts';

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
 * site, every transfer of its tenant with agent ids and a result, `outSeq` ascending, `upTo` at
 * or past the last item. A malformed batch is a caller's bug.
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
    if (row.outSeq < previous) throw new TypeError(`${where}: rows are not in ascending outSeq`);
    previous = row.outSeq;
    if (isStoredTransfer(row)) {
      assertTransferItem(where, batch.tenant, row);
      continue;
    }
    if (row.tenant !== batch.tenant || row.record.site !== batch.site) {
      throw new TypeError(`${where}: holds a row of ${row.tenant}/${row.record.site}`);
    }
    assertIntervalId('agent', row.record.agentId);
    assertCount(`${where}: intervalStart`, row.record.intervalStart);
  }
  if (batch.upTo < previous) {
    throw new TypeError(`${where}: upTo ${batch.upTo} is below its last row's outSeq ${previous}`);
  }
}

function assertTransferItem(where: string, tenant: string, item: StoredTransfer): void {
  if (item.tenant !== tenant) throw new TypeError(`${where}: holds a transfer of tenant ${item.tenant}`);
  const problem = transferProblem(item.transfer);
  if (problem !== null) throw new TypeError(`${where}: transfer at outSeq ${item.outSeq}: ${problem}`);
}

const isId = (v: unknown): v is string => typeof v === 'string' && ID_PATTERN.test(v);
const isTime = (v: unknown): v is number => Number.isSafeInteger(v);

/**
 * What is wrong with `value` as a stored transfer record (null: nothing): the fields a sink keys,
 * moves by and stores in typed columns. Shared by the sinks (a caller's bug) and the dump file
 * (a damaged file).
 */
export function transferProblem(value: unknown): string | null {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const t = value as Partial<Record<keyof TransferRecord, unknown>>;
  for (const field of ['id', 'from', 'to'] as const) {
    if (!isId(t[field])) return `${field} ${JSON.stringify(t[field])} does not match ${ID_PATTERN.source}`;
  }
  if (t.result !== 'applied' && t.result !== 'refused') return `result ${JSON.stringify(t.result)}`;
  // Applied from an agent to itself would delete the agent's rows and move none: the site refuses it.
  if (t.result === 'applied' && t.from === t.to) return `applied from ${String(t.from)} to itself`;
  if (typeof t.requestedBy !== 'string') return 'requestedBy is not a string';
  if (t.reason !== null && typeof t.reason !== 'string') return 'reason is neither a string nor null';
  for (const field of ['requestedAt', 'appliedAt', 'sourceSeq'] as const) {
    if (!isTime(t[field])) return `${field} ${JSON.stringify(t[field])} is not an integer`;
  }
  if (t.counts !== null && (typeof t.counts !== 'object' || Array.isArray(t.counts))) {
    return 'counts is neither an object nor null';
  }
  return null;
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

/** @throws TypeError for an invalid tenant, site or agent id. */
export function assertTransferQuery(query: TransferQuery): void {
  assertIntervalId('tenant', query.tenant);
  for (const site of query.sites ?? []) assertIntervalId('site', site);
  if (query.agentId !== undefined) assertIntervalId('agent', query.agentId);
}

/**
 * One step of applying a batch: a run of rows to upsert (no key twice), or one transfer. Steps
 * apply in order, so a transfer moves the rows written before it and not those after it.
 */
export type WriteStep = { rows: StoredInterval[] } | { transfer: StoredTransfer };

/**
 * What writing `items` over a stored `position` does, in order: the items above the position,
 * consecutive rows gathered into one run between transfers, and of rows of one run with the same
 * key (agent and `intervalStart`) only the last — one statement may not update a row twice, and
 * with no transfer between them the last one wins anyway.
 */
export function writeSteps(items: readonly StoredHistoryItem[], position: number): WriteStep[] {
  const steps: WriteStep[] = [];
  let run = new Map<string, StoredInterval>();
  const endRun = (): void => {
    if (run.size > 0) steps.push({ rows: [...run.values()] });
    run = new Map();
  };
  for (const item of items) {
    if (item.outSeq <= position) continue;
    if (isStoredTransfer(item)) {
      endRun();
      steps.push({ transfer: item });
      continue;
    }
    const key = `${item.record.agentId}!${item.record.intervalStart}`;
    // Deleted first so the kept row takes the later place: the run stays in outSeq order.
    run.delete(key);
    run.set(key, item);
  }
  endRun();
  return steps;
}

/** The audit row of `item` at `site` that moved `rowsMoved` rows and deleted `rowsDeleted`. */
export function transferAudit(
  site: string,
  item: StoredTransfer,
  rowsMoved: number,
  rowsDeleted: number,
): TransferAudit {
  const t = item.transfer;
  // Field by field: whatever else the message carried is not part of the audit record.
  return {
    id: t.id,
    from: t.from,
    to: t.to,
    requestedBy: t.requestedBy,
    requestedAt: t.requestedAt,
    appliedAt: t.appliedAt,
    result: t.result,
    reason: t.reason,
    counts: t.counts,
    sourceSeq: t.sourceSeq,
    tenant: item.tenant,
    site,
    outSeq: item.outSeq,
    rowsMoved,
    rowsDeleted,
  };
}

/** Whether `audit` answers `query` (sites and agent; the tenant is the caller's to check). */
export function transferMatches(audit: TransferAudit, query: TransferQuery): boolean {
  if (query.sites !== undefined && !query.sites.includes(audit.site)) return false;
  return query.agentId === undefined || audit.from === query.agentId || audit.to === query.agentId;
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
