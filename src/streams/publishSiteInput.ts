import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { SiteInputMessage } from '../domain/index.ts';
import { NatsError } from '../errors.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';

/** How {@link publishSiteInput} publishes. */
export interface PublishSiteInputOptions {
  /**
   * Publishes awaiting their acknowledgement at once. They are sent in order on one connection,
   * so the stream stores them in that order.
   * @defaultValue 256
   */
  window: number;
  /**
   * Acknowledgement timeout of each publish, ms.
   * @defaultValue 5000
   */
  timeoutMs: number;
  /**
   * Prefix of each message's `Nats-Msg-Id`; the id is the prefix and the message's sequence in
   * the export, so importing the same file twice within the stream's duplicate window stores it once.
   * @defaultValue `'import'`
   */
  msgIdPrefix: string;
}

/** Defaults of {@link PublishSiteInputOptions}. */
export const defaultPublishSiteInputOptions: PublishSiteInputOptions = {
  window: 256,
  timeoutMs: 5000,
  msgIdPrefix: 'import',
};

/** What an import stored. */
export interface PublishedInput {
  /** Messages acknowledged as stored. */
  stored: number;
  /** Messages the server dropped as already stored (same `Nats-Msg-Id` within its window). */
  duplicates: number;
  /** `WFM_IN` sequences of the first and last message stored (null: none). */
  firstSeq: number | null;
  lastSeq: number | null;
}

/**
 * Publishes a site's exported messages to `WFM_IN` on their own subjects, in order, with their
 * payload bytes unchanged (a stat source's job, so a replay or a node elsewhere sees the same
 * input). Each message gets `Nats-Msg-Id` `<prefix>:<T>.<S>:<seq>` (its sequence in the export).
 * @throws NatsError when a publish gets no acknowledgement, or lands in another stream; the
 *   message says how many were stored before it.
 */
export async function publishSiteInput(
  js: JetStreamClient,
  messages: AsyncIterable<SiteInputMessage & { tenant: string; site: string }>,
  options: Partial<PublishSiteInputOptions> = {},
): Promise<PublishedInput> {
  const o = { ...defaultPublishSiteInputOptions, ...options };
  if (!Number.isInteger(o.window) || o.window < 1) {
    throw new RangeError(`window must be a positive integer, got ${o.window}`);
  }
  const result: PublishedInput = { stored: 0, duplicates: 0, firstSeq: null, lastSeq: null };
  const inFlight: { subject: string; ack: Promise<PubAck> }[] = [];
  const settle = async (): Promise<void> => {
    const { subject, ack: pending } = inFlight.shift()!;
    let ack: PubAck;
    try {
      ack = await pending;
    } catch (err) {
      throw natsErrorFrom(err, `publishing ${subject} got no acknowledgement after ${result.stored} stored`);
    }
    if (ack.stream !== 'WFM_IN') {
      throw new NatsError(`${subject} was stored in stream ${ack.stream}, not WFM_IN`);
    }
    if (ack.duplicate) {
      result.duplicates += 1;
      return;
    }
    result.stored += 1;
    result.firstSeq ??= ack.seq;
    result.lastSeq = ack.seq;
  };
  try {
    for await (const m of messages) {
      const ack = js.publish(m.subject, m.data, {
        msgID: `${o.msgIdPrefix}:${m.tenant}.${m.site}:${m.seq}`,
        timeout: o.timeoutMs,
      });
      inFlight.push({ subject: m.subject, ack });
      if (inFlight.length >= o.window) await settle();
    }
    while (inFlight.length > 0) await settle();
  } finally {
    // A failure leaves publishes in flight: their rejections must not go unhandled.
    for (const { ack } of inFlight) ack.catch(() => undefined);
  }
  return result;
}
