/**
 * What the benches that run a real node process (`node bin/wfm-agg.js node …`, the compiled CLI
 * that ships) share: input messages of one site, a fast backlog publisher, `/metrics` and
 * `/api/status` readers, and a node started with a memory probe.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import type { TrafficGenerator } from '../src/simulator/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import {
  type NodeHome,
  NodeProcess,
  type NodeProcessOptions,
  type SiteStatusJson,
  waitFor,
} from '../test/helpers/NodeProcess.ts';

export const TENANT = 'T1';
export const SITE = 'S1';
/** Event time of the first stat: inside the 08:00 interval, which closes at 08:15. */
export const T0 = Date.UTC(2026, 0, 5, 8, 1, 0);
const SCHEDULE = { from: T0 - 3_600_000, to: T0 + 8 * 3_600_000 };
const encoder = new TextEncoder();

export interface WireMessage {
  subject: string;
  data: Uint8Array;
}

export const agentId = (i: number) => `A${String(i).padStart(6, '0')}`;

/** One OnQueueWork activity over the whole bench (so every state change moves adherence too). */
export function scheduleMessage(agent: string): WireMessage {
  const payload = {
    agentId: agent,
    from: SCHEDULE.from,
    to: SCHEDULE.to,
    activities: [
      { start: SCHEDULE.from, end: T0 + 2 * 3_600_000, category: 'OnQueueWork' },
      { start: T0 + 2 * 3_600_000, end: T0 + 2 * 3_600_000 + 900_000, category: 'Break' },
      { start: T0 + 2 * 3_600_000 + 900_000, end: SCHEDULE.to, category: 'OnQueueWork' },
    ],
  };
  return {
    subject: `wfm.schedule.${TENANT}.${SITE}.${agent}`,
    data: encoder.encode(JSON.stringify(payload)),
  };
}

export function stateMessage(
  agent: string,
  status: 'Ready' | 'NotReady' | 'AfterCallWork' | 'LoggedOff',
  ts: number,
  callType: 'Inbound' | 'Outbound' | null = null,
): WireMessage {
  const payload = { statistic: 'CurrentState', agentId: agent, status, callType, ts };
  return { subject: `wfm.stat.${TENANT}.${SITE}.${agent}`, data: encoder.encode(JSON.stringify(payload)) };
}

export function reasonMessage(agent: string, reason: string, ts: number): WireMessage {
  const payload = { statistic: 'CurrentStateReason', agentId: agent, reasons: { ReasonCode: reason }, ts };
  return { subject: `wfm.stat.${TENANT}.${SITE}.${agent}`, data: encoder.encode(JSON.stringify(payload)) };
}

export function clockMessage(ts: number): WireMessage {
  return { subject: `wfm.clock.${TENANT}.${SITE}`, data: encoder.encode(JSON.stringify({ ts })) };
}

/** What {@link simulatedBacklog} yielded so far. */
export interface BacklogCount {
  messages: number;
  stats: number;
}

/**
 * The simulator's traffic as wire messages, up to and including its `statEvents`-th stat event;
 * `count` is kept up to date as they are taken (for {@link publishBacklog}).
 */
export function* simulatedBacklog(
  generator: TrafficGenerator,
  statEvents: number,
  count: BacklogCount,
): Generator<WireMessage> {
  while (count.stats < statEvents) {
    const m = generator.next();
    if (m.kind === 'stat') count.stats++;
    count.messages++;
    yield { subject: m.subject, data: encoder.encode(JSON.stringify(m.payload)) };
  }
}

/**
 * Publishes `messages` in order with plain publishes (a flush every 5000 for back-pressure), then
 * waits until `WFM_IN` holds them all. Several times faster than one acknowledged publish each;
 * one connection keeps the order. Returns the stream's last sequence.
 */
export async function publishBacklog(
  nc: NatsConnection,
  jsm: JetStreamManager,
  messages: Iterable<WireMessage>,
  onProgress?: (published: number) => void,
): Promise<number> {
  const before = (await jsm.streams.info('WFM_IN')).state.messages;
  let n = 0;
  for (const m of messages) {
    nc.publish(m.subject, m.data);
    if (++n % 5000 === 0) {
      await nc.flush();
      if (n % 100_000 === 0) onProgress?.(n);
    }
  }
  await nc.flush();
  const deadline = performance.now() + 120_000;
  for (;;) {
    const info = (await jsm.streams.info('WFM_IN')).state;
    if (info.messages === before + n) return info.last_seq;
    if (info.messages > before + n || performance.now() > deadline)
      throw new Error(`WFM_IN holds ${info.messages} messages, ${before + n} expected`);
    await sleep(50);
  }
}

/** How many messages `WFM_OUT` holds. */
export async function storedOutputs(url: string): Promise<number> {
  const nc = await connectNats({ servers: [url] });
  try {
    return (await (await jetstreamManager(nc)).streams.info('WFM_OUT')).state.messages;
  } finally {
    await nc.close();
  }
}

/**
 * Deletes `WFM_OUT` and makes it anew, empty. Its duplicate window would otherwise still hold the
 * node's message ids when the I/O floor runs, and the floor's ids are the node's (`gc:T1.S1.A…:
 * <seq>:0`): in a run of 215k inputs, ~147k of the floor's publishes were acknowledged as
 * duplicates and never stored, so the floor measured mostly cheaper work than a node does.
 */
export function freshOutputStream(url: string): Promise<void> {
  return remakeStreams(url, (name) => name === 'WFM_OUT');
}

