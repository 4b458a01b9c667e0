import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { map, type Observable } from 'rxjs';
import { ID_PATTERN, type IntervalRecord, type TransferRecord } from '../domain/index.ts';
import { inputMessages } from './inputMessages.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';
import { readStoredRange } from './readStoredRange.ts';

/** One `wfm.interval.T.S.A` message as stored in `WFM_OUT`. */
export interface IntervalMessage {
  tenant: string;
  /** Its `WFM_OUT` stream sequence. */
  outSeq: number;
  record: IntervalRecord;
}

/** One `wfm.transfer.T.S` message (a transfer's audit record) as stored in `WFM_OUT`. */
export interface TransferMessage {
  tenant: string;
  /** Its `WFM_OUT` stream sequence. */
  outSeq: number;
  transfer: TransferRecord;
}

/**
 * One item of a site's history in `WFM_OUT`: what the WFM database is a projection of (the
 * persistence layer's `StoredHistoryItem` has the same shape). `'transfer' in m` tells them apart.
 */
export type HistoryMessage = IntervalMessage | TransferMessage;

/** Where a site's interval records are read from. */
export interface IntervalRecordsOptions {
  tenant: string;
  site: string;
  /** The first `WFM_OUT` sequence wanted. */
  startSeq: number;
  /** Backpressure: a returned promise is awaited before the next message is emitted. */
  whenReady?: () => Promise<void> | undefined;
}

/**
 * One message delivered on a site's interval subject: its `WFM_OUT` sequence, and the record (null
 * when the message is not one: it was delivered all the same, so everything up to `outSeq` was).
 */
export interface IntervalDelivery {
  outSeq: number;
  message: IntervalMessage | null;
}

/**
 * The `WFM_OUT` filter of one site's interval records, `wfm.interval.T.S.>`: inside the one stream
 * subject `wfm.interval.>`, so nats-server 2.9 filters on it itself.
 */
export function intervalSubject(tenant: string, site: string): string {
  return `wfm.interval.${tenant}.${site}.>`;
}

/**
 * The `WFM_OUT` subject of one site's transfer audit records, `wfm.transfer.T.S`: one literal
 * subject per site (like `wfm.clock.T.S`), so "the last transfer of the site" is one indexed lookup
 * (about 1 ms), where a wildcard `last_by_subj` on nats-server 2.9 scans the stream (23 ms on a
 * 500k-message WFM_OUT, growing with it).
 */
export function transferSubject(tenant: string, site: string): string {
  return `wfm.transfer.${tenant}.${site}`;
}

const decoder = new TextDecoder();

function parseJson(data: Uint8Array): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : null;
}

const isId = (v: unknown): boolean => typeof v === 'string' && ID_PATTERN.test(v);

/**
 * Whether `t` has what a sink keys, moves by and stores in typed columns (the sinks refuse a batch
 * without it as a caller's bug, so it must not get that far).
 */
function isTransferRecord(t: Record<string, unknown>): boolean {
  return (
    isId(t.id) &&
    isId(t.from) &&
    isId(t.to) &&
    (t.result === 'refused' || (t.result === 'applied' && t.from !== t.to)) &&
    typeof t.requestedBy === 'string' &&
    (t.reason === null || typeof t.reason === 'string') &&
    Number.isSafeInteger(t.requestedAt) &&
    Number.isSafeInteger(t.appliedAt) &&
    Number.isSafeInteger(t.sourceSeq) &&
    (t.counts === null || (typeof t.counts === 'object' && !Array.isArray(t.counts)))
  );
}

/**
 * A stored interval record or transfer of a site's output, or null when the message is neither:
 * a gc or adherence output (told by the subject's second token, before any JSON is parsed: they
 * are most of `WFM_OUT`), or someone else's message on our subjects (only this product writes
 * `WFM_OUT`, so it is skipped, not guessed at).
 */
export function parseHistoryMessage(
  tenant: string,
  outSeq: number,
  subject: string,
  data: Uint8Array,
): HistoryMessage | null {
  // `wfm.<kind>.T.S.A`: only the first two tokens are split off.
  const kind = subject.split('.', 2)[1];
  if (kind !== 'interval' && kind !== 'transfer') return null;
  const value = parseJson(data);
  if (value === null) return null;
  if (kind === 'transfer') {
    return isTransferRecord(value) ? { tenant, outSeq, transfer: value as unknown as TransferRecord } : null;
  }
  if (typeof value.agentId !== 'string' || typeof value.site !== 'string') return null;
  if (!Number.isSafeInteger(value.intervalStart)) return null;
  return { tenant, outSeq, record: value as unknown as IntervalRecord };
}

/**
 * A site's interval records from `startSeq` on, live, in stream order, over one ordered consumer
 * filtered by the server on {@link intervalSubject} (nats-server 2.9 takes it: it is inside one
 * stream subject), so the site's gc and adherence outputs and every other site's never reach this
 * client. Every delivered message is emitted, a record or not, with its sequence.
 */
