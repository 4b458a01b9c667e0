/**
 * DESIGN.md guarantee 2 (hot standby) with real child-process nodes on one nats-server, two and
 * then three of them: every site has one primary and one hot backup on another node; the primary of a random site is
 * SIGKILLed twenty times at seeded random moments under live traffic (some lives long enough to
 * reach a checkpoint, so kills land around them too), and restarted. A backup must take over
 * within the lease each time, and in the end `WFM_OUT` and `WFM_DLQ` must hold exactly what one
 * undisturbed node wrote: 0 lost, 0 doubled, 0 different, the same order per subject. The
 * streams keep a 100 ms duplicate window, so the server's dedupe cannot hide a re-sent output.
 * Interval history goes to a real PostgreSQL, and its `agent_interval` rows must equal the
 * undisturbed run's interval records too. The seed is in every failure message; `STANDBY_SEED=n` replays a schedule (timing aside).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresIntervalSink } from '../../src/persistence/index.ts';
import { SeededRandom } from '../../src/simulator/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { intervalRecordsOf, rowDifferences, waitForRows } from '../helpers/intervalTable.ts';
import { publishMessages } from '../helpers/outputs.ts';
import { PostgresServer } from '../helpers/PostgresServer.ts';
import {
  baselineRun,
  differences,
  type StandbyNats,
  standbyNats,
  standbyTraffic,
} from '../helpers/standbyTraffic.ts';

const SEED = Number(process.env.STANDBY_SEED ?? 20261201);
const SITES = ['S1', 'S2'];
const ROUNDS = 20;
const LEASE_SECONDS = 3;
/** Slack over the lease for polling `/api/status` on a busy 2-core machine. */
const STATUS_SLACK_MS = 1500;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe.each([{ nodes: ['a', 'b'] }, { nodes: ['a', 'b', 'c'] }])(
  'hot standby: SIGKILL the primary of a site, twenty times, under live traffic ($nodes)',
  ({ nodes }) => {
    const traffic = standbyTraffic({ sites: SITES, agentsPerSite: 25, hours: 2, seed: SEED });
    const chunks: (typeof traffic)[] = [];
    let baseline: Awaited<ReturnType<typeof baselineRun>>;
    let nats: StandbyNats;
    let cluster: ClusterRun;
    let pg: PostgresServer;

    beforeAll(async () => {
      pg = await PostgresServer.start();
      const size = Math.ceil(traffic.length / (ROUNDS + 1));
      for (let i = 0; i < traffic.length; i += size) chunks.push(traffic.slice(i, i + size));
      baseline = await baselineRun(traffic, SITES);
      nats = await standbyNats(true);
      cluster = new ClusterRun({
        natsUrl: nats.server.url,
        sites: SITES,
        // Interval history goes to PostgreSQL, written by each site's primary only.
        extraConfig: { leaseSeconds: LEASE_SECONDS, standbyReplicas: 1, database: pg.url },
      });
    }, 120_000);

    afterAll(async () => {
      await cluster?.stop();
      await nats?.close();
      await pg?.destroy();
    });

    it('a backup takes over within the lease every time; the streams equal the undisturbed run', async () => {
      const rng = new SeededRandom(SEED);
      let published = 0;
      const publishChunk = async (chunk: typeof traffic) => {
        // Live traffic: slices with pauses, so kills land while input flows.
        for (let i = 0; i < chunk.length; i += 40) {
          await publishMessages(nats.js, chunk.slice(i, i + 40), { firstIndex: published });
          published += Math.min(40, chunk.length - i);
          await sleep(25);
        }
      };
      await Promise.all(nodes.map((id) => cluster.start(id)));
      const takeovers: number[] = [];
      const context = () =>
        `seed ${SEED}; published ${published}/${traffic.length}; takeovers ms ${takeovers.join(',')}`;
      for (let round = 0; round < ROUNDS; round++) {
        // Every backup hot first: a victim killed while its site's only backup still restores
        // after its own restart (the round before) has no backup to take over within the lease.
        await cluster.waitCaughtUp(published, 30_000);
        const leaders = await cluster.waitAllLed({ timeoutMs: 15_000 });
        const site = SITES[rng.int(0, SITES.length - 1)]!;
        const victim = leaders.get(site)!;
        const publishing = publishChunk(chunks[round]!);
        // Mostly short lives; every fourth reaches past a timed checkpoint (5 s) of the victim.
        await sleep(round % 4 === 3 ? rng.int(4800, 6000) : rng.int(50, 1500));
        const killedAt = Date.now();
        await cluster.node(victim).kill();
        await cluster.waitAllLed({ exclude: [victim], timeoutMs: LEASE_SECONDS * 1000 + STATUS_SLACK_MS });
        takeovers.push(Date.now() - killedAt);
        await publishing;
        await cluster.start(victim);
      }
      await publishChunk(chunks.slice(ROUNDS).flat());
      expect(published).toBe(traffic.length);
      await cluster.waitCaughtUp(traffic.length, 60_000);
      // The successors' rows continue exactly where each killed primary's stopped.
      const expected = intervalRecordsOf(baseline.out);
      const sink = new PostgresIntervalSink({ url: pg.url });
      await sink.open();
      const rows = await waitForRows(sink, expected.length, {
        timeoutMs: 30_000,
        describe: () => cluster.logs(),
      }).finally(() => sink.close());
      expect(rowDifferences(expected, rows), context()).toEqual([]);
      for (const id of nodes) expect(await cluster.node(id).stop()).toEqual({ code: 0, signal: null });
      expect(await differences(nats, baseline), context()).toEqual([]);
      expect(takeovers).toHaveLength(ROUNDS);
      console.log(
        `hot standby takeovers (ms, SIGKILL to the successor's status saying primary): ${context()}`,
      );
    }, 400_000);
  },
);
