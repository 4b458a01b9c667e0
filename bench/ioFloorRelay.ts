/**
 * The I/O floor as a program: what any node must do per input with no processing at all — read
 * it from `WFM_IN`, publish one output for it to `WFM_OUT` exactly as a node does (the
 * `Publisher`: deterministic `Nats-Msg-Id`, headers, JetStream acks, flow control), batched per
 * event-loop turn as a node's input batcher does. No decoding beyond the JSON parse, no domain
 * step, no actors, no checkpoints.
 *
 * The throughput bench runs it in its own process on the backlog; the latency bench runs this
 * file as a process of its own (as the node is one) under the same open-loop load as the node,
 * so the floor's latency at 10k events/s says what this machine allows any node.
 *
 * As a program: `node --import tsx bench/ioFloorRelay.ts <nats url>` relays every input stored
 * after it started, prints `relaying` once its consumer is in place, and on SIGTERM prints
 * `consumer events <JSON>` (what its JetStream consumer reported meanwhile) and exits.
 */
import { pathToFileURL } from 'node:url';
import { DeliverPolicy, type JsMsg, jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { Output } from '../src/domain/index.ts';
import { connectNats, Publisher } from '../src/streams/index.ts';

/**
 * Publishes the floor's output for input `m`, a GC output of its agent carrying its sequence, on
 * its site's lane; returns the site.
 */
export function relayOutput(outputs: Publisher, m: JsMsg): string {
  const [, , tenant = '', site = '', agentId = 'clock'] = m.subject.split('.');
  const payload = { ...(m.json() as object), sourceSeq: m.seq };
  outputs.publishOutput(site, {
    kind: 'gc',
    tenant,
    site,
    agentId,
    ordinal: 0,
    payload,
  } as unknown as Output);
  return site;
}

/** Options of {@link relayInputs}. */
export interface RelayOptions {
  /** Where in `WFM_IN` to start: a sequence, or only what is stored from now on. */
  start: { seq: number } | 'new';
  /** Stop after this many inputs (all that come: never). */
  messages?: number;
  /** Called once the consumer is in place, before the first input. */
  onReady?: () => void;
  /** Stops the relay when aborted. */
  signal?: AbortSignal;
}

/** What {@link relayInputs} did. */
export interface RelayResult {
  /** Inputs read (each with its output stored). */
  messages: number;
  /**
   * Notifications of its JetStream consumer by type (`heartbeats_missed`,
   * `ordered_consumer_recreated`, …; not `debug` nor `next`, its pull requests): a recreated
   * consumer is a stall of the relay's own.
   */
  events: Record<string, number>;
}

/**
 * Relays `WFM_IN` to `WFM_OUT` on `nc` (reading) and `pubNc` (publishing), one output per input,
 * until `messages` were read or `signal` aborts; resolves once every output is stored.
 */
export async function relayInputs(
  nc: NatsConnection,
  pubNc: NatsConnection,
  o: RelayOptions,
): Promise<RelayResult> {
  const outputs = new Publisher(pubNc);
  const consumer = await jetstream(nc).consumers.get(
    'WFM_IN',
    o.start === 'new' ? { deliver_policy: DeliverPolicy.New } : { opt_start_seq: o.start.seq },
  );
  const messages = await consumer.consume({ max_messages: 1024 });
  o.signal?.addEventListener('abort', () => void messages.stop(), { once: true });
  const events: Record<string, number> = {};
  const watching = (async () => {
    for await (const e of messages.status())
      if (e.type !== 'debug' && e.type !== 'next') events[e.type] = (events[e.type] ?? 0) + 1;
  })();
  let batch: JsMsg[] = [];
  const sites = new Set<string>();
  // One socket write per batch, as in a node: publishing inside the for-await loop would
  // flush (one write syscall) per message and measure that instead.
  const drain = () => {
    const now = batch;
    batch = [];
    for (const m of now) sites.add(relayOutput(outputs, m));
  };
  o.onReady?.();
  let n = 0;
  for await (const m of messages) {
    if (batch.length === 0) setImmediate(drain);
    batch.push(m);
    const ready = outputs.whenReady();
    if (ready !== undefined) await ready;
    if (++n === o.messages) break;
  }
  await new Promise((resolve) => setImmediate(resolve));
  await Promise.all([...sites].map((site) => outputs.flush(site)));
  // Read as they stand: the status iterator is not awaited (nothing says when it ends).
  watching.catch(() => undefined);
  return { messages: n, events: { ...events } };
}

async function main(url: string): Promise<void> {
  const nc = await connectNats({ servers: [url] });
  const pubNc = await connectNats({ servers: [url], reconnect: false });
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  const { events } = await relayInputs(nc, pubNc, {
    start: 'new',
    signal: stop.signal,
    onReady: () => console.log('relaying'),
  });
  console.log(`consumer events ${JSON.stringify(events)}`);
  await nc.drain();
  await pubNc.drain();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main(process.argv[2] ?? '');
