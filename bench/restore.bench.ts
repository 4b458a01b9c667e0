/**
 * Restart of a node with 100k agents from its checkpoint: one node process (the compiled CLI, one
 * site, each agent with a schedule, an inbound call and a Break reason + NotReady) applies and
 * checkpoints everything, is SIGKILLed, and is started again on the same data dir with the same
 * node id (so it may take its own lease back at once). Right after the spawn one new
 * CurrentState change goes into `WFM_IN`; measured is the time from the spawn to that input's GC
 * output seen on a core NATS subscription, with the spawn → `http listening` and spawn → `leading`
 * times from the node's log beside it. RESTORE_ROUNDS rounds (SIGKILL, restart), each after the
 * node checkpointed the previous round's input.
 *
 * Run alone: npm run bench -- restore (about 2 minutes; RESTORE_AGENTS, RESTORE_ROUNDS).
 */
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg } from '@nats-io/transport-node';
import { NatsServer } from '../src/dev/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import { NodeHome, type NodeProcess, waitFor } from '../test/helpers/NodeProcess.ts';
import { type BenchRow, printRows, progress } from './BenchRow.ts';
import {
  agentId,
  publishBacklog,
  reasonMessage,
  SITE,
  scheduleMessage,
  spawnNode,
  stateMessage,
  T0,
  TENANT,
  waitApplied,
  waitCheckpointed,
} from './nodeBench.ts';

const AGENTS = Number(process.env.RESTORE_AGENTS ?? 100_000);
const ROUNDS = Number(process.env.RESTORE_ROUNDS ?? 3);
/** As in latency.bench.ts: a lease that survives this machine's stalls; a restart takes its own back at once. */
const LEASE_SECONDS = 30;

const say = (text: string) => progress('restore', text);

function* backlog() {
  const at = (phase: number, i: number) => T0 + phase * 120_000 + Math.floor((i * 60_000) / AGENTS);
  for (let i = 0; i < AGENTS; i++) yield scheduleMessage(agentId(i));
  for (let i = 0; i < AGENTS; i++) yield stateMessage(agentId(i), 'Ready', at(0, i), 'Inbound');
  for (let i = 0; i < AGENTS; i++) yield reasonMessage(agentId(i), 'Break', at(1, i));
  for (let i = 0; i < AGENTS; i++) yield stateMessage(agentId(i), 'NotReady', at(1, i) + 1);
}

interface Round {
  outputMs: number;
  /** Spawn → the node's log lines (their `time`), in ms. */
  steps: Record<Step, number | undefined>;
}

/** Log lines marking a restart's steps, in order. */
const STEPS = {
  boot: 'starting node',
  placed: 'placement applied',
  leading: 'leading',
  listening: 'http listening',
} as const;
type Step = keyof typeof STEPS;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

export default async function restoreBench(): Promise<BenchRow[]> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: [server.url] });
  const sub = await connectNats({ servers: [server.url] });
  const home = await NodeHome.create({
    natsUrl: server.url,
    sites: [SITE],
    extraConfig: { standbyReplicas: 0, leaseSeconds: LEASE_SECONDS },
  });
  let node: NodeProcess | undefined;
  // GC outputs by source sequence → arrival time.
  const arrivals = new Map<number, number>();
  sub.subscribe(`wfm.gc.${TENANT}.${SITE}.>`, {
    callback: (_err, m: Msg) => {
      arrivals.set(Number(m.headers?.get('Wfm-Source-Seq')), performance.now());
    },
  });
  try {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await ensureStreams(jsm);
    say(`publishing ${AGENTS} agents' backlog`);
    let lastSeq = await publishBacklog(nc, jsm, backlog(), (n) => say(`${n} messages published`));
    node = spawnNode(home, { nodeId: 'restore', logLevel: 'info', readyTimeoutMs: 120_000 });
    await node.ready;
    say(`${lastSeq} messages in WFM_IN; waiting for the node to apply and checkpoint them`);
    await waitApplied(node, lastSeq, 600_000);
    await waitCheckpointed(node, lastSeq, 120_000);
    const rounds: Round[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      await node.kill();
      const spawnedAt = Date.now();
      const t0 = performance.now();
      node = spawnNode(home, { nodeId: 'restore', logLevel: 'info', readyTimeoutMs: 120_000 });
      // Every agent is NotReady after the backlog: agent `round` gets Ready, a GC change.
      const ack = await js.publish(
        `wfm.stat.${TENANT}.${SITE}.${agentId(round)}`,
        stateMessage(agentId(round), 'Ready', T0 + 600_000 + round).data,
      );
      lastSeq = ack.seq;
      const n = node;
      const outputMs = await waitFor(
        () => {
          const at = arrivals.get(ack.seq);
          return at === undefined ? undefined : at - t0;
        },
        { timeoutMs: 120_000, intervalMs: 5, describe: () => `no GC output for seq ${ack.seq}\n${n.log}` },
      );
      const at = (step: Step) => {
        const record = n.records.find(
          (r) => r.msg === STEPS[step] && (step !== 'leading' || r.site === SITE),
        );
        return record === undefined ? undefined : Number(record.time) - spawnedAt;
      };
      const steps = {
        boot: at('boot'),
        placed: at('placed'),
        leading: at('leading'),
        listening: at('listening'),
      };
      rounds.push({ outputMs, steps });
      say(
        `round ${round}/${ROUNDS}: SIGKILL, restart → ${Object.entries(steps)
          .map(([k, v]) => `${k} +${v ?? '?'} ms`)
          .join(', ')}, first output on new input +${Math.round(outputMs)} ms`,
      );
      await waitCheckpointed(n, lastSeq, 120_000);
    }
    await node.stop();
    const label = `${AGENTS / 1000}k agents checkpointed, SIGKILL, restart`;
    const ms = (scenario: string, value: number, target?: string): BenchRow => ({
      bench: 'restore',
      scenario,
      value: Math.round(value),
      unit: 'ms',
      ...(target === undefined ? {} : { target }),
    });
    const outs = rounds.map((r) => r.outputMs);
    const step = (k: Step, scenario: string) =>
      ms(scenario, median(rounds.flatMap((r) => (r.steps[k] === undefined ? [] : [r.steps[k]!]))));
    return [
      ms(
        `${label}: process start → first GC output on new input, median of ${rounds.length} (${outs.map((x) => Math.round(x)).join(' / ')})`,
        median(outs),
        '≤ 5000',
      ),
      ms('  max', Math.max(...outs), '≤ 5000'),
      step('boot', '  process start → first log line (node runtime + loading the compiled CLI), median'),
      step('placed', '  → site placed on the node (connected to NATS, streams checked), median'),
      step('leading', '  → leading the site (checkpoint of 100k agents restored, lease won), median'),
      step('listening', '  → http listening (node started), median'),
    ];
  } finally {
    await node?.kill();
    await home.remove();
    for (const c of [nc, sub]) await c.close().catch(() => undefined);
    await server.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await restoreBench());
