/**
 * The NATS server going away in the middle of live traffic: a node (in-process) reads `WFM_IN`
 * while a stat source keeps publishing; the server goes down, stays down for a second and
 * comes back on the same port and store, twice — once while the node works through a backlog
 * (many outputs in flight), once while it keeps up with live traffic. Publisher and node both
 * reconnect, and in the end `WFM_OUT` and `WFM_DLQ` hold exactly what an undisturbed node wrote
 * over the same input: nothing lost, nothing doubled, the same order per subject.
 *
 * Ways down: a clean stop (SIGTERM, `NatsServer.restart()`); the same with a `WFM_OUT` duplicate
 * window shorter than the outage (standing in for an outage longer than the default 2 min, so
 * the server's `Nats-Msg-Id` dedupe cannot hide a re-sent output); and a crash (SIGKILL), which is
 * what a node sees when the network to the server is cut: whatever was on the wire is gone (the
 * server keeps its store; only the process dies); and a network blip, where the node's
 * connections drop but the server is reachable again at once.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { type NodeStatus, WfmNode } from '../../src/node/index.ts';
import { type SimulatedMessage, TrafficGenerator } from '../../src/simulator/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { waitFor } from '../helpers/NodeProcess.ts';
import { compareRuns, publishMessages, readStream, type StreamRecord } from '../helpers/outputs.ts';
import { TcpProxy } from '../helpers/TcpProxy.ts';

const SITES = ['S1', 'S2'];
const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);
/** Traffic goes out in slices of this many messages with a pause in between (live traffic). */
const SLICE = 50;
const SLICE_PAUSE_MS = 15;
/** Share of the traffic published before the node starts. */
const NODE_JOINS_AT = 0.4;
/** The first outage comes once the node has applied this share (it is catching up then). */
const OUTAGE_IN_BACKLOG_AT = 0.15;
/** The live traffic pauses at this share until the node has caught up. */
const SECOND_WAVE_AT = 0.6;
/** The second outage comes once this share is published (the node keeps up with it then). */
const OUTAGE_LIVE_AT = 0.8;
const DOWN_MS = 1000;

type Outage = 'stop' | 'crash' | 'blip';

function generateTraffic(): SimulatedMessage[] {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: SITES,
    agentsPerSite: 30,
    seed: 4222,
    startTs: START_TS,
    tickMs: 2000,
  });
  return [...generator.messages(START_TS + 2 * 3_600_000)];
}

function caughtUp(status: NodeStatus, lastSeq: number): boolean {
  return (
    status.sites.length === SITES.length &&
    status.sites.every((s) => s.processedSeq === lastSeq && s.checkpointSeq === lastSeq)
  );
}

