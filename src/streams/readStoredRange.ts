import {
  type Consumer,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { NatsError } from '../errors.ts';
import { subjectMatcher } from './subjectCovers.ts';

// JSConsumerFilterNotMatchingErr: "consumer filter subject is not a valid subset of the interest subjects".
const FILTER_NOT_SUBSET = 10093;

/** One bounded read of a stream. */
export interface StoredRange {
  stream: string;
  /** One subject inside one stream subject (2.9 takes one filter per consumer), e.g. `wfm.gc.T.S.>`. */
  subject: string;
  /** Read messages after this stream sequence (0: from the start). */
  afterSeq: number;
  /** Only headers (an interval record's payload is the bulk of the bytes). */
  headersOnly: boolean;
  /** Stops the read between batches, rejecting with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * Visits every message stored on `subject` after `afterSeq`, up to the last matching message at the
 * time of the call, over one short-lived ordered consumer: the last message bounds the read, so
 * it ends without waiting for a timeout. Resolves with the last sequence visited (`afterSeq` when
 * nothing matched).
 * @throws NatsError when the stream cannot be read; `range.signal`'s reason once it is aborted.
 */
export async function readStoredRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  range: StoredRange,
  visit: (m: JsMsg) => void,
): Promise<number> {
  try {
    return await readRange(js, jsm, range, visit);
  } catch (err) {
    if (err instanceof NatsError || (range.signal?.aborted === true && err === range.signal.reason))
      throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new NatsError(`cannot read ${range.subject} from ${range.stream}: ${reason}`, { cause: err });
  }
}

async function readRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  { stream, subject, afterSeq, headersOnly, signal }: StoredRange,
  visit: (m: JsMsg) => void,
): Promise<number> {
  signal?.throwIfAborted();
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (last === null || last.seq <= afterSeq) return afterSeq;
  const options = {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: afterSeq + 1,
    headers_only: headersOnly,
  };
  let consumer: Consumer;
  let match: ((subject: string) => boolean) | undefined;
  try {
    consumer = await js.consumers.get(stream, { ...options, filter_subjects: subject });
  } catch (err) {
    // The stream holds messages on a subject it no longer captures (an operator edited it): the
    // server refuses that filter, so read the range whole and filter here.
    if (!(err instanceof JetStreamApiError) || err.code !== FILTER_NOT_SUBSET) throw err;
    consumer = await js.consumers.get(stream, options);
    match = subjectMatcher([subject]);
  }
  let seen = afterSeq;
  try {
    while (seen < last.seq) {
      signal?.throwIfAborted();
      const before = seen;
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      for await (const m of batch) {
        seen = m.seq;
        if (m.seq > last.seq) break;
        if (match === undefined || match(m.subject)) visit(m);
        // After every message, kept or not: a fetch that cannot be filled waits for its expiry.
        if (seen >= last.seq) break;
      }
      if (seen === before) throw new NatsError(`reading ${subject} from ${stream} stalled after seq ${seen}`);
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return last.seq;
}
