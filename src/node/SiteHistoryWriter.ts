import type { JetStreamClient } from '@nats-io/jetstream';
import type { Subscription } from 'rxjs';
import type { OperationalClock } from '../actors/index.ts';
import { DatabaseError, FencedWriteError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import { type IntervalSink, isStoredTransfer, type StoredHistoryItem } from '../persistence/index.ts';
import { type HistoryMessage, siteHistory } from '../streams/index.ts';
import type { DatabaseHealth } from './DatabaseHealth.ts';

/** How a site's history writer batches and retries. */
export interface SiteHistoryWriterOptions {
  /**
   * Most items (rows and transfers) per transaction. @defaultValue 1000
   */
  maxBatchRows: number;
  /**
   * Items read ahead of the database at most; past it reading pauses until half are written, so a
   * slow database holds back this reader only, never the stream path. @defaultValue 20000
   */
  maxBufferedRows: number;
  /** First wait after a failed write; doubles per failure. @defaultValue 100 */
  retryDelayMs: number;
  /** Longest wait between tries. @defaultValue 2000 */
  maxRetryDelayMs: number;
}

export const defaultSiteHistoryWriterOptions: SiteHistoryWriterOptions = {
  maxBatchRows: 1000,
  maxBufferedRows: 20_000,
  retryDelayMs: 100,
  maxRetryDelayMs: 2000,
};

/** What one site's writer works with. */
export interface SiteHistoryWriterHost {
  tenant: string;
  site: string;
  sink: IntervalSink;
  js: JetStreamClient;
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

/**
 * Projects one site's interval records and transfers from `WFM_OUT` into the interval sink, in
 * stream order, so each transfer moves exactly the rows written before it. The sink's write
 * mark is where it starts, so "not yet written" is simply "after the mark": a restart, a takeover
 * or a replayed dump continues exactly there, and `WFM_OUT` — not this process — holds what is
 * still to write. Writes are batched (everything read while the previous write ran, up to
 * `maxBatchRows`) and retried while the node's {@link DatabaseHealth} says so.
 */
export class SiteHistoryWriter {
  readonly #h: SiteHistoryWriterHost;
  readonly #o: SiteHistoryWriterOptions;
  readonly #buffer: StoredHistoryItem[] = [];
  #position = 0;
  #reading: Subscription | null = null;
  #running: Promise<void> = Promise.resolve();
  #draining: Promise<void> | null = null;
  #stopped = false;
  #resume: (() => void) | null = null;
  #retryTimer: unknown = null;
  #wakeRetry: (() => void) | null = null;

  constructor(host: SiteHistoryWriterHost, options: Partial<SiteHistoryWriterOptions> = {}) {
    this.#h = host;
    this.#o = { ...defaultSiteHistoryWriterOptions, ...options };
    if (this.#o.maxBatchRows < 1 || this.#o.maxBufferedRows < this.#o.maxBatchRows)
      throw new RangeError('maxBufferedRows must be >= maxBatchRows >= 1');
  }

  /** The last `WFM_OUT` sequence whose record or transfer (if it is this site's) is in the sink. */
  get position(): number {
    return this.#position;
  }

  /** Items (rows and transfers) read and not yet written. */
  get backlog(): number {
    return this.#buffer.length;
  }

  /** Reads the mark, then follows `WFM_OUT` from after it; returns at once. */
  start(): void {
    this.#running = this.#run();
  }

  async #run(): Promise<void> {
    const mark = await this.#retrying(() => this.#h.sink.mark(this.#h.tenant, this.#h.site));
    if (mark === null) return;
    this.#position = mark.position;
    this.#reading = siteHistory(this.#h.js, {
      tenant: this.#h.tenant,
      site: this.#h.site,
      startSeq: mark.position + 1,
      whenReady: () => this.#whenReady(),
    }).subscribe({
      next: (m) => this.#read(m),
      error: (err: unknown) => {
        // Only a closed connection ends the reader: the node is stopping.
        if (!this.#stopped) this.#h.logger.warn({ site: this.#h.site, err }, 'interval history reader ended');
      },
    });
  }

  #read(m: HistoryMessage | null): void {
    if (m === null || this.#stopped) return;
    this.#buffer.push(m);
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = null;
    });
  }

  #whenReady(): Promise<void> | undefined {
    if (this.#buffer.length < this.#o.maxBufferedRows) return undefined;
    return new Promise<void>((resolve) => {
      this.#resume = resolve;
    });
  }

  async #drain(): Promise<void> {
    while (!this.#stopped && this.#buffer.length > 0) {
      const rows = this.#buffer.slice(0, this.#o.maxBatchRows);
      const upTo = rows[rows.length - 1]!.outSeq;
      const { tenant, site, epoch } = this.#h;
      const mark = await this.#retrying(() => this.#h.sink.write({ tenant, site, epoch, rows, upTo }));
      if (mark === null) return;
      this.#buffer.splice(0, rows.length);
      this.#position = Math.max(this.#position, upTo);
      this.#h.onWritten(rows.reduce((n, item) => (isStoredTransfer(item) ? n : n + 1), 0));
      if (this.#resume !== null && this.#buffer.length <= this.#o.maxBufferedRows / 2) {
        this.#resume();
        this.#resume = null;
      }
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
    await this.#draining;
  }
}
