/**
 * DESIGN.md "Guarantees" 1 (Restart), under chaos: a node child process is SIGKILLed at seeded
 * random moments — while it starts, while traffic is being published, while it is idle, around
 * its checkpoints — and started again on the same data dir, twenty times. After each kill
 * `WFM_IN` is purged up to the lowest `checkpointSeq` the node last reported (DESIGN.md "Running
 * it": a node never needs those messages again), and no restarted node may report a site's
 * `checkpointSeq` below what it reported before. In the end `WFM_OUT` and `WFM_DLQ` must hold
 * exactly what an undisturbed node wrote over the same traffic: nothing lost, nothing doubled,
 * nothing different, the same order per subject (per site for dead letters). The test sees the
 * node only through NATS, the process and `GET /api/status`, so it means the same whatever the
 * node's insides.
 *
 * The traffic carries dead letters (one message in {@link INVALID_EVERY} is invalid input of the
 * kinds README "DLQ reasons" lists), so `WFM_DLQ` is never empty and its comparison means
 * something; the baseline's dead letters are checked against the traffic itself.
 *
 * The chaos run's `WFM_OUT` and `WFM_DLQ` are created with a 100 ms duplicate window, so the
 * server's `Nats-Msg-Id` dedupe cannot hide a re-sent output or dead letter: only the node's own
 * marks can.
 *
 * The node checkpoints on a wall-clock timer (every few seconds), so most lives are short (the
 * node restarts from the same checkpoint, re-processing and skipping what it already wrote) and
 * a few are long enough to reach the next checkpoint, or to be killed in the middle of it.
 *
 * The seed is in every failure message; `CHAOS_SEED=n` replays a schedule (timing aside).
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection, nanos } from '@nats-io/transport-node';
import { afterAll, describe, expect, it } from 'vitest';
import {
  INVALID_INPUT_REASONS,
  SeededRandom,
  TrafficGenerator,
  type TrafficMessage,
} from '../../src/simulator/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeHome, NodeProcess, type NodeStatusJson, waitFor } from '../helpers/NodeProcess.ts';
import {
  compareDeadLetters,
  compareRuns,
  deadLetterFacts,
  expectedDeadLetters,
  publishMessages,
  readStream,
  type StreamRecord,
} from '../helpers/outputs.ts';

const SEED = Number(process.env.CHAOS_SEED ?? 20260105);
const SITES = ['S1', 'S2'];
const AGENTS_PER_SITE = 30;
const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);
const EVENT_HOURS = 2;
const TICK_MS = 2000;
/** One message in this many is invalid input the node must send to the DLQ (~200 of ~10k). */
const INVALID_EVERY = 50;
/** The chaos run's duplicate window for `WFM_OUT` and `WFM_DLQ`. */
const CHAOS_DUPLICATE_WINDOW_MS = 100;
/** Kills in four blocks of five rounds; each block has one long life. */
const BLOCKS = 4;
/** Per block: what is going on when the SIGKILL lands (the first `publishing` or `idle` one lives long). */
const BLOCK: readonly Moment[] = ['startup', 'publishing', 'publishing', 'idle', 'idle'];
const KILLS = BLOCKS * BLOCK.length;
/** A long life ends this long after the node serves: around its first timed checkpoint (5 s). */
const LONG_LIFE_MS: [number, number] = [4900, 6000];
/** A short life: the node is killed before its first timed checkpoint. */
const SHORT_LIFE_MS: [number, number] = [0, 1200];
/** Traffic chunks: one per publishing round, and the last one for the final, undisturbed run. */
const PUBLISHING_ROUNDS = BLOCKS * BLOCK.filter((m) => m === 'publishing').length;
const CHUNKS = PUBLISHING_ROUNDS + 1;
/** A chunk goes out in slices of this many messages with a pause in between (live traffic). */
const SLICE = 40;
const SLICE_PAUSE_MS = 50;

type Moment = 'startup' | 'publishing' | 'idle';

interface Round {
  moment: Moment;
  long: boolean;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function generateTraffic(): TrafficMessage[] {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: SITES,
    agentsPerSite: AGENTS_PER_SITE,
    seed: SEED,
    startTs: START_TS,
    tickMs: TICK_MS,
    invalidEvery: INVALID_EVERY,
  });
  return [...generator.messages(START_TS + EVENT_HOURS * 3_600_000)];
}

