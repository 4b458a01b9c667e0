import {
  type Consumer,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { NatsError } from '../errors.ts';
import { subjectMatcher } from './subjectCovers.ts';
import { MSG_ID_HEADER, SOURCE_SEQ_HEADER } from './wfmMessages.ts';

// JSConsumerFilterNotMatchingErr: "consumer filter subject is not a valid subset of the interest subjects".
const FILTER_NOT_SUBSET = 10093;

/** Where to look for what a site already wrote. */
export interface ReadStoredIdsOptions {
  /** The stream (`WFM_OUT` or `WFM_DLQ`). */
  stream: string;
  /**
   * Subjects to read, each inside one stream subject (nats-server 2.9 takes one filter per
   * consumer, so each is read by its own consumer), e.g. `wfm.gc.T.S.>`.
   */
  subjects: readonly string[];
  /** Read messages after this stream sequence (0: from the start). */
  afterSeq: number;
  /** Keep only messages whose header `name` has this value (e.g. the site of a dead letter). */
  header?: { name: string; value: string };
}

/** The identities a site finds already stored, and the last input that caused one of them. */
export interface StoredIds {
  /** `Nats-Msg-Id` of every matching message after `afterSeq`. */
  ids: Set<string>;
  /** Greatest `Wfm-Source-Seq` among them (0: none): past it, nothing can be stored yet. */
  maxSourceSeq: number;
}

/**
 * Every `Nats-Msg-Id` stored on `subjects` after `afterSeq`, up to the last matching message at
 * the time of the call, over one short-lived ordered consumer per subject. A site restored from a
 * checkpoint skips exactly these while it re-processes, so it writes nothing twice and re-sends
 * whatever is missing — a lost publish included — whatever the stream's duplicate window.
 * @throws NatsError when the stream cannot be read.
 */
export async function readStoredIds(
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: ReadStoredIdsOptions,
): Promise<StoredIds> {
  const found: StoredIds = { ids: new Set(), maxSourceSeq: 0 };
  for (const subject of options.subjects) {
    try {
      await readSubject(js, jsm, subject, options, found);
    } catch (err) {
      if (err instanceof NatsError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new NatsError(`cannot read ${subject} from ${options.stream}: ${reason}`, { cause: err });
    }
  }
  return found;
}

async function readSubject(
  js: JetStreamClient,
  jsm: JetStreamManager,
  subject: string,
  { stream, afterSeq, header }: ReadStoredIdsOptions,
  found: StoredIds,
): Promise<void> {
  // The last message on the subject bounds the read, so it ends without waiting for a timeout.
  const last = await jsm.streams.getMessage(stream, { last_by_subj: subject });
  if (last === null || last.seq <= afterSeq) return;
  const options = {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: afterSeq + 1,
    // Only the headers are read: an interval record's payload is the bulk of the bytes.
    headers_only: true,
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
      const before = seen;
      const batch = await consumer.fetch({ max_messages: 1000, expires: 5000 });
      for await (const m of batch) {
        seen = m.seq;
        if (m.seq > last.seq) break;
        if (match === undefined || match(m.subject)) collect(m.headers, header, found);
        // After every message, kept or not: a fetch that cannot be filled waits for its expiry.
        if (seen >= last.seq) break;
      }
      if (seen === before) throw new NatsError(`reading ${subject} from ${stream} stalled after seq ${seen}`);
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}

/** Adds a message's id and source seq when it passes the header filter and has an id. */
function collect(h: MsgHdrs | undefined, header: ReadStoredIdsOptions['header'], found: StoredIds): void {
  if (header !== undefined && h?.get(header.name) !== header.value) return;
  const id = h?.get(MSG_ID_HEADER);
  if (id === undefined || id === '') return;
  found.ids.add(id);
  const source = Number(h?.get(SOURCE_SEQ_HEADER));
  if (Number.isSafeInteger(source) && source > found.maxSourceSeq) found.maxSourceSeq = source;
}
