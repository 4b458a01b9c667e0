/** How an {@link InputBatcher} applies what it holds. */
export interface InputBatcherOptions<T> {
  /** Applies one input (synchronously). */
  apply: (item: T) => void;
  /** A promise while applying must wait (a checkpoint is being written), else null. */
  blocked: () => Promise<unknown> | null;
  /** Runs after each batch (e.g. to start a checkpoint by message count). */
  afterBatch: () => void;
  /**
   * Most inputs held before `whenRoom()` asks the reader to wait.
   * @defaultValue 512
   */
  maxBatch: number;
}

/**
 * Holds inputs as they arrive and applies them in one synchronous batch per event-loop turn.
 * nats.js flushes its socket on the first microtask after a publish, so applying one input per
 * turn cost one socket write per input; a batch's outputs now leave in one write.
 */
export class InputBatcher<T> {
  readonly #options: InputBatcherOptions<T>;
  #batch: T[] = [];
  #scheduled = false;
  #waiters: (() => void)[] = [];

  constructor(options: Partial<InputBatcherOptions<T>> & Pick<InputBatcherOptions<T>, 'apply'>) {
    this.#options = { blocked: () => null, afterBatch: () => undefined, maxBatch: 512, ...options };
    if (!Number.isInteger(this.#options.maxBatch) || this.#options.maxBatch < 1) {
      throw new RangeError(`maxBatch must be a positive integer, got ${this.#options.maxBatch}`);
    }
  }

  /** Inputs waiting to be applied. */
  get size(): number {
    return this.#batch.length;
  }

  /** Takes one input; it is applied on the next turn of the event loop. */
  push(item: T): void {
    this.#batch.push(item);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => this.#drain());
  }

  /** Undefined while there is room; otherwise resolves after the next batch is applied. */
  whenRoom(): Promise<void> | undefined {
    if (this.#batch.length < this.#options.maxBatch) return undefined;
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  /** Forgets every waiting input (the pipeline is torn down and will re-read them). */
  clear(): void {
    this.#batch = [];
  }

  /** Applies what is waiting now, unless applying is blocked. */
  drainNow(): void {
    if (this.#options.blocked() === null && this.#batch.length > 0) this.#drain();
  }

  #drain(): void {
    const blocked = this.#options.blocked();
    if (blocked !== null) {
      // Never apply while blocked (a checkpoint holds references to the state being applied to).
      void blocked.catch(() => undefined).then(() => this.#drain());
      return;
    }
    this.#scheduled = false;
    const batch = this.#batch;
    this.#batch = [];
    for (const item of batch) this.#options.apply(item);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
    this.#options.afterBatch();
  }
}
