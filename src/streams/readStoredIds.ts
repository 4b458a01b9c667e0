import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { readStoredRanges } from './readStoredRange.ts';
import { MSG_ID_HEADER, SOURCE_SEQ_HEADER } from './wfmMessages.ts';

/** Where to look for what a site already wrote. */
export interface ReadStoredIdsOptions {
  /** The stream (`WFM_OUT` or `WFM_DLQ`). */
  stream: string;
  /**
   * Subjects to read, each inside one stream subject (nats-server 2.9 takes one filter per
   * consumer, so each read by the server's filter has its own consumer), e.g. `wfm.gc.T.S.>`.
   */
  subjects: readonly string[];
  /** Read messages after this stream sequence (0: from the start). */
  afterSeq: number;
  /** Keep only messages whose header `name` has this value (e.g. the site of a dead letter). */
  header?: { name: string; value: string };
  /** Stops the read between batches, rejecting with the signal's reason. */
  signal?: AbortSignal | undefined;
  /**
   * Read every subject in one pass, filtered here, while the range spans at most this many of the
   * stream's messages; else subject by subject, filtered by the server (see `StoredRanges`).
   * @defaultValue {@link WHOLE_RANGE_MAX}
   */
  wholeRangeMax?: number;
}

/**
 * Default of `ReadStoredIdsOptions.wholeRangeMax`: what a restore or a takeover reads (since a
 * checkpoint of every few seconds, since a mark of a quarter second) is well inside it on a
 * busy stream, and reading 100k headers of other sites costs about a second at worst.
 */
export const WHOLE_RANGE_MAX = 100_000;

/**
 * `wholeRangeMax` for a site of a node that hosts up to `sites` of them: a node may restore all
 * of them at once, and each one-pass read reads every site's messages in its range, so they share
 * the bound and the node's one-pass reading stays near {@link WHOLE_RANGE_MAX} (~1 s here). With
 * many sites, each one's share of the stream is small, and the server-filtered read (fast but in
 * the state `StoredRanges` describes) reads less.
 */
export function wholeRangeMaxFor(sites: number): number {
  return Math.floor(WHOLE_RANGE_MAX / Math.max(1, sites));
}

/** The identities a site finds already stored, and the last input that caused one of them. */
export interface StoredIds {
  /** `Nats-Msg-Id` of every matching message after `afterSeq`. */
  ids: Set<string>;
  /** Greatest `Wfm-Source-Seq` among them (0: none): past it, nothing can be stored yet. */
  maxSourceSeq: number;
}

/**
 * Every `Nats-Msg-Id` stored on `subjects` after `afterSeq`, up to the last message on them at
 * the time of the call, over short-lived ordered consumers (one for the whole range while it
 * spans at most `wholeRangeMax` messages, else one per subject). A site restored from a
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
  const { stream, subjects, afterSeq, header, signal } = options;
  const wholeRangeMax = options.wholeRangeMax ?? WHOLE_RANGE_MAX;
  // Only the headers are read: an interval record's payload is the bulk of the bytes.
  await readStoredRanges(
    js,
    jsm,
    { stream, subjects, afterSeq, headersOnly: true, signal, wholeRangeMax },
    (m) => collect(m.headers, header, found),
  );
  return found;
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
