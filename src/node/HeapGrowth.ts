import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';

/** A change of a {@link HeapGrowth}'s cap (its `onChange`). */
export interface HeapGrowthChange {
  /** Whether V8's heap growth is now capped at `percent`; false: V8 sizes the heap itself. */
  capped: boolean;
  /** What the full collection that decided it kept, in bytes. */
  keptBytes: number;
}

/** Options of a {@link HeapGrowth}. */
export interface HeapGrowthOptions {
  /**
   * How far the heap may outgrow what a full collection kept, while capped: V8's
   * `--heap-growing-percent`. Positive.
   */
  percent: number;
  /**
   * Above this many bytes kept by a full collection, the cap applies; below three quarters of
   * it, V8 sizes the heap itself again (0: capped from the start, always).
   * @defaultValue 134217728 (128 MiB; the CLI's default is 0: see `--heap-growing-above`)
   */
  aboveBytes: number;
  /**
   * Subscribes `listener` to the end of every full collection; returns the unsubscribe.
   * @defaultValue V8's major collections, from a `PerformanceObserver` on `gc` entries
   */
  onFullGc: (listener: () => void) => () => void;
  /** @defaultValue the old generation's bytes in use now ({@link v8KeptBytes}) */
  keptBytes: () => number;
  /**
   * Applies a growth percent; 0 gives the sizing back to V8.
   * @defaultValue sets V8's `--heap-growing-percent`, which V8 reads at every full collection
   */
  setPercent: (percent: number) => void;
  /** Told of every change of the cap (to log it); non-fatal, never thrown. */
  onChange: (change: HeapGrowthChange) => void;
}

export const defaultHeapGrowthOptions: Omit<HeapGrowthOptions, 'percent'> = {
  aboveBytes: 128 * 2 ** 20,
  onFullGc: observeFullGc,
  keptBytes: v8KeptBytes,
  setPercent: (percent) => setFlagsFromString(`--heap-growing-percent=${percent}`),
  onChange: () => undefined,
};

/** Bytes in use in V8's old generation now: after a full collection, about what it kept. */
export function v8KeptBytes(): number {
  let used = 0;
  for (const space of getHeapSpaceStatistics())
    if (space.space_name !== 'new_space' && space.space_name !== 'new_large_object_space')
      used += space.space_used_size;
  return used;
}

/** `listener` after each of V8's major (full) collections; returns the unsubscribe. */
export function observeFullGc(listener: () => void): () => void {
  const observer = new PerformanceObserver((list) => {
    // A gc entry carries its kind in `detail` (Node ≥ 16), which the entry's type does not name.
    const major = list
      .getEntries()
      .some(
        (e) => (e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR,
      );
    if (major) listener();
  });
  observer.observe({ entryTypes: ['gc'] });
  return () => observer.disconnect();
}

/**
 * Caps how far V8 lets the JS heap outgrow its live data only once that data is large. A node's
 * memory bound (1 GB at 100k agents) needs the cap: left to itself V8 sized that heap at 2–4× what
 * it kept. A small node may not, and there the cap costs latency: at 10k agents the node's heap
 * kept ~50–100 MiB, so a 50 % cap meant a full collection about every second under 10k events/s
 * (8–30 ms pauses each), and the latency bench's p99 at that rate was 62–108 ms with it (median
 * 94, five runs) against 58–94 ms without (median 63, six runs; the two overlap). So the cap is
 * applied when a full collection keeps more than {@link HeapGrowthOptions.aboveBytes}, and lifted
 * again below three quarters of that (the gap keeps a heap near the line from switching at every
 * collection). A change takes effect at the next full collection, where V8 reads the flag: a heap
 * that grows fast past the line (a large node's warm-up) runs one collection late uncapped, which
 * is why the CLI applies the cap from the start unless asked (`--heap-growing-above`).
 */
export class HeapGrowth {
  readonly #o: HeapGrowthOptions;
  readonly #unsubscribe: () => void;
  #capped = false;
  #stopped = false;

  constructor(options: Partial<HeapGrowthOptions> & Pick<HeapGrowthOptions, 'percent'>) {
    this.#o = { ...defaultHeapGrowthOptions, ...options };
    const { percent, aboveBytes } = this.#o;
    if (!Number.isInteger(percent) || percent <= 0)
      throw new RangeError(`percent must be a positive integer, got ${percent}`);
    if (!Number.isFinite(aboveBytes) || aboveBytes < 0)
      throw new RangeError(`aboveBytes must be ≥ 0, got ${aboveBytes}`);
    if (aboveBytes === 0) {
      this.#o.setPercent(percent);
      this.#capped = true;
      this.#unsubscribe = () => undefined;
      return;
    }
    this.#unsubscribe = this.#o.onFullGc(() => this.#afterFullGc());
  }

  /** Whether the cap applies now. */
  get capped(): boolean {
    return this.#capped;
  }

  /** Stops watching collections; the cap stays as it is. Calling it again does nothing. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#unsubscribe();
  }

  #afterFullGc(): void {
    const keptBytes = this.#o.keptBytes();
    const capped = this.#capped ? keptBytes >= (this.#o.aboveBytes * 3) / 4 : keptBytes > this.#o.aboveBytes;
    if (capped === this.#capped) return;
    this.#capped = capped;
    this.#o.setPercent(capped ? this.#o.percent : 0);
    try {
      this.#o.onChange({ capped, keptBytes });
    } catch {
      // A listener's failure (a logger) must not stop the sizing.
    }
  }
}
