import type { Consumer, ConsumerMessages, JetStreamClient } from '@nats-io/jetstream';
import { DeliverPolicy, JetStreamApiError } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';
import type { OperationalClock } from '../actors/index.ts';
import type { InputMessagesOptions, RawInput } from './inputMessages.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';
import { subjectMatcher } from './subjectCovers.ts';

const FIRST_RETRY_DELAY_MS = 100;
// Client notifications after which this consumer delivers nothing more, or only once two
// heartbeats are missed: make a new one at once. `no_responders`: JetStream did not take a pull
// (it was unavailable), which leaves the client's consumer waiting for a reset.
const LOST_CONSUMER: ReadonlySet<string> = new Set([
  'ordered_consumer_recreated',
  'consumer_not_found',
  'consumer_deleted',
  'stream_not_found',
  'no_responders',
]);
// JSConsumerFilterNotMatchingErr: "consumer filter subject is not a valid subset of the interest subjects".
const FILTER_NOT_SUBSET = 10093;
// Heartbeats missed in a row (not while downstream holds us back) after which the consumer is
// made anew here. The client resets an ordered consumer itself after two, but when that reset
// fails (the JetStream API unavailable while a NATS cluster elects leaders) it only goes on
// counting: a backup in the NATS-cluster chaos test counted 20 (50 s) and never read again.
const MISSED_HEARTBEATS_LOST = 3;
// Status notifications that come from the server: proof the consumer is alive though idle.
const SERVER_SIGNS: ReadonlySet<string> = new Set(['heartbeat', 'discard', 'exceeded_limits']);

/** Wraps a rejection of `whenReady` so it is passed on as it is rather than retried. */
export class DownstreamError extends Error {}

/**
 * One subscription's loop behind `inputMessages`: consumer after consumer, each an ordered
 * consumer starting right after the last emitted message. `run()` resolves when stopped and
 * rejects with DownstreamError (whenReady rejected) or ClosedConnectionError.
 */
export class OrderedReader {
  stopped = false;
  private readonly js: JetStreamClient;
  private readonly o: InputMessagesOptions;
  private readonly emit: (m: RawInput) => void;
  private readonly stopSignal: Promise<void>;
  private wake: () => void = () => {};
  private messages: ConsumerMessages | undefined;
  private nextSeq: number;
  private serverFilter: string | undefined;
  private clientFilter: string[] | undefined;
  private clientMatch: ((subject: string) => boolean) | undefined;
  private failures = 0;
  // While downstream holds us back no pull is outstanding, so missed heartbeats are expected.
  private paused = false;
  // Operational clock time of the last sign of life of the current consumer (a message, a
  // heartbeat, an expired pull), or of the end of the last pause.
  private lastSign = 0;

  constructor(js: JetStreamClient, o: InputMessagesOptions, emit: (m: RawInput) => void) {
    this.js = js;
    this.o = o;
    this.emit = emit;
    this.nextSeq = o.startSeq;
    const filters = o.filterSubject === undefined ? [] : [o.filterSubject].flat();
    if (filters.length === 1) this.serverFilter = filters[0];
    else if (filters.length > 1) this.useClientFilter(filters);
    this.stopSignal = new Promise<void>((resolve) => {
      this.wake = resolve;
    });
  }

  stop(): void {
    this.stopped = true;
    this.wake();
    // Stop the iterator now so a pending pull doesn't keep delivering into it.
    void this.messages?.close();
  }

  async run(): Promise<void> {
    if (this.clientFilter !== undefined) {
      const reason = 'several filters (nats-server 2.9 consumers take one)';
      this.o.onEvent?.({ type: 'client_side_filter', filterSubjects: this.clientFilter, reason });
    }
    while (!this.stopped) {
      let consumer: Consumer | undefined;
      try {
        consumer = await this.js.consumers.get(this.o.stream, {
          deliver_policy: DeliverPolicy.StartSequence,
          opt_start_seq: this.nextSeq,
          // A string becomes `filter_subject`, which 2.9 understands (an array would not).
          ...(this.serverFilter !== undefined ? { filter_subjects: this.serverFilter } : {}),
        });
        if (this.stopped) break;
        this.messages = await consumer.consume({ max_messages: this.o.batchSize, expires: this.o.expiresMs });
        const filter =
          this.serverFilter !== undefined ? 'server' : this.clientFilter !== undefined ? 'client' : 'none';
        this.o.onEvent?.({ type: 'consumer_started', startSeq: this.nextSeq, filter });
        const lost = this.watch(this.messages);
        const watchdog = this.guard(this.messages, lost);
        try {
          await this.drain(this.messages);
        } finally {
          watchdog.cancel();
        }
        if (!this.stopped) {
          this.o.onEvent?.({
            type: 'consumer_lost',
            startSeq: this.nextSeq,
            reason: lost.reason ?? 'iterator ended',
          });
          // A lost consumer is normal after a restart: try again at once, back off only on failures.
          if (lost.reason === undefined) await this.backOff(new Error('consumer iterator ended'));
        }
      } catch (err) {
        if (this.stopped) break;
        if (err instanceof DownstreamError || err instanceof ClosedConnectionError) throw err;
        if (this.refusedFilter(err)) continue;
        await this.backOff(err);
      } finally {
        // Drop the old consumer before making the next one (or on stop); errors don't matter.
        await release(this.messages, consumer);
        this.messages = undefined;
      }
    }
  }

