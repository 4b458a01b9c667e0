import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import { siteOutputFilter } from '../domain/index.ts';
import { NatsError } from '../errors.ts';
import { ORDINAL_HEADER, SOURCE_SEQ_HEADER } from './OutputPublisher.ts';

/** Where a site's published outputs stop: the headers of its last message in `WFM_OUT`. */
export interface PublishedMark {
  /** `Wfm-Source-Seq`: the `WFM_IN` sequence that caused the last stored output. */
  sourceSeq: number;
  /** `Wfm-Ordinal`: the publisher's ordinal of the last stored output. */
  ordinal: number;
}

/**
 * The mark of the last message in `stream` (default `WFM_OUT`) whose subject matches
 * `wfm.*.${tenant}.${site}.>`, or null when the site has none. Uses the stream's
 * "last message by subject" lookup with that wildcard (works on nats-server 2.9.10).
 * A restarted node skips outputs up to this ordinal, so nothing is written twice even after the
 * server's duplicate window has passed.
 * @throws NatsError when the lookup fails or the last message lacks the mark headers.
 */
export async function findPublishedMark(
  jsm: JetStreamManager,
  tenant: string,
  site: string,
  stream = 'WFM_OUT',
): Promise<PublishedMark | null> {
  const filter = siteOutputFilter(tenant, site);
  let msg: StoredMsg | null;
  try {
    msg = await jsm.streams.getMessage(stream, { last_by_subj: filter });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new NatsError(`cannot read the last ${filter} message of ${stream}: ${reason}`, { cause: err });
  }
  if (msg === null) return null;
  const sourceSeq = headerInt(msg, SOURCE_SEQ_HEADER);
  const ordinal = headerInt(msg, ORDINAL_HEADER);
  if (sourceSeq === undefined || ordinal === undefined) {
    // Not written by an OutputPublisher: guessing would either lose or repeat outputs.
    throw new NatsError(
      `${stream} message ${msg.seq} on ${msg.subject} has no valid ${SOURCE_SEQ_HEADER}/${ORDINAL_HEADER} headers`,
    );
  }
  return { sourceSeq, ordinal };
}

function headerInt(msg: StoredMsg, name: string): number | undefined {
  const text = msg.header?.get(name);
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
