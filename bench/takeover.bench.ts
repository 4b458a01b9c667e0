/**
 * Hot-standby takeover (DESIGN.md guarantee 2) with real child-process nodes on one nats-server:
 * two nodes `a`, `b`, one site (standbyReplicas 1, leaseSeconds 3 by default), live traffic of
 * 500 stat events/s for 200 agents (each event flips its agent between Ready and NotReady under
 * an OnQueueWork schedule, so every event makes one gc and one adherence output).
 *
 * - SIGKILL rounds: the site's primary is killed at a random moment; measured are the time to the
 *   successor's first output and to its `/api/status` saying primary. The killed node restarts
 *   on the same data dir (measured: spawn → serving HTTP, its site restored as a backup while the
 *   other node writes) and must be a caught-up backup before the next round, which begins once
 *   the site is back on the placement's preferred primary (the nodes move it there themselves).
 * - SIGTERM rounds: the primary drains and hands over; measured are the longest pause between
 *   two outputs from 1 s before to 5 s after the signal, and the time to the other node's status
 *   saying primary.
 * - Event-loop stall: `wfm_event_loop_delay_max_seconds` of the cluster's nodes at the end, and of
 *   one node that works through a backlog of 100k agents (a schedule and a CurrentState each),
 *   two timed checkpoints, then one interval close for every agent.
 *
 * Anchors printed beside (time until a dead member's work moves, by default settings): Kafka
 * Streams 45 s session timeout, Akka SBR ~45 s, Flink 50 s heartbeat timeout, Genesys Data
 * Aggregator ~18 s keep-alives.
 *
 * Run alone: node --expose-gc --import tsx bench/run.ts takeover (about 6 minutes on 2 cores;
 * TAKEOVER_KILL_ROUNDS, TAKEOVER_TERM_ROUNDS and TAKEOVER_BIG_AGENTS=50000 make it shorter).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { type JetStreamClient, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection } from '@nats-io/transport-node';
import { NatsServer } from '../src/dev/index.ts';
import { SeededRandom } from '../src/simulator/index.ts';
import { connectNats, ensureStreams } from '../src/streams/index.ts';
import { NodeHome, NodeProcess, type SiteStatusJson, waitFor } from '../test/helpers/NodeProcess.ts';
import { type BenchRow, printRows } from './BenchRow.ts';

const TENANT = 'T1';
const SITE = 'S1';
const AGENTS = 200;
const STAT_RATE = 500;
const KILL_ROUNDS = Number(process.env.TAKEOVER_KILL_ROUNDS ?? 20);
const TERM_ROUNDS = Number(process.env.TAKEOVER_TERM_ROUNDS ?? 5);
const BIG_AGENTS = Number(process.env.TAKEOVER_BIG_AGENTS ?? 100_000);
const SEED = 20261202;
/** Event time of the first stat: inside the 08:00 interval, which closes at 08:16 (never in a run). */
const T0 = Date.UTC(2026, 0, 5, 8, 1, 0);
const SCHEDULE = { from: T0 - 3_600_000, to: T0 + 8 * 3_600_000 };
/** Outputs the dead primary had sent before the kill may still arrive this long after it. */
const IN_FLIGHT_MS = 30;
const TERM_BEFORE_MS = 1000;
const TERM_AFTER_MS = 5000;
const STALL_GAUGE = 'wfm_event_loop_delay_max_seconds';
/**
 * Not `warn`: a node on `--http 127.0.0.1:0` tells its port only in the info line `http
 * listening`. Info logs lifecycle events only (leading, lease released, membership), none per
 * message, and they show any handover back to the preferred primary during a round.
 */
const NODE_LOG_LEVEL = 'info';

const encoder = new TextEncoder();
const benchStart = performance.now();
const log = (text: string) =>
  process.stderr.write(`takeover [${((performance.now() - benchStart) / 1000).toFixed(0)} s]: ${text}\n`);
const agentId = (i: number) => `A${String(i).padStart(6, '0')}`;

function schedule(agent: string): { subject: string; data: Uint8Array } {
  const payload = {
    agentId: agent,
    from: SCHEDULE.from,
    to: SCHEDULE.to,
    activities: [{ start: SCHEDULE.from, end: SCHEDULE.to, category: 'OnQueueWork' }],
  };
  return {
    subject: `wfm.schedule.${TENANT}.${SITE}.${agent}`,
    data: encoder.encode(JSON.stringify(payload)),
  };
}

