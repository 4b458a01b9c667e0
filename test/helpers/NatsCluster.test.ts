import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { Kvm } from '@nats-io/kv';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsCluster } from './NatsCluster.ts';

const STREAM = 'ORDERS';
const RETRY_FOR_MS = 20_000;

/**
 * Retries `op` (a publish or a KV call during a leader election) until it resolves to a value
 * other than undefined; rejects with its last error, or `describe()`, after RETRY_FOR_MS.
 */
async function retried<T>(op: () => Promise<T | undefined>, describe = () => ''): Promise<T> {
  const deadline = Date.now() + RETRY_FOR_MS;
  for (;;) {
    let error: unknown;
    try {
      const value = await op();
      if (value !== undefined) return value;
    } catch (err) {
      error = err;
    }
    if (Date.now() > deadline) throw error ?? new Error(`gave up after ${RETRY_FOR_MS} ms: ${describe()}`);
    await sleep(100);
  }
}

/** Publishes `ids` in order, each with its own Nats-Msg-Id, retrying on timeouts and 503s. */
async function publishAll(js: JetStreamClient, ids: string[]): Promise<void> {
  for (const id of ids) {
    await retried(() => js.publish(`orders.${id}`, id, { msgID: id, timeout: 1000 }));
  }
}

function ids(from: number, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `m-${String(from + i).padStart(3, '0')}`);
}

describe('NatsCluster (3-server JetStream cluster test helper)', () => {
  let cluster: NatsCluster;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let jsm: JetStreamManager;

  beforeAll(async () => {
    cluster = await NatsCluster.start();
    nc = await connect({ servers: cluster.urls, maxReconnectAttempts: -1, reconnectTimeWait: 250 });
    js = jetstream(nc, { timeout: 5000 });
    jsm = await jetstreamManager(nc, { timeout: 5000 });
  }, 60_000);

  afterAll(async () => {
    await nc?.close();
    await cluster?.stop();
  }, 60_000);

  it('starts n1..n3 on their own ports with an elected meta leader', async () => {
    expect(cluster.servers.map((s) => s.name)).toEqual(['n1', 'n2', 'n3']);
    expect(new Set(cluster.urls).size).toBe(3);
    expect(cluster.urls).toEqual(cluster.servers.map((s) => s.url));
    for (const s of cluster.servers) {
      expect(s.running).toBe(true);
      expect(s.pid).toBeGreaterThan(0);
      expect(s.url).toMatch(/^nats:\/\/127\.0\.0\.1:\d+$/);
      expect(existsSync(s.storeDir)).toBe(true);
    }
    expect(['n1', 'n2', 'n3']).toContain(await cluster.metaLeader());
    const account = await jsm.getAccountInfo();
    expect(account.streams).toBe(0);
  });

  it('an R3 stream and KV keep every message exactly once when the stream leader is SIGKILLed', async () => {
    // Creating an R3 asset waits for its RAFT group to elect a leader: over 2 s now and then on a
    // busy machine. Both creates are idempotent, so a timed-out one is simply sent again.
    await retried(() => jsm.streams.add({ name: STREAM, subjects: ['orders.>'], num_replicas: 3 }));
    const kv = await retried(() => new Kvm(js).create('X', { replicas: 3 }));
    expect((await jsm.streams.info('KV_X')).config.num_replicas).toBe(3);
    await kv.put('k', 'before');

    const first = ids(1, 100);
    await publishAll(js, first);
    const leader = await cluster.leaderOf(STREAM);
    expect(['n1', 'n2', 'n3']).toContain(leader);

    await cluster.kill(leader);
    const killed = cluster.server(leader);
    expect(killed.running).toBe(false);
    expect(killed.pid).toBeUndefined();

    // The client is on all three URLs: it reconnects if it was on the killed server, and the
    // publishes wait out the stream's leader election by retrying.
    const second = ids(101, 100);
    await publishAll(js, second);
    expect(await retried(async () => (await kv.get('k'))?.string())).toBe('before');
    await retried(() => kv.put('k', 'after'));

    const newLeader = await retried(async () => {
      const l = await cluster.leaderOf(STREAM);
      return l !== leader ? l : undefined;
    });
    expect(newLeader).not.toBe(leader);
    // With a replica down the streams are not current, and the wait says which one and why.
    // The killed server may have led the meta group too: STREAM.NAMES waits for its successor.
    await retried(() => cluster.metaLeader());
    await expect(cluster.waitStreamsCurrent(3000)).rejects.toThrow(
      new RegExp(`streams not current within 3000 ms \\(.*replica ${leader} not current`),
    );

    const info = await jsm.streams.info(STREAM);
    expect(info.state.messages).toBe(200);
    expect(info.state.first_seq).toBe(1);
    expect(info.state.last_seq).toBe(200);
    const stored: string[] = [];
    for (let seq = 1; seq <= 200; seq++) {
      const m = await jsm.streams.getMessage(STREAM, { seq });
      expect(m?.header.get('Nats-Msg-Id')).toBe(m?.string());
      stored.push(m?.string() ?? '');
    }
    expect(stored).toEqual([...first, ...second]);

    await cluster.restart(leader);
    expect(killed.running).toBe(true);
    // Back and caught up: every stream's leader lists every replica as current, lag 0.
    await cluster.waitStreamsCurrent(RETRY_FOR_MS);
    const replicas = (await jsm.streams.info(STREAM)).cluster?.replicas ?? [];
    expect(replicas.map((r) => [r.current, r.lag ?? 0])).toEqual([
      [true, 0],
      [true, 0],
    ]);
    expect(await cluster.describeStreams()).toMatch(
      new RegExp(`^stream ${STREAM} msgs 200 last 200 leader n\\d`, 'm'),
    );
    expect((await kv.get('k'))?.string()).toBe('after');
    expect((await jsm.streams.info(STREAM)).state.messages).toBe(200);
  });

  it('names the server in its errors and stops for good', async () => {
    await expect(cluster.kill('n9')).rejects.toThrow('no server n9 in the cluster (n1, n2, n3)');
    await expect(NatsCluster.start({ size: 1 })).rejects.toThrow('at least 2, got 1');
    const other = await NatsCluster.start({ size: 2, clusterName: 'pair' });
    expect(other.urls).toHaveLength(2);
    const dirs = other.servers.map((s) => s.storeDir);
    await other.stop();
    await other.stop();
    expect(other.servers.map((s) => s.running)).toEqual([false, false]);
    expect(dirs.filter((d) => existsSync(d))).toEqual([]);
    await expect(other.restart('n1')).rejects.toThrow('NatsCluster.restart() after stop()');
  });
});
