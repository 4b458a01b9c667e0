import type { JetStreamClient } from '@nats-io/jetstream';
import { Observable } from 'rxjs';
import { type OperationalClock, realClock } from '../actors/index.ts';
import type { NatsError } from '../errors.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';
import { DownstreamError, OrderedReader } from './OrderedReader.ts';

/** One `WFM_IN` message as stored: its stream sequence, subject and bytes. */
export interface RawInput {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** Something worth logging or counting that did not stop the input. */
export type InputMessagesEvent =
  /** A consumer was made; it starts at `startSeq` and filters on the server, the client, or not at all. */
  | { type: 'consumer_started'; startSeq: number; filter: 'server' | 'client' | 'none' }
  /**
   * The consumer was lost (server restart, deletion, gap, or `stalled`: silent for three heartbeat
   * intervals while not held back); a new one starts at `startSeq`.
   */
  | { type: 'consumer_lost'; startSeq: number; reason: string }
  /** No heartbeat from the server for a while, though not paused by `whenReady` (the server is likely down). */
  | { type: 'heartbeats_missed'; count: number }
  /**
   * Making or reading the consumer failed; it is tried again after `retryInMs`, whatever the
   * error's `kind` (a missing stream may be made again).
   */
  | { type: 'consumer_failed'; startSeq: number; error: NatsError; retryInMs: number }
  /**
   * The filter is applied here, to the whole stream: there are several filters (2.9 has no
   * multi-filter consumers), or the server refused the one (2.9 wants a filter inside one stream
   * subject, so `wfm.*.T.S.>` is refused on `WFM_IN`).
   */
  | { type: 'client_side_filter'; filterSubjects: string[]; reason: string };

/** Where to read and how. */
export interface InputMessagesOptions {
  /**
   * Stream to read.
   * @defaultValue `'WFM_IN'`
   */
  stream: string;
  /**
   * Subject filter(s): only matching messages are emitted. One filter inside one stream subject
   * (e.g. `wfm.stat.T1.london.>`) is applied by the server; anything else (several filters, or
   * one like `wfm.*.T1.london.>` that nats-server 2.9 refuses) by this client, which then reads
   * the whole stream. A site's input on 2.9 is `['wfm.*.T.S.>', 'wfm.clock.T.S']`.
   * @defaultValue `undefined` (the whole stream)
   */
  filterSubject: string | readonly string[] | undefined;
  /**
   * The first stream sequence wanted; the first message emitted is the first one at or after it.
   * @defaultValue `1`
   */
  startSeq: number;
  /**
   * Backpressure: called before each message is emitted; a returned promise is awaited first.
   * @defaultValue `undefined` (never wait)
   */
  whenReady: (() => Promise<void> | undefined) | undefined;
  /**
   * Messages asked of the server per pull; bounds what the client holds while downstream waits.
   * 1024 (~200 kB of stat events) rather than 256: fewer pull requests for the server to serve,
   * ~5 % more node throughput and ~10 % less server CPU per input, measured back to back.
   * @defaultValue `1024`
   */
  batchSize: number;
  /**
   * Lifetime of each pull request; the server heartbeats every half of it and the client
   * notices a consumer that vanished silently (deleted, dropped as inactive) after two missed
   * heartbeats, so this bounds that stall. The client's default (30 s) is too slow for takeover.
   * @defaultValue `5000` (minimum 1000)
   */
  expiresMs: number;
  /**
   * Longest wait between retries of a failed consumer creation (the wait doubles up to it).
   * @defaultValue `2000`
   */
  maxRetryDelayMs: number;
  /**
   * Receives non-fatal events.
   * @defaultValue `undefined`
   */
  onEvent: ((event: InputMessagesEvent) => void) | undefined;
  /**
   * Times the watchdog of a consumer gone silent and the retries (a node passes its operational clock).
   * @defaultValue the real one
   */
  clock: OperationalClock;
}

export const defaultInputMessagesOptions: InputMessagesOptions = {
  stream: 'WFM_IN',
  filterSubject: undefined,
  startSeq: 1,
  whenReady: undefined,
  batchSize: 1024,
  expiresMs: 5000,
  maxRetryDelayMs: 2000,
  onEvent: undefined,
  clock: realClock,
};

/**
 * The stream's messages from `startSeq` on, in stream order, over an ordered consumer.
 * Cold: each subscription makes its own consumer; unsubscribing deletes it.
 *
 * Exactly once, in order: this function remembers the last sequence it emitted. Whenever the
 * consumer is lost (server restart, a gap the client detects, an iterator that ends), it drops
 * that consumer and makes a new one starting right after, rather than relying on the client's
 * own recreation, which after a server restart asks for a batch of 0 and stalls until heartbeats
 * lapse; a consumer deleted under it is noticed after two missed heartbeats (see `expiresMs`).
 * Errors with a NatsError (kind `connection_closed`) only when the connection is closed; errors
 * with `whenReady`'s rejection as it is.
 */
export function inputMessages(
  js: JetStreamClient,
  options: Partial<InputMessagesOptions>,
): Observable<RawInput> {
  const o: InputMessagesOptions = { ...defaultInputMessagesOptions, ...options };
  if (!Number.isSafeInteger(o.startSeq) || o.startSeq < 1) {
    throw new RangeError(`startSeq must be an integer >= 1, got ${o.startSeq}`);
  }
  if (!Number.isInteger(o.batchSize) || o.batchSize < 1) {
    throw new RangeError(`batchSize must be a positive integer, got ${o.batchSize}`);
  }
  if (!(o.expiresMs >= 1000)) throw new RangeError(`expiresMs must be at least 1000, got ${o.expiresMs}`);
  return new Observable<RawInput>((subscriber) => {
    const reader = new OrderedReader(js, o, (m) => subscriber.next(m));
    reader.run().then(
      () => {
        if (!reader.stopped) subscriber.complete();
      },
      (err: unknown) => {
        if (reader.stopped) return;
        if (err instanceof DownstreamError) {
          subscriber.error(err.cause);
          return;
        }
        subscriber.error(natsErrorFrom(err, `reading ${o.stream} stopped`));
      },
    );
    return () => reader.stop();
  });
}
