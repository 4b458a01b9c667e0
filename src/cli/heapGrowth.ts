import { setFlagsFromString } from 'node:v8';
import { ConfigError } from '../errors.ts';

/**
 * Default of `wfm-agg node --heap-growing-percent`: V8 lets the heap grow to 1.5 × what the last
 * full collection kept. Left to itself V8 picks up to 4× for a fast-allocating process: the
 * memory bench's node (100k agents) held ~1 GB of JS heap for ~430 MB live. Measured in process
 * on 100k agents' warm-up: RSS 1,107 → 776 MiB, time +4 % (20: 735 MiB, +12 %).
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 50;

/**
 * Parses `--heap-growing-percent` (0: V8's own choice) and applies it to this process: V8 reads
 * the flag at every full collection, so setting it before the node starts is enough.
 */
export function applyHeapGrowingPercent(flag: string | undefined): number {
  const value = flag === undefined ? DEFAULT_HEAP_GROWING_PERCENT : Number(flag);
  if (!Number.isInteger(value) || value < 0 || value > 1000)
    throw new ConfigError(
      '--heap-growing-percent',
      `must be an integer 0..1000, got ${JSON.stringify(flag)}`,
    );
  if (value > 0) setFlagsFromString(`--heap-growing-percent=${value}`);
  return value;
}
