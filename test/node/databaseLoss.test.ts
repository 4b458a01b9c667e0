/**
 * DESIGN guarantees 3 and 4 end to end, with a real `wfm-agg node` child process, a real
 * nats-server and a real PostgreSQL: the node projects `WFM_OUT`'s interval records into
 * `agent_interval`; when the database dies (immediate shutdown) it retries for `dbRetrySeconds`,
 * writes what the table lacks to the dump file, and exits non-zero; started again with the
 * database back, it writes the dump, deletes it and goes on — also when SIGKILLed while doing so.
 * Every time, the table must equal the interval records of an undisturbed run: 0 lost, 0 doubled,
 * 0 different. A slow database (a lock held on the table) is no outage; a corrupt dump file
 * refuses the start and is kept byte for byte; the password never reaches a log line.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntervalRecord } from '../../src/domain/index.ts';
import { PostgresIntervalSink, readDumpFile } from '../../src/persistence/index.ts';
import { SeededRandom } from '../../src/simulator/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { allRows, intervalRecordsOf, rowDifferences, waitForRows } from '../helpers/intervalTable.ts';
import { waitFor } from '../helpers/NodeProcess.ts';
import { PostgresServer } from '../helpers/PostgresServer.ts';
import {
  baselineRun,
  livePublisher,
  type StandbyNats,
  standbyNats,
  standbyTraffic,
} from '../helpers/standbyTraffic.ts';

const SITES = ['S1', 'S2'];
const SEED = 20261202;
const EXIT_DATABASE_LOST = 3;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('the WFM database lost and back, end to end', () => {
  const traffic = standbyTraffic({ sites: SITES, agentsPerSite: 15, hours: 3, seed: SEED });
  let expected: IntervalRecord[];
  let pg: PostgresServer;
  let nats: StandbyNats;
  let cluster: ClusterRun;
  let sink: PostgresIntervalSink;

  beforeAll(async () => {
    expected = intervalRecordsOf((await baselineRun(traffic, SITES)).out);
    pg = await PostgresServer.start();
    nats = await standbyNats(true);
    cluster = new ClusterRun({
      natsUrl: nats.server.url,
      sites: SITES,
      extraConfig: { standbyReplicas: 0, database: pg.url, dbRetrySeconds: 2 },
    });
    sink = new PostgresIntervalSink({ url: pg.url });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await sink?.close();
    await nats?.close();
    await pg?.destroy();
  });

  const dumpFile = () => join(cluster.homes.get('a')!.dataDir, 'DBDumpFile.json');
  const exists = (path: string) =>
    stat(path).then(
      () => true,
      () => false,
    );

  async function tableEqualsBaseline(): Promise<void> {
    const rows = await waitForRows(sink, expected.length, {
      timeoutMs: 30_000,
      describe: () => cluster.logs(),
    });
    expect(rowDifferences(expected, rows)).toEqual([]);
  }

  let live: ReturnType<typeof livePublisher>;
  const quarter = Math.floor(traffic.length / 4);

  it('a slow database (the table locked longer than dbRetrySeconds) is no outage: no dump, nothing lost', async () => {
    expect(expected.length).toBeGreaterThan(200);
    live = livePublisher(nats.js, traffic);
    const node = await cluster.start('a');
    await live.publish(quarter);
    await cluster.waitCaughtUp(live.published(), 60_000);
    await sink.open();
    await waitFor(async () => ((await allRows(sink)).length > 0 ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => cluster.logs(),
    });
    const before = (await allRows(sink)).length;
    const lock = await pg.holdTableLock('agent_interval', 5000);
    await live.publish(quarter);
    await lock.released;
    expect(node.running, cluster.logs()).toBe(true);
    expect(await exists(dumpFile())).toBe(false);
    await cluster.waitCaughtUp(live.published(), 60_000);
    await waitFor(async () => ((await allRows(sink)).length > before ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => cluster.logs(),
    });
    await sink.close();
  }, 120_000);

  it('database dies mid-stream: dump, exit 3; restarted with the database back (SIGKILLed while writing the dump back, too): the table equals the undisturbed run', async () => {
    const node = cluster.node('a');
    await pg.stop('immediate');
    await live.publish(quarter);
    const exit = await node.exited;
    expect(exit.code, cluster.logs()).toBe(EXIT_DATABASE_LOST);
    const dump = await readDumpFile(dumpFile(), 'T1');
    const dumped = dump?.sites.reduce((n, s) => n + s.rows.length, 0) ?? 0;
    expect(dumped, cluster.logs()).toBeGreaterThan(0);
    expect(node.logged('wrote the dump file').length).toBe(1);

    await pg.startAgain();
    // SIGKILL while the dump is written back: it must be written once, whenever the kill lands.
    const rng = new SeededRandom(SEED);
    for (let round = 0; round < 4; round++) {
      const victim = await cluster.spawn('a');
      await sleep(rng.int(200, 1400));
      await victim.kill();
    }
    await live.publish();
    await cluster.start('a');
    await cluster.waitCaughtUp(traffic.length, 60_000);
    expect(await exists(dumpFile())).toBe(false);
    await sink.open();
    await tableEqualsBaseline();
    for (const n of cluster.all)
      for (const r of n.records) expect(JSON.stringify(r)).not.toContain(pg.options.password);
  }, 240_000);

  it('a corrupt dump file refuses the start with a clear error and is kept byte for byte', async () => {
    await cluster.node('a').stop();
    const garbage = '{"format":"wfm-agg-dbdump","version":1,"tenant":"T1","sites":[{"si';
    await writeFile(dumpFile(), garbage);
    const node = await cluster.spawn('a');
    const exit = await node.exited;
    expect(exit.code).toBe(2);
    expect(node.log).toMatch(/dump file .*DBDumpFile\.json/);
    expect(await readFile(dumpFile(), 'utf8')).toBe(garbage);
  }, 60_000);
});
