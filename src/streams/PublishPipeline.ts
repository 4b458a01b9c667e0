import type { JetStreamClient } from '@nats-io/jetstream';
import {
  createInbox,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from '@nats-io/transport-node';
import { PublishError } from '../errors.ts';

/** `write` publishes; `discard` (a hot-standby backup) computes and counts but writes nothing. */
export type PublishMode = 'write' | 'discard';

/** Tuning shared by every publisher. */
export interface PublishPipelineOptions {
  /**
   * Most publishes awaiting their JetStream ack; `whenReady()` holds the caller back beyond it.
   * @defaultValue `1024`
   */
  maxInFlight: number;
  /**
   * Initial mode; change it later with `setMode`.
   * @defaultValue `'write'`
   */
  mode: PublishMode;
  /**
   * Milliseconds to wait for each ack before the publish counts as failed.
   * @defaultValue `5000`
   */
  ackTimeoutMs: number;
}

const ackDecoder = new TextDecoder();
// nats-server 2.9 writes `"duplicate": true` (with a space); later versions may not.
const DUPLICATE = /"duplicate":\s*true/;

export const defaultPublishPipelineOptions: PublishPipelineOptions = {
  maxInFlight: 1024,
  mode: 'write',
  ackTimeoutMs: 5000,
};

/** Counters of one publisher since it was made. */
export interface PublishStats {
  /** Every `publish()` call, in either mode. */
  submitted: number;
  /** Acks that stored a new message. */
  published: number;
  /** Acks that said the server already had this `Nats-Msg-Id` (nothing stored). */
  duplicates: number;
  /** Publishes that got no ack or an error. */
  failed: number;
  /** Publishes dropped because the mode was `discard`. */
  discarded: number;
  /** Publishes awaiting their ack now. */
  inFlight: number;
}

/** One message ready to go: what a publisher hands the pipeline. */
export interface PipelineMessage {
  subject: string;
  data: Uint8Array;
  msgId: string;
  headers: MsgHdrs;
}

/**
 * The in-flight window behind every publisher: sends JetStream publishes without waiting for
 * each ack, bounds how many are pending, counts acks and remembers failures until `flush()`.
 * Messages go out in call order on one connection, so the stream stores them in that order.
 *
 * Publishes are core NATS publishes with a reply subject under one inbox of this pipeline:
 * JetStream acknowledges those exactly like `js.publish()`, but without a request (an inbox
 * mux entry, a timer and two Error objects) per message, which measured ~8k outputs/s here.
 * Acks are matched by the reply subject's last token; one sweep times out missing ones.
 */
export class PublishPipeline {
  private readonly nc: NatsConnection;
  private readonly stream: string;
  private readonly options: PublishPipelineOptions;
  private modeNow: PublishMode;
  private readonly inbox = createInbox();
  private subscription: Subscription | null = null;
  // Ack id -> (msgId, sent at): Map keeps insertion order, so the sweep stops at the first young one.
  private readonly pending = new Map<number, { msgId: string; sentAt: number }>();
  private nextId = 0;
  private sweeper: NodeJS.Timeout | null = null;
  // Only the first failure since the last flush is kept (with a count): failures can be many.
  private firstFailure: { msgId: string; error: unknown } | undefined;
  private failuresSinceFlush = 0;
  private readyWaiters: (() => void)[] = [];
  private drainWaiters: (() => void)[] = [];
  private counts = { submitted: 0, published: 0, duplicates: 0, failed: 0, discarded: 0 };

  /** `stream` is the stream the messages land in (named in errors). */
  constructor(js: JetStreamClient, stream: string, options: Partial<PublishPipelineOptions> = {}) {
    // The JetStream client's connection (a public field of its implementation).
    this.nc = (js as JetStreamClient & { nc: NatsConnection }).nc;
    this.stream = stream;
    this.options = { ...defaultPublishPipelineOptions, ...options };
    if (!Number.isInteger(this.options.maxInFlight) || this.options.maxInFlight < 1) {
      throw new RangeError(`maxInFlight must be a positive integer, got ${this.options.maxInFlight}`);
    }
    this.modeNow = this.options.mode;
  }

  /** Current mode. */
  get mode(): PublishMode {
    return this.modeNow;
  }

  /** Switches mode; publishes already in flight still complete and count. */
  setMode(mode: PublishMode): void {
    this.modeNow = mode;
  }

  /** A snapshot of the counters. */
  get stats(): PublishStats {
    return { ...this.counts, inFlight: this.pending.size };
  }

  /**
   * Sends one message (or, in discard mode, counts it and drops it without calling `build`, so
   * a backup pays nothing for encoding). Never waits: callers that honour `whenReady()` keep at
   * most `maxInFlight` publishes pending.
   */
  submit(build: () => PipelineMessage): void {
    this.counts.submitted++;
    if (this.modeNow === 'discard') {
      this.counts.discarded++;
      return;
    }
    const message = build();
    this.subscription ??= this.nc.subscribe(`${this.inbox}.*`, { callback: (_err, msg) => this.onAck(msg) });
    const id = this.nextId++;
    // No Nats-Expected-Stream header: every header costs encoding time per message, and the
    // subjects published here belong to one stream by construction (ensureStreams).
    message.headers.set('Nats-Msg-Id', message.msgId);
    this.pending.set(id, { msgId: message.msgId, sentAt: performance.now() });
    this.sweeper ??= setInterval(() => this.sweep(), Math.min(250, this.options.ackTimeoutMs));
    try {
      this.nc.publish(message.subject, message.data, {
        headers: message.headers,
        reply: `${this.inbox}.${id}`,
      });
    } catch (error) {
      this.settle(id, null, error);
    }
  }

  /** Undefined when another publish may go now; otherwise a promise that resolves when one may. */
  whenReady(): Promise<void> | undefined {
    if (this.pending.size < this.options.maxInFlight) return undefined;
    return new Promise<void>((resolve) => this.readyWaiters.push(resolve));
  }

  /**
   * Waits for every pending ack. Rejects with PublishError when any publish since the last
   * `flush()` failed; the failures are then forgotten, so the caller re-sends (the
   * `Nats-Msg-Id` makes re-sending safe) and flushes again.
   */
  async flush(): Promise<void> {
    if (this.pending.size > 0) await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    const first = this.firstFailure;
    if (first === undefined) return;
    const count = this.failuresSinceFlush;
    this.firstFailure = undefined;
    this.failuresSinceFlush = 0;
    const reason = first.error instanceof Error ? first.error.message : String(first.error);
    throw new PublishError(
      `${count} publish(es) to ${this.stream} got no ack; first ${first.msgId}: ${reason}`,
      {
        cause: first.error,
      },
    );
  }

  private onAck(msg: Msg): void {
    const id = Number(msg.subject.slice(this.inbox.length + 1));
    if (msg.data.length === 0) {
      // A status-only reply: 503 means no stream listens on the subject.
      const status = msg.headers?.code ?? 0;
      this.settle(
        id,
        null,
        new Error(status === 503 ? 'no stream for this subject (503)' : `status ${status}`),
      );
      return;
    }
    // A PubAck is `{"stream":…, "seq":…}`, with `"duplicate": true` when the id was seen before:
    // read that without JSON.parse (one per output adds up); parse anything else in full.
    const text = ackDecoder.decode(msg.data);
    if (text.startsWith('{"stream"') && !text.includes('"error"')) {
      this.settle(id, DUPLICATE.test(text), undefined);
      return;
    }
    let ack: { stream?: string; duplicate?: boolean; error?: { description?: string; code?: number } };
    try {
      ack = JSON.parse(text);
    } catch (error) {
      this.settle(id, null, error);
      return;
    }
    if (ack.error !== undefined)
      this.settle(id, null, new Error(ack.error.description ?? `error ${ack.error.code}`));
    else if (typeof ack.stream !== 'string')
      this.settle(id, null, new Error(`not a JetStream ack: ${text.slice(0, 200)}`));
    else this.settle(id, ack.duplicate === true, undefined);
  }

  private settle(id: number, duplicate: boolean | null, error: unknown): void {
    const entry = this.pending.get(id);
    if (entry === undefined) return; // already timed out
    this.pending.delete(id);
    if (duplicate === null) {
      this.counts.failed++;
      this.failuresSinceFlush++;
      this.firstFailure ??= { msgId: entry.msgId, error };
    } else if (duplicate) {
      this.counts.duplicates++;
    } else {
      this.counts.published++;
    }
    this.release();
  }

  private sweep(): void {
    const oldest = performance.now() - this.options.ackTimeoutMs;
    for (const [id, entry] of this.pending) {
      if (entry.sentAt > oldest) break;
      this.settle(id, null, new Error(`no ack within ${this.options.ackTimeoutMs} ms`));
    }
    if (this.pending.size === 0 && this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
  }

  private release(): void {
    if (this.readyWaiters.length > 0 && this.pending.size < this.options.maxInFlight) {
      const waiters = this.readyWaiters;
      this.readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.pending.size === 0 && this.drainWaiters.length > 0) {
      const waiters = this.drainWaiters;
      this.drainWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
