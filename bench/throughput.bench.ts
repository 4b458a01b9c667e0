/**
 * Node throughput against the bare client, in one run on one nats-server: a backlog of ≥ 200k
 * stat events for 10k agents (simulator traffic) read (a) by a bare JetStream consumer that only
 * parses JSON and (b) by a node with checkpoints on, publishing its outputs.
 * Run alone: npx tsx bench/throughput.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { localNodeConfig, NatsServer } from '../src/dev/index.ts';
import { createLogger } from '../src/logging/index.ts';
import { WfmNode } from '../src/node/index.ts';
import { TrafficGenerator } from '../src/simulator/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import type { BenchRow } from './BenchRow.ts';
import { printRows } from './BenchRow.ts';

const AGENTS = 10_000;
const STAT_EVENTS = 200_000;
const encoder = new TextEncoder();

async function publishBacklog(url: string): Promise<{ messages: number; stats: number }> {
  const nc = await connectNats({ servers: [url] });
  const js = jetstream(nc);
  await ensureStreams(await jetstreamManager(nc));
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: ['S1', 'S2'],
    agentsPerSite: AGENTS / 2,
    seed: 7,
    startTs: Date.UTC(2026, 0, 5, 7, 0, 0),
  });
  const pending: Promise<unknown>[] = [];
  let messages = 0;
  let stats = 0;
  while (stats < STAT_EVENTS) {
    const m = generator.next();
    if (m.kind === 'stat') stats++;
    messages++;
    pending.push(js.publish(m.subject, encoder.encode(JSON.stringify(m.payload))));
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  await nc.drain();
  return { messages, stats };
}

async function bareConsumer(url: string, messages: number): Promise<number> {
  const nc = await connectNats({ servers: [url] });
  const js = jetstream(nc);
  const consumer = await js.consumers.get('WFM_IN', { opt_start_seq: 1 });
  const started = performance.now();
  let n = 0;
  let sink = 0;
  const iter = await consumer.consume({ max_messages: 1024 });
  for await (const m of iter) {
    sink += (m.json() as { ts?: number }).ts ?? 0;
    if (++n >= messages) break;
  }
  const secs = (performance.now() - started) / 1000;
  await nc.drain();
  if (sink === 0) throw new Error('nothing parsed');
  return n / secs;
}

async function nodeRun(
  url: string,
  messages: number,
): Promise<{ rate: number; checkpoints: number; outputs: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'wfm-bench-'));
  const config = localNodeConfig({ natsUrl: url, dataDir, sites: ['S1', 'S2'] });
  const started = performance.now();
  const node = await WfmNode.start({ config, nodeId: 'bench', logger: createLogger({ level: 'silent' }) });
  while (node.processedSeq < messages) await new Promise((r) => setTimeout(r, 20));
  await node.checkpoint();
  const secs = (performance.now() - started) / 1000;
  const outputs = [...node.sites.values()].reduce(
    (sum, s) => sum + s.counters.outputs.gc + s.counters.outputs.adherence + s.counters.outputs.interval,
    0,
  );
  const checkpoints = node.counters.checkpoints;
  await node.stop();
  rmSync(dataDir, { recursive: true, force: true });
  return { rate: messages / secs, checkpoints, outputs };
}

export default async function throughputBench(): Promise<BenchRow[]> {
  const server = await NatsServer.start();
  try {
    const { messages, stats } = await publishBacklog(server.url);
    const bare = await bareConsumer(server.url, messages);
    const node = await nodeRun(server.url, messages);
    const scenario = `${messages} msgs (${stats} stat events, ${AGENTS / 1000}k agents)`;
    return [
      {
        bench: 'throughput',
        scenario: `bare consume + JSON.parse: ${scenario}`,
        value: Math.round(bare),
        unit: 'msgs/s',
      },
      {
        bench: 'throughput',
        scenario: `node, checkpoints on (${node.checkpoints} checkpoints, ${node.outputs} outputs published)`,
        value: Math.round(node.rate),
        unit: 'msgs/s',
      },
      {
        bench: 'throughput',
        scenario: 'node / bare',
        value: node.rate / bare,
        unit: 'ratio',
        target: '≥ 0.5 (goal 0.7)',
      },
    ];
  } finally {
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await throughputBench());
