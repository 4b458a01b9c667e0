import { ConfigError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import { HeapCompactor, type WfmNode } from '../node/index.ts';

/**
 * Default of `wfm-agg node --compact-heap-when-quiet`, in seconds: off. The compaction's pause
 * (~2 s at 100k agents) outlasts the write permit of the default lease (`leaseSeconds / 6`,
 * 500 ms), and a primary whose permit runs out demotes itself and campaigns again — safe, but a
 * hot-standby pair would change leaders for nothing. Turn it on where the permit outlasts the
 * pause (`leaseSeconds` ≥ ~15 at 100k agents), or on a node alone.
 */
export const DEFAULT_COMPACT_HEAP_WHEN_QUIET_SECONDS = 0;

const MIB = 2 ** 20;

/** Parses `--compact-heap-when-quiet <seconds>` (0: off), before the node starts. */
export function parseCompactHeapWhenQuiet(flag: string | undefined): number {
  const seconds = flag === undefined ? DEFAULT_COMPACT_HEAP_WHEN_QUIET_SECONDS : Number(flag);
  if (flag?.trim() === '' || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400)
    throw new ConfigError(
      '--compact-heap-when-quiet',
      `must be a number of seconds 0..86400, got ${JSON.stringify(flag)}`,
    );
  return seconds;
}

/**
 * Starts the node's {@link HeapCompactor} (null when `seconds` is 0): once the node has applied
 * no input and written no interval row for `seconds` after doing work, with every site
 * checkpointed up to what it applied and no row waiting for the sink, its JS heap is compacted,
 * each time logged.
 */
export function startHeapCompactor(
  seconds: number,
  node: Pick<WfmNode, 'processedSeq' | 'historyRowsWritten' | 'status'>,
  logger: Logger,
): HeapCompactor | null {
  if (seconds === 0) return null;
  const compactor = new HeapCompactor({
    quietMs: seconds * 1000,
    activity: () => node.processedSeq + node.historyRowsWritten,
    // A checkpoint that covers what a site applied was written after its outputs were acked.
    settled: () =>
      node.status().sites.every((s) => s.checkpointSeq >= s.processedSeq && (s.history?.backlog ?? 0) === 0),
    onCompacted: ({ before, after, durationMs }) =>
      logger.info(
        {
          oldSpaceMiB: {
            before: { committed: Math.round(before.committed / MIB), used: Math.round(before.used / MIB) },
            after: { committed: Math.round(after.committed / MIB), used: Math.round(after.used / MIB) },
          },
          pauseMs: Math.round(durationMs),
        },
        'heap compacted',
      ),
  });
  compactor.start();
  return compactor;
}
