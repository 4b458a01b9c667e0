/**
 * The WFM database (interval history, DESIGN guarantee 3) against a real PostgreSQL 15 started
 * for the run (test/helpers/PostgresServer.ts), in one run:
 *
 * 1. Sink write rate: `PostgresIntervalSink.write` of realistic interval records for one site,
 *    1000 rows per write (what the history writer batches) against one row per write. Each write
 *    is one fenced transaction (BEGIN, writer row, mark FOR UPDATE, upsert, mark update, COMMIT),
 *    so one row per write is exactly what one row per statement costs. Each case writes into a
 *    fresh database.
 * 2. Node throughput with the database sink on and off: an in-process WfmNode works through a
 *    backlog of ≥ 200k stat events for 4k agents with schedules (simulator traffic: about 110
 *    minutes of event time, so intervals close and interval records are produced) with
 *    `database: null` (embedded LevelDB sink) and with `database: <PostgreSQL URL>` (a fresh
 *    database each run). Every run gets a fresh nats-server holding the same seeded backlog, so
 *    no run sees another's outputs. A run's rate is `WFM_IN` messages from the first input routed
 *    to the final checkpoint (outputs flushed), as in throughput.bench.ts but without the node's
 *    start. Runs go off, on, on, off (ABBA) per two rounds, so a machine getting busier or quieter
 *    weighs on both sides alike. Also measured: how long after the node routed the last input the
 *    sink held every interval record stored in `WFM_OUT` (PostgreSQL: `count(*)` of the table
 *    polled every 25 ms, then `PostgresIntervalSink.query` checks the rows; LevelDB: the rows
 *    the node's history writers committed).
 *
 * Run alone: node --expose-gc --import tsx bench/run.ts database (about 5 minutes on a busy 2-core
 * machine; DATABASE_BENCH_ROUNDS=1 halves the node part).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pathToFileURL } from 'node:url';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import pg from 'pg';
import type { WfmConfig } from '../src/config/index.ts';
import { localNodeConfig, NatsServer } from '../src/dev/index.ts';
import { createLogger } from '../src/logging/index.ts';
import { WfmNode } from '../src/node/index.ts';
import { PostgresIntervalSink, type StoredInterval } from '../src/persistence/index.ts';
import { TrafficGenerator } from '../src/simulator/index.ts';
import { connectNats, ensureStreams, readSiteHistory } from '../src/streams/index.ts';
import { intervalOutput } from '../test/helpers/outputFixtures.ts';
import { PostgresServer } from '../test/helpers/PostgresServer.ts';
import { type BenchRow, perRound, printRows } from './BenchRow.ts';
import { processCpuMicros, treeCpuMicros } from './CpuMeter.ts';
import { type BacklogCount, publishBacklog as publishWireBacklog, simulatedBacklog } from './nodeBench.ts';

const TENANT = 'T1';
/** Part 1: rows written 1000 per write, and one per write. */
const BATCHED_ROWS = 50_000;
const SINGLE_ROWS = 5_000;
const ROWS_PER_WRITE = 1000;
/** Agents of the part-1 site: 25 closed intervals each for 50k rows. */
const SINK_AGENTS = 2000;
/** Part 2: the backlog. */
const SITES = ['S1', 'S2'];
const AGENTS = Number(process.env.DATABASE_BENCH_AGENTS ?? 4000);
const STAT_EVENTS = Number(process.env.DATABASE_BENCH_STAT_EVENTS ?? 200_000);
const ROUNDS = Math.max(1, Number(process.env.DATABASE_BENCH_ROUNDS ?? 2));
/**
 * The lone bench node's `leaseSeconds`. Not the default 3: its write permit (a sixth of the
 * lease, 500 ms) runs out at every event-loop stall longer than that, which a machine with a load
 * of 10+ on 2 cores gives all the time; each regained lease re-reads `WFM_OUT` after the last mark
 * (storedAfter), so a run with the LevelDB sink slowed from 4k to 150 msgs/s and never finished.
 * 30 s (permit 5 s) measures the sink instead; both modes run with it.
 */
const LEASE_SECONDS = Number(process.env.DATABASE_BENCH_LEASE_SECONDS ?? 30);
/** How long the sink may take to hold every interval record after the last input. */
const HISTORY_TIMEOUT_MS = 120_000;
const POLL_MS = 25;
const START = Date.UTC(2026, 0, 5, 7, 0, 0);
const INTERVAL_MS = 15 * 60_000;

