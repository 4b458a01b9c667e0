import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { Subscription } from 'rxjs';
import type { OperationalClock } from '../actors/index.ts';
import { DatabaseError, FencedWriteError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import { type IntervalSink, isStoredTransfer, type StoredHistoryItem } from '../persistence/index.ts';
import {
  type IntervalDelivery,
  intervalRecords,
  intervalSubject,
  lastStoredSeq,
  readTransfers,
  transferSubject,
} from '../streams/index.ts';
import type { DatabaseHealth } from './DatabaseHealth.ts';

/** How a site's history writer batches, retries and looks for transfers. */
export interface SiteHistoryWriterOptions {
  /**
   * Most items (rows and transfers) per transaction. @defaultValue 1000
   */
  maxBatchRows: number;
  /**
   * Interval rows read ahead of the database at most; past it reading pauses until half are
   * written, so a slow database holds back this reader only, never the stream path (transfers,
   * read on demand and few, are not counted). @defaultValue 20000
   */
  maxBufferedRows: number;
  /** First wait after a failed write; doubles per failure. @defaultValue 100 */
  retryDelayMs: number;
  /** Longest wait between tries. @defaultValue 2000 */
  maxRetryDelayMs: number;
  /**
   * While something read is not yet writable (a transfer waiting to learn that every interval row
   * before it was delivered) or a look at `WFM_OUT` failed, how often to look again. @defaultValue 500
   */
  pendingPollMs: number;
  /**
   * With nothing to write and no interval row arriving, how often to look for a new transfer
   * (one `last_by_subj` request): a transfer no interval row follows must still reach the
   * database within about a second. @defaultValue 1000
   */
  idlePollMs: number;
}

export const defaultSiteHistoryWriterOptions: SiteHistoryWriterOptions = {
  maxBatchRows: 1000,
  maxBufferedRows: 20_000,
  retryDelayMs: 100,
  maxRetryDelayMs: 2000,
  pendingPollMs: 500,
  idlePollMs: 1000,
};

/** What one site's writer works with. */
export interface SiteHistoryWriterHost {
  tenant: string;
  site: string;
  sink: IntervalSink;
  js: JetStreamClient;
  /** For the `last_by_subj` looks and transfer reads (default: made from `js`, without a request). */
  jsm?: JetStreamManager;
  clock: OperationalClock;
  logger: Logger;
  health: DatabaseHealth;
  /** The lease epoch it writes under (`null`: a node-local sink, which every replica writes). */
  epoch: number | null;
  /** A newer primary wrote the site: this one was deposed (the node demotes the site). */
  onFenced(error: FencedWriteError): void;
  /** Interval rows written (counted once each, on commit; transfers are not rows). */
  onWritten(rows: number): void;
}

/** A look at the last interval row stored (rule 2 below) that has not yet been caught up with. */
interface IntervalCheck {
  /** The last interval row's sequence when looked at. */
  last: number;
  /** Once the reader delivered up to `last`, every interval row below this has been delivered. */
  clears: number;
}

/**
 * Projects one site's interval records and transfers from `WFM_OUT` into the interval sink, in
 * stream order, so each transfer moves exactly the rows written before it. The sink's write
 * mark is where it starts, so "not yet written" is simply "after the mark": a restart, a takeover
 * or a replayed dump continues exactly there, and `WFM_OUT` — not this process — holds what is
 * still to write. Writes are batched (everything read while the previous write ran, up to
 * `maxBatchRows`) and retried while the node's {@link DatabaseHealth} says so.
 *
 * Two reads, each filtered by the server (nats-server 2.9 takes one filter inside one stream
 * subject, so one consumer on the site's whole output `wfm.*.T.S.>` would be refused and read
 * every site's gc and adherence outputs): interval rows over a live ordered consumer on
 * `wfm.interval.T.S.>`, and transfers — rare — on demand over `wfm.transfer.T.S`, after a
 * `last_by_subj` request says one was stored past those known. They are merged by `outSeq` into
 * one buffer, and what is written obeys two rules (asserted before every write):
 *
 * 1. A batch whose last item is at `s` is written only once every transfer with `outSeq < s` is
 *    known. Before each batch the last transfer `L` is asked for (one request); if `L` is past
 *    the transfers known they are read up to `L` (at least) and merged in. Sound because a
 *    transfer stored before `s` has a sequence below it, and the request is made after `s` was
 *    delivered, hence stored, so that transfer is at or below `L`.
 * 2. A transfer at `M` is written only once every interval row with `outSeq < M` was delivered:
 *    the reader delivered an interval row at or past `M - 1` (it delivers in stream order), or a
 *    look at the last interval row (`last_by_subj` on `wfm.interval.T.S.>`), made after `M` was
 *    known, found none past those delivered (every row below `M` was stored before `M`, hence
 *    before the look). Until then the transfer waits: the rows before it are stored and coming.
 *
 * When the reader is idle, a timer on the host's clock keeps looking (rule 3): every
 * `pendingPollMs` while something read waits, every `idlePollMs` otherwise, so a transfer with no
 * interval row after it is still written within about a second.
 */
export class SiteHistoryWriter {
  readonly #h: SiteHistoryWriterHost;
  readonly #o: SiteHistoryWriterOptions;
  /** Read, not yet written: interval rows and transfers, ascending `outSeq`, all above the mark. */
  readonly #buffer: StoredHistoryItem[] = [];
  /** Interval rows in the buffer (what back-pressure counts). */
  #bufferedRows = 0;
  #position = 0;
  #jsm: JetStreamManager | null = null;
  /** Messages the interval reader delivered. */
  #delivered = 0;
  /** The last sequence the interval reader delivered (the mark before the first). */
  #intervalSeen = 0;
  /** Rule 2: every interval row with `outSeq` below this has been delivered. */
  #intervalsKnownBelow = 1;
  /** The last transfer sequence read (every transfer at or below it is known). */
  #transfersKnown = 0;
  /** Rule 1: every transfer with `outSeq` below this is known. */
  #transfersKnownBelow = 1;
  #intervalCheck: IntervalCheck | null = null;
  #reading: Subscription | null = null;
  #running: Promise<void> = Promise.resolve();
  #working: Promise<void> | null = null;
  /** Something happened while the worker ran: run it once more. */
  #again = false;
  /** The poll timer fired: look at both subjects even if nothing was delivered. */
  #pollDue = false;
  #pollTimer: unknown = null;
  #checkFailing = false;
  #stopped = false;
  #resume: (() => void) | null = null;
  #retryTimer: unknown = null;
  #wakeRetry: (() => void) | null = null;

  constructor(host: SiteHistoryWriterHost, options: Partial<SiteHistoryWriterOptions> = {}) {
    this.#h = host;
    this.#o = { ...defaultSiteHistoryWriterOptions, ...options };
    if (this.#o.maxBatchRows < 1 || this.#o.maxBufferedRows < this.#o.maxBatchRows)
      throw new RangeError('maxBufferedRows must be >= maxBatchRows >= 1');
    if (!(this.#o.pendingPollMs > 0 && this.#o.idlePollMs > 0))
      throw new RangeError('pendingPollMs and idlePollMs must be positive');
  }

  /** The last `WFM_OUT` sequence whose record or transfer (if it is this site's) is in the sink. */
  get position(): number {
    return this.#position;
  }

  /** Items (rows and transfers) read and not yet written. */
  get backlog(): number {
    return this.#buffer.length;
  }

  /**
   * Messages the interval reader was delivered: only the site's `wfm.interval.T.S.>` messages
   * (the server filters), never a gc or adherence output.
   */
  get delivered(): number {
    return this.#delivered;
  }

  /** Reads the mark, then follows `WFM_OUT` from after it; returns at once. */
  start(): void {
    this.#running = this.#run();
  }

  async #run(): Promise<void> {
    const mark = await this.#retrying(() => this.#h.sink.mark(this.#h.tenant, this.#h.site));
    if (mark === null) return;
    this.#jsm = this.#h.jsm ?? (await this.#h.js.jetstreamManager(false));
    if (this.#stopped) return;
    // Everything at or below the mark is written: rows and transfers alike are known below it.
    const p = mark.position;
    this.#position = p;
    this.#intervalSeen = p;
    this.#intervalsKnownBelow = p + 1;
    this.#transfersKnown = p;
    this.#transfersKnownBelow = p + 1;
    this.#reading = intervalRecords(this.#h.js, {
      tenant: this.#h.tenant,
      site: this.#h.site,
      startSeq: p + 1,
      whenReady: () => this.#whenReady(),
    }).subscribe({
      next: (d) => this.#read(d),
      error: (err: unknown) => {
        // Only a closed connection ends the reader: the node is stopping.
        if (!this.#stopped) this.#h.logger.warn({ site: this.#h.site, err }, 'interval history reader ended');
      },
    });
    // Look for transfers at once: one after the mark with no interval row after it waits for nobody.
    this.#pollDue = true;
    this.#kick();
  }

  #read(d: IntervalDelivery): void {
    // The ordered consumer delivers in stream order, once each (a repeat would be a bug upstream).
    if (this.#stopped || d.outSeq <= this.#intervalSeen) return;
    this.#delivered++;
    // Every interval row up to this one has now been delivered (rule 2).
    this.#intervalSeen = d.outSeq;
    this.#intervalsKnownBelow = Math.max(this.#intervalsKnownBelow, d.outSeq + 1);
    this.#settleIntervalCheck();
    if (d.message !== null) {
      this.#insert(d.message);
      this.#bufferedRows++;
    }
    this.#kick();
  }

  /** Puts `item` in the buffer at its `outSeq` (from the end: rows arrive in order, transfers are few). */
  #insert(item: StoredHistoryItem): void {
    let at = this.#buffer.length;
    while (at > 0 && this.#buffer[at - 1]!.outSeq > item.outSeq) at--;
    if (at > 0 && this.#buffer[at - 1]!.outSeq === item.outSeq) return;
    this.#buffer.splice(at, 0, item);
  }

  #whenReady(): Promise<void> | undefined {
    if (this.#bufferedRows < this.#o.maxBufferedRows) return undefined;
    return new Promise<void>((resolve) => {
      this.#resume = resolve;
    });
  }

  /** Runs the worker, or has it run once more if it is running (one worker, so no interleaving). */
  #kick(): void {
    if (this.#stopped) return;
    if (this.#working !== null) {
      this.#again = true;
      return;
    }
    this.#working = this.#work();
  }

  async #work(): Promise<void> {
    try {
      do {
        this.#again = false;
        await this.#drain();
      } while (this.#again && !this.#stopped);
    } catch (err) {
      // A broken rule (a bug): write nothing more rather than something wrong.
      this.#h.logger.error({ site: this.#h.site, err }, 'interval history writer stopped');
      this.#stop();
    } finally {
      // Synchronous with the loop's last check of #again: a kick from now on starts a new worker.
      this.#working = null;
      this.#schedulePoll();
    }
  }

  /** Rule 3: keep looking while the reader is idle, sooner when something read waits. */
  #schedulePoll(): void {
    if (this.#stopped) return;
    if (this.#pollTimer !== null) this.#h.clock.clearTimeout(this.#pollTimer);
    const ms = this.#buffer.length > 0 ? this.#o.pendingPollMs : this.#o.idlePollMs;
    this.#pollTimer = this.#h.clock.setTimeout(() => {
      this.#pollTimer = null;
      this.#pollDue = true;
      this.#kick();
    }, ms);
  }

  async #drain(): Promise<void> {
    while (!this.#stopped) {
      const poll = this.#pollDue;
      this.#pollDue = false;
      // Rule 1: before a batch ending at s, every transfer below s must be known.
      const last = this.#buffer.at(-1)?.outSeq ?? 0;
      if (poll || last > this.#transfersKnownBelow) {
        if (!(await this.#looking(() => this.#checkTransfers()))) return;
      }
      // Rule 2: a transfer at the head waits for every interval row before it.
      const head = this.#buffer[0];
      if (head !== undefined && isStoredTransfer(head) && head.outSeq > this.#intervalsKnownBelow) {
        const covered = this.#intervalCheck !== null && this.#intervalCheck.clears > head.outSeq;
        // A look that covers it is being caught up with; the poll looks again (a row it saw may be
        // gone before delivery: retention).
        if (poll || !covered) {
          if (!(await this.#looking(() => this.#checkIntervals()))) return;
        }
      }
      const batch = this.#batch();
      if (batch.length === 0 || this.#stopped) return;
      this.#assertBatch(batch);
      const upTo = batch[batch.length - 1]!.outSeq;
      const { tenant, site, epoch } = this.#h;
      const mark = await this.#retrying(() => this.#h.sink.write({ tenant, site, epoch, rows: batch, upTo }));
      if (mark === null) return;
      // Whatever arrived meanwhile sorts after the batch (rows beyond what is delivered, transfers
      // beyond what is known), so the batch is still the buffer's head.
      for (let i = 0; i < batch.length; i++) {
        if (this.#buffer[i] !== batch[i]) throw new Error('bug: the buffer changed under a write');
      }
      this.#buffer.splice(0, batch.length);
      const rows = batch.reduce((n, item) => (isStoredTransfer(item) ? n : n + 1), 0);
      this.#bufferedRows -= rows;
      this.#position = Math.max(this.#position, upTo);
      this.#h.onWritten(rows);
      if (this.#resume !== null && this.#bufferedRows <= this.#o.maxBufferedRows / 2) {
        this.#resume();
        this.#resume = null;
      }
    }
  }

  /**
   * The longest head of the buffer (at most `maxBatchRows`) that rules 1 and 2 let be written:
   * it stops before the first item past the transfers known, and before the first transfer some
   * interval row before which may not have been delivered yet.
   */
  #batch(): StoredHistoryItem[] {
    const n = Math.min(this.#buffer.length, this.#o.maxBatchRows);
    let i = 0;
    for (; i < n; i++) {
      const item = this.#buffer[i]!;
      if (item.outSeq > this.#transfersKnownBelow) break;
      if (isStoredTransfer(item) && item.outSeq > this.#intervalsKnownBelow) break;
    }
    return this.#buffer.slice(0, i);
  }

  /** Rules 1 and 2 and the order, checked on what is about to be written. @throws Error (a bug) */
  #assertBatch(batch: readonly StoredHistoryItem[]): void {
    let after = this.#position;
    for (const item of batch) {
      if (item.outSeq <= after) throw new Error(`bug: batch not ascending above ${after} at ${item.outSeq}`);
      if (isStoredTransfer(item) && item.outSeq > this.#intervalsKnownBelow) {
        throw new Error(
          `bug (rule 2): transfer at ${item.outSeq} before the interval rows below ${item.outSeq} were delivered (only those below ${this.#intervalsKnownBelow})`,
        );
      }
      after = item.outSeq;
    }
    if (after > this.#transfersKnownBelow) {
      throw new Error(
        `bug (rule 1): batch up to ${after} while transfers are known only below ${this.#transfersKnownBelow}`,
      );
    }
  }

  /**
   * Rule 1's look: asks for the last transfer stored (one request) and, when it is past those
   * known, reads the new ones and merges them into the buffer.
   */
  async #checkTransfers(): Promise<void> {
    const { js, tenant, site } = this.#h;
    const jsm = this.#jsm!;
    // Delivered, hence stored, before the request: a transfer below it is at or below `last`.
    const seen = this.#intervalSeen;
    const last = await lastStoredSeq(jsm, transferSubject(tenant, site));
    if (last > this.#transfersKnown) {
      const read = await readTransfers(js, jsm, tenant, site, this.#transfersKnown);
      if (this.#stopped) return;
      for (const t of read.transfers) this.#insert(t);
      // `read.upTo` ≥ `last`: the read asked for the last transfer after this request did.
      this.#transfersKnown = Math.max(this.#transfersKnown, read.upTo);
    }
    this.#transfersKnownBelow = Math.max(this.#transfersKnownBelow, seen + 1, this.#transfersKnown + 1);
  }

  /**
   * Rule 2's look: asks for the last interval row stored. Every message at or below the last
   * transfer known was stored before this request, so once the reader has delivered up to that
   * row, every interval row up to that transfer has been delivered.
   */
  async #checkIntervals(): Promise<void> {
    const clears = this.#transfersKnown + 1;
    const last = await lastStoredSeq(this.#jsm!, intervalSubject(this.#h.tenant, this.#h.site));
    this.#intervalCheck = { last, clears };
    this.#settleIntervalCheck();
  }

  #settleIntervalCheck(): void {
    const check = this.#intervalCheck;
    if (check === null || this.#intervalSeen < check.last) return;
    this.#intervalsKnownBelow = Math.max(this.#intervalsKnownBelow, check.clears);
    this.#intervalCheck = null;
  }

  /** Runs a look at `WFM_OUT`; false (logged, tried again on the next poll) when it failed. */
  async #looking(look: () => Promise<void>): Promise<boolean> {
    try {
      await look();
      this.#checkFailing = false;
      return !this.#stopped;
    } catch (err) {
      if (!this.#stopped && !this.#checkFailing) {
        this.#h.logger.warn(
          { site: this.#h.site, err, retryInMs: this.#o.pendingPollMs },
          'cannot look for transfers in WFM_OUT; trying again',
        );
      }
      this.#checkFailing = true;
      return false;
    }
  }

  /** Runs `attempt` until it succeeds; null when stopped, fenced or the database is out. */
  async #retrying<T>(attempt: () => Promise<T>): Promise<T | null> {
    let delay = this.#o.retryDelayMs;
    while (!this.#stopped) {
      try {
        const result = await attempt();
        this.#h.health.succeeded();
        return result;
      } catch (err) {
        if (err instanceof FencedWriteError) {
          this.#h.logger.warn(
            { site: this.#h.site, err },
            'interval write fenced: a newer primary wrote the site',
          );
          this.#stop();
          this.#h.onFenced(err);
          return null;
        }
        const error =
          err instanceof DatabaseError ? err : new DatabaseError('interval write failed', { cause: err });
        if (!this.#h.health.failed(error)) {
          this.#stop();
          return null;
        }
        this.#h.logger.warn(
          { site: this.#h.site, err: error, retryInMs: delay },
          'interval write failed; retrying',
        );
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#o.maxRetryDelayMs);
      }
    }
    return null;
  }

  #sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      this.#wakeRetry = resolve;
      this.#retryTimer = this.#h.clock.setTimeout(() => {
        this.#wakeRetry = null;
        resolve();
      }, ms);
    });
  }

  #stop(): void {
    this.#stopped = true;
    this.#reading?.unsubscribe();
    this.#reading = null;
    this.#resume?.();
    this.#resume = null;
    if (this.#retryTimer !== null) this.#h.clock.clearTimeout(this.#retryTimer);
    if (this.#pollTimer !== null) this.#h.clock.clearTimeout(this.#pollTimer);
    this.#pollTimer = null;
    this.#wakeRetry?.();
    this.#wakeRetry = null;
  }

  /**
   * Stops reading and waits for a write in flight to settle (committed or not: the mark says
   * which). What was read and not written stays in `WFM_OUT` after the mark.
   */
  async stop(): Promise<void> {
    this.#stop();
    await this.#running.catch(() => undefined);
    await this.#working;
  }
}