describe('NATS server going down under live traffic', () => {
  const traffic = generateTraffic();
  const lastSeq = traffic.length;
  const servers: NatsServer[] = [];
  const connections: NatsConnection[] = [];
  const nodes: WfmNode[] = [];
  const dirs: string[] = [];
  let baseline: { out: StreamRecord[]; dlq: StreamRecord[] };

  /** A node in this process; its log lines are kept for failure messages. */
  async function startNode(natsUrl: string, nodeId: string): Promise<{ node: WfmNode; log: string[] }> {
    const dataDir = await mkdtemp(join(tmpdir(), 'wfm-node-'));
    dirs.push(dataDir);
    const config = localNodeConfig({
      natsUrl,
      dataDir,
      businessUnit: { id: 'bu1', name: 'BU 1' },
      sites: SITES,
    });
    const log: string[] = [];
    const logger = createLogger({
      level: 'info',
      pretty: false,
      destination: {
        write: (line: string) => {
          log.push(line.trimEnd());
          if (log.length > 400) log.splice(0, log.length - 400);
        },
      },
    });
    // Checkpoints serialize agents 5 at a time with input held between chunks: the chunked path
    // runs in every checkpoint here, under outages and restarts, and must change no output.
    const node = await WfmNode.start({ config, nodeId, logger, captureChunk: 5 });
    nodes.push(node);
    return { node, log };
  }

  async function connectClient(url: string): Promise<NatsConnection> {
    const nc = await connect({ servers: url, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    connections.push(nc);
    return nc;
  }

  beforeAll(async () => {
    expect(lastSeq).toBeGreaterThan(5000);
    // Baseline: everything published first, one undisturbed node.
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await connectClient(server.url);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    await publishMessages(js, traffic);
    const { node, log } = await startNode(server.url, 'baseline');
    await waitFor(() => (caughtUp(node.status(), lastSeq) ? true : undefined), {
      timeoutMs: 45_000,
      describe: () => `${JSON.stringify(node.status())}\n${log.join('\n')}`,
    });
    await node.stop();
    baseline = { out: await readStream(js, jsm, 'WFM_OUT'), dlq: await readStream(js, jsm, 'WFM_DLQ') };
    expect(baseline.out.length).toBeGreaterThan(2000);
    expect(baseline.dlq).toEqual([]);
    await nc.close();
    await server.stop();
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop().catch(() => undefined)));
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
  });

  /**
   * `outDuplicateWindowMs`: WFM_OUT's duplicate window when the test creates it (default: the
   * node's own default, 2 min). A window shorter than the outage stands in for an outage longer
   * than the default window.
   */
  async function runWithOutages(outage: Outage, outDuplicateWindowMs?: number): Promise<void> {
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await connectClient(server.url);
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm, outDuplicateWindowMs === undefined ? {} : { outDuplicateWindowMs });
    let published = 0;
    let retries = 0;
    const outages: { atPublished: number; processedSeq: number }[] = [];

    /** Publishes traffic[from, to) as live traffic, each message retried until acked, in order. */
    const publishLive = async (from: number, to: number): Promise<void> => {
      for (let i = from; i < to; i += SLICE) {
        const slice = traffic.slice(i, Math.min(to, i + SLICE));
        await publishMessages(js, slice, {
          firstIndex: i,
          mode: 'retry',
          timeoutMs: 2000,
          retryForMs: 30_000,
          onRetry: () => {
            retries++;
          },
        });
        published = i + slice.length;
        await new Promise((resolve) => setTimeout(resolve, SLICE_PAUSE_MS));
      }
    };
    const share = (fraction: number) => Math.round(fraction * lastSeq);

    // Some traffic is waiting when the node starts, so the first outage hits it while it works
    // through a backlog, with more traffic arriving.
    await publishLive(0, share(NODE_JOINS_AT));
    // A blip: the node reaches the server through a proxy that drops its connections while the
    // server stays up, so reconnecting succeeds at once.
    const proxy = outage === 'blip' ? await TcpProxy.start(server.url) : null;
    const { node, log } = await startNode(proxy?.url ?? server.url, `node-${outage}`);
    const context = () =>
      `${outage}: outages ${JSON.stringify(outages)}; publisher retries ${retries}; ` +
      `counters ${JSON.stringify(node.counters)}; status ${JSON.stringify(node.status())}`;
    const goDown = async (): Promise<void> => {
      outages.push({ atPublished: published, processedSeq: node.processedSeq });
      if (outage === 'blip') {
        proxy!.cut();
      } else if (outage === 'stop') {
        await server.restart(DOWN_MS);
      } else {
        await server.kill();
        await new Promise((resolve) => setTimeout(resolve, DOWN_MS));
        await server.restart();
      }
    };
    const nodeAt = async (seq: number): Promise<void> => {
      await waitFor(() => (node.processedSeq >= seq ? true : undefined), {
        timeoutMs: 45_000,
        intervalMs: 2,
        describe: () => `node stuck at ${node.processedSeq}; ${context()}\n${log.join('\n')}`,
      });
    };

    const firstWave = publishLive(share(NODE_JOINS_AT), share(SECOND_WAVE_AT));
    await nodeAt(share(OUTAGE_IN_BACKLOG_AT));
    await goDown();
    await firstWave;
    await nodeAt(share(SECOND_WAVE_AT));
    const secondWave = publishLive(share(SECOND_WAVE_AT), lastSeq);
    await waitFor(() => (published >= share(OUTAGE_LIVE_AT) ? true : undefined), {
      timeoutMs: 45_000,
      describe: () => `publisher stuck at ${published} of ${lastSeq}`,
    });
    await goDown();
    await secondWave;
    await waitFor(() => (caughtUp(node.status(), lastSeq) ? true : undefined), {
      timeoutMs: 45_000,
      describe: () => `${context()}\n${log.join('\n')}`,
    });
    await node.stop();
    await proxy?.stop();

    // Node and publisher really went through both outages, mid-stream.
    expect(node.counters.natsDisconnects, context()).toBe(2);
    expect(outages.map((o) => o.atPublished < lastSeq && o.processedSeq < lastSeq)).toEqual([true, true]);

    const out = await readStream(js, jsm, 'WFM_OUT');
    const dlq = await readStream(js, jsm, 'WFM_DLQ');
    const outs = compareRuns(baseline.out, out, 'WFM_OUT');
    const dlqs = compareRuns(baseline.dlq, dlq, 'WFM_DLQ');
    expect(outs.same, `${outs.summary}\n${context()}`).toBe(true);
    expect(dlqs.same, `${dlqs.summary}\n${context()}`).toBe(true);
    expect(out.length).toBe(baseline.out.length);
  }

  it('stopped and restarted twice mid-stream: the node writes exactly the undisturbed outputs', async () => {
    await runWithOutages('stop');
  }, 90_000);

  it('outages longer than the WFM_OUT duplicate window: still exactly the undisturbed outputs', async () => {
    // The server's Nats-Msg-Id dedupe forgets an output after the window (2 min by default): a
    // node must not rely on it to drop what it re-sends after an outage that outlasts it.
    await runWithOutages('stop', 500);
  }, 90_000);

  it('network blips (connections cut, server back at once) twice mid-stream: exactly the undisturbed outputs', async () => {
    await runWithOutages('blip');
  }, 90_000);

  it('crashed (SIGKILL) and restarted twice mid-stream: the node writes exactly the undisturbed outputs', async () => {
    await runWithOutages('crash');
  }, 90_000);
});
