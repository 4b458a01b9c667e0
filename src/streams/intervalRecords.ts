import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { map, type Observable } from 'rxjs';
import type { IntervalRecord } from '../domain/index.ts';
import { inputMessages } from './inputMessages.ts';
import { readStoredRange } from './readStoredRange.ts';

/** One `wfm.interval.T.S.A` message as stored in `WFM_OUT`. */
export interface IntervalMessage {
  tenant: string;
  /** Its `WFM_OUT` stream sequence. */
  outSeq: number;
  record: IntervalRecord;
}

/** Where a site's interval records are read from. */
export interface IntervalRecordsOptions {
  tenant: string;
  site: string;
  /** The first `WFM_OUT` sequence wanted. */
  startSeq: number;
  /** Backpressure: a returned promise is awaited before the next record is emitted. */
  whenReady?: () => Promise<void> | undefined;
}

/** The `WFM_OUT` subject filter of one site's interval records (inside stream subject `wfm.interval.>`). */
export function intervalSubject(tenant: string, site: string): string {
  return `wfm.interval.${tenant}.${site}.>`;
}

const decoder = new TextDecoder();

/**
 * A stored interval record, or null when the message is not one (only this product writes to
 * `WFM_OUT`, so that is someone else's message on our subject: it is skipped, not guessed at).
 */
export function parseIntervalMessage(
  tenant: string,
  outSeq: number,
  data: Uint8Array,
): IntervalMessage | null {
  let record: unknown;
  try {
    record = JSON.parse(decoder.decode(data));
  } catch {
    return null;
  }
  if (typeof record !== 'object' || record === null) return null;
  const r = record as Partial<IntervalRecord>;
  if (typeof r.agentId !== 'string' || typeof r.site !== 'string' || !Number.isSafeInteger(r.intervalStart))
    return null;
  return { tenant, outSeq, record: record as IntervalRecord };
}

/**
 * A site's interval records from `startSeq` on, live, in stream order, over an ordered consumer
 * (one server-side filter, so nats-server 2.9 sends only this site's records). Messages that are
 * not interval records are passed over.
 */
export function intervalRecords(
  js: JetStreamClient,
  o: IntervalRecordsOptions,
): Observable<IntervalMessage | null> {
  return inputMessages(js, {
    stream: 'WFM_OUT',
    filterSubject: intervalSubject(o.tenant, o.site),
    startSeq: o.startSeq,
    whenReady: o.whenReady,
  }).pipe(map((m) => parseIntervalMessage(o.tenant, m.seq, m.data)));
}

/**
 * Every interval record of a site stored after `afterSeq`, up to the last one stored at the time
 * of the call; `upTo` is the last sequence read (`afterSeq` when there is none).
 * @throws NatsError
 */
export async function readIntervalRecords(
  js: JetStreamClient,
  jsm: JetStreamManager,
  tenant: string,
  site: string,
  afterSeq: number,
): Promise<{ records: IntervalMessage[]; upTo: number }> {
  const records: IntervalMessage[] = [];
  const subject = intervalSubject(tenant, site);
  const upTo = await readStoredRange(
    js,
    jsm,
    { stream: 'WFM_OUT', subject, afterSeq, headersOnly: false },
    (m) => {
      const parsed = parseIntervalMessage(tenant, m.seq, m.data);
      if (parsed !== null) records.push(parsed);
    },
  );
  return { records, upTo };
}
