import { parentPort, workerData } from 'node:worker_threads';
import { closeNats } from './closeNats.ts';
import { connectNats } from './connectNats.ts';
import { monotonicMs } from './monotonicMs.ts';
import type { BeaconWorkerData } from './NodeBeacon.ts';
import { NodeRegistry } from './NodeRegistry.ts';

// The node beacon's worker thread: announces the node in WFM_NODES on its own connection and its
// own event loop, with how long the main thread has been silent, so that a main thread busy for
// a while (a checkpoint, an interval close for 100k agents) is not taken for a dead node.

const data = workerData as BeaconWorkerData;
const beat = new Float64Array(data.beat);
const port = parentPort!;

const nc = await connectNats({ ...data.connect, reconnectTimeWaitMs: 250 });
const registry = await NodeRegistry.open(nc, data.tenant, data.replicas);
let stopped = false;

async function announce(leaving: boolean): Promise<void> {
  const stalledMs = Math.max(0, monotonicMs() - (beat[0] ?? 0));
  try {
    await registry.announce({ node: data.node, leaving, stalledMs });
  } catch {
    // Unreachable NATS: the next beat tries again; watchers judge by what they hear.
  }
}

const timer = setInterval(() => {
  if (!stopped) void announce(false);
}, data.everyMs);
await announce(false);
port.postMessage({ type: 'ready' });

port.on('message', (message: { type: 'stop' }) => {
  if (message.type !== 'stop' || stopped) return;
  stopped = true;
  clearInterval(timer);
  void (async () => {
    await announce(true);
    await closeNats(nc);
    port.postMessage({ type: 'stopped' });
    port.close();
  })();
});