  /** Emits the consumer's messages until it ends, is closed, or we stop. */
  private async drain(messages: ConsumerMessages): Promise<void> {
    for await (const m of messages) {
      // A new consumer starts at nextSeq, so this only guards against a client surprise.
      if (m.seq < this.nextSeq) continue;
      if (this.clientMatch !== undefined && !this.clientMatch(m.subject)) {
        this.nextSeq = m.seq + 1;
        continue;
      }
      this.lastSign = this.o.clock.now();
      const ready = this.o.whenReady?.();
      if (ready !== undefined) {
        this.paused = true;
        await Promise.race([ready, this.stopSignal])
          .catch((err: unknown) => {
            throw new DownstreamError('whenReady rejected', { cause: err });
          })
          .finally(() => {
            this.paused = false;
            this.lastSign = this.o.clock.now();
          });
      }
      if (this.stopped) return;
      this.nextSeq = m.seq + 1;
      this.failures = 0;
      // data is a view into the client's socket chunk; a copy keeps a held message from pinning it.
      this.emit({ seq: m.seq, subject: m.subject, data: m.data.slice() });
    }
  }

  /**
   * Closes `messages` when the client reports its consumer gone or recreated: the client's own
   * recreation after a server restart asks for a batch of 0 and stalls, so we make a fresh one.
   */
  private watch(messages: ConsumerMessages): { reason: string | undefined } {
    const lost: { reason: string | undefined } = { reason: undefined };
    void (async () => {
      for await (const s of messages.status()) {
        if (SERVER_SIGNS.has(s.type)) this.lastSign = this.o.clock.now();
        const missed = s.type === 'heartbeats_missed' && !this.paused;
        if (missed) this.o.onEvent?.({ type: 'heartbeats_missed', count: s.count });
        const reason =
          LOST_CONSUMER.has(s.type) || (missed && s.count >= MISSED_HEARTBEATS_LOST) ? s.type : undefined;
        if (reason !== undefined && lost.reason === undefined) {
          lost.reason = reason;
          void messages.close();
        }
      }
    })();
    return lost;
  }

  /**
   * Our own watchdog, on the operational clock, for a consumer that goes silent while the client
   * believes all is well: no message, heartbeat or expired pull for three heartbeat intervals
   * (the server heartbeats every half `expiresMs` while a pull waits), not held back by
   * downstream, closes it as `stalled`, and a new one starts where reading stopped. The client's
   * own heartbeat monitor is not enough: it is cancelled on every disconnect and restarted on
   * reconnect only when its check of the consumer succeeds, so a consumer lost around a
   * reconnect can leave nothing watching — a backup in the NATS-cluster chaos test read nothing
   * for 240 s after a server kill and reported no missed heartbeat.
   */
  private guard(messages: ConsumerMessages, lost: { reason: string | undefined }): { cancel(): void } {
    const { clock } = this.o;
    const silenceMs = this.o.expiresMs * 1.5;
    this.lastSign = clock.now();
    let timer: unknown;
    const check = (): void => {
      const silentMs = clock.now() - this.lastSign;
      if (!this.paused && silentMs >= silenceMs && lost.reason === undefined) {
        lost.reason = `stalled: no message or heartbeat for ${Math.round(silentMs)} ms`;
        void messages.close();
        return;
      }
      timer = clock.setTimeout(check, this.o.expiresMs / 2);
    };
    timer = clock.setTimeout(check, this.o.expiresMs / 2);
    return { cancel: () => clock.clearTimeout(timer) };
  }

  private useClientFilter(filters: string[]): void {
    this.clientFilter = filters;
    this.clientMatch = subjectMatcher(filters);
  }

  /** On 2.9 a filter spanning several stream subjects is refused: switch to filtering here. */
  private refusedFilter(err: unknown): boolean {
    if (this.serverFilter === undefined) return false;
    if (!(err instanceof JetStreamApiError) || err.code !== FILTER_NOT_SUBSET) return false;
    const filters = [this.serverFilter];
    this.useClientFilter(filters);
    this.serverFilter = undefined;
    this.o.onEvent?.({ type: 'client_side_filter', filterSubjects: filters, reason: err.message });
    return true;
  }

  private async backOff(err: unknown): Promise<void> {
    const retryInMs = Math.min(FIRST_RETRY_DELAY_MS * 2 ** this.failures, this.o.maxRetryDelayMs);
    this.failures++;
    const error = natsErrorFrom(err, `cannot read ${this.o.stream} from seq ${this.nextSeq}`);
    this.o.onEvent?.({ type: 'consumer_failed', startSeq: this.nextSeq, error, retryInMs });
    await sleep(this.o.clock, retryInMs, this.stopSignal);
  }
}

async function release(
  messages: ConsumerMessages | undefined,
  consumer: Consumer | undefined,
): Promise<void> {
  try {
    await messages?.close();
  } catch {
    // already closed
  }
  try {
    await consumer?.delete();
  } catch {
    // Gone already (server restart) or connection closed: the server drops it after its inactive threshold.
  }
}

/** Resolves after `ms` on `clock` or when `cancel` resolves, whichever is first, leaving no timer behind. */
function sleep(clock: OperationalClock, ms: number, cancel: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = clock.setTimeout(() => resolve(), ms);
    void cancel.then(() => {
      clock.clearTimeout(timer);
      resolve();
    });
  });
}