/**
 * Deletes every stream but `WFM_IN` — outputs, dead letters, the node's lease and registry
 * buckets — and makes the node's streams anew: a node started next on the same input starts as
 * the first one on this server did (it finds no lease epochs, marks or outputs of an earlier one).
 */
export function freshNodeStreams(url: string): Promise<void> {
  return remakeStreams(url, (name) => name !== 'WFM_IN');
}

/** Deletes the streams `drop` picks, then makes the node's streams anew (empty where deleted). */
async function remakeStreams(url: string, drop: (name: string) => boolean): Promise<void> {
  const nc = await connectNats({ servers: [url] });
  try {
    const jsm = await jetstreamManager(nc);
    const names: string[] = [];
    for await (const info of jsm.streams.list()) names.push(info.config.name);
    for (const name of names) if (drop(name)) await jsm.streams.delete(name);
    await ensureStreams(jsm);
  } finally {
    await nc.close();
  }
}

export async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** Sum of the samples of `name` whose labels contain every pair of `labels`; undefined when none. */
export function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

/** The bench site's part of a node's status; undefined when the node does not answer. */
export async function siteStatus(node: NodeProcess): Promise<SiteStatusJson | undefined> {
  if (!node.running || node.url === undefined) return undefined;
  try {
    return (await node.status()).sites.find((s) => s.site === SITE);
  } catch {
    return undefined;
  }
}

/** Waits until the node leads the bench site and has applied input up to `seq`. */
export async function waitApplied(node: NodeProcess, seq: number, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const s = await siteStatus(node);
      last = JSON.stringify(s && { role: s.role, processedSeq: s.processedSeq, state: s.state });
      return s?.role === 'primary' && s.processedSeq >= seq ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, describe: () => `waiting for seq ${seq}: ${last}\n${node.log}` },
  );
}

/** Waits until the node's checkpoint holds everything it applied (and at least `seq`). */
export async function waitCheckpointed(node: NodeProcess, seq: number, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const s = await siteStatus(node);
      last = JSON.stringify(s && { processedSeq: s.processedSeq, checkpointSeq: s.checkpointSeq });
      return s !== undefined && s.checkpointSeq >= seq && s.checkpointSeq >= s.processedSeq
        ? true
        : undefined;
    },
    {
      timeoutMs,
      intervalMs: 250,
      describe: () => `waiting for a checkpoint at ${seq}: ${last}\n${node.log}`,
    },
  );
}

/**
 * Waits until the node's interval history holds everything the bench site wrote to `WFM_OUT`
 * (its history writer follows the stream and may lag the input by a few hundred thousand outputs
 * after a burst, holding them meanwhile).
 */
export async function waitHistoryCaughtUp(node: NodeProcess, timeoutMs: number): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const history = (await siteStatus(node))?.history as { backlog?: number } | null | undefined;
      last = JSON.stringify(history);
      return history?.backlog === 0 ? true : undefined;
    },
    { timeoutMs, intervalMs: 250, describe: () => `waiting for the interval history: ${last}\n${node.log}` },
  );
}

const PROBE = new URL('./memoryProbe.mjs', import.meta.url).href;

/**
 * Spawns a node process, with bench/memoryProbe.mjs preloaded when `probe` is set (through
 * NODE_OPTIONS, set for the spawn only: the node runs bin/wfm-agg.js exactly as shipped).
 */
export function spawnNode(home: NodeHome, options: Partial<NodeProcessOptions>, probe = false): NodeProcess {
  if (!probe) return NodeProcess.spawn(home, options);
  const before = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = `${before ?? ''} --import=${PROBE}`.trim();
  try {
    return NodeProcess.spawn(home, options);
  } finally {
    if (before === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = before;
  }
}

export interface MemoryReading {
  /** Resident set as the OS saw it just before the probe collected garbage. */
  rssBeforeGc: number;
  /** After two full collections. */
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** Peak resident set of the process so far (VmHWM), when /proc tells. */
  rssPeak: number | undefined;
}

/** /proc/<pid>/status fields in bytes (Linux); undefined elsewhere. */
function procStatus(pid: number, field: 'VmRSS' | 'VmHWM'): number | undefined {
  try {
    const match = readFileSync(`/proc/${pid}/status`, 'utf8').match(
      new RegExp(`^${field}:\\s+(\\d+) kB`, 'm'),
    );
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** A node's RSS now, as the OS sees it (/proc; NaN where there is none). */
export function rssNow(node: NodeProcess): number {
  return (node.pid === undefined ? undefined : procStatus(node.pid, 'VmRSS')) ?? Number.NaN;
}

/** Asks a probed node for its memory (SIGUSR2: two full GCs, then one JSON line on stdout). */
export async function readMemory(node: NodeProcess): Promise<MemoryReading> {
  const pid = node.pid;
  if (pid === undefined) throw new Error('node has no pid');
  const rssBeforeGc = procStatus(pid, 'VmRSS');
  const seen = node.logged('bench memory').length;
  node.signal('SIGUSR2');
  const r = await waitFor(() => node.logged('bench memory')[seen], {
    timeoutMs: 30_000,
    intervalMs: 20,
    describe: () => `no memory reading (is bench/memoryProbe.mjs preloaded?)\n${node.log}`,
  });
  const n = (k: string) => Number(r[k]);
  return {
    rssBeforeGc: rssBeforeGc ?? n('rss'),
    rss: n('rss'),
    heapUsed: n('heapUsed'),
    heapTotal: n('heapTotal'),
    external: n('external'),
    arrayBuffers: n('arrayBuffers'),
    rssPeak: procStatus(pid, 'VmHWM'),
  };
}
