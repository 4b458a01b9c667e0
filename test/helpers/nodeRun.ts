/**
 * One in-process node over a fixed traffic set on its own nats-server, for tests that disturb a
 * run (a failing checkpoint store, refused publishes, a restart) and compare what it wrote with
 * an undisturbed run: {@link undisturbedRun} and {@link NodeRun}.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { expect } from 'vitest';
import type { SiteConfig, WfmConfig } from '../../src/config/index.ts';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { type LaneStatus, WfmNode, type WfmNodeOptions } from '../../src/node/index.ts';
import type { TrafficMessage } from '../../src/simulator/index.ts';
import { connectNats, type EnsureStreamsOptions, ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from './NatsServer.ts';
import { waitFor } from './NodeProcess.ts';
import {
  compareDeadLetters,
  compareRuns,
  publishMessages,
  readStream,
  type StreamRecord,
} from './outputs.ts';

/** What a run wrote. */
export interface RunOutput {
  out: StreamRecord[];
  dlq: StreamRecord[];
}

/** A server, a client, a data dir and (while started) a node, for one test run. */
export class NodeRun {
  readonly server: NatsServer;
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
  readonly dataDir: string;
  readonly log: string[] = [];
  node: WfmNode | null = null;
  published = 0;

  private constructor(server: NatsServer, nc: NatsConnection, jsm: JetStreamManager, dataDir: string) {
    this.server = server;
    this.nc = nc;
    this.js = jetstream(nc);
    this.jsm = jsm;
    this.dataDir = dataDir;
  }

  /** A fresh server with the contract's streams (tiny duplicate windows: dedupe hides nothing). */
  static async open(streams: Partial<EnsureStreamsOptions> = {}): Promise<NodeRun> {
    const server = await NatsServer.start();
    const nc = await connectNats({ servers: [server.url], name: 'test run' });
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, { outDuplicateWindowMs: 100, dlqDuplicateWindowMs: 100, ...streams });
    return new NodeRun(server, nc, jsm, mkdtempSync(join(tmpdir(), 'wfm-run-')));
  }

  /** The configuration of a node of this run. */
  config(sites: (string | (Partial<SiteConfig> & { id: string }))[]): WfmConfig {
    return localNodeConfig({ natsUrl: this.server.url, dataDir: this.dataDir, sites });
  }

  /** Starts a node (stopping none: call {@link stopNode} first). */
  async startNode(options: Partial<WfmNodeOptions> & Pick<WfmNodeOptions, 'config'>): Promise<WfmNode> {
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: { write: (line: string) => void this.log.push(line) },
    });
    this.node = await WfmNode.start({ nodeId: 'n1', logger, checkpointEveryMs: 200, ...options });
    return this.node;
  }

  async stopNode(): Promise<void> {
    await this.node?.stop();
    this.node = null;
  }

  /** Publishes the next messages of the traffic set (in order, each at its expected seq). */
  async publish(messages: readonly TrafficMessage[]): Promise<void> {
    this.published = await publishMessages(this.js, messages, { firstIndex: this.published });
  }

  /** Waits until the node has applied every published message at every site. */
  /**
   * Waits until the node has applied every published message at every site, each site as the
   * writing primary. A site that lost its lease for a moment (an event-loop stall on a loaded
   * machine outlasting the 3 s lease) goes on applying input as a backup that writes nothing
   * until it leads again: its `processedSeq` alone would say "done" with its outputs unwritten.
   * Likewise a site rebuilding after a failed publish still shows its old `processedSeq` until it
   * has restored, and a checkpoint of it then does nothing: it must be `running` as the primary.
   */
  async caughtUp(timeoutMs = 30_000): Promise<void> {
    const node = this.node!;
    const done = (s: LaneStatus) =>
      s.processedSeq >= this.published && s.role === 'primary' && running(s.state);
    await waitFor(() => (this.#lanes(node).every(done) ? true : undefined), {
      timeoutMs,
      describe: () =>
        `${JSON.stringify(node.status())}\nunrouted ${JSON.stringify(node.unroutedLane)}\n${this.log.slice(-20).join('')}`,
    });
  }

  /**
   * Every lane of the node: its sites and the lane of input no site owns, whose dead letters a
   * stall can hold back as well (a whole-suite run read an undisturbed run 23 of them short).
   */
  #lanes(node: WfmNode): LaneStatus[] {
    const unrouted = node.unroutedLane;
    return unrouted === null ? node.status().sites : [...node.status().sites, unrouted];
  }

  /**
   * {@link caughtUp}, then a checkpoint (which flushes every site's outputs), again until no site
   * stopped leading in between: then the streams hold all the node will write for this input.
   */
  async settled(timeoutMs = 30_000): Promise<void> {
    const node = this.node!;
    const leadership = () =>
      this.#lanes(node)
        .map((s) => `${s.epoch}:${s.role}`)
        .join(',');
    for (;;) {
      await this.caughtUp(timeoutMs);
      const before = leadership();
      await node.checkpoint();
      if (leadership() === before) return;
    }
  }

  /** What the streams hold. */
  async read(): Promise<RunOutput> {
    return {
      out: await readStream(this.js, this.jsm, 'WFM_OUT'),
      dlq: await readStream(this.js, this.jsm, 'WFM_DLQ'),
    };
  }

  async close(): Promise<void> {
    await this.stopNode().catch(() => undefined);
    await this.nc.close();
    await this.server.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** The traffic through one node that nothing disturbs: what every disturbed run must equal. */
export async function undisturbedRun(
  traffic: readonly TrafficMessage[],
  sites: (string | (Partial<SiteConfig> & { id: string }))[],
): Promise<RunOutput> {
  const run = await NodeRun.open();
  try {
    await run.startNode({ config: run.config(sites) });
    await run.publish(traffic);
    await run.settled();
    return await run.read();
  } finally {
    await run.close();
  }
}

/**
 * Asserts that a run wrote what `expected` did: every output once, each subject in the same
 * order, and the same dead letters (0 lost, 0 doubled, 0 different).
 */
export function expectSameRun(expected: RunOutput, actual: RunOutput): void {
  const outputs = compareRuns(expected.out, actual.out, 'outputs');
  expect(outputs.same, outputs.summary).toBe(true);
  const letters = compareDeadLetters(expected.dlq, actual.dlq);
  expect(letters.same, letters.summary).toBe(true);
}

/**
 * Whether a site's lifecycle state (the status `state`) is `running` as the writing primary: not
 * restoring or rebuilding, and not `promoting` (re-taking its lease after a stall, its outbox not
 * yet re-sent: its status says primary already, and a checkpoint of it then writes nothing).
 */
function running(state: unknown): boolean {
  if (typeof state !== 'object' || state === null || !('running' in state)) return false;
  const running = (state as { running: unknown }).running;
  return (
    typeof running === 'object' && running !== null && (running as { role?: unknown }).role === 'primary'
  );
}