function splitIntoChunks<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  const chunks: T[][] = [];
  for (let i = 0; i < count; i++) chunks.push(items.slice(i * size, (i + 1) * size));
  return chunks;
}

/** The rounds, block by block, each block shuffled; one long life per block, alternating kinds. */
function roundPlan(rng: SeededRandom): Round[] {
  const plan: Round[] = [];
  for (let b = 0; b < BLOCKS; b++) {
    const longMoment: Moment = b % 2 === 0 ? 'publishing' : 'idle';
    let longGiven = false;
    const block = BLOCK.map((moment): Round => {
      const long = !longGiven && moment === longMoment;
      if (long) longGiven = true;
      return { moment, long };
    });
    for (let i = block.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [block[i], block[j]] = [block[j]!, block[i]!];
    }
    plan.push(...block);
  }
  return plan;
}

/** True when every site has applied and checkpointed `lastSeq`. */
function caughtUp(status: NodeStatusJson, lastSeq: number): boolean {
  return (
    status.sites.length === SITES.length &&
    status.sites.every((s) => s.processedSeq === lastSeq && s.checkpointSeq === lastSeq)
  );
}

/**
 * Polls `GET /api/status` every 50 ms while the node serves, keeping each site's greatest
 * `checkpointSeq` in `reported` (after handing each report to `check`). The caller stops it right
 * after a kill, so what it holds is what the node reported before it died.
 */
