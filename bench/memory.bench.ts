/**
 * Memory of a node process (the compiled CLI as shipped, one site, checkpoints on) at 10k and 100k
 * agents after warm-up: each agent gets a schedule and a few state changes (Ready on an inbound
 * call, after-call work, a Break reason then NotReady), then the site's clock passes the 08:15
 * boundary (every agent's interval closes: interval records go out and to the node's history
 * sink) and every agent gets Ready once more. Once all is applied and checkpointed, the history
 * sink holds every output and the node is at rest, it is read: RSS as the OS sees it (/proc), then,
 * through bench/memoryProbe.mjs preloaded into it, two full GCs and process.memoryUsage().
 * Per-agent figures are over the same node's reading before any input (its baseline: code,
 * connections, buffers).
 *
 * "At rest" is 15 s after that (V8's memory reducer may shrink the heap meanwhile); the RSS the
 * moment it caught up is a row too. The 100k-agent node runs a second time with
 * `--compact-heap-when-quiet 5` (off by default, see HeapCompactor): read once it has compacted
 * its heap, or 15 s after catching up.
 *
 * Run alone: npm run bench -- memory (about 8 minutes; MEMORY_AGENTS=10000,100000).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { NatsServer } from '../src/dev/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import { NodeHome, type NodeProcess } from '../test/helpers/NodeProcess.ts';
import { type BenchRow, printRows, progress } from './BenchRow.ts';
import {
  agentId,
  clockMessage,
  type MemoryReading,
  publishBacklog,
  readMemory,
  reasonMessage,
  rssNow,
  SITE,
  scheduleMessage,
  spawnNode,
  stateMessage,
  T0,
  waitApplied,
  waitCheckpointed,
  waitHistoryCaughtUp,
} from './nodeBench.ts';

const COUNTS = (process.env.MEMORY_AGENTS ?? '10000,100000').split(',').map(Number);
const TARGET_AGENTS = 100_000;
const MIB = 2 ** 20;
/** As in latency.bench.ts: a lease that survives this machine's stalls (the node is alone anyway). */
const LEASE_SECONDS = 30;

const say = (text: string) => progress('memory', text);

/** Every agent's warm-up, phase by phase (all agents per phase, event time moving on). */
export function* warmupMessages(agents: number): Generator<{ subject: string; data: Uint8Array }> {
  const at = (phase: number, i: number) => T0 + phase * 120_000 + Math.floor((i * 60_000) / agents);
  for (let i = 0; i < agents; i++) yield scheduleMessage(agentId(i));
  for (let i = 0; i < agents; i++) yield stateMessage(agentId(i), 'Ready', at(0, i), 'Inbound');
  for (let i = 0; i < agents; i++) yield stateMessage(agentId(i), 'AfterCallWork', at(1, i));
  for (let i = 0; i < agents; i++) yield reasonMessage(agentId(i), 'Break', at(2, i));
  for (let i = 0; i < agents; i++) yield stateMessage(agentId(i), 'NotReady', at(2, i) + 1);
  // 08:16: the 08:00 interval closes for every agent.
  yield clockMessage(T0 + 15 * 60_000);
  for (let i = 0; i < agents; i++) yield stateMessage(agentId(i), 'Ready', T0 + 15 * 60_000 + 1 + i);
}

interface Measured {
  agents: number;
  messages: number;
  baseline: MemoryReading;
  /** RSS as the OS saw it once the node had caught up with all of the warm-up. */
  caughtUpRss: number;
  /** The node's heap compaction once it went quiet, when it ran one (see HeapCompactor). */
  compaction: { pauseMs: number } | undefined;
  after: MemoryReading;
  applySecs: number;
}

/** How long after catching up a node is read (one that compacts its heap has done so by then). */
const SETTLE_MS = 15_000;
/** Time given V8 after a compaction to return the pages it emptied (RSS fell within ~1 s here). */
const UNMAP_MS = 3000;

