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
 * Default of `wfm-agg node --heap-growing-above`, in MiB: the cap applies once a full collection
 * keeps more (see {@link HeapGrowth}). A node of 10k agents keeps ~50–100 MiB and runs uncapped;
 * one of 100k keeps ~300 MiB and is capped early in its warm-up.
 */
export const DEFAULT_HEAP_GROWING_ABOVE_MIB = 128;

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
