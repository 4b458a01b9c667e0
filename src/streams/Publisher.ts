import { createInbox, type Msg, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import type { Output } from '../domain/index.ts';
import { NatsError, PermitExpiredError, PublishError } from '../errors.ts';
import { type LaneGate, type LaneStep, PublishLane, type PublishOrder } from './PublishLane.ts';
import { type DeadLetter, deadLetterMessage, outputMessage, type WfmMessage } from './wfmMessages.ts';

/** Tuning of a {@link Publisher}. */
export interface PublisherOptions {
  /**
   * Most publishes awaiting their JetStream ack; `whenReady()` holds the caller back beyond it.
   * @defaultValue `1024`
   */
  maxInFlight: number;
  /**
   * Milliseconds to wait for each ack before the publish counts as failed, from when it goes
   * on the wire (one held behind another publish of its subject waits without a clock).
   * @defaultValue `5000`
   */
  ackTimeoutMs: number;
}

export const defaultPublisherOptions: PublisherOptions = { maxInFlight: 1024, ackTimeoutMs: 5000 };

/** Counters of one publisher since it was made. */
export interface PublishStats {
  submitted: number;
  /** Acks that stored a new message. */
  published: number;
  /** Acks that said the server already had this `Nats-Msg-Id` (nothing stored). */
  duplicates: number;
  /** Publishes that got no ack or an error. */
  failed: number;
  /** Publishes awaiting their ack now. */
  inFlight: number;
}

/** Where a lane's flush stands: `flush()` waits for every publish submitted before this point. */
export type FlushPoint = number;

interface Pending {
  lane: PublishLane;
  msgId: string;
  subject: string;
  order: PublishOrder;
  /** The message while its lane holds it for its turn (undefined once sent). */
  held: WfmMessage | undefined;
}

const ackDecoder = new TextDecoder();
// nats-server 2.9 writes `"duplicate": true` (with a space); later versions may not.
const DUPLICATE = /"duplicate":\s*true/;
const STREAM_SEQ = /^\{"stream":"([^"]+)",\s*"seq":\s*(\d+)/;

/**
 * Publishes outputs and dead letters to JetStream for every site of a node over one connection,
 * pipelined: `publish*()` never waits, `whenReady()` bounds the window, `flush(lane)` awaits the
 * acks of one site's publishes. A failed publish fails only its own site's next flush, so one
 * site's trouble rebuilds that site alone.
 *
 * Publishes are core NATS publishes with a reply subject under one inbox: JetStream acknowledges
 * them exactly like `js.publish()`, without a request object per message (~8k outputs/s more).
 *
 * Order (its rules owned by each site's {@link PublishLane}): a lane's outputs on one subject are
 * stored in call order, whatever happens to the stream. Call order on one connection is not enough for that: when a replicated stream's leader
 * dies, a publish in flight to it is lost while the next one, reaching the new leader, is stored —
 * a gap, with the lost one re-sent after it. So a lane has at most one output in flight per
 * subject: the next waits for its ack, and when it fails, those held behind it and every later
 * one on that subject are never sent (they fail too) until the site rebuilds, {@link reopen}s
 * the lane and re-sends from the gap, in order. Different subjects
 * stay pipelined. A transfer's audit record is a *fence* of its lane: it is sent once everything
 * the lane published before it is stored, and nothing after it is sent before it is stored — the
 * site's interval history, replayed from `WFM_OUT` in stream order, moves exactly the interval
 * records written before the transfer, as the site computed them. Dead letters (one subject per
 * tenant) stay fully pipelined: chained, a flood of bad input on one site would fill the window
 * held one per round trip and slow every site of the node; they keep their order except across
 * such a gap, and each names its input's seq. The highest stream sequence acknowledged so far
 * ({@link ackedSeq}) is a point after which everything published later is stored — where a
 * restarted site starts looking.
 */