async function measure(agents: number, extraArgs: string[] = []): Promise<Measured> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: [server.url] });
  const home = await NodeHome.create({
    natsUrl: server.url,
    sites: [SITE],
    extraConfig: { standbyReplicas: 0, leaseSeconds: LEASE_SECONDS },
  });
  let node: NodeProcess | undefined;
  try {
    const jsm = await jetstreamManager(nc);
    await ensureStreams(jsm);
    node = spawnNode(home, { nodeId: 'memory', logLevel: 'info', readyTimeoutMs: 60_000, extraArgs }, true);
    await node.ready;
    await waitApplied(node, 0, 60_000);
    const baseline = await readMemory(node);
    say(`${agents} agents: baseline RSS ${(baseline.rss / MIB).toFixed(0)} MiB; publishing the warm-up`);
    const t = performance.now();
    const lastSeq = await publishBacklog(nc, jsm, warmupMessages(agents), (n) =>
      say(`${agents} agents: ${n} messages published`),
    );
    say(`${agents} agents: ${lastSeq} messages in WFM_IN; waiting for the node to apply and checkpoint them`);
    await waitApplied(node, lastSeq, 600_000);
    const applySecs = (performance.now() - t) / 1000;
    await waitCheckpointed(node, lastSeq, 120_000);
    // After warm-up means all of its work done: the history writer can lag the input by a few
    // hundred thousand outputs, and what it holds meanwhile moved the reading by ~100 MiB.
    await waitHistoryCaughtUp(node, 120_000);
    const caughtUpRss = rssNow(node);
    // At rest: V8 may shrink the heap by itself; with --compact-heap-when-quiet 5 the node
    // compacts it once it has been quiet for 5 s.
    const settled = performance.now() + SETTLE_MS;
    while (node.logged('heap compacted').length === 0 && performance.now() < settled) await sleep(250);
    const compacted = node.logged('heap compacted')[0];
    const compaction = compacted === undefined ? undefined : { pauseMs: Number(compacted.pauseMs) };
    // V8 unmaps the pages a compaction emptied on a background thread, after the pause.
    if (compaction !== undefined) await sleep(UNMAP_MS);
    const after = await readMemory(node);
    say(
      `${agents} agents: RSS ${(after.rssBeforeGc / MIB).toFixed(0)} MiB at rest (${(caughtUpRss / MIB).toFixed(0)} on catching up, ${(after.rss / MIB).toFixed(0)} after GC, peak ${((after.rssPeak ?? Number.NaN) / MIB).toFixed(0)}; heap compaction: ${compaction === undefined ? 'none' : `${compaction.pauseMs} ms`}), heap ${(after.heapUsed / MIB).toFixed(0)} MiB`,
    );
    await node.stop();
    return { agents, messages: lastSeq, baseline, caughtUpRss, compaction, after, applySecs };
  } finally {
    await node?.kill();
    await home.remove();
    await nc.close().catch(() => undefined);
    await server.stop();
  }
}

export default async function memoryBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const agents of COUNTS) {
    const m = await measure(agents);
    const label = `${agents / 1000}k agents`;
    const perAgent = (a: number, b: number) => Math.round((a - b) / agents);
    rows.push(
      {
        bench: 'memory',
        scenario: `${label}: node process RSS after warm-up, at rest (${m.messages.toLocaleString('en-US')} msgs: schedule + 5 state inputs each, 1 interval closed; applied in ${m.applySecs.toFixed(0)} s; ${m.compaction === undefined ? 'no heap compaction' : `heap compacted when quiet, a ${m.compaction.pauseMs} ms pause`})`,
        value: Math.round(m.after.rssBeforeGc / MIB),
        unit: 'MiB',
        ...(agents === TARGET_AGENTS ? { target: '≤ 1024' } : {}),
      },
      {
        bench: 'memory',
        scenario: `${label}: RSS the moment it caught up (checkpoint and interval history done)`,
        value: Math.round(m.caughtUpRss / MIB),
        unit: 'MiB',
      },
      {
        bench: 'memory',
        scenario: `${label}: peak RSS while applying it (VmHWM)`,
        value: Math.round((m.after.rssPeak ?? Number.NaN) / MIB),
        unit: 'MiB',
      },
      {
        bench: 'memory',
        scenario: `${label}: RSS after 2 full GCs (baseline with no agent ${Math.round(m.baseline.rss / MIB)} MiB)`,
        value: Math.round(m.after.rss / MIB),
        unit: 'MiB',
      },
      {
        bench: 'memory',
        scenario: `${label}: RSS per agent over the baseline, after GC`,
        value: perAgent(m.after.rss, m.baseline.rss),
        unit: 'bytes',
      },
      {
        bench: 'memory',
        scenario: `${label}: JS heap used after GC (heap total ${Math.round(m.after.heapTotal / MIB)} MiB, external ${Math.round(m.after.external / MIB)} MiB)`,
        value: Math.round(m.after.heapUsed / MIB),
        unit: 'MiB',
      },
      {
        bench: 'memory',
        scenario: `${label}: JS heap per agent over the baseline (${Math.round(m.baseline.heapUsed / MIB)} MiB)`,
        value: perAgent(m.after.heapUsed, m.baseline.heapUsed),
        unit: 'bytes',
      },
    );
  }
  if (COUNTS.includes(TARGET_AGENTS)) {
    // The same run's figure with the opt-in heap compaction.
    say(
      `${TARGET_AGENTS} agents again with --compact-heap-when-quiet 5 (heap compaction on), for comparison`,
    );
    const m = await measure(TARGET_AGENTS, ['--compact-heap-when-quiet', '5']);
    rows.push({
      bench: 'memory',
      scenario: `100k agents, --compact-heap-when-quiet 5 (off by default): RSS after warm-up, at rest (applied in ${m.applySecs.toFixed(0)} s; ${m.compaction === undefined ? 'no compaction' : `compacted: a ${m.compaction.pauseMs} ms pause`}; ${Math.round(m.caughtUpRss / MIB)} MiB on catching up, peak ${Math.round((m.after.rssPeak ?? Number.NaN) / MIB)} MiB; heap total after 2 GCs ${Math.round(m.after.heapTotal / MIB)} MiB)`,
      value: Math.round(m.after.rssBeforeGc / MIB),
      unit: 'MiB',
    });
  }
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await memoryBench());
