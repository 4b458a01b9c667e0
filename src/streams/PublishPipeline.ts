import type { JetStreamClient, PubAck } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
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
 */
export class PublishPipeline {
  private readonly js: JetStreamClient;
  private readonly stream: string;
  private readonly options: PublishPipelineOptions;
  private modeNow: PublishMode;
  private readonly pending = new Set<Promise<void>>();
  // Only the first failure since the last flush is kept (with a count): failures can be many.
  private firstFailure: { msgId: string; error: unknown } | undefined;
  private failuresSinceFlush = 0;
  private readyWaiters: (() => void)[] = [];
  private counts = { submitted: 0, published: 0, duplicates: 0, failed: 0, discarded: 0 };

  /** `stream` is the stream the messages land in (named in errors). */
  constructor(js: JetStreamClient, stream: string, options: Partial<PublishPipelineOptions> = {}) {
    this.js = js;
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
    const tracked = this.js
      .publish(message.subject, message.data, {
        msgID: message.msgId,
        headers: message.headers,
        timeout: this.options.ackTimeoutMs,
      })
      .then(
        (ack: PubAck) => {
          if (ack.duplicate) this.counts.duplicates++;
          else this.counts.published++;
        },
        (error: unknown) => {
          this.counts.failed++;
          this.failuresSinceFlush++;
          this.firstFailure ??= { msgId: message.msgId, error };
        },
      )
      .finally(() => {
        this.pending.delete(tracked);
        this.releaseWaiters();
      });
    this.pending.add(tracked);
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
    while (this.pending.size > 0) await Promise.all([...this.pending]);
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

  private releaseWaiters(): void {
    if (this.readyWaiters.length === 0 || this.pending.size >= this.options.maxInFlight) return;
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
