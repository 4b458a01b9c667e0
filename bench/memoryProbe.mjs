// Preloaded into a bench's node process (NODE_OPTIONS=--import=…, see bench/nodeBench.ts) so the
// bench can read the heap of the compiled node as shipped: on SIGUSR2, two full garbage
// collections, then one JSON line on stdout (beside the node's own pino lines) with
// process.memoryUsage(). Nothing else changes in the process; the signal handler does not keep it
// alive.
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');

process.on('SIGUSR2', () => {
  gc();
  gc();
  const m = process.memoryUsage();
  // Per V8 space: [committed, used] MiB, to see where heap total goes beyond heap used.
  const spaces = Object.fromEntries(
    getHeapSpaceStatistics().map((s) => [
      s.space_name,
      [Math.round(s.space_size / 2 ** 20), Math.round(s.space_used_size / 2 ** 20)],
    ]),
  );
  process.stdout.write(`${JSON.stringify({ msg: 'bench memory', time: Date.now(), ...m, spaces })}\n`);
});