function currentState(agent: string, status: 'Ready' | 'NotReady', ts: number) {
  const payload = { statistic: 'CurrentState', agentId: agent, status, callType: null, ts };
  return { subject: `wfm.stat.${TENANT}.${SITE}.${agent}`, data: encoder.encode(JSON.stringify(payload)) };
}

/** Publishes in order with up to 2000 acks outstanding (as bench/throughput.bench.ts does). */
async function publishAll(js: JetStreamClient, messages: Iterable<{ subject: string; data: Uint8Array }>) {
  const pending: Promise<unknown>[] = [];
  let n = 0;
  for (const m of messages) {
    pending.push(js.publish(m.subject, m.data));
    n++;
    if (pending.length >= 2000) await Promise.all(pending.splice(0));
  }
  await Promise.all(pending);
  return n;
}

/** Live stat traffic at {@link STAT_RATE}/s, paced on the wall clock, acks not awaited in line. */
class Traffic {
  sent = 0;
  failed = 0;
  #inFlight = 0;
  #started = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #js: JetStreamClient;

  constructor(js: JetStreamClient) {
    this.#js = js;
  }

  start(): void {
    this.#started = performance.now();
    this.#timer = setInterval(() => this.#tick(), 10);
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const elapsed = performance.now() - this.#started;
    const due = Math.floor((elapsed * STAT_RATE) / 1000);
    const ts = T0 + Math.floor(elapsed);
    while (this.sent < due && this.#inFlight < 5000) {
      const n = this.sent++;
      const status = Math.floor(n / AGENTS) % 2 === 0 ? 'Ready' : 'NotReady';
      const m = currentState(agentId(n % AGENTS), status, ts);
      this.#inFlight++;
      this.#js
        .publish(m.subject, m.data)
        .catch(() => {
          this.failed++;
        })
        .finally(() => {
          this.#inFlight--;
        });
    }
  }
}

/** When the site's outputs arrive at a core NATS subscriber, and which connection sent each. */
class Arrivals {
  readonly times: number[] = [];
  /** Per arrival: the sender, as an index into the reply inboxes seen (-1: no reply subject). */
  readonly senders: number[] = [];
  readonly #inboxes = new Map<string, number>();

