/**
 * How users scale past one machine: two wfm-agg nodes (primary and backup per site) on a
 * three-server NATS cluster (cluster routes on free ports, every stream and KV bucket with three
 * replicas). Under live traffic the server leading `WFM_OUT` is killed mid-stream, then (once it
 * is back and every replica current, as in a rolling restart) the one leading `WFM_LEADER`; the
 * outputs must still equal one undisturbed node's on one server: 0 lost, 0 doubled, 0 different
 * (a 100 ms duplicate window, so server-side dedupe hides nothing),
 * every output subject in order; dead letters in any order (the Publisher keeps them pipelined).
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStreams } from '../../src/streams/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { NatsCluster } from '../helpers/NatsCluster.ts';
import {
  baselineRun,
  CHAOS_DUPLICATE_WINDOW_MS,
  differences,
  livePublisher,
  standbyTraffic,
} from '../helpers/standbyTraffic.ts';

const SITES = ['S1', 'S2'];
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('hot standby on a three-server NATS cluster', () => {
  const traffic = standbyTraffic({ sites: SITES, agentsPerSite: 15, hours: 1, seed: 3 });
  let baseline: Awaited<ReturnType<typeof baselineRun>>;
  let nats: NatsCluster;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;
  let cluster: ClusterRun;
  let live: ReturnType<typeof livePublisher>;
  const publish = (count?: number) => live.publish(count);

  beforeAll(async () => {
    baseline = await baselineRun(traffic, SITES);
    nats = await NatsCluster.start();
    nc = await connect({ servers: nats.urls, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
    js = jetstream(nc, { timeout: 10_000 });
    jsm = await jetstreamManager(nc, { timeout: 10_000 });
    // Live traffic that rides out a server's death: each message retried until acked.
    live = livePublisher(js, traffic, { retry: true });
    await ensureStreams(jsm, {
      replicas: 3,
      outDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS,
      dlqDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS,
    });
    cluster = new ClusterRun({
      natsUrl: nats.urls,
      sites: SITES,
      extraConfig: { leaseSeconds: 3, standbyReplicas: 1, streams: { replicas: 3 } },
    });
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
    await nc?.close().catch(() => undefined);
    await nats?.stop();
  });

  it('kills the WFM_OUT leader, then the WFM_LEADER leader: outputs equal the undisturbed run', async () => {
    await Promise.all([cluster.start('a'), cluster.start('b')]);
    await publish(traffic.length / 4);
    await cluster.waitAllLed({ timeoutMs: 20_000 });
    await nats.waitStreamsCurrent(60_000);

    const outLeader = await nats.leaderOf('WFM_OUT');
    const during = publish(traffic.length / 4);
    await sleep(300);
    await nats.kill(outLeader);
    await during;
    await nats.restart(outLeader);
    // A rolling restart's rule: the next server goes down only once every replica is current
    // again. Killing the WFM_LEADER leader while the restarted server still catches up WFM_OUT
    // would be a second fault in one replica group, past what three replicas tolerate.
    await nats.waitStreamsCurrent(120_000);

    const leaseLeader = await nats.leaderOf('KV_WFM_LEADER');
    const during2 = publish(traffic.length / 4);
    await sleep(300);
    await nats.kill(leaseLeader);
    await during2;
    await nats.restart(leaseLeader);
    await nats.waitStreamsCurrent(120_000);

    await publish();
    expect(live.published()).toBe(traffic.length);
    // A loaded machine: the restarted servers and the nodes' restores can take minutes to settle.
    await cluster.waitCaughtUp(traffic.length, 240_000).catch(async (error: Error) => {
      throw new Error(`${error.message}\nNATS streams:\n${await nats.describeStreams()}`, { cause: error });
    });
    await cluster.waitAllLed({ timeoutMs: 20_000 });
    for (const node of cluster.processes.values()) if (node.running) await node.stop();
    expect(
      // Dead letters are compared unordered: the WFM_OUT/WFM_DLQ leader dies mid-stream.
      await differences({ js, jsm }, baseline, { deadLettersOrdered: false }),
      // The nodes' last log lines (leases, rebuilds, publish failures) say how a difference came.
      `killed ${outLeader} (WFM_OUT leader), then ${leaseLeader} (WFM_LEADER leader)\n${cluster.logs()}`,
    ).toEqual([]);
  }, 400_000);
});