export function intervalRecords(
  js: JetStreamClient,
  o: IntervalRecordsOptions,
): Observable<IntervalDelivery> {
  return inputMessages(js, {
    stream: 'WFM_OUT',
    filterSubject: intervalSubject(o.tenant, o.site),
    startSeq: o.startSeq,
    whenReady: o.whenReady,
  }).pipe(
    map((m) => {
      const parsed = parseHistoryMessage(o.tenant, m.seq, m.subject, m.data);
      return { outSeq: m.seq, message: parsed !== null && 'record' in parsed ? parsed : null };
    }),
  );
}

/**
 * The sequence of the last message stored on `subject` in `WFM_OUT` (0: none), in one request
 * (`last_by_subj`, which takes wildcards on nats-server 2.9). Everything stored on the subject at
 * the time of the call is at or below it.
 * @throws NatsError
 */
export async function lastStoredSeq(jsm: JetStreamManager, subject: string): Promise<number> {
  try {
    const last = await jsm.streams.getMessage('WFM_OUT', { last_by_subj: subject });
    return last?.seq ?? 0;
  } catch (err) {
    throw natsErrorFrom(err, `cannot read the last ${subject} of WFM_OUT`);
  }
}

/**
 * Every stored message of a site on `subject` (its interval or its transfer subject) after
 * `afterSeq` and at or below `bound`, parsed (what is neither a record nor a transfer is passed
 * over); `upTo` is the last sequence read (`afterSeq` when none was stored). The read itself is
 * bounded by the last message on the subject when it starts.
 */
async function readSubject(
  js: JetStreamClient,
  jsm: JetStreamManager,
  tenant: string,
  subject: string,
  afterSeq: number,
  bound: number,
): Promise<{ items: HistoryMessage[]; upTo: number }> {
  const items: HistoryMessage[] = [];
  const upTo = await readStoredRange(
    js,
    jsm,
    { stream: 'WFM_OUT', subject, afterSeq, headersOnly: false },
    (m) => {
      if (m.seq > bound) return;
      const parsed = parseHistoryMessage(tenant, m.seq, m.subject, m.data);
      if (parsed !== null) items.push(parsed);
    },
  );
  return { items, upTo };
}

/**
 * A site's transfers stored after `afterSeq` (the few a history writer does not know yet), in
 * stream order, up to the last one stored when the call starts, which is `upTo` (`afterSeq` when
 * there is none): every transfer of the site at or below `upTo` is either before `afterSeq` or in
 * `transfers`. Read over one short-lived consumer filtered by the server on {@link transferSubject}.
 * @throws NatsError
 */
export async function readTransfers(
  js: JetStreamClient,
  jsm: JetStreamManager,
  tenant: string,
  site: string,
  afterSeq: number,
): Promise<{ transfers: TransferMessage[]; upTo: number }> {
  const subject = transferSubject(tenant, site);
  const { items, upTo } = await readSubject(js, jsm, tenant, subject, afterSeq, Number.MAX_SAFE_INTEGER);
  return { transfers: items.filter((m): m is TransferMessage => 'transfer' in m), upTo };
}

/**
 * Merges two lists each in ascending `outSeq` into one in ascending `outSeq` (the lists are of
 * different subjects, so no sequence is in both).
 */
export function mergeByOutSeq<T extends { outSeq: number }>(a: readonly T[], b: readonly T[]): T[] {
  const merged: T[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) merged.push(a[i]!.outSeq < b[j]!.outSeq ? a[i++]! : b[j++]!);
  while (i < a.length) merged.push(a[i++]!);
  while (j < b.length) merged.push(b[j++]!);
  return merged;
}

/**
 * Every interval record and transfer of a site stored after `afterSeq`, in stream order, up to
 * `WFM_OUT`'s last sequence at the time of the call, which is `upTo` (never below `afterSeq`): the
 * stream's last sequence is taken first, then the two subjects are read, each over a consumer the
 * server filters (so no gc or adherence output is sent), cut at that bound and merged by `outSeq`.
 * Whatever of the site is stored at or below `upTo` is in `items`, so a sink given `upTo` as its
 * position has missed nothing.
 * @throws NatsError
 */
export async function readSiteHistory(
  js: JetStreamClient,
  jsm: JetStreamManager,
  tenant: string,
  site: string,
  afterSeq: number,
): Promise<{ items: HistoryMessage[]; upTo: number }> {
  let bound: number;
  try {
    bound = (await jsm.streams.info('WFM_OUT')).state.last_seq;
  } catch (err) {
    throw natsErrorFrom(err, 'cannot read the last sequence of WFM_OUT');
  }
  // Both reads start after the bound was taken, so each reaches every message of its subject at
  // or below it; what they read beyond it (stored since) is left for the next reader.
  const intervals = await readSubject(js, jsm, tenant, intervalSubject(tenant, site), afterSeq, bound);
  const transfers = await readSubject(js, jsm, tenant, transferSubject(tenant, site), afterSeq, bound);
  return { items: mergeByOutSeq(intervals.items, transfers.items), upTo: Math.max(afterSeq, bound) };
}
