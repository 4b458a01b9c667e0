/**
 * `wfm-agg report` while a node runs on the embedded store: the node holds the LevelDB open, so
 * the CLI asks it over `wfm.admin.T.report` and prints exactly the interval records the node
 * wrote to `WFM_OUT` (through its history writer into `<dataDir>/intervals`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntervalRecord } from '../../src/domain/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { intervalRecordsOf } from '../helpers/intervalTable.ts';
import { waitFor } from '../helpers/NodeProcess.ts';
import { readStream } from '../helpers/outputs.ts';
import { livePublisher, type StandbyNats, standbyNats, standbyTraffic } from '../helpers/standbyTraffic.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

describe('wfm-agg report from a running node (embedded store)', () => {
  const traffic = standbyTraffic({ sites: ['S1'], agentsPerSite: 8, hours: 2, seed: 7 });
  let nats: StandbyNats;
  let cluster: ClusterRun;

  beforeAll(async () => {
    nats = await standbyNats(false);
    cluster = new ClusterRun({
      natsUrl: nats.server.url,
      sites: ['S1'],
      extraConfig: { standbyReplicas: 0 },
    });
  }, 60_000);

  afterAll(async () => {
    await cluster?.stop();
    await nats?.close();
  });

  it('prints every interval record the node wrote, as JSON', async () => {
    await cluster.start('a');
    await livePublisher(nats.js, traffic).publish();
    await cluster.waitCaughtUp(traffic.length, 60_000);
    const expected = intervalRecordsOf(await readStream(nats.js, nats.jsm, 'WFM_OUT'));
    expect(expected.length).toBeGreaterThan(20);
    const args = ['report', '--config', cluster.homes.get('a')!.configFile, '--site', 'S1'];
    args.push('--from', '2026-01-01', '--to', '2026-02-01', '--format', 'json');
    let printed: IntervalRecord[] = [];
    await waitFor(
      async () => {
        const { stdout } = await wfmAgg(args);
        const report = JSON.parse(stdout) as { intervals: { agentId: string; intervalStart: number }[] };
        printed = report.intervals as unknown as IntervalRecord[];
        return printed.length >= expected.length ? true : undefined;
      },
      { timeoutMs: 60_000, describe: () => `${printed.length} of ${expected.length}\n${cluster.logs()}` },
    );
    const key = (r: { agentId: string; intervalStart: number }) => `${r.agentId}@${r.intervalStart}`;
    expect(printed.map(key)).toEqual(expected.map(key));
    const byKey = new Map(printed.map((r) => [key(r), r]));
    for (const r of expected) {
      expect(byKey.get(key(r))).toMatchObject({
        adherenceScheduleSecs: r.adherenceScheduleSecs,
        exceptionDurationSecs: r.exceptionDurationSecs,
        adherencePercentage: r.adherencePercentage,
        conformanceScheduleSecs: r.conformanceScheduleSecs,
        conformanceActualSecs: r.conformanceActualSecs,
        conformancePercentage: r.conformancePercentage,
      });
    }
  }, 180_000);
});
