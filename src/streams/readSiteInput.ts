import {
  type Consumer,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import { parseSubject, type SiteInputMessage, tenantInputFilter } from '../domain/index.ts';
import { NatsError } from '../errors.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';
import { subjectMatcher } from './subjectCovers.ts';

// JSConsumerFilterNotMatchingErr: the filter is not inside one stream subject (nats-server 2.9).
const FILTER_NOT_SUBSET = 10093;

/** Which site's input {@link readSiteInput} reads, and how. */
export interface ReadSiteInputOptions {
  tenant: string;
  site: string;
  /**
   * Messages per fetch.
   * @defaultValue 1000
   */
  batchSize?: number;
  /**
   * Called now and then with the last stream sequence read and the stream's last sequence at the
   * start (for a progress bar).
   * @defaultValue undefined
   */
  onProgress?: (seq: number, lastSeq: number) => void;
}

/** What a read covered. */
export interface SiteInputRead {
  /** `WFM_IN`'s first and last sequences when the read began (0 and 0: the stream was empty). */
  streamFirstSeq: number;
  streamLastSeq: number;
  /** True when `visit` stopped the read. */
  stopped: boolean;
}

/**
 * Visits one site's `WFM_IN` messages in stream order, from the stream's first stored message up to
 * its last one at the time of the call, until `visit` returns (or resolves to) false; the next
 * message waits for the previous visit. It reads the tenant's filter
 * `wfm.*.T.>` — one filter takes all four input kinds, including `wfm.clock.T.S` and
 * `wfm.command.T.S`, which have no agent token (`wfm.*.T.S.>` would miss them) — and keeps the
 * messages whose subject parses to the site, which is exactly what a node routes to the site's
 * lane. nats-server 2.9 refuses that filter on `WFM_IN` (it spans stream subjects): the stream is
 * then read whole and filtered here.
 * @throws NatsError when the stream cannot be read.
 */
export async function readSiteInput(
  js: JetStreamClient,
  jsm: JetStreamManager,
  options: ReadSiteInputOptions,
  visit: (message: SiteInputMessage) => boolean | Promise<boolean>,
): Promise<SiteInputRead> {
  try {
    return await read(js, jsm, options, visit);
  } catch (err) {
    if (err instanceof NatsError) throw err;
    throw natsErrorFrom(err, `cannot read the input of site ${options.tenant}/${options.site} from WFM_IN`);
  }
}

async function read(
  js: JetStreamClient,
  jsm: JetStreamManager,
  { tenant, site, batchSize = 1000, onProgress }: ReadSiteInputOptions,
  visit: (message: SiteInputMessage) => boolean | Promise<boolean>,
): Promise<SiteInputRead> {
  const {
    first_seq: streamFirstSeq,
    last_seq: streamLastSeq,
    messages,
  } = (await jsm.streams.info('WFM_IN')).state;
  if (messages === 0) return { streamFirstSeq: 0, streamLastSeq: 0, stopped: false };
  const filter = tenantInputFilter(tenant);
  const base = { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: streamFirstSeq };
  let consumer: Consumer;
  let match: ((subject: string) => boolean) | undefined;
  try {
    consumer = await js.consumers.get('WFM_IN', { ...base, filter_subjects: filter });
    // An ordered consumer is made lazily; asking for its info makes it, so a refused filter shows here.
    await consumer.info();
  } catch (err) {
    if (!(err instanceof JetStreamApiError) || err.code !== FILTER_NOT_SUBSET) throw err;
    consumer = await js.consumers.get('WFM_IN', base);
    match = subjectMatcher([filter]);
  }
  const result = { streamFirstSeq, streamLastSeq, stopped: false };
  try {
    // Nothing of the tenant stored: a fetch would wait its whole expiry for a message that never comes.
    if ((await consumer.info()).num_pending === 0) return result;
    let seen = streamFirstSeq - 1;
    for (;;) {
      const before = seen;
      let done = false;
      const batch = await consumer.fetch({ max_messages: batchSize, expires: 5000 });
      for await (const m of batch) {
        seen = m.seq;
        if (m.seq > streamLastSeq) {
          done = true;
          break;
        }
        if (match === undefined || match(m.subject)) {
          const address = parseSubject(m.subject);
          if (address !== null && address.tenant === tenant && address.site === site) {
            if (!(await visit({ seq: m.seq, subject: m.subject, data: m.data }))) {
              result.stopped = true;
              done = true;
              break;
            }
          }
        }
        // Checked after every message: a fetch that cannot be filled waits for its expiry.
        if (m.seq >= streamLastSeq || m.info.pending === 0) {
          done = true;
          break;
        }
      }
      onProgress?.(seen, streamLastSeq);
      if (done) return result;
      if (seen === before) throw new NatsError(`reading WFM_IN stalled after seq ${seen}`);
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
