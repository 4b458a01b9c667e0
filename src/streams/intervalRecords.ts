import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { map, type Observable } from 'rxjs';
import { ID_PATTERN, type IntervalRecord, siteOutputFilter, type TransferRecord } from '../domain/index.ts';
import { inputMessages } from './inputMessages.ts';
import { readStoredRange } from './readStoredRange.ts';

/** One `wfm.interval.T.S.A` message as stored in `WFM_OUT`. */
export interface IntervalMessage {
  tenant: string;
  /** Its `WFM_OUT` stream sequence. */
  outSeq: number;
  record: IntervalRecord;
}

/** One `wfm.transfer.T.S.B` message (a transfer's audit record) as stored in `WFM_OUT`. */
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

/** Where a site's history is read from. */
export interface SiteHistoryOptions {
  tenant: string;
  site: string;
  /** The first `WFM_OUT` sequence wanted. */
  startSeq: number;
  /** Backpressure: a returned promise is awaited before the next message is emitted. */
  whenReady?: () => Promise<void> | undefined;
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
 * A site's interval records and transfers from `startSeq` on, live, in stream order (a transfer
 * between rows stays between them), over one ordered consumer filtered on the site's whole output
 * `wfm.*.T.S.>`: one filter, which nats-server 2.10 applies itself; 2.9 refuses it on `WFM_OUT`
 * (it spans several stream subjects), so `inputMessages` then reads the whole stream and filters
 * here. Other outputs of the site emit null (they still count as read: backpressure sees them).
 */
export function siteHistory(js: JetStreamClient, o: SiteHistoryOptions): Observable<HistoryMessage | null> {
  return inputMessages(js, {
    stream: 'WFM_OUT',
    filterSubject: siteOutputFilter(o.tenant, o.site),
    startSeq: o.startSeq,
    whenReady: o.whenReady,
  }).pipe(map((m) => parseHistoryMessage(o.tenant, m.seq, m.subject, m.data)));
}

/**
 * Every interval record and transfer of a site stored after `afterSeq`, in stream order, up to the
 * last output of the site stored at the time of the call; `upTo` is the last sequence read
 * (`afterSeq` when there is none).
 * @throws NatsError
 */
export async function readSiteHistory(
  js: JetStreamClient,
  jsm: JetStreamManager,
  tenant: string,
  site: string,
  afterSeq: number,
): Promise<{ items: HistoryMessage[]; upTo: number }> {
  const items: HistoryMessage[] = [];
  const subject = siteOutputFilter(tenant, site);
  const upTo = await readStoredRange(
    js,
    jsm,
    { stream: 'WFM_OUT', subject, afterSeq, headersOnly: false },
    (m) => {
      const parsed = parseHistoryMessage(tenant, m.seq, m.subject, m.data);
      if (parsed !== null) items.push(parsed);
    },
  );
  return { items, upTo };
}