function watchCheckpoints(
  node: NodeProcess,
  reported: Map<string, number>,
  check: (site: string, checkpointSeq: number) => void,
): () => Promise<void> {
  let stopped = false;
  const loop = (async () => {
    try {
      await node.ready;
    } catch {
      return;
    }
    while (!stopped && node.running) {
      try {
        const status = await node.status();
        if (stopped) return;
        for (const s of status.sites) {
          check(s.site, s.checkpointSeq);
          reported.set(s.site, Math.max(reported.get(s.site) ?? 0, s.checkpointSeq));
        }
      } catch {
        // Killed mid-request, or not serving: the previous report stands.
      }
      await sleep(50);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}

describe('restart chaos: SIGKILL at random moments, restart on the same data dir', () => {
  const traffic = generateTraffic();
  const chunks = splitIntoChunks(traffic, CHUNKS);
  const lastSeq = traffic.length;
  const servers: NatsServer[] = [];
  const connections: NatsConnection[] = [];
  const homes: NodeHome[] = [];
  const nodes: NodeProcess[] = [];
  let baseline: { out: StreamRecord[]; dlq: StreamRecord[] } | undefined;

  async function freshServer(): Promise<{ server: NatsServer; js: JetStreamClient; jsm: JetStreamManager }> {
    const server = await NatsServer.start();
    servers.push(server);
    const nc = await connect({ servers: server.url });
    connections.push(nc);
    return { server, js: jetstream(nc), jsm: await jetstreamManager(nc) };
  }

  function track(node: NodeProcess): NodeProcess {
    nodes.push(node);
    return node;
  }

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(homes.map((h) => h.remove()));
  });

  it('an undisturbed node writes the baseline', async () => {
    expect(traffic.length).toBeGreaterThan(5000);
    const { server, js, jsm } = await freshServer();
    await ensureStreams(jsm);
    expect(await publishMessages(js, traffic)).toBe(lastSeq);
    const home = await NodeHome.create({ natsUrl: server.url, sites: SITES });
    homes.push(home);
    const node = track(await NodeProcess.start(home, { nodeId: 'baseline' }));
    let status: NodeStatusJson | undefined;
    await waitFor(
      async () => {
        status = await node.status();
        return caughtUp(status, lastSeq) ? status : undefined;
      },
      { timeoutMs: 45_000, describe: () => `status ${JSON.stringify(status)}\n${node.log}` },
    );
    expect(await node.stop()).toEqual({ code: 0, signal: null });
    const out = await readStream(js, jsm, 'WFM_OUT');
    const dlq = await readStream(js, jsm, 'WFM_DLQ');
    baseline = { out, dlq };
    // The traffic exercises every kind of output, and every kind of dead letter it carries.
    const kinds = new Set(out.map((r) => r.subject.split('.')[1]));
    expect([...kinds].sort()).toEqual(['adherence', 'gc', 'interval']);
    expect(out.length).toBeGreaterThan(2000);
    const expectedDlq = expectedDeadLetters(traffic);
    expect(expectedDlq.length).toBeGreaterThan(100);
    expect(new Set(expectedDlq.map((d) => d.reason))).toEqual(new Set(INVALID_INPUT_REASONS));
    // Each invalid message is dead-lettered once, with its reason, sequence and text.
    expect(dlq.length).toBeGreaterThan(0);
    expect(dlq.every((r) => r.subject === 'wfm.dlq.T1' && r.msgId !== undefined)).toBe(true);
    expect(deadLetterFacts(dlq)).toEqual(expectedDlq);
  });

  it(`survives ${KILLS} SIGKILLs and WFM_IN purges with exactly the baseline's outputs`, async () => {
    if (baseline === undefined) throw new Error('the baseline test did not run');
    const { server, js, jsm } = await freshServer();
    // Outputs and dead letters re-sent more than 100 ms apart are not deduped by the server here.
    await ensureStreams(jsm, {
      outDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS,
      dlqDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS,
    });
    for (const stream of ['WFM_OUT', 'WFM_DLQ']) {
      const { duplicate_window } = (await jsm.streams.info(stream)).config;
      expect(duplicate_window, stream).toBe(nanos(CHAOS_DUPLICATE_WINDOW_MS));
    }
    const home = await NodeHome.create({ natsUrl: server.url, sites: SITES });
    homes.push(home);
    const rng = new SeededRandom(SEED);
    const plan = roundPlan(rng);
    const reported = new Map<string, number>();
    const seen = { startup: 0, publishing: 0, idle: 0 };
    const problems: string[] = [];
    let published = 0;
    let nextChunk = 0;
    let publishing: Promise<void> = Promise.resolve();
    let publishingNow = false;
    let purgedBelow = 1;
    let readyMs = 2000;
    /** `purgedBelow` as each node started: the checkpoints it had to resume from, at least. */
    const floors: number[] = [];
    /** Each life's first `checkpointSeq` > 0 (least over the sites; '-' when none was reported). */
    const firstReported: (number | '-')[] = [];
    const context = () =>
      `seed ${SEED}; kills ${JSON.stringify(seen)}; published ${published}/${lastSeq}; ` +
      `WFM_IN purged below ${purgedBelow}; reported checkpoints ${JSON.stringify([...reported])}; ` +
      `floors at start ${floors.join(',')}; first checkpointSeq reported by each life ${firstReported.join(',')}`;

    /** Publishes the next chunk as live traffic, slice by slice; resolves when all are acked. */
    const publishNextChunk = (): Promise<void> => {
      const chunk = chunks[nextChunk++];
      if (chunk === undefined) throw new Error('no chunk left to publish');
      const firstIndex = published;
      publishingNow = true;
      return (async () => {
        for (let i = 0; i < chunk.length; i += SLICE) {
          const slice = chunk.slice(i, i + SLICE);
          await publishMessages(js, slice, { firstIndex: firstIndex + i });
          published = firstIndex + i + slice.length;
          await sleep(SLICE_PAUSE_MS);
        }
        publishingNow = false;
      })();
    };

    /**
     * Starts watching one life of the node (GET /api/status): a site's `checkpointSeq`, once known
     * (0 while it restores), is never below what it reported durable in an earlier life — a site
     * that resumed from an older checkpoint would need input that was purged (DESIGN.md "Running
     * it"). Returns the stop function; stopping records the life's first report.
     */
    const watchLife = (node: NodeProcess, round: number): (() => Promise<void>) => {
      const durableBefore = new Map(reported);
      const first = new Map<string, number>();
      const flagged = new Set<string>();
      floors.push(purgedBelow);
      const stop = watchCheckpoints(node, reported, (site, checkpointSeq) => {
        if (checkpointSeq === 0) return;
        if (!first.has(site)) first.set(site, checkpointSeq);
        const before = durableBefore.get(site) ?? 0;
        if (checkpointSeq < before && !flagged.has(site)) {
          flagged.add(site);
          problems.push(
            `round ${round}: site ${site} reported checkpointSeq ${checkpointSeq}, below the ${before} ` +
              `it reported before (WFM_IN purged below ${purgedBelow})`,
          );
        }
      });
      return async () => {
        await stop();
        firstReported.push(first.size === 0 ? '-' : Math.min(...first.values()));
      };
    };

    for (const [round, { moment, long }] of plan.entries()) {
      const spawnedAt = Date.now();
      const node = track(NodeProcess.spawn(home, { nodeId: 'chaos' }));
      const stopWatching = watchLife(node, round);
      if (moment === 'startup') {
        // Somewhere between loading the code and serving: opening LevelDB, restoring actors,
        // looking up the published mark, making the consumer.
        await sleep(Math.round(readyMs * (0.5 + 0.5 * rng.next())));
      } else {
        await node.ready;
        readyMs = Date.now() - spawnedAt;
        const [min, max] = long ? LONG_LIFE_MS : SHORT_LIFE_MS;
        const life = rng.int(min, max);
        await publishing;
        if (moment === 'publishing') {
          // The chunk starts shortly before the kill, so the kill lands while it goes out.
          const lead = rng.int(100, 1000);
          await sleep(Math.max(0, life - lead));
          publishing = publishNextChunk();
          await sleep(lead);
        } else {
          await sleep(life);
        }
      }
      const before = node.url === undefined ? 'startup' : publishingNow ? 'publishing' : 'idle';
      const exit = await node.kill();
      await stopWatching();
      seen[before]++;
      if (exit.signal !== 'SIGKILL') {
        problems.push(`round ${round}: the node exited by itself (${JSON.stringify(exit)})\n${node.log}`);
      }
      // What the node last reported is durable: drop every WFM_IN message at or below it.
      const floor = Math.min(...SITES.map((site) => reported.get(site) ?? 0));
      if (floor + 1 > purgedBelow) {
        await jsm.streams.purge('WFM_IN', { seq: floor + 1 });
        purgedBelow = floor + 1;
      }
    }
    await publishing;

    // The last run: the rest of the traffic, then drain with SIGTERM.
    const node = track(await NodeProcess.start(home, { nodeId: 'chaos' }));
    const stopWatching = watchLife(node, plan.length);
    while (nextChunk < chunks.length) await publishNextChunk();
    expect(published).toBe(lastSeq);
    let status: NodeStatusJson | undefined;
    await waitFor(
      async () => {
        status = await node.status();
        return caughtUp(status, lastSeq) ? status : undefined;
      },
      { timeoutMs: 45_000, describe: () => `status ${JSON.stringify(status)}; ${context()}\n${node.log}` },
    );
    expect(await node.stop(), node.log).toEqual({ code: 0, signal: null });
    await stopWatching();

    expect(problems, context()).toEqual([]);
    expect(seen.startup + seen.publishing + seen.idle).toBe(KILLS);
    expect(seen.publishing, context()).toBeGreaterThanOrEqual(PUBLISHING_ROUNDS / 2);
    expect(seen.idle, context()).toBeGreaterThanOrEqual(3);
    // The kills really hit a node with checkpoints (it started on several purge floors, so it
    // resumed from several), and the purges really dropped input the node then never asked for.
    expect(new Set(floors.filter((f) => f > 1)).size, context()).toBeGreaterThanOrEqual(2);
    expect((await jsm.streams.info('WFM_IN')).state.first_seq, context()).toBe(purgedBelow);
    expect(purgedBelow, context()).toBeGreaterThan(1);

    const out = await readStream(js, jsm, 'WFM_OUT');
    const dlq = await readStream(js, jsm, 'WFM_DLQ');
    const outs = compareRuns(baseline.out, out, 'WFM_OUT');
    const dlqs = compareDeadLetters(baseline.dlq, dlq);
    // Both streams at once, so a failure reports both.
    expect(
      [outs, dlqs].filter((c) => !c.same).map((c) => c.summary),
      context(),
    ).toEqual([]);
    const counts = (c: typeof outs) => ({ lost: c.lost, doubled: c.doubled, different: c.different });
    expect(counts(outs)).toEqual({ lost: 0, doubled: 0, different: 0 });
    expect(counts(dlqs)).toEqual({ lost: 0, doubled: 0, different: 0 });
    expect(out.length).toBe(baseline.out.length);
    expect(dlq.length).toBeGreaterThan(0);
    expect(dlq.length).toBe(baseline.dlq.length);
  }, 300_000);
});