  constructor(nc: NatsConnection) {
    // The three output subjects of `wfm.*.T1.S1.>`: the input subjects match that pattern too.
    for (const kind of ['gc', 'adherence', 'interval']) {
      nc.subscribe(`wfm.${kind}.${TENANT}.${SITE}.>`, { callback: (_err, m) => this.#on(m) });
    }
  }

  get length(): number {
    return this.times.length;
  }

  #on(m: Msg): void {
    this.times.push(performance.now());
    // A node publishes each output with reply `<its publisher's inbox>.<n>` (src/streams/Publisher.ts).
    const reply = m.reply ?? '';
    const dot = reply.lastIndexOf('.');
    if (dot < 0) {
      this.senders.push(-1);
      return;
    }
    const inbox = reply.slice(0, dot);
    let id = this.#inboxes.get(inbox);
    if (id === undefined) {
      id = this.#inboxes.size;
      this.#inboxes.set(inbox, id);
    }
    this.senders.push(id);
  }

  /** Index of the first arrival at or after `t`. */
  indexAt(t: number): number {
    let lo = 0;
    let hi = this.times.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.times[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * The successor's first output after a kill at `tKill` (arrivals from `fromIndex` on).
   *
   * `approxMs` is the simple rule: ignore arrivals in the first {@link IN_FLIGHT_MS} ms after the
   * kill (outputs the dead primary had already written to its socket, delivered by the kernel
   * and the server after its death) and take the first one after that. It is an approximation:
   * a successor output inside those 30 ms is missed, and a dead primary's output delayed past
   * them (a full socket buffer, a busy server) is taken for the successor's.
   * `ms` removes that doubt where it can: it is the first arrival sent by another connection than
   * the one that sent the last output before the kill (the dead primary's publisher inbox, read
   * from each output's reply subject). It is the value reported; the approximation is the
   * fallback when outputs carry no reply subject.
   */
  successorOutput(
    fromIndex: number,
    tKill: number,
  ): { ms: number; approxMs: number; exact: boolean } | undefined {
    const victim = fromIndex > 0 ? this.senders[fromIndex - 1]! : -2;
    let approxMs: number | undefined;
    for (let i = fromIndex; i < this.times.length; i++) {
      const dt = this.times[i]! - tKill;
      if (approxMs === undefined && dt >= IN_FLIGHT_MS) approxMs = dt;
      const sender = this.senders[i]!;
      if (sender >= 0 && sender !== victim) return { ms: dt, approxMs: approxMs ?? dt, exact: true };
      if (sender < 0 && approxMs !== undefined) return { ms: approxMs, approxMs, exact: false };
    }
    return undefined;
  }

  /** The `n` longest pauses in [from, to] as `<ms> at +<s>` (progress output). */
  topGaps(from: number, to: number, n: number): string {
    const gaps: [number, number][] = [];
    let last = from;
    for (let i = this.indexAt(from); i < this.times.length && this.times[i]! <= to; i++) {
      gaps.push([this.times[i]! - last, last - from]);
      last = this.times[i]!;
    }
    gaps.push([to - last, last - from]);
    return gaps
      .sort((a, b) => b[0] - a[0])
      .slice(0, n)
      .map(([gap, at]) => `${Math.round(gap)} ms at +${(at / 1000).toFixed(2)} s`)
      .join(', ');
  }

  /** Longest pause between outputs in [from, to], the window's ends counting as arrivals. */
  maxGap(from: number, to: number): number {
    let last = from;
    let gap = 0;
    for (let i = this.indexAt(from); i < this.times.length && this.times[i]! <= to; i++) {
      gap = Math.max(gap, this.times[i]! - last);
      last = this.times[i]!;
    }
    return Math.max(gap, to - last);
  }
}

/**
 * Reads `node`'s site status every 250 ms and keeps each change (`+<ms since t0>: <JSON>`) until
 * stopped. Diagnostics only: what it reads is printed when a takeover times out.
 */
function watchSiteStatus(node: NodeProcess, t0: number): { changes: string[]; stop(): void } {
  const changes: string[] = [];
  let last = '';
  const timer = setInterval(() => {
    void siteOf(node).then((site) => {
      const now = JSON.stringify(site ?? null);
      if (now === last) return;
      last = now;
      changes.push(`+${Math.round(performance.now() - t0)} ms: ${now}`);
    });
  }, 250);
  timer.unref();
  return { changes, stop: () => clearInterval(timer) };
}

/** The site's part of a node's status; undefined when the node does not answer. */
async function siteOf(node: NodeProcess): Promise<SiteStatusJson | undefined> {
  if (!node.running || node.url === undefined) return undefined;
  try {
    return (await node.status()).sites.find((s) => s.site === SITE);
  } catch {
    return undefined;
  }
}

async function metricsText(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  return res.text();
}

/** Sum of the samples of `name` whose labels contain every pair of `labels`; undefined when none. */
function metric(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  let sum: number | undefined;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || (line[name.length] !== '{' && line[name.length] !== ' ')) continue;
    if (!Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum = (sum ?? 0) + value;
  }
  return sum;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const max = (xs: number[]) => (xs.length === 0 ? Number.NaN : Math.max(...xs));
const round1 = (x: number) => Math.round(x * 10) / 10;

/** Two nodes of one tenant and site, each on its own home, restartable. */
class Pair {
  readonly ids = ['a', 'b'] as const;
  readonly homes = new Map<string, NodeHome>();
  readonly procs = new Map<string, NodeProcess>();
  readonly all: NodeProcess[] = [];
  /** Spawn to serving HTTP, per start. */
  readonly startMs: number[] = [];

  async start(natsUrl: string, id: string): Promise<NodeProcess> {
    let home = this.homes.get(id);
    if (home === undefined) {
      home = await NodeHome.create({ natsUrl, sites: [SITE], extraConfig: { standbyReplicas: 1 } });
      this.homes.set(id, home);
    }
    const t = performance.now();
    const spawnedAt = Date.now();
    const node = NodeProcess.spawn(home, { nodeId: id, logLevel: NODE_LOG_LEVEL });
    this.procs.set(id, node);
    this.all.push(node);
    await node.ready;
    const ms = performance.now() - t;
    this.startMs.push(ms);
    if (ms > 10_000) {
      // A restore says where its time went (checkpoint load, the read of what was stored since).
      const detail = (r: Record<string, unknown>) =>
        r.msg === 'site restored'
          ? ` (${String(r.site)}: load ${String(r.loadMs)} ms, read ${String(r.storedSinceCheckpoint)} stored ids ${String(r.readStoredMs)} ms, all ${String(r.totalMs)} ms)`
          : '';
      const steps = node.records.map(
        (r) => `${String(r.msg)}${detail(r)} +${((Number(r.time) - spawnedAt) / 1000).toFixed(1)} s`,
      );
      log(`${id} took ${(ms / 1000).toFixed(1)} s to serve HTTP: ${steps.join('; ')}`);
    }
    return node;
  }

  node(id: string): NodeProcess {
    return this.procs.get(id)!;
  }

  other(id: string): string {
    return id === 'a' ? 'b' : 'a';
  }

  logs(): string {
    return [...this.procs]
      .map(
        ([id, n]) =>
          `--- ${id} (${n.running ? 'running' : 'exited'})\n${n.log.split('\n').slice(-20).join('\n')}`,
      )
      .join('\n');
  }

  /**
   * Waits until one node is the site's primary and the other a running backup within 1 s of
   * traffic of it; with `preferred`, also until the primary is the placement's preferred one
   * (so no handover back to it is pending).
   */
  async settled(
    timeoutMs: number,
    preferred = false,
  ): Promise<{ primary: string; backup: string; handbackPending: boolean }> {
    let last = '';
    return waitFor(
      async () => {
        const sites = await Promise.all(this.ids.map((id) => siteOf(this.node(id))));
        last = JSON.stringify(sites.map((s) => s && [s.role, s.processedSeq, s.state, s.replicas]));
        const p = sites.findIndex((s) => s?.role === 'primary');
        const b = sites.findIndex((s) => s?.role === 'backup');
        if (p < 0 || b < 0) return undefined;
        const ps = sites[p]!;
        const bs = sites[b]!;
        const running = typeof bs.state === 'object' && bs.state !== null && 'running' in bs.state;
        if (!running || bs.processedSeq < ps.processedSeq - STAT_RATE) return undefined;
        const handbackPending = (ps.replicas as string[] | undefined)?.[0] !== this.ids[p];
        if (preferred && handbackPending) return undefined;
        return { primary: this.ids[p]!, backup: this.ids[b]!, handbackPending };
      },
      { timeoutMs, intervalMs: 50, describe: () => `site status ${last}\n${this.logs()}` },
    );
  }

  /** Restarts `id` on its data dir and waits until it reports the site as a caught-up backup. */
  async restart(natsUrl: string, id: string): Promise<void> {
    const node = await this.start(natsUrl, id);
    let last = '';
    await waitFor(
      async () => {
        const s = await siteOf(node);
        last = JSON.stringify(s && [s.role, s.state, s.processedSeq]);
        // Backup, or already primary again when a handover back came first.
        return s !== undefined && typeof s.state === 'object' && s.state !== null && 'running' in s.state
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 50, describe: () => `${id}: ${last}\n${this.logs()}` },
    );
  }

  /** Handovers to the preferred primary logged so far (each one moves leadership on its own). */
  handbacks(): number {
    return this.all.reduce(
      (sum, n) =>
        sum + n.logged('handing the site to its preferred primary').filter((r) => r.site === SITE).length,
      0,
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((n) => n.kill()));
    await Promise.all([...this.homes.values()].map((h) => h.remove()));
  }
}

interface ClusterResult {
  killOutputMs: number[];
  killOutputApproxMs: number[];
  killStatusMs: number[];
  hot: number;
  cold: number;
  termGapMs: number[];
  termStatusMs: number[];
  /** Each node restarted in the rounds: spawn → serving HTTP (its site restored, a backup). */
  restartMs: number[];
  /** After each restart of a SIGKILL round: ready → leading its site again (the handback). */
  handbackMs: number[];
  steadyGapMs: number;
  stallMs: number | undefined;
  stallP99Ms: number | undefined;
  statEvents: number;
  publishFailures: number;
  /**
   * Why the rounds stopped before all were done (a wait timed out: on a machine loaded well past its
   * cores, a node with a 3 s lease can lose its own lease over and over), or undefined. The rounds
   * done until then are kept, so the table shows them and a row says the run is short.
   */
  stopped: string | undefined;
}

const firstLine = (err: unknown) =>
  (err instanceof Error ? err.message : String(err)).split('\n')[0]!.slice(0, 160);

async function takeovers(server: NatsServer, nc: NatsConnection): Promise<ClusterResult> {
  const js = jetstream(nc);
  const rng = new SeededRandom(SEED);
  const subscriber = await connectNats({ servers: [server.url] });
  const arrivals = new Arrivals(subscriber);
  await publishAll(
    js,
    Array.from({ length: AGENTS }, (_, i) => schedule(agentId(i))),
  );
  const traffic = new Traffic(js);
  traffic.start();
  const pair = new Pair();
  const r: ClusterResult = {
    killOutputMs: [],
    killOutputApproxMs: [],
    killStatusMs: [],
    hot: 0,
    cold: 0,
    termGapMs: [],
    termStatusMs: [],
    restartMs: [],
    handbackMs: [],
    steadyGapMs: Number.NaN,
    stallMs: undefined,
    stallP99Ms: undefined,
    statEvents: 0,
    publishFailures: 0,
    stopped: undefined,
  };
  try {
    await Promise.all(pair.ids.map((id) => pair.start(server.url, id)));
    // Two nodes starting together may each claim first; wait until leadership sits where the
    // placement wants it, so no handover back is pending when round 1 begins.
    await pair.settled(60_000, true);
    // The window starts 1 s after the handover that settled it, so it holds none of that pause.
    await sleep(7000);
    r.steadyGapMs = arrivals.maxGap(performance.now() - 6000, performance.now());
    log(
      `cluster up; steady state, longest output gaps over 6 s: ${arrivals.topGaps(performance.now() - 6000, performance.now(), 3)}`,
    );

    try {
      // SIGKILL rounds. Leadership moves back to the placement's preferred primary once the
      // placement has been stable for 2 leases and the survivor has led the site for 2 leases
      // (src/node/Handback.ts): a node that restarts gets its site back a few seconds after it is
      // ready. So every round starts with the preferred primary leading and a caught-up backup (no
      // handover pending), and kills it; a round during which a handover to the preferred primary
      // was logged anyway is not counted. (A node killed and restarted within the survivor's
      // membership timeout, 1 lease, never left its placement: the placement is stable already,
      // so it gets the site back as soon as the survivor has led it 2 leases.)
      let attempts = 0;
      let afterRestart = false;
      while (r.killOutputMs.length < KILL_ROUNDS && attempts++ < KILL_ROUNDS * 2) {
        const roundStart = performance.now();
        const { primary, backup } = await pair.settled(90_000, true);
        const settledMs = performance.now() - roundStart;
        if (afterRestart) r.handbackMs.push(settledMs);
        afterRestart = false;
        const handbacks = pair.handbacks();
        await sleep(rng.int(100, 2000));
        const victim = pair.node(primary);
        const successor = pair.node(backup);
        if ((await siteOf(victim))?.role !== 'primary') {
          log(`round skipped: ${primary} no longer primary at the kill`);
          continue;
        }
        const takeoversBefore = metricsText(successor.url!).catch(() => '');
        const fromIndex = arrivals.length;
        const tKill = performance.now();
        victim.signal('SIGKILL');
        // Should the successor not lead in time, what its /api/status said meanwhile (its site's
        // role, state and election state, each change with its time since the kill) is printed
        // with the logs: a takeover that did not happen (session 25, again in session 26) left
        // logs that did not say where its election waited.
        const watched = watchSiteStatus(successor, tKill);
        const describe = () =>
          `${pair.logs()}\n--- ${backup}'s ${SITE} in /api/status since the kill\n${watched.changes.join('\n')}`;
        const waited = Promise.all([
          waitFor(
            async () =>
              (await siteOf(successor))?.role === 'primary' ? performance.now() - tKill : undefined,
            { timeoutMs: 30_000, intervalMs: 20, describe },
          ),
          waitFor(() => arrivals.successorOutput(fromIndex, tKill), {
            timeoutMs: 30_000,
            intervalMs: 5,
            describe,
          }),
        ]);
        // Stopped however the wait ends (a timeout stops the rounds, the bench goes on).
        const [statusMs, output] = await waited.finally(() => watched.stop());
        await victim.exited;
        if (pair.handbacks() !== handbacks) {
          log(`round not counted: a handover to the preferred primary came in between`);
          await pair.restart(server.url, primary);
          continue;
        }
        const before = await takeoversBefore;
        const after = await metricsText(successor.url!).catch(() => '');
        const kind = (k: string, text: string) =>
          metric(text, 'wfm_takeovers_total', { site: SITE, kind: k }) ?? 0;
        const cold = kind('cold', after) - kind('cold', before) > 0;
        if (cold) r.cold++;
        else r.hot++;
        r.killOutputMs.push(output.ms);
        r.killOutputApproxMs.push(output.approxMs);
        r.killStatusMs.push(statusMs);
        log(
          `SIGKILL ${r.killOutputMs.length}/${KILL_ROUNDS}: ${primary} killed; ${backup} first output +${Math.round(output.ms)} ms` +
            ` (30 ms rule: +${Math.round(output.approxMs)} ms${output.exact ? '' : ', no reply subject: used'}),` +
            ` status primary +${Math.round(statusMs)} ms${cold ? ', cold takeover' : ''};` +
            ` the round's primary settled ${(settledMs / 1000).toFixed(1)} s after the previous restart, which served HTTP after` +
            ` ${((pair.startMs.at(-1) ?? 0) / 1000).toFixed(1)} s`,
        );
        await pair.restart(server.url, primary);
        afterRestart = true;
      }
      if (r.killOutputMs.length < KILL_ROUNDS)
        throw new Error(`only ${r.killOutputMs.length} SIGKILL rounds`);

      // SIGTERM rounds: the pause the handover puts into a continuous output stream.
      attempts = 0;
      while (r.termGapMs.length < TERM_ROUNDS && attempts++ < TERM_ROUNDS * 2) {
        const round = r.termGapMs.length + 1;
        const { primary, backup } = await pair.settled(90_000, true);
        const handbacks = pair.handbacks();
        await sleep(rng.int(TERM_BEFORE_MS, 2000));
        const victim = pair.node(primary);
        const successor = pair.node(backup);
        if ((await siteOf(victim))?.role !== 'primary') {
          log(`round skipped: ${primary} no longer primary at the signal`);
          continue;
        }
        const tSig = performance.now();
        victim.signal('SIGTERM');
        const statusMs = await waitFor(
          async () => ((await siteOf(successor))?.role === 'primary' ? performance.now() - tSig : undefined),
          { timeoutMs: 30_000, intervalMs: 20, describe: () => pair.logs() },
        );
        await sleep(Math.max(0, tSig + TERM_AFTER_MS - performance.now()));
        const gap = arrivals.maxGap(tSig - TERM_BEFORE_MS, tSig + TERM_AFTER_MS);
        const gaps = arrivals.topGaps(tSig - TERM_BEFORE_MS, tSig + TERM_AFTER_MS, 3);
        const exit = await Promise.race([victim.exited, sleep(20_000).then(() => undefined)]);
        if (exit === undefined) {
          await victim.kill();
          throw new Error(`${primary} did not exit within 20 s of SIGTERM\n${victim.log}`);
        }
        if (pair.handbacks() !== handbacks) {
          log(`round not counted: a handover to the preferred primary came in between`);
          await pair.restart(server.url, primary);
          continue;
        }
        r.termGapMs.push(gap);
        r.termStatusMs.push(statusMs);
        log(
          `SIGTERM ${round}/${TERM_ROUNDS}: ${primary} stopped (exit ${exit.code ?? exit.signal}); longest output gap` +
            ` ${round1(gap)} ms; ${backup} status primary +${Math.round(statusMs)} ms (longest gaps: ${gaps}, from −1 s)`,
        );
        await pair.restart(server.url, primary);
      }
      if (r.termGapMs.length < TERM_ROUNDS) throw new Error(`only ${r.termGapMs.length} SIGTERM rounds`);
      await pair.settled(60_000);
    } catch (err) {
      r.stopped = `after ${r.killOutputMs.length}/${KILL_ROUNDS} SIGKILL and ${r.termGapMs.length}/${TERM_ROUNDS} SIGTERM rounds: ${firstLine(err)}`;
      log(`rounds stopped ${r.stopped}`);
      process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }

    const stalls = await Promise.all(
      pair.ids.map(async (id) => {
        const text = await metricsText(pair.node(id).url!).catch(() => '');
        return {
          max: metric(text, STALL_GAUGE),
          p99: metric(text, 'wfm_event_loop_delay_p99_seconds'),
        };
      }),
    );
    const present = stalls.filter((s) => s.max !== undefined);
    if (present.length > 0) {
      r.stallMs = Math.max(...present.map((s) => s.max! * 1000));
      r.stallP99Ms = Math.max(...present.map((s) => (s.p99 ?? Number.NaN) * 1000));
    }
    // The first start of each node restored nothing.
    r.restartMs = pair.startMs.slice(pair.ids.length);
    r.statEvents = traffic.sent;
    r.publishFailures = traffic.failed;
    log(`cluster run: ${r.statEvents} stat events published, ${r.publishFailures} publishes failed`);
    return r;
  } finally {
    traffic.stop();
    await pair.stop();
    await subscriber.close().catch(() => undefined);
  }
}

interface BigResult {
  agents: number;
  messages: number;
  publishSecs: number;
  processSecs: number;
  stallMs: number | undefined;
  stallAfterCloseMs: number | undefined;
  closeSecs: number;
}

/** One node, one site, `agents` agents: a backlog, two timed checkpoints, then one interval close. */
async function bigSite(agents: number): Promise<BigResult> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: [server.url] });
  const js = jetstream(nc);
  await ensureStreams(await jetstreamManager(nc));
  let node: NodeProcess | undefined;
  const home = await NodeHome.create({
    natsUrl: server.url,
    sites: [SITE],
    extraConfig: { standbyReplicas: 0 },
  });
  try {
    let t = performance.now();
    function* backlog() {
      for (let i = 0; i < agents; i++) yield schedule(agentId(i));
      for (let i = 0; i < agents; i++) yield currentState(agentId(i), 'Ready', T0 + i);
    }
    const messages = await publishAll(js, backlog());
    const publishSecs = (performance.now() - t) / 1000;
    log(`${agents} agents: ${messages} messages published in ${publishSecs.toFixed(1)} s`);

    t = performance.now();
    node = await NodeProcess.start(home, { nodeId: 'big', logLevel: NODE_LOG_LEVEL, readyTimeoutMs: 60_000 });
    const n = node;
    const describe = () => n.log;
    const applied = async (seq: number) => ((await siteOf(n))?.processedSeq ?? 0) >= seq;
    await waitFor(async () => ((await applied(messages)) ? true : undefined), {
      timeoutMs: 240_000,
      intervalMs: 250,
      describe,
    });
    const processSecs = (performance.now() - t) / 1000;
    const checkpoints = async () =>
      metric(await metricsText(n.url!), 'wfm_checkpoints_total', { site: SITE }) ?? 0;
    const cp0 = await checkpoints();
    log(
      `${agents} agents: backlog applied ${processSecs.toFixed(1)} s after start; waiting for 2 checkpoints`,
    );
    await waitFor(async () => ((await checkpoints()) >= cp0 + 2 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      describe,
    });
    const stall = metric(await metricsText(n.url!), STALL_GAUGE);

    // The site's event time passes 08:16:00: the 08:00 interval closes for every agent at once,
    // as it does every 15 minutes in production.
    t = performance.now();
    await js.publish(
      `wfm.clock.${TENANT}.${SITE}`,
      encoder.encode(JSON.stringify({ ts: T0 + 15 * 60_000 + 1000 })),
    );
    const intervals = async () =>
      metric(await metricsText(n.url!), 'wfm_outputs_total', { site: SITE, kind: 'interval' }) ?? 0;
    await waitFor(
      async () => ((await applied(messages + 1)) && (await intervals()) >= agents ? true : undefined),
      { timeoutMs: 120_000, intervalMs: 250, describe },
    );
    const closeSecs = (performance.now() - t) / 1000;
    const cp1 = await checkpoints();
    await waitFor(async () => ((await checkpoints()) >= cp1 + 1 ? true : undefined), {
      timeoutMs: 60_000,
      intervalMs: 250,
      describe,
    });
    const stallAfterClose = metric(await metricsText(n.url!), STALL_GAUGE);
    log(`${agents} agents: interval close applied in ${closeSecs.toFixed(1)} s`);
    await node.stop();
    return {
      agents,
      messages,
      publishSecs,
      processSecs,
      stallMs: stall === undefined ? undefined : stall * 1000,
      stallAfterCloseMs: stallAfterClose === undefined ? undefined : stallAfterClose * 1000,
      closeSecs,
    };
  } finally {
    await node?.kill();
    await home.remove();
    await nc.close().catch(() => undefined);
    await server.stop();
  }
}

/** A stall row: `n/a` in the unit column when the node has no such gauge. */
function stallRow(scenario: string, ms: number | undefined): BenchRow {
  return ms === undefined
    ? { bench: 'takeover', scenario, value: Number.NaN, unit: `n/a (no ${STALL_GAUGE} in /metrics)` }
    : { bench: 'takeover', scenario, value: round1(ms), unit: 'ms' };
}

export default async function takeoverBench(): Promise<BenchRow[]> {
  const started = performance.now();
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: [server.url] });
  let c: ClusterResult;
  try {
    await ensureStreams(await jetstreamManager(nc));
    c = await takeovers(server, nc);
  } finally {
    await nc.close().catch(() => undefined);
    await server.stop();
  }
  let b: BigResult | undefined;
  let bigFailed = '';
  try {
    b = await bigSite(BIG_AGENTS);
  } catch (err) {
    bigFailed = firstLine(err);
    log(`${BIG_AGENTS} agents: failed: ${bigFailed}`);
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  }
  log(`done in ${((performance.now() - started) / 1000).toFixed(0)} s`);

  const ms = (bench: string, scenario: string, value: number, target?: string): BenchRow => ({
    bench,
    scenario,
    value: Math.round(value),
    unit: 'ms',
    ...(target === undefined ? {} : { target }),
  });
  const kills = `${c.killOutputMs.length} SIGKILLs, ${c.hot} hot / ${c.cold} cold takeovers`;
  const setup = `2 nodes, ${AGENTS} agents, ${STAT_RATE} stat/s, lease 3 s`;
  const big = `${BIG_AGENTS / 1000}k agents, 1 node`;
  const bigRows: BenchRow[] =
    b === undefined
      ? [
          {
            bench: 'takeover',
            scenario: `event-loop stall, ${big}: FAILED: ${bigFailed}`,
            value: Number.NaN,
            unit: 'error',
            met: false,
          },
        ]
      : [
          stallRow(
            `event-loop stall max, ${big}: ${b.messages}-msg backlog (applied in ${b.processSecs.toFixed(0)} s) + 2 checkpoints`,
            b.stallMs,
          ),
          stallRow(
            `  then one interval close for all (${b.agents} records, ${b.closeSecs.toFixed(1)} s) + 1 checkpoint`,
            b.stallAfterCloseMs,
          ),
        ];
  const stoppedRows: BenchRow[] =
    c.stopped === undefined
      ? []
      : [
          {
            bench: 'takeover',
            scenario: `SIGKILL rounds done: the rounds stopped ${c.stopped} (the rows above are of the rounds done)`,
            value: c.killOutputMs.length,
            unit: 'rounds',
            target: `≥ ${KILL_ROUNDS}`,
          },
        ];
  const p99 =
    c.stallP99Ms === undefined || Number.isNaN(c.stallP99Ms) ? '' : `; p99 ${round1(c.stallP99Ms)} ms`;
  return [
    ms(
      'takeover',
      `SIGKILL → successor's first output, median (${kills}; ${setup})`,
      median(c.killOutputMs),
      '≤ 1000',
    ),
    ms('takeover', "SIGKILL → successor's first output, max", max(c.killOutputMs), '≤ 3000'),
    ms(
      'takeover',
      '  by the 30 ms rule (first output ≥ 30 ms after the kill), median',
      median(c.killOutputApproxMs),
    ),
    ms('takeover', '  by the 30 ms rule, max', max(c.killOutputApproxMs)),
    ms('takeover', "SIGKILL → successor's /api/status says primary, median", median(c.killStatusMs)),
    ms('takeover', "SIGKILL → successor's /api/status says primary, max", max(c.killStatusMs)),
    ms(
      'takeover',
      `restarted node: spawn → serving HTTP (restored, a backup), median (${c.restartMs.length} restarts)`,
      median(c.restartMs),
    ),
    ms('takeover', 'restarted node: spawn → serving HTTP, max', max(c.restartMs)),
    ms(
      'takeover',
      `restarted preferred primary: ready → leading its site again (handback), median (${c.handbackMs.length})`,
      median(c.handbackMs),
    ),
    ms('takeover', 'restarted preferred primary: ready → leading again, max', max(c.handbackMs)),
    ms(
      'takeover',
      `SIGTERM → longest output gap in [−1 s, +5 s], median (${c.termGapMs.length} SIGTERMs)`,
      median(c.termGapMs),
      '≤ 200',
    ),
    ms('takeover', 'SIGTERM → longest output gap in [−1 s, +5 s], max', max(c.termGapMs), '≤ 200'),
    ms('takeover', "SIGTERM → other node's /api/status says primary, median", median(c.termStatusMs)),
    ms('takeover', "SIGTERM → other node's /api/status says primary, max", max(c.termStatusMs)),
    ms('takeover', 'reference: longest output gap in 6 s without failover', c.steadyGapMs),
    ...stoppedRows,
    stallRow(`event-loop stall max, cluster run (a, b since their last start${p99})`, c.stallMs),
    ...bigRows,
    ms('anchor', 'Kafka Streams: session timeout before a dead instance’s tasks move', 45_000),
    ms('anchor', 'Akka Cluster Split Brain Resolver: downing of an unreachable node', 45_000),
    ms('anchor', 'Flink: heartbeat timeout before a lost TaskManager’s job restarts', 50_000),
    ms('anchor', 'Genesys Data Aggregator: keep-alives before the backup takes over', 18_000),
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await takeoverBench());
