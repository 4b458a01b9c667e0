import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { type OperationalClock, realClock } from '../actors/index.ts';

/** V8's old generation as a {@link HeapCompactor} sees it. */
export interface OldSpace {
  /** Bytes of memory V8 holds for it (what counts in RSS). */
  committed: number;
  /** Bytes of objects in it, live or not yet collected. */
  used: number;
}

/** What one compaction did (the `compacted` event of a {@link HeapCompactor}). */
export interface HeapCompaction {
  before: OldSpace;
  after: OldSpace;
  /** How long the event loop stood still for it, on the compactor's clock. */
  durationMs: number;
}

/** Options of a {@link HeapCompactor}. */
export interface HeapCompactorOptions {
  /**
   * A counter that moves whenever the process does work (a node: inputs applied plus interval
   * rows written). Unchanged for {@link quietMs}, the process is quiet.
   */
  activity: () => number;
  /**
   * Whether the process has nothing in flight (a node: every site's checkpoint covers what it
   * applied, so no publish awaits its ack, and no interval row waits for the sink). Quiet time
   * counts only while it holds: the pause must not fall on work that has a deadline.
   * @defaultValue always
   */
  settled: () => boolean;
  /**
   * How long the activity counter must stand still before the heap is compacted; 0 turns the
   * compactor off.
   * @defaultValue 5000
   */
  quietMs: number;
  /**
   * Least memory the old generation must hold beyond its objects for a compaction to be worth
   * its pause.
   * @defaultValue 67108864 (64 MiB)
   */
  minWasteBytes: number;
  /**
   * Least time between two compactions, so a process that idles often pauses rarely.
   * @defaultValue 60000
   */
  minIntervalMs: number;
  /** @defaultValue the process's monotonic clock with real timers */
  clock: OperationalClock;
  /** @defaultValue V8's old-space statistics */
  oldSpace: () => OldSpace;
  /** @defaultValue {@link compactV8Heap} */
  compact: () => void;
  /** Told of each compaction (to log it); non-fatal, never thrown. */
  onCompacted: (compaction: HeapCompaction) => void;
}

export const defaultHeapCompactorOptions: Omit<HeapCompactorOptions, 'activity'> = {
  settled: () => true,
  quietMs: 5000,
  minWasteBytes: 64 * 2 ** 20,
  minIntervalMs: 60_000,
  clock: realClock,
  oldSpace: v8OldSpace,
  compact: compactV8Heap,
  onCompacted: () => undefined,
};

/** V8's old space now (`v8.getHeapSpaceStatistics`). */
export function v8OldSpace(): OldSpace {
  const old = getHeapSpaceStatistics().find((s) => s.space_name === 'old_space');
  return { committed: old?.space_size ?? 0, used: old?.space_used_size ?? 0 };
}

let fullGc: (() => void) | undefined;

/**
 * One full garbage collection that compacts the whole old generation, so V8 gives the memory
 * between its surviving objects back. A regular full collection moves only the emptiest pages:
 * after a burst (a catch-up of 600k inputs at 100k agents), the old space kept 754 MiB for
 * 316 MiB of objects through two of them; this left 322 MiB, and the process's RSS went from
 * 1,160 to 607 MiB. It pauses the event loop for as long as it copies (~1.9 s for those 316 MiB
 * on this 2-core machine). V8 reads both flags at every full collection.
 */
export function compactV8Heap(): void {
  if (fullGc === undefined) {
    setFlagsFromString('--expose-gc');
    fullGc = runInNewContext('gc') as () => void;
  }
  setFlagsFromString('--compact-on-every-full-gc');
  try {
    fullGc();
  } finally {
    setFlagsFromString('--no-compact-on-every-full-gc');
  }
}

/**
 * Gives a process's idle JS heap back to the OS after a burst. V8 grows its old generation while
 * input pours in (objects that live a little while — outputs awaiting their acks, rows on their
 * way to the history sink — are promoted, then die) and keeps that memory, fragmented, once the
 * burst is over: its own memory reducer shrank it within 15 s of idling in some runs of the
 * memory bench and not in others (RSS at rest 647–1,160 MiB at 100k agents). So when the process
 * has been quiet and settled for {@link HeapCompactorOptions.quietMs} after doing work, and the
 * old space holds at least `minWasteBytes` beyond its objects, this runs one compacting full
 * collection: once per quiet spell, at most once per `minIntervalMs`. Under steady traffic the
 * process is never quiet and nothing happens: V8's own sizing (`--heap-growing-percent`) bounds
 * the heap there.
 */
export class HeapCompactor {
  readonly #o: HeapCompactorOptions;
  #timer: unknown;
  #lastActivity: number;
  #quietSince: number;
  // Activity at the last compaction: a quiet spell with none since is not compacted again.
  #compactedAt: number | undefined;
  #lastCompactionMs = Number.NEGATIVE_INFINITY;
  #compactions = 0;

  constructor(options: Partial<HeapCompactorOptions> & Pick<HeapCompactorOptions, 'activity'>) {
    this.#o = { ...defaultHeapCompactorOptions, ...options };
    const { quietMs, minWasteBytes, minIntervalMs } = this.#o;
    if (!Number.isFinite(quietMs) || quietMs < 0) throw new RangeError(`quietMs must be ≥ 0, got ${quietMs}`);
    if (!Number.isFinite(minWasteBytes) || minWasteBytes < 0)
      throw new RangeError(`minWasteBytes must be ≥ 0, got ${minWasteBytes}`);
    if (!Number.isFinite(minIntervalMs) || minIntervalMs < 0)
      throw new RangeError(`minIntervalMs must be ≥ 0, got ${minIntervalMs}`);
    // No compaction yet (#compactedAt undefined): the process's start-up counts as work done, so
    // one that stays quiet afterwards is compacted once.
    this.#lastActivity = this.#o.activity();
    this.#quietSince = this.#o.clock.now();
  }

  /** Compactions run so far. */
  get compactions(): number {
    return this.#compactions;
  }

  /** Starts watching (checks every quarter of `quietMs`); does nothing when `quietMs` is 0. */
  start(): void {
    if (this.#o.quietMs === 0 || this.#timer !== undefined) return;
    this.#schedule();
  }

  /** Stops watching; a compaction never runs after this returns. */
  stop(): void {
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      try {
        this.#check();
      } catch {
        // A node that cannot say what it is doing (stopping, say) is not quiet: look again later.
        // A timer callback must not throw: that would end the process.
        this.#quietSince = this.#o.clock.now();
      }
      if (this.#timer !== undefined) this.#schedule();
    }, this.#o.quietMs / 4);
    // A real timer must not keep a process alive that has nothing else to do.
    (this.#timer as { unref?: () => void } | undefined)?.unref?.();
  }

  /** One look: compacts when every condition holds (see the class). */
  #check(): void {
    const { clock, quietMs, minIntervalMs, minWasteBytes } = this.#o;
    const now = clock.now();
    const activity = this.#o.activity();
    if (activity !== this.#lastActivity || !this.#o.settled()) {
      this.#lastActivity = activity;
      this.#quietSince = now;
      return;
    }
    if (now - this.#quietSince < quietMs) return;
    if (this.#compactedAt === activity || now - this.#lastCompactionMs < minIntervalMs) return;
    const before = this.#o.oldSpace();
    if (before.committed - before.used < minWasteBytes) return;
    const started = clock.now();
    this.#o.compact();
    const durationMs = clock.now() - started;
    this.#compactedAt = activity;
    this.#lastCompactionMs = clock.now();
    this.#compactions++;
    this.#o.onCompacted({ before, after: this.#o.oldSpace(), durationMs });
  }
}
