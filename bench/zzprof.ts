import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jetstreamManager } from '@nats-io/jetstream';
import { localNodeConfig, NatsServer } from '../src/dev/index.ts';
import { createLogger } from '../src/logging/index.ts';
import { WfmNode } from '../src/node/index.ts';
import { TrafficGenerator } from '../src/simulator/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import { type BacklogCount, publishBacklog, simulatedBacklog } from './nodeBench.ts';

const STAT = Number(process.env.STAT ?? 200_000);
const server = await NatsServer.start();
const nc = await connectNats({ servers: [server.url] });
const jsm = await jetstreamManager(nc);
await ensureStreams(jsm);
const generator = new TrafficGenerator({ tenant: 'T1', sites: ['S1', 'S2'], agentsPerSite: 5000, seed: 7, startTs: Date.UTC(2026, 0, 5, 7, 0, 0) });
const count: BacklogCount = { messages: 0, stats: 0 };
await publishBacklog(nc, jsm, simulatedBacklog(generator, STAT, count));
await nc.drain();
const dataDir = mkdtempSync(join(tmpdir(), 'wfm-prof-'));
const config = { ...localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1', 'S2'] }), leaseSeconds: 30 };
const session = new Session();
session.connect();
const prof = process.env.PROF === '1';
if (prof) { await session.post('Profiler.enable'); await session.post('Profiler.setSamplingInterval', { interval: 200 }); await session.post('Profiler.start'); }
const cpu0 = process.cpuUsage();
const started = performance.now();
const node = await WfmNode.start({ config, nodeId: 'bench', logger: createLogger({ level: 'silent' }) });
while (node.processedSeq < count.messages) await new Promise((r) => setTimeout(r, 20));
await node.checkpoint();
const secs = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
if (prof) { const { profile } = await session.post('Profiler.stop'); writeFileSync(process.env.OUT ?? '/tmp/node.cpuprofile', JSON.stringify(profile)); }
console.log(JSON.stringify({ messages: count.messages, rate: Math.round(count.messages / secs), cpuUsPerMsg: Math.round((cpu.user + cpu.system) / count.messages) }));
await node.stop();
rmSync(dataDir, { recursive: true, force: true });
await server.stop();
