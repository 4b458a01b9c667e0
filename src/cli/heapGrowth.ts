import { ConfigError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import { HeapGrowth } from '../node/index.ts';

/**
 * Default of `wfm-agg node --heap-growing-percent`: once capped, V8 lets the heap grow to 1.5 ×
 * what the last full collection kept. Left to itself V8 picks up to 4× for a fast-allocating
 * process: the memory bench's node (100k agents) held ~1 GB of JS heap for ~430 MB live. Measured
 * in process on 100k agents' warm-up: RSS 1,107 → 776 MiB, time +4 % (20: 735 MiB, +12 %).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/**
 * Default of `wfm-agg node --heap-growing-above`, in MiB: 0, capped from the start. A node of 10k
 * agents keeps ~50–100 MiB, and left to V8 it collected its old generation ~5× less often and
 * answered faster (see {@link HeapGrowth}); but a node of 100k agents that ran uncapped below
 * 128 MiB grew its heap past the cap's bound before its first capped collection (one full bench
 * run: 1,037 MiB at rest, peak 1,385 MiB, against the 1 GB target). So the gain is opt-in, for
 * nodes that stay small (`--heap-growing-above 128`).
 */
export const DEFAULT_HEAP_GROWING_ABOVE_MIB = 0;

const MIB = 2 ** 20;

/** Parses `--heap-growing-percent` (0: V8 always sizes the heap itself), before the node starts. */
export function parseHeapGrowingPercent(flag: string | undefined): number {
  const value = flag === undefined ? DEFAULT_HEAP_GROWING_PERCENT : Number(flag);
  if (flag?.trim() === '' || !Number.isInteger(value) || value < 0 || value > 1000)
    throw new ConfigError(
      '--heap-growing-percent',
      `must be an integer 0..1000, got ${JSON.stringify(flag)}`,
    );
  return value;
}

/** Parses `--heap-growing-above <MiB>` (0: capped from the start), before the node starts. */
export function parseHeapGrowingAbove(flag: string | undefined): number {
  const value = flag === undefined ? DEFAULT_HEAP_GROWING_ABOVE_MIB : Number(flag);
  if (flag?.trim() === '' || !Number.isInteger(value) || value < 0 || value > 65_536)
    throw new ConfigError(
      '--heap-growing-above',
      `must be an integer number of MiB 0..65536, got ${JSON.stringify(flag)}`,
    );
  return value;
}

/**
 * Starts capping the process's heap growth at `percent` once a full collection keeps more than
 * `aboveMiB` (null when `percent` is 0: V8 sizes the heap itself throughout); each change of the
 * cap is logged.
 */
export function startHeapGrowth(percent: number, aboveMiB: number, logger: Logger): HeapGrowth | null {
  if (percent === 0) return null;
  return new HeapGrowth({
    percent,
    aboveBytes: aboveMiB * MIB,
    onChange: ({ capped, keptBytes }) =>
      logger.info(
        { heapGrowingPercent: capped ? percent : 'V8', keptMiB: Math.round(keptBytes / MIB) },
        capped ? 'heap growth capped' : 'heap growth left to V8',
      ),
  });
}
