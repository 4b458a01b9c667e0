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

/** A bounded read of several subjects of one stream, each inside one stream subject. */
export interface StoredRanges extends Omit<StoredRange, 'subject'> {
  subjects: readonly string[];
  /**
   * Read the range in one pass, filtered here, when it spans at most this many messages of the
   * stream (every subject's) up to the last one on `subjects`; past that, one consumer per
   * subject filtered by the server. Why: nats-server 2.9 can deliver a filtered consumer's
   * messages from the newest block at ~1.5k/s while another client writes to the stream (a
   * probe's read of a site's 10k ids took 7 s where an unfiltered read of the same 20k messages
   * took 0.3 s; the takeover bench's slow restarts), and what a restore or a takeover reads is
   * the stream's newest messages. The bound caps what reading other sites' messages may cost
   * (headers only: ~0.5–1.5 s per 100k here). 0: always filtered by the server.
   */
  wholeRangeMax: number;
}

/**
 * Visits every message stored on `subject` after `afterSeq`, up to the last matching message at the
 * time of the call, over one short-lived ordered consumer: the last message bounds the read, so
 * it ends without waiting for a timeout. Resolves with the last sequence visited (`afterSeq` when
 * nothing matched).
 * @throws NatsError when the stream cannot be read; `range.signal`'s reason once it is aborted.
 */
export function readStoredRange(
  js: JetStreamClient,
  jsm: JetStreamManager,
  range: StoredRange,
  visit: (m: JsMsg) => void,
): Promise<number> {
  const { subject, ...rest } = range;
  return readStoredRanges(js, jsm, { ...rest, subjects: [subject], wholeRangeMax: 0 }, visit);
}

/**
 * Visits every message stored on any of `subjects` after `afterSeq`, up to the last one on them at
 * the time of the call: in one pass filtered here while that spans at most `wholeRangeMax`
 * messages of the stream (in stream order), else subject by subject, each over a consumer the
 * server filters (in stream order per subject). Resolves with the greatest last sequence of the
 * subjects (`afterSeq` when nothing matched).
 * @throws NatsError when the stream cannot be read; `range.signal`'s reason once it is aborted.
 */
export async function readStoredRanges(
  js: JetStreamClient,
  jsm: JetStreamManager,
  range: StoredRanges,
  visit: (m: JsMsg) => void,
): Promise<number> {
  try {
    return await readRanges(js, jsm, range, visit);
  } catch (err) {
    if (err instanceof NatsError || (range.signal?.aborted === true && err === range.signal.reason))
      throw err;
    const reason = err instanceof Error ? err.message : String(err);
    throw new NatsError(`cannot read ${range.subjects.join(', ')} from ${range.stream}: ${reason}`, {
      cause: err,
    });
  }
}

async function readRanges(
  js: JetStreamClient,
  jsm: JetStreamManager,
  range: StoredRanges,
  visit: (m: JsMsg) => void,
): Promise<number> {
  const { stream, subjects, afterSeq, signal } = range;
  signal?.throwIfAborted();
  const lasts: { subject: string; last: number }[] = [];
  for (const subject of subjects) {
    const last = (await jsm.streams.getMessage(stream, { last_by_subj: subject }))?.seq ?? 0;
    if (last > afterSeq) lasts.push({ subject, last });
  }
  if (lasts.length === 0) return afterSeq;
  const upTo = Math.max(...lasts.map((l) => l.last));
  if (upTo - afterSeq <= range.wholeRangeMax) {
    await readRange(js, range, upTo, { here: subjectMatcher(lasts.map((l) => l.subject)) }, visit);
  } else {
    for (const { subject, last } of lasts) await readRange(js, range, last, { server: subject }, visit);
  }
  return upTo;
}

/** Which messages of the range a read keeps: those the server's filter passes, or those `here` does. */
type Filter = { server: string } | { here: (subject: string) => boolean };

/** One ordered consumer from `afterSeq + 1` up to `last`, a message stored on the way. */
async function readRange(
  js: JetStreamClient,
  { stream, subjects, afterSeq, headersOnly, signal }: StoredRanges,
  last: number,
  filter: Filter,
  visit: (m: JsMsg) => void,
): Promise<void> {
  signal?.throwIfAborted();
  const options = {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: afterSeq + 1,
    headers_only: headersOnly,
  };
  let consumer: Consumer;
  let match = 'here' in filter ? filter.here : undefined;
  if ('server' in filter) {
    try {
      consumer = await js.consumers.get(stream, { ...options, filter_subjects: filter.server });
    } catch (err) {
      // The stream holds messages on a subject it no longer captures (an operator edited it): the
      // server refuses that filter, so read the range whole and filter here.
      if (!(err instanceof JetStreamApiError) || err.code !== FILTER_NOT_SUBSET) throw err;
      consumer = await js.consumers.get(stream, options);
      match = subjectMatcher([filter.server]);
    }
  } else consumer = await js.consumers.get(stream, options);
  const read = 'server' in filter ? filter.server : subjects.join(', ');
  let seen = afterSeq;
  try {
    while (seen < last) {
      signal?.throwIfAborted();
      const before = seen;
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      for await (const m of batch) {
        seen = m.seq;
        if (m.seq > last) break;
        if (match === undefined || match(m.subject)) visit(m);
        // After every message, kept or not: a fetch that cannot be filled waits for its expiry.
        if (seen >= last) break;
      }
      if (seen === before) throw new NatsError(`reading ${read} from ${stream} stalled after seq ${seen}`);
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
