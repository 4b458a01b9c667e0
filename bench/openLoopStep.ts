/**
 * One open-loop step of the latency bench: inputs at a fixed rate whatever the process under test
 * does, each output matched to its input, latencies from the time each input was *due* (no
 * coordinated omission), and the CPU each process used meanwhile. See latency.bench.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import type { BenchRow } from './BenchRow.ts';
import type { CheckpointWatch } from './CheckpointWatch.ts';
import { mainThreadWaitMicros, processCpuMicros } from './CpuMeter.ts';
import { Histogram } from './Histogram.ts';
import { agentId, SITE, stateMessage, T0, TENANT } from './nodeBench.ts';

/** A step is sustained when its last output came at most this long after its end. */
export const DRAIN_MS = 1500;
/**
 * How long to wait for a step's outputs: at most this long after its end, and no longer than
 * NO_PROGRESS_MS without a new one (the rest are lost). A step faster than the node leaves a
 * backlog, which it works off before the next step begins, so no step measures another's.
 */
export const MAX_WAIT_MS = 180_000;
const NO_PROGRESS_MS = 15_000;
const SOURCE_SEQ_HEADER = 'Wfm-Source-Seq';

/** What one open-loop step measured. */
export interface StepResult {
  /** What was under test: `node`, `floor`. */
  target: string;
  rate: number;
  seconds: number;
  sent: number;
  all: Histogram;
  /** Inputs due outside every checkpoint window. */
  outside: Histogram;
  lost: number;
  /** GC outputs and input acks seen in the step (for a step that lost some). */
  outputs: number;
  acks: number;
  /** ms from the step's end to its last output. */
  drainMs: number;
  sustained: boolean;
  /** Checkpoint windows in the step; null: the process takes no checkpoints. */
  checkpoints: number | null;
  checkpointMs: number;
  /** Share of the step's time inside checkpoint windows. */
  windowShare: number;
  /** The five worst latencies (ms) with how far their due time lay from the nearest checkpoint window. */
  worst: string;
  /** Cores each process used while the step's inputs went out (CPU time / wall time). */
  cores: StepCores;
}

/** Cores used during a step: the process under test, the nats-server, and this bench process. */
export interface StepCores {
  target: number;
  server: number;
  bench: number;
  /** Share of the step the process under test's main thread was runnable but had no core. */
  targetWaiting: number;
}

/**
 * Flips agents between NotReady and Ready in round-robin order from a global counter, so every
 * message changes its agent's GC state (the warm-up left every agent Ready).
 */
export class Flipper {
  readonly #agents: number;
  #n = 0;
  readonly #started = performance.now();

  constructor(agents: number) {
    this.#agents = agents;
  }