export class Publisher {
  readonly #nc: NatsConnection;
  readonly #options: PublisherOptions;
  readonly #inbox = createInbox();
  #subscription: Subscription | null = null;
  // Ack id -> pending publish, sent or held.
  readonly #pending = new Map<number, Pending>();
  // Ack id -> when it went on the wire, in send order (so the sweep stops at the first young one).
  // A held publish is not here: it cannot time out before the one it waits for, whose failure
  // fails it too.
  readonly #onWire = new Map<number, number>();
  readonly #lanes = new Map<string, PublishLane>();
  readonly #acked = new Map<string, number>();
  #nextId = 0;
  #sweeper: NodeJS.Timeout | null = null;
  #readyWaiters: (() => void)[] = [];
  #aborted: unknown;
  readonly #counts = { submitted: 0, published: 0, duplicates: 0, failed: 0 };

  constructor(nc: NatsConnection, options: Partial<PublisherOptions> = {}) {
    this.#nc = nc;
    this.#options = { ...defaultPublisherOptions, ...options };
    const { maxInFlight, ackTimeoutMs } = this.#options;
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`maxInFlight must be a positive integer, got ${maxInFlight}`);
    if (!(ackTimeoutMs > 0)) throw new RangeError(`ackTimeoutMs must be positive, got ${ackTimeoutMs}`);
  }

  /** The connection it publishes on. */
  get connection(): NatsConnection {
    return this.#nc;
  }

  /** A snapshot of the counters. */
  get stats(): PublishStats {
    return { ...this.#counts, inFlight: this.#pending.size };
  }

  /** The highest sequence of `stream` acknowledged to this publisher so far (0: none). */
  ackedSeq(stream: string): number {
    return this.#acked.get(stream) ?? 0;
  }

  /** Sends one output for `lane` (its site). */
  publishOutput(lane: string, output: Output): void {
    this.#submit(lane, outputMessage(output), output.kind === 'transfer' ? 'fence' : 'chained');
  }

  /** Sends one dead letter for `lane`. */
  publishDeadLetter(lane: string, letter: DeadLetter): void {
    this.#submit(lane, deadLetterMessage(letter), 'free');
  }

  /**
   * `lane`'s site writes again after a restore or a takeover, having read what the streams hold:
   * subjects with a publish that was not stored accept publishes again (until now they failed
   * unsent, so nothing was stored ahead of the gap the site re-sends first).
   */
  reopen(lane: string): void {
    this.#lane(lane).reopen();
  }

  /**
   * `lane`'s site may hand publishes to the connection only while its lease permit holds (judged
   * on its clock). The site asks itself before it submits; `gate` is asked again when a publish
   * held for its turn — behind an earlier one on its subject, or behind a transfer record — is
   * about to go, in the turn the earlier one's ack arrived. That can be long after the site
   * submitted it (its permit ran out meanwhile; a paused process resumed, reading the acks the
   * server sent while it was stopped): sent then, it could land after a successor had read the
   * streams and written it, a double whatever the duplicate window. `park`: it waits, unsent,
   * for {@link unpark} (a renewal kept the lease, or the next lease followed it straight: nobody
   * else led) or {@link refuseParked} (another may have led, or the site is handed over or torn
   * down). `refuse`: it fails unsent with {@link PermitExpiredError}, like any publish
   * that was not stored (and those held behind it with it): the lane reports it, and whoever
   * leads next writes it.
   */
  gate(lane: string, gate: LaneGate): void {
    this.#lane(lane).gate = gate;
  }

  /** `lane`'s permit holds again: what it parked goes now, in order (as its gate says). */
  unpark(lane: string): void {
    const l = this.#lane(lane);
    if (l.parked.length > 0) this.#take({ send: l.parked.splice(0), fail: [] }, l);
  }

  /** `lane`'s site may never send what it parked: it fails unsent (see {@link gate}). */
  refuseParked(lane: string): void {
    const l = this.#lane(lane);
    if (l.parked.length > 0) this.#refuse(l.parked.splice(0), l);
  }

  /** The current point of the window: a later `flush(lane, point)` waits for what came before. */
  flushPoint(): FlushPoint {
    return this.#nextId;
  }

  /** Undefined when another publish may go now; otherwise a promise that resolves when one may. */
  whenReady(): Promise<void> | undefined {
    if (this.#pending.size < this.#options.maxInFlight) return undefined;
    return new Promise<void>((resolve) => this.#readyWaiters.push(resolve));
  }

  /**
   * Waits for the acks of every publish of `lane` submitted before `upto` (default: now). Rejects
   * with PublishError when any publish of the lane failed since its last flush; the failures are
   * then forgotten (the caller rebuilds the site, which re-sends what is missing).
   */
  async flush(lane: string, upto: FlushPoint = this.#nextId): Promise<void> {
    const l = this.#lane(lane);
    if (!l.settledBelow(upto)) await new Promise<void>((resolve) => l.waiters.push({ upto, resolve }));
    const failure = l.failure;
    if (failure === undefined) return;
    l.failure = undefined;
    const reason = failure.error instanceof Error ? failure.error.message : String(failure.error);
    throw new PublishError(
      `${failure.count} publish(es) of ${lane} got no ack; first ${failure.msgId}: ${reason}`,
      { cause: failure.error },
    );
  }

  /**
   * Waits, like {@link flush}, for every publish of `lane` submitted before `upto`, and tells
   * whether all of the lane's publishes since its last flush were stored — without taking the
   * failure away from the next flush (which rebuilds the site).
   */
  async settled(lane: string, upto: FlushPoint = this.#nextId): Promise<boolean> {
    const l = this.#lane(lane);
    if (!l.settledBelow(upto)) await new Promise<void>((resolve) => l.waiters.push({ upto, resolve }));
    return l.failure === undefined;
  }

  /**
   * The flush point of the latest publish of `lane` that failed (-1: none), whether or not a
   * flush has reported it since: a mark is confirmed only when no publish it covers failed.
   */
  lastFailed(lane: string): FlushPoint {
    return this.#lane(lane).lastFailed;
  }

  /**
   * Fails every pending publish now (the connection is gone: no ack will come) and every later
   * one, so each site's next flush rejects at once instead of after the ack timeout.
   */
  abort(error: unknown): void {
    this.#aborted = error;
    for (const id of [...this.#pending.keys()]) this.#settle(id, null, error);
  }

  #lane(name: string): PublishLane {
    let lane = this.#lanes.get(name);
    if (lane === undefined) {
      lane = new PublishLane(name);
      this.#lanes.set(name, lane);
    }
    return lane;
  }

  #submit(laneName: string, message: WfmMessage, order: PublishOrder): void {
    this.#counts.submitted++;
    const lane = this.#lane(laneName);
    const id = this.#nextId++;
    const entry: Pending = { lane, msgId: message.msgId, subject: message.subject, order, held: message };
    this.#pending.set(id, entry);
    if (this.#aborted !== undefined) {
      lane.pending.add(id);
      this.#settle(id, null, this.#aborted);
      return;
    }
    this.#sweeper ??= setInterval(() => this.#sweep(), Math.min(250, this.#options.ackTimeoutMs));
    this.#take(lane.admit(id, message.subject, order));
  }

  /**
   * Does what the lane decided: sends what may go now, fails what must never be sent. `held`: the
   * lane whose held publishes `step` lets go, after an ack or an unpark — its gate says whether
   * they go, wait parked or fail (a new submit comes straight from its site, which asked just
   * before, in this turn).
   */
  #take(step: LaneStep, held?: PublishLane): void {
    const say = held === undefined || step.send.length === 0 ? 'send' : held.gate();
    if (say === 'send') for (const id of step.send) this.#sendHeld(id);
    else if (say === 'park') held!.parked.push(...step.send);
    else this.#refuse(step.send, held!);
    for (const { ids, reason } of step.fail) {
      const error = new NatsError(`not sent: ${reason}`, { kind: 'other' });
      for (const id of ids) this.#settle(id, null, error);
    }
  }

  #refuse(ids: number[], lane: PublishLane): void {
    const error = new PermitExpiredError(lane.name);
    for (const id of ids) this.#settle(id, null, error);
  }

  #sendHeld(id: number): void {
    const entry = this.#pending.get(id);
    if (entry?.held === undefined) return;
    const message = entry.held;
    entry.held = undefined;
    this.#send(id, message);
  }

  #send(id: number, message: WfmMessage): void {
    // The message's headers carry its Nats-Msg-Id. No Nats-Expected-Stream header: every header
    // costs encoding time per message, and the subjects published here belong to one stream each
    // by construction (ensureStreams).
    this.#onWire.set(id, performance.now());
    try {
      // Inside the try: on a closed connection subscribing throws as well, and that publish must
      // fail its lane like any other, not throw out of publish*() and stay pending for ever.
      this.#subscription ??= this.#nc.subscribe(`${this.#inbox}.*`, {
        callback: (_e, msg) => this.#onAck(msg),
      });
      this.#nc.publish(message.subject, message.data, {
        headers: message.headers,
        reply: `${this.#inbox}.${id}`,
      });
    } catch (error) {
      this.#settle(id, null, error);
    }
  }

  #onAck(msg: Msg): void {
    const id = Number(msg.subject.slice(this.#inbox.length + 1));
    if (msg.data.length === 0) {
      // A status-only reply: 503 means no stream captures the subject (nothing was stored).
      const status = msg.headers?.code ?? 0;
      const error =
        status === 503
          ? new NatsError('no stream captures this subject (503 no responders)', { kind: 'no_responders' })
          : new NatsError(`status ${status} instead of an ack`, { apiCode: status });
      this.#settle(id, null, error);
      return;
    }
    // A PubAck is `{"stream":…,"seq":…}`, with `"duplicate": true` when the id was seen before:
    // read that without JSON.parse (one per output adds up); parse anything else in full.
    const text = ackDecoder.decode(msg.data);
    const ok = STREAM_SEQ.exec(text);
    if (ok !== null && !text.includes('"error"')) {
      this.#noteAcked(ok[1]!, Number(ok[2]));
      this.#settle(id, DUPLICATE.test(text), undefined);
      return;
    }
    let ack: {
      stream?: string;
      seq?: number;
      duplicate?: boolean;
      error?: { description?: string; code?: number; err_code?: number };
    };
    try {
      ack = JSON.parse(text);
    } catch (error) {
      this.#settle(id, null, error);
      return;
    }
    if (ack.error !== undefined) {
      const { description, code, err_code: errCode } = ack.error;
      // Kept typed: a rebuild policy tells a stream that is full (permanent until an operator
      // acts) from a leader election (transient) by these codes.
      const error = new NatsError(description ?? `error ${code}`, {
        kind: 'api',
        ...(code !== undefined ? { apiCode: code } : {}),
        ...(errCode !== undefined ? { errCode } : {}),
      });
      this.#settle(id, null, error);
    } else if (typeof ack.stream !== 'string' || typeof ack.seq !== 'number') {
      this.#settle(id, null, new Error(`not a JetStream ack: ${text.slice(0, 200)}`));
    } else {
      this.#noteAcked(ack.stream, ack.seq);
      this.#settle(id, ack.duplicate === true, undefined);
    }
  }

  #noteAcked(stream: string, seq: number): void {
    if (seq > (this.#acked.get(stream) ?? 0)) this.#acked.set(stream, seq);
  }

  #settle(id: number, duplicate: boolean | null, error: unknown): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return; // already timed out or aborted
    this.#pending.delete(id);
    this.#onWire.delete(id);
    const lane = entry.lane;
    if (duplicate === null) {
      this.#counts.failed++;
      lane.noteFailure(id, entry.msgId, error);
    } else if (duplicate) {
      this.#counts.duplicates++;
    } else {
      this.#counts.published++;
    }
    // After the failure is noted: the lane's first failure names the cause, not what it held.
    const step = lane.settle(id, entry.subject, entry.order, duplicate !== null);
    lane.wakeWaiters();
    if (this.#readyWaiters.length > 0 && this.#pending.size < this.#options.maxInFlight) {
      const waiters = this.#readyWaiters;
      this.#readyWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.#take(step, lane);
  }

  #sweep(): void {
    const oldest = performance.now() - this.#options.ackTimeoutMs;
    for (const [id, sentAt] of this.#onWire) {
      if (sentAt > oldest) break;
      this.#settle(
        id,
        null,
        new NatsError(`no ack within ${this.#options.ackTimeoutMs} ms`, { kind: 'timeout' }),
      );
    }
    if (this.#pending.size === 0 && this.#sweeper !== null) {
      clearInterval(this.#sweeper);
      this.#sweeper = null;
    }
  }
}
