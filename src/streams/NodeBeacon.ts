import { Worker } from 'node:worker_threads';
import { NatsError } from '../errors.ts';
import type { ConnectNatsOptions } from './connectNats.ts';
import { monotonicMs } from './monotonicMs.ts';

/** What the beacon's worker gets. */
export interface BeaconWorkerData {
  node: string;
  tenant: string;
  replicas: number;
  everyMs: number;
  connect: Partial<ConnectNatsOptions>;
  /** One Float64: when the main thread last beat (monotonicMs). */
  beat: SharedArrayBuffer;
}

/** How a node's beacon runs. */
export interface NodeBeaconOptions {
  node: string;
  tenant: string;
  /** KV replicas of `WFM_NODES` when it is made. */
  replicas: number;
  /** Announce this often. */
  everyMs: number;
  /** NATS connection of the worker (servers, credentials). */
  connect: Partial<ConnectNatsOptions>;
}

/** How often the main thread marks that it is alive. */
const MAIN_BEAT_MS = 50;

/**
 * The node's announcement in `WFM_NODES`, from a worker thread with its own NATS connection: it
 * goes on while the main thread is busy, and says for how long the main thread has not beaten
 * (`stalledMs`). Watchers then tell a dead node (silent beacon) from a busy one (beacon alive,
 * main thread stalled for a while), so a long checkpoint or an interval close for 100k agents
 * causes no false takeover — while fencing stays where it is: a primary whose main thread
 * stalled past its lease permit writes nothing until it holds a lease again.
 */
export class NodeBeacon {
  readonly #worker: Worker;
  readonly #beat: Float64Array;
  readonly #timer: NodeJS.Timeout;
  #stopped: Promise<void> | null = null;

  private constructor(worker: Worker, beat: Float64Array) {
    this.#worker = worker;
    this.#beat = beat;
    this.#beat[0] = monotonicMs();
    this.#timer = setInterval(() => {
      this.#beat[0] = monotonicMs();
    }, MAIN_BEAT_MS);
    this.#timer.unref();
  }

  /** Starts the worker; resolves once it announced the node. @throws NatsError */
  static async start(options: NodeBeaconOptions): Promise<NodeBeacon> {
    const shared = new SharedArrayBuffer(8);
    const beat = new Float64Array(shared);
    beat[0] = monotonicMs();
    const data: BeaconWorkerData = { ...options, beat: shared };
    const worker = new Worker(workerEntry(), { workerData: data });
    await new Promise<void>((resolve, reject) => {
      const fail = (err: unknown) =>
        reject(
          new NatsError(
            `the node beacon did not start: ${err instanceof Error ? err.message : String(err)}`,
            { cause: err },
          ),
        );
      worker.once('error', fail);
      worker.once('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
      worker.once('message', (m: { type: string }) => {
        worker.removeAllListeners('error');
        worker.removeAllListeners('exit');
        if (m.type === 'ready') resolve();
        else fail(new Error(`unexpected message ${m.type}`));
      });
    });
    return new NodeBeacon(worker, beat);
  }

  /** Announces the node as leaving, closes the worker's connection and ends it. */
  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      clearInterval(this.#timer);
      const done = new Promise<void>((resolve) => {
        this.#worker.once('message', () => resolve());
        this.#worker.once('exit', () => resolve());
      });
      this.#worker.postMessage({ type: 'stop' });
      await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 2000))]);
      await this.#worker.terminate();
    })();
    return this.#stopped;
  }
}

/**
 * The worker's entry: compiled, this module is `NodeBeacon.js` beside `beaconWorkerMain.js`, which
 * runs as it is; run from source (tests, `tsx`), a worker does not inherit the TypeScript loader,
 * so `beaconWorker.js` registers it first.
 */
function workerEntry(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('./beaconWorker.js', import.meta.url)
    : new URL('./beaconWorkerMain.js', import.meta.url);
}