  next(): { subject: string; data: Uint8Array } {
    const n = this.#n++;
    const status = Math.floor(n / this.#agents) % 2 === 0 ? 'NotReady' : 'Ready';
    return stateMessage(
      agentId(n % this.#agents),
      status,
      T0 + 60_000 + Math.floor(performance.now() - this.#started),
    );
  }
}

/** Matches outputs to inputs of the current step and records their latencies. */
export class Matcher {
  /** Due time (performance.now() ms) per input index of the step. */
  due: Float64Array = new Float64Array(0);
  readonly #indexBySeq = new Map<number, number>();
  readonly #arrivedBySeq = new Map<number, number>();
  matched = 0;
  /** The highest input sequence acknowledged in the step. */
  maxSeq = 0;
  outputs = 0;
  acks = 0;
  lastArrival = 0;
  samples: { due: number; ms: number }[] = [];

  constructor(sub: NatsConnection, ackInbox: string) {
    sub.subscribe(`wfm.gc.${TENANT}.${SITE}.>`, { callback: (_err, m) => this.#output(m) });
    sub.subscribe(`${ackInbox}.*`, { callback: (_err, m) => this.#ack(m) });
  }

  reset(count: number): void {
    this.due = new Float64Array(count);
    this.#indexBySeq.clear();
    this.#arrivedBySeq.clear();
    this.matched = 0;
    this.maxSeq = 0;
    this.outputs = 0;
    this.acks = 0;
    this.lastArrival = 0;
    this.samples = [];
  }

  #record(index: number, arrival: number): void {
    this.samples.push({ due: this.due[index]!, ms: arrival - this.due[index]! });
    this.matched++;
    this.lastArrival = Math.max(this.lastArrival, arrival);
  }

  #output(m: Msg): void {
    const now = performance.now();
    this.outputs++;
    const seq = Number(m.headers?.get(SOURCE_SEQ_HEADER));
    const index = this.#indexBySeq.get(seq);
    if (index === undefined) {
      this.#arrivedBySeq.set(seq, now);
      return;
    }
    this.#indexBySeq.delete(seq);
    this.#record(index, now);
  }

  #ack(m: Msg): void {
    const subject = m.subject;
    const index = Number(subject.slice(subject.lastIndexOf('.') + 1));
    const ack = m.json<{ seq?: number; error?: unknown }>();
    this.acks++;
    this.maxSeq = Math.max(this.maxSeq, ack.seq ?? 0);
    if (ack.seq === undefined || index >= this.due.length) return;
    const arrived = this.#arrivedBySeq.get(ack.seq);
    if (arrived === undefined) {
      this.#indexBySeq.set(ack.seq, index);
      return;
    }
    this.#arrivedBySeq.delete(ack.seq);
    this.#record(index, arrived);
  }
}

/** What {@link runStep} runs a step with. */
export interface StepSetup {
  /** The connection the inputs go out on (their JetStream acks come back to `ackInbox`). */
  pub: NatsConnection;
  ackInbox: string;
  matcher: Matcher;
  flipper: Flipper;
  /** The node's checkpoints; null for a process that takes none (the I/O floor). */
  checkpoints: CheckpointWatch | null;
  /** Resolves once the process under test has taken every input up to `seq` (matched or not). */
  settle: (seq: number) => Promise<void>;
  /** What is under test (`node`, `floor`), and its process and the nats-server's, for their CPU time. */
  target: string;
  targetPid: number | undefined;
  serverPid: number | undefined;
}

/**
 * One step: `rate` inputs per second for `seconds`, open loop, then waits for their outputs (at
 * most MAX_WAIT_MS after the step, NO_PROGRESS_MS without a new one) and for `settle`.
 */
export async function runStep(rate: number, seconds: number, setup: StepSetup): Promise<StepResult> {
  const { pub, ackInbox, matcher, flipper, checkpoints } = setup;
  const count = Math.round(rate * seconds);
  matcher.reset(count);
  const prefix = `${ackInbox}.`;
  const intervalMs = 1000 / rate;
  const start = performance.now() + 5;
  let i = 0;
  const cpuAt = cpuNow(setup);
  await new Promise<void>((resolve) => {
    const tick = () => {
      const now = performance.now();
      while (i < count && start + i * intervalMs <= now) {
        const m = flipper.next();
        matcher.due[i] = start + i * intervalMs;
        pub.publish(m.subject, m.data, { reply: `${prefix}${i}` });
        i++;
      }
      if (i < count) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, 1);
  });
  const cores = coresSince(cpuAt, cpuNow(setup));
  const end = start + seconds * 1000;
  const deadline = end + MAX_WAIT_MS;
  let matched = matcher.matched;
  let progressAt = performance.now();
  while (matcher.matched < count) {
    const now = performance.now();
    if (matcher.matched > matched) {
      matched = matcher.matched;
      progressAt = now;
    }
    if (now > deadline || now - progressAt > NO_PROGRESS_MS) break;
    await sleep(5);
  }
  // Whatever was not matched: it must still have been taken before the next step.
  await setup.settle(matcher.maxSeq);
  const drainMs = matcher.matched < count ? Number.POSITIVE_INFINITY : matcher.lastArrival - end;
  const all = new Histogram();
  const outside = new Histogram();
  for (const s of matcher.samples) {
    const us = s.ms * 1000;
    all.record(us);
    if (checkpoints?.inWindow(s.due) !== true) outside.record(us);
  }
  const windows = checkpoints?.within(start, end) ?? { count: 0, ms: 0 };
  // The five worst stalls: the worst latency, then the worst due more than 500 ms from any taken.
  const picked: { due: number; ms: number }[] = [];
  for (const sample of [...matcher.samples].sort((a, b) => b.ms - a.ms)) {
    if (picked.length === 5) break;
    if (picked.every((p) => Math.abs(p.due - sample.due) > 500)) picked.push(sample);
  }
  const worst = picked
    .map((p) => {
      const d = checkpoints?.distance(p.due);
      const where =
        d === undefined
          ? 'no checkpoints'
          : d === Number.POSITIVE_INFINITY
            ? 'no checkpoint seen yet'
            : d === 0
              ? 'due in a checkpoint window'
              : `due ${Math.round(d)} ms from a checkpoint window`;
      return `${Math.round(p.ms)} ms at +${((p.due - start) / 1000).toFixed(1)} s (${where})`;
    })
    .join(', ');
  return {
    target: setup.target,
    rate,
    seconds,
    sent: count,
    all,
    outside,
    lost: count - matcher.matched,
    outputs: matcher.outputs,
    acks: matcher.acks,
    drainMs,
    sustained: drainMs <= DRAIN_MS,
    checkpoints: checkpoints === null ? null : windows.count,
    checkpointMs: windows.ms,
    windowShare: windows.ms / (seconds * 1000),
    worst,
    cores,
  };
}

export const ms = (us: number) => Math.round(us / 100) / 10;

/** A step's progress line. */
export function describe(r: StepResult): string {
  return (
    `${r.rate} events/s for ${r.seconds} s: p50 ${ms(r.all.at(50))} p99 ${ms(r.all.at(99))} p99.9 ${ms(r.all.at(99.9))}` +
    ` max ${ms(r.all.max)} ms;` +
    (r.checkpoints === null
      ? ''
      : ` outside checkpoint windows p99 ${ms(r.outside.at(99))} ms; ${r.checkpoints} checkpoint windows (${Math.round(r.windowShare * 100)} % of the time);`) +
    ` last output ${Number.isFinite(r.drainMs) ? `${Math.round(r.drainMs)} ms after the step` : `missing (${r.lost} lost; ${r.acks} acks, ${r.outputs} GC outputs seen)`}` +
    ` → ${r.sustained ? 'sustained' : 'not sustained'}; cores ${coresText(r.cores, r.target)}; worst: ${r.worst}`
  );
}

/** A step's table rows: p50, p99, p99.9, max, p99 outside checkpoint windows, cores in use. */
export function rowsOf(r: StepResult, intro: string, p99Target?: string): BenchRow[] {
  const target = r.target;
  const rate = `${r.rate.toLocaleString('en-US')} events/s`;
  const detail = `${r.seconds} s, ${r.sent.toLocaleString('en-US')} inputs${r.lost > 0 ? `, ${r.lost} without output` : ''}${r.sustained ? '' : ', NOT sustained: a backlog grew'}`;
  const row = (scenario: string, us: number, target?: string): BenchRow => ({
    bench: 'latency',
    scenario,
    value: ms(us),
    unit: 'ms',
    ...(target === undefined ? {} : { target }),
  });
  return [
    row(`${intro}${rate} (${detail}): p50`, r.all.at(50)),
    row(`  ${rate}: p99`, r.all.at(99), p99Target),
    row(`  ${rate}: p99.9`, r.all.at(99.9)),
    row(`  ${rate}: max`, r.all.max),
    ...(r.checkpoints === null
      ? []
      : [
          row(
            `  ${rate}: p99 of inputs due outside checkpoint windows (${r.checkpoints} windows, ${Math.round(r.windowShare * 100)} % of the step)`,
            r.outside.at(99),
          ),
        ]),
    {
      bench: 'latency',
      scenario: `  ${rate}: cores in use, of 2 (${coresText(r.cores, target)})`,
      value: Math.round((r.cores.target + r.cores.server + r.cores.bench) * 100) / 100,
      unit: 'cores',
    },
    {
      bench: 'latency',
      scenario: `  ${rate}: share of the step the ${target}'s main thread was ready to run and had no core (/proc schedstat)`,
      value: Math.round(r.cores.targetWaiting * 1000) / 10,
      unit: '%',
    },
  ];
}

/** `node 0.71 + nats-server 0.80 + bench 0.30`. */
export function coresText(c: StepCores, target: string): string {
  return `${target} ${c.target.toFixed(2)} + nats-server ${c.server.toFixed(2)} + bench ${c.bench.toFixed(2)}; ${target}'s main thread waiting for a core ${(c.targetWaiting * 100).toFixed(1)} %`;
}

interface CpuReading {
  at: number;
  target: number;
  targetWait: number;
  server: number;
  bench: NodeJS.CpuUsage;
}

function cpuNow(setup: StepSetup): CpuReading {
  return {
    at: performance.now(),
    target: processCpuMicros(setup.targetPid ?? -1),
    targetWait: mainThreadWaitMicros(setup.targetPid ?? -1),
    server: processCpuMicros(setup.serverPid ?? -1),
    bench: process.cpuUsage(),
  };
}

function coresSince(a: CpuReading, b: CpuReading): StepCores {
  const wallUs = (b.at - a.at) * 1000;
  const bench = process.cpuUsage(a.bench);
  return {
    target: (b.target - a.target) / wallUs,
    server: (b.server - a.server) / wallUs,
    bench: (bench.user + bench.system) / wallUs,
    targetWaiting: (b.targetWait - a.targetWait) / wallUs,
  };
}