/** Node data dirs not yet removed: an interrupted run (SIGINT) removes them on exit. */
const dataDirs = new Set<string>();
process.once('exit', () => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});
const benchStart = performance.now();
const log = (text: string) =>
  process.stderr.write(`[database ${((performance.now() - benchStart) / 1000).toFixed(1)}s] ${text}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

// ---------------------------------------------------------------------------------------------
// Part 1: sink write rate

/**
 * `count` closed interval records of one site in `WFM_OUT` order: interval by interval, every
 * agent's record of that interval, with two other outputs (gc, adherence) between two records.
 */
function intervalRows(site: string, count: number): StoredInterval[] {
  const rows: StoredInterval[] = [];
  for (let n = 0; n < count; n++) {
    const agent = n % SINK_AGENTS;
    const interval = Math.floor(n / SINK_AGENTS);
    const outSeq = 3 * n + 3;
    const agentId = `${site}-${String(agent + 1).padStart(4, '0')}`;
    const record = intervalOutput(site, agentId, outSeq, START + interval * INTERVAL_MS).payload;
    rows.push({ tenant: TENANT, outSeq, record });
  }
  return rows;
}

/** Rows/s of writing `rows` with `perWrite` rows per `write()` (one transaction each), in order. */
async function writeRate(
  url: string,
  site: string,
  rows: StoredInterval[],
  perWrite: number,
): Promise<number> {
  const sink = new PostgresIntervalSink({ url });
  await sink.open();
  try {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += perWrite) {
      const chunk = rows.slice(i, i + perWrite);
      await sink.write({
        tenant: TENANT,
        site,
        epoch: 1,
        rows: chunk,
        upTo: chunk[chunk.length - 1]!.outSeq,
      });
    }
    const secs = (performance.now() - started) / 1000;
    const stored = await sink.query({ tenant: TENANT, sites: [site], from: 0, to: Number.MAX_SAFE_INTEGER });
    if (stored.length !== rows.length)
      throw new Error(`wrote ${rows.length} rows, read back ${stored.length}`);
    const mark = await sink.mark(TENANT, site);
    if (mark.position !== rows[rows.length - 1]!.outSeq) throw new Error(`write mark at ${mark.position}`);
    return rows.length / secs;
  } finally {
    await sink.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Part 2: node throughput, sink on and off

/**
 * Publishes the seeded backlog into `WFM_IN`. Plain publishes (no ack each, a flush every 5000 for
 * back-pressure) then a wait until the stream holds them all: several times faster than one
 * JetStream ack per message on a busy machine, and every run publishes the backlog anew.
 */
async function publishBacklog(url: string): Promise<{ messages: number; stats: number }> {
  const nc = await connectNats({ servers: [url] });
  const jsm = await jetstreamManager(nc);
  await ensureStreams(jsm);
  const generator = new TrafficGenerator({
    tenant: TENANT,
    sites: SITES,
    agentsPerSite: AGENTS / SITES.length,
    seed: 7,
    startTs: START,
  });
  const count: BacklogCount = { messages: 0, stats: 0 };
  await publishWireBacklog(nc, jsm, simulatedBacklog(generator, STAT_EVENTS, count));
  await nc.drain();
  return count;
}

/** Every interval record the node stored in `WFM_OUT`, and how many distinct table keys they have. */
async function storedIntervals(url: string): Promise<{ records: number; keys: number }> {
  const nc = await connectNats({ servers: [url] });
  try {
    const js = jetstream(nc);
    const jsm = await jetstreamManager(nc);
    const keys = new Set<string>();
    let records = 0;
    for (const site of SITES) {
      const { items } = await readSiteHistory(js, jsm, TENANT, site, 0);
      for (const item of items) {
        if ('transfer' in item) continue;
        records++;
        keys.add(`${item.record.site}/${item.record.agentId}/${item.record.intervalStart}`);
      }
    }
    return { records, keys: keys.size };
  } finally {
    await nc.drain();
  }
}

/** Samples a monotone count every POLL_MS from its creation on; tells when it first reached a target. */
class Progress {
  readonly #samples: { at: number; value: number }[] = [];
  readonly #loop: Promise<void>;
  #stopped = false;

  constructor(read: () => Promise<number> | number) {
    this.#loop = (async () => {
      while (!this.#stopped) {
        const value = await read();
        this.#samples.push({ at: performance.now(), value });
        await sleep(POLL_MS);
      }
    })();
  }

  get last(): number {
    return this.#samples[this.#samples.length - 1]?.value ?? 0;
  }

  /** performance.now() of the first sample ≥ target; null when not reached within the timeout. */
  async reached(target: number, timeoutMs: number): Promise<number | null> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const hit = this.#samples.find((s) => s.value >= target);
      if (hit !== undefined) return hit.at;
      if (performance.now() > deadline) return null;
      await sleep(POLL_MS);
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}

interface NodeRun {
  database: boolean;
  messages: number;
  stats: number;
  rate: number;
  intervalOutputs: number;
  intervalRecords: number;
  intervalKeys: number;
  /** Seconds from the last input routed to the sink holding every interval record (null: never). */
  historyLag: number | null;
  rowsWritten: number;
  load: number;
  /** CPU µs per input over the rate's span: this process (the node), nats-server, PostgreSQL (0: off). */
  cpu: { self: number; nats: number; postgres: number };
}

async function nodeRun(postgres: PostgresServer | null): Promise<NodeRun> {
  const which = postgres === null ? 'database: null (LevelDB)' : 'database: PostgreSQL';
  const nats = await NatsServer.start();
  const dataDir = mkdtempSync(join(tmpdir(), 'wfm-bench-db-'));
  dataDirs.add(dataDir);
  let count: pg.Client | null = null;
  try {
    const { messages, stats } = await publishBacklog(nats.url);
    const database = postgres === null ? null : await postgres.createDatabase();
    const config: WfmConfig = {
      ...localNodeConfig({ natsUrl: nats.url, dataDir, sites: SITES }),
      database,
      dbDumpFile: join(dataDir, 'DBDumpFile.json'),
      leaseSeconds: LEASE_SECONDS,
    };
    if (database !== null) {
      count = new pg.Client({ connectionString: database });
      await count.connect();
    }
    (globalThis as { gc?: () => void }).gc?.();
    log(`${which}: ${messages} msgs published, node starting`);
    const loadBefore = loadavg()[0]!;
    const started = performance.now();
    const node = await WfmNode.start({ config, nodeId: 'bench', logger: createLogger({ level: 'silent' }) });
    try {
      const running = performance.now();
      // From the first input routed: the node's start (connections, stores, leases) is not the stream path.
      while (node.processedSeq === 0) await sleep(5);
      const firstInput = performance.now();
      const cpuAt = {
        self: process.cpuUsage(),
        nats: processCpuMicros(nats.pid ?? -1),
        postgres: postgresCpuMicros(postgres),
      };
      log(
        `${which}: node started in ${((running - started) / 1000).toFixed(1)} s, first input routed ${((firstInput - running) / 1000).toFixed(1)} s later`,
      );
      let shown = performance.now();
      while (node.processedSeq < messages) {
        await sleep(20);
        if (performance.now() - shown > 10_000) {
          shown = performance.now();
          log(`${which}: ${node.processedSeq} of ${messages} routed; ${siteEvents(node)}`);
        }
      }
      const lastInput = performance.now();
      log(
        `${which}: last input routed ${((lastInput - firstInput) / 1000).toFixed(1)} s after the first (${siteEvents(node)}), checkpointing`,
      );
      const client = count;
      const progress = new Progress(
        client === null
          ? () => node.historyRowsWritten
          : async () =>
              (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM agent_interval')).rows[0]!.n,
      );
      await node.checkpoint();
      const rate = messages / ((performance.now() - firstInput) / 1000);
      const self = process.cpuUsage(cpuAt.self);
      const cpu = {
        self: (self.user + self.system) / messages,
        nats: (processCpuMicros(nats.pid ?? -1) - cpuAt.nats) / messages,
        postgres: (postgresCpuMicros(postgres) - cpuAt.postgres) / messages,
      };
      const load = (loadBefore + loadavg()[0]!) / 2;
      const intervalOutputs = [...node.sites.values()].reduce(
        (sum, s) => sum + s.counters.outputs.interval,
        0,
      );
      log(`${which}: checkpointed; reading the interval records of WFM_OUT`);
      const { records, keys } = await storedIntervals(nats.url);
      log(`${which}: ${records} interval records in WFM_OUT; waiting for the sink to hold them`);
      if (records === 0) throw new Error('the backlog closed no interval: no interval record in WFM_OUT');
      // The table holds one row per key; the LevelDB writer counts every record it wrote.
      const target = client === null ? records : keys;
      const done = await progress.reached(target, HISTORY_TIMEOUT_MS);
      await progress.stop();
      const historyLag = done === null ? null : Math.max(0, done - lastInput) / 1000;
      if (done === null)
        log(`${which}: sink held ${progress.last} of ${target} after ${HISTORY_TIMEOUT_MS} ms`);
      if (database !== null && done !== null) {
        const sink = new PostgresIntervalSink({ url: database });
        await sink.open();
        const rows = await sink.query({ tenant: TENANT, from: 0, to: Number.MAX_SAFE_INTEGER });
        await sink.close();
        if (rows.length !== keys) throw new Error(`table holds ${rows.length} rows, WFM_OUT ${keys} keys`);
      }
      const run: NodeRun = {
        database: postgres !== null,
        messages,
        stats,
        rate,
        intervalOutputs,
        intervalRecords: records,
        intervalKeys: keys,
        historyLag,
        rowsWritten: node.historyRowsWritten,
        load,
        cpu,
      };
      log(
        `${which}: ${fmt(rate)} msgs/s, ${records} interval records in WFM_OUT (${keys} keys), ` +
          `history complete ${historyLag === null ? 'never' : `${historyLag.toFixed(2)} s`} after the last input, load ${load.toFixed(1)}; ` +
          `CPU per input: this process ${cpu.self.toFixed(1)} µs, nats-server ${cpu.nats.toFixed(1)}, PostgreSQL ${cpu.postgres.toFixed(1)}`,
      );
      return run;
    } finally {
      await node.stop();
    }
  } finally {
    await count?.end().catch(() => undefined);
    await nats.stop();
    rmSync(dataDir, { recursive: true, force: true });
    dataDirs.delete(dataDir);
  }
}

/** Lease and rebuild counters of the node's sites, summed: a node that keeps losing its sites shows here. */
function siteEvents(node: WfmNode): string {
  const sum = (key: 'leasesWon' | 'leasesLost' | 'rebuilds' | 'coldTakeovers' | 'checkpointFailures') =>
    [...node.sites.values()].reduce((total, s) => total + s.counters[key], 0);
  return `leases won ${sum('leasesWon')}, lost ${sum('leasesLost')}, rebuilds ${sum('rebuilds')}, cold takeovers ${sum('coldTakeovers')}, checkpoint failures ${sum('checkpointFailures')}, history rows ${node.historyRowsWritten}`;
}

const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;

/** CPU µs PostgreSQL's processes (postmaster, backends, helpers) used so far; 0 with no server. */
function postgresCpuMicros(postgres: PostgresServer | null): number {
  const pid = postgres?.pid;
  return pid === undefined ? 0 : treeCpuMicros(pid, true);
}

/** E.g. `this process 31.2 µs + nats-server 20.1 + PostgreSQL 2.3 = 53.6 µs` (means over `runs`). */
function cpuText(runs: readonly NodeRun[]): string {
  const self = mean(runs.map((r) => r.cpu.self));
  const nats = mean(runs.map((r) => r.cpu.nats));
  const postgres = mean(runs.map((r) => r.cpu.postgres));
  const pg = postgres > 0 ? ` + PostgreSQL ${postgres.toFixed(1)}` : '';
  return `this process ${self.toFixed(1)} µs + nats-server ${nats.toFixed(1)}${pg} = ${(self + nats + postgres).toFixed(1)} µs`;
}

export default async function databaseBench(): Promise<BenchRow[]> {
  // Interrupted, the exit hooks of PostgresServer and NatsServer stop the servers it started.
  const onSignal = () => process.exit(130);
  process.once('SIGINT', onSignal).once('SIGTERM', onSignal);
  log(
    `load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  const postgres = await PostgresServer.start();
  try {
    log('PostgreSQL up; part 1: sink writes');
    const batched = await writeRate(
      await postgres.createDatabase(),
      'S1',
      intervalRows('S1', BATCHED_ROWS),
      ROWS_PER_WRITE,
    );
    log(`${BATCHED_ROWS} rows, ${ROWS_PER_WRITE} per write: ${fmt(batched)} rows/s`);
    const single = await writeRate(await postgres.createDatabase(), 'S1', intervalRows('S1', SINGLE_ROWS), 1);
    log(`${SINGLE_ROWS} rows, 1 per write: ${fmt(single)} rows/s`);

    log(`part 2: node runs, ${ROUNDS} round(s) of off/on (ABBA)`);
    const runs: NodeRun[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? [null, postgres] : [postgres, null];
      for (const pgServer of order) runs.push(await nodeRun(pgServer));
    }
    const off = runs.filter((r) => !r.database);
    const on = runs.filter((r) => r.database);
    const offRate = mean(off.map((r) => r.rate));
    const onRate = mean(on.map((r) => r.rate));
    const first = runs[0]!;
    const backlog = `${fmt(first.messages)} msgs (${fmt(first.stats)} stat events, ${AGENTS / 1000}k agents, 2 sites)`;
    const each = (rs: NodeRun[]) => rs.map((r) => fmt(r.rate)).join(' / ');
    const lags = (rs: NodeRun[]) => rs.map((r) => r.historyLag);
    const worstLag = (rs: NodeRun[]) =>
      lags(rs).some((l) => l === null) ? Number.NaN : Math.max(...lags(rs).map((l) => l ?? 0));
    const distinct = (values: number[]) => [...new Set(values)].join(' / ');
    const pairs = perRound(
      runs,
      (r) => r.database,
      (on, off) => on.rate / off.rate,
    );
    return [
      {
        bench: 'database',
        scenario: `PostgresIntervalSink.write, ${fmt(BATCHED_ROWS)} interval rows of 1 site, ${ROWS_PER_WRITE} rows per write`,
        value: Math.round(batched),
        unit: 'rows/s',
      },
      {
        bench: 'database',
        scenario: `PostgresIntervalSink.write, ${fmt(SINGLE_ROWS)} interval rows of 1 site, 1 row per write (one fenced transaction each)`,
        value: Math.round(single),
        unit: 'rows/s',
      },
      {
        bench: 'database',
        scenario: `batched / one row per write`,
        value: batched / single,
        unit: 'ratio',
      },
      {
        bench: 'database',
        scenario: `node (leaseSeconds ${LEASE_SECONDS}), database: null (embedded LevelDB sink), ${backlog}, first input to last checkpoint; mean of ${each(off)}`,
        value: Math.round(offRate),
        unit: 'events/s',
      },
      {
        bench: 'database',
        scenario: `node, database: PostgreSQL, same backlog; mean of ${each(on)}`,
        value: Math.round(onRate),
        unit: 'events/s',
      },
      {
        bench: 'database',
        scenario: `node sink on / off (per round: ${pairs.join(', ')})`,
        value: onRate / offRate,
        unit: 'ratio',
        target: '≥ 0.95',
      },
      {
        bench: 'database',
        scenario: `CPU per input, database: null: ${cpuText(off)}; PostgreSQL: ${cpuText(on)} (PostgreSQL runs on the same 2 cores)`,
        value: mean(on.map((r) => r.cpu.self + r.cpu.nats + r.cpu.postgres)),
        unit: 'µs',
      },
      {
        bench: 'database',
        // The rate ratio also carries PostgreSQL's own CPU on the node's cores (a database server
        // runs elsewhere in production): this one is the node process's side alone.
        scenario: `this process's CPU per input (the node), database: null / PostgreSQL: what the sink costs the node itself (per round: ${perRound(
          runs,
          (r) => !r.database,
          (off, on) => off.cpu.self / on.cpu.self,
        ).join(', ')})`,
        value: mean(off.map((r) => r.cpu.self)) / mean(on.map((r) => r.cpu.self)),
        unit: 'ratio',
      },
      {
        bench: 'database',
        scenario: `interval records in WFM_OUT each run (${distinct(runs.map((r) => r.intervalKeys))} distinct agent/interval keys; node counted ${distinct(runs.map((r) => r.intervalOutputs))})`,
        value: Math.min(...runs.map((r) => r.intervalRecords)),
        unit: 'records',
        target: '> 0',
      },
      {
        bench: 'database',
        scenario: `PostgreSQL table held every interval row, after the last input (worst of ${lags(on)
          .map((l) => (l === null ? 'never' : l.toFixed(2)))
          .join(' / ')})`,
        value: worstLag(on),
        unit: 's',
      },
      {
        bench: 'database',
        scenario: `LevelDB sink held every interval record, after the last input (worst of ${lags(off)
          .map((l) => (l === null ? 'never' : l.toFixed(2)))
          .join(' / ')})`,
        value: worstLag(off),
        unit: 's',
      },
      {
        bench: 'database',
        scenario: `machine: 1-min load average during the node runs (2 cores; ${runs.map((r) => r.load.toFixed(1)).join(' / ')})`,
        value: mean(runs.map((r) => r.load)),
        unit: 'load',
      },
    ];
  } finally {
    await postgres.destroy();
    process.off('SIGINT', onSignal).off('SIGTERM', onSignal);
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await databaseBench());
