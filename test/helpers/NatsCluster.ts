/**
 * A real JetStream cluster of nats-server processes on 127.0.0.1, for tests that prove the product
 * survives the loss of a NATS server. Every server has its own client, cluster (route) and
 * monitoring port and its own store dir, all in one temp dir; a killed server restarted on the
 * same ports and store dir rejoins the cluster and catches up.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { describeMember, Member, type NatsClusterServer, serverConfig } from './NatsClusterMember.ts';
import { defaultNatsServerOptions, resolveNatsServerBinary } from './NatsServer.ts';
import { describeStreams, streamProblems } from './streamHealth.ts';

/** How to launch a throwaway NATS cluster for a test. */
export interface NatsClusterOptions {
  /**
   * The nats-server executable: a path, or a name looked up on PATH (and in /usr/sbin,
   * /usr/local/bin, where Debian and release tarballs put it).
   * @defaultValue `process.env.NATS_SERVER_BIN ?? 'nats-server'`
   */
  binary: string;
  /**
   * Number of servers, named `n1`…`n<size>`; at least 2 (nats-server refuses a JetStream cluster
   * without routes: use NatsServer for one). It takes 3 for an R3 stream to survive the loss of
   * one server.
   * @defaultValue `3`
   */
  size: number;
  /**
   * `cluster.name` of every server.
   * @defaultValue `'wfm'`
   */
  clusterName: string;
  /**
   * How long `start()` waits for every server to be healthy with an elected JetStream meta
   * leader, and `restart()` for the restarted server to have caught up.
   * @defaultValue `30_000`
   */
  startTimeoutMs: number;
  /**
   * How long `stop()` and `restart()` wait after SIGTERM (and `kill()` after its signal) before
   * they send SIGKILL.
   * @defaultValue `10_000`
   */
  stopTimeoutMs: number;
}

export type { NatsClusterServer };

// A free port found by listen(0) may be taken again before nats-server binds it: try again then.
const START_ATTEMPTS = 3;

export const defaultNatsClusterOptions: NatsClusterOptions = {
  binary: defaultNatsServerOptions.binary,
  size: 3,
  clusterName: 'wfm',
  startTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,
};

/**
 * `size` nats-server processes (default 3) forming one JetStream cluster on 127.0.0.1, each from
 * its own config file (`server_name`, client/cluster/monitoring ports, store dir, routes to all
 * the others). Connect clients with {@link urls}; `kill()` a server for real and `restart()` it.
 */
export class NatsCluster {
  readonly options: NatsClusterOptions;
  private readonly binaryPath: string;
  private readonly rootDir: string;
  private readonly members: Member[];
  private client: Promise<{ nc: NatsConnection; jsm: JetStreamManager }> | undefined;
  private removed = false;

  private constructor(options: NatsClusterOptions, binaryPath: string, rootDir: string, members: Member[]) {
    this.options = options;
    this.binaryPath = binaryPath;
    this.rootDir = rootDir;
    this.members = members;
  }

  /**
   * Starts every server and waits until all are healthy (`/healthz`) and agree on a JetStream
   * meta leader. Rejects with the servers' log tails when they do not, within `startTimeoutMs`.
   */
  static async start(options: Partial<NatsClusterOptions> = {}): Promise<NatsCluster> {
    const merged: NatsClusterOptions = { ...defaultNatsClusterOptions, ...options };
    if (!Number.isInteger(merged.size) || merged.size < 2) {
      throw new Error(`NatsCluster size must be an integer of at least 2, got ${merged.size}`);
    }
    const binaryPath = resolveNatsServerBinary(merged.binary);
    for (let attempt = 1; ; attempt++) {
      const cluster = await NatsCluster.create(merged, binaryPath);
      try {
        for (const member of cluster.members) member.launch(binaryPath);
        await cluster.waitUntilReady(cluster.members);
        return cluster;
      } catch (err) {
        await cluster.stop();
        const portTaken = err instanceof Error && /address already in use/i.test(err.message);
        if (!portTaken || attempt >= START_ATTEMPTS) throw err;
      }
    }
  }

  private static async create(options: NatsClusterOptions, binaryPath: string): Promise<NatsCluster> {
    const rootDir = await mkdtemp(join(tmpdir(), 'wfm-nats-cluster-'));
    const ports = await freePorts(options.size * 3);
    const members: Member[] = [];
    for (let i = 0; i < options.size; i++) {
      const name = `n${i + 1}`;
      const dir = join(rootDir, name);
      await mkdir(dir, { recursive: true });
      members.push(
        new Member(
          name,
          { client: ports[3 * i]!, cluster: ports[3 * i + 1]!, monitor: ports[3 * i + 2]! },
          dir,
        ),
      );
    }
    for (const member of members) {
      const others = members.filter((m) => m !== member);
      await writeFile(member.configFile, serverConfig(member, others, options.clusterName));
    }
    return new NatsCluster(options, binaryPath, rootDir, members);
  }

  /** Client URLs of all servers, running or not (give them all to a client so it fails over). */
  get urls(): string[] {
    return this.members.map((m) => m.url);
  }

  /** The servers, `n1` first. */
  get servers(): readonly NatsClusterServer[] {
    return this.members;
  }

  /** One server by name. */
  server(name: string): NatsClusterServer {
    return this.member(name);
  }

  /** Every server's log tail, headed by its name and state (for failure messages). */
  get log(): string {
    return this.members.map(describeMember).join('\n');
  }

  /**
   * Sends `signal` to one server and waits for it to exit (SIGKILL after `stopTimeoutMs`).
   * Its store dir stays, so `restart()` brings it back with its data.
   */
  async kill(name: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    await this.member(name).signal(signal, this.options.stopTimeoutMs);
  }

  /**
   * Starts one server again with the same ports and store dir (SIGTERM first if it is running)
   * and waits until it has rejoined: healthy, i.e. current with the meta leader and with the
   * streams it holds replicas of.
   */
  async restart(name: string): Promise<void> {
    if (this.removed) throw new Error('NatsCluster.restart() after stop()');
    const member = this.member(name);
    await member.signal('SIGTERM', this.options.stopTimeoutMs);
    member.launch(this.binaryPath);
    await this.waitUntilReady([member]);
  }

  /** Closes the helper's own client, SIGTERMs every server, removes the temp dir. Safe to call twice. */
  async stop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    if (client !== undefined) await client.then(({ nc }) => nc.close()).catch(() => undefined);
    await Promise.all(this.members.map((m) => m.signal('SIGTERM', this.options.stopTimeoutMs)));
    if (!this.removed) {
      this.removed = true;
      await rm(this.rootDir, { recursive: true, force: true });
    }
  }

  /**
   * server_name of the stream's RAFT leader, from `STREAM.INFO` over the helper's own client.
   * Rejects while the stream has no leader (during an election, or when it does not exist).
   */
  async leaderOf(streamName: string): Promise<string> {
    const { jsm } = await this.jsm();
    const info = await jsm.streams.info(streamName);
    const leader = info.cluster?.leader;
    if (leader === undefined || leader === '') throw new Error(`stream ${streamName} has no leader`);
    return leader;
  }

  /**
   * Waits until every stream and consumer has a running leader and every replica is current
   * with it (lag 0, not offline): what an operator waits for between the steps of a rolling
   * restart. `/healthz` of a restarted server says only that it caught up with the meta leader
   * and its own assignments; a replica elsewhere can still be catching up, and a second fault
   * then would exceed what three replicas tolerate.
   */
  async waitStreamsCurrent(timeoutMs = this.options.startTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    // The last answer the cluster gave is kept through failed asks: a timeout alone says little.
    let answer = 'no answer yet';
    let why = answer;
    for (;;) {
      try {
        const running = new Set(this.members.filter((m) => m.running).map((m) => m.name));
        answer = (await streamProblems((await this.jsm()).jsm, running)).join('; ');
        if (answer === '') return;
        why = answer;
      } catch (error) {
        why = `stream info failed: ${(error as Error).message}; last answer: ${answer}`;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `NatsCluster streams not current within ${timeoutMs} ms (${why}):\n${await this.describeStreams()}\n${this.log}`,
        );
      }
      await sleep(200);
    }
  }

  /**
   * One line per stream and consumer (leader, each replica's state) as the cluster answers,
   * then each running server's own view from its `/jsz` (for failure messages: it still says
   * something when the JetStream API does not answer).
   */
  async describeStreams(): Promise<string> {
    let api: string;
    try {
      api = await describeStreams((await this.jsm()).jsm);
    } catch (error) {
      api = `streams not described: ${(error as Error).message}`;
    }
    const views = await Promise.all(
      this.members.map(async (m) => `--- ${m.name} /jsz\n${await m.streamView()}`),
    );
    return [api, ...views].join('\n');
  }

  /**
   * server_name of the JetStream meta leader, from every running server's `/jsz`: only when
   * all of them answer, agree, and the leader is itself running. Undefined otherwise (an
   * election is under way, or the survivors still name a server that was killed: nats-server
   * 2.9 keeps naming the dead leader until its election timeout, several seconds).
   */
  async metaLeader(): Promise<string | undefined> {
    const running = this.members.filter((m) => m.running);
    const metas = await Promise.all(running.map((m) => m.metaCluster()));
    const leaders = new Set(metas.map((meta) => meta?.leader));
    if (leaders.size !== 1) return undefined;
    const [leader] = leaders;
    if (leader === undefined || leader === '') return undefined;
    return running.some((m) => m.name === leader) ? leader : undefined;
  }

  private member(name: string): Member {
    const member = this.members.find((m) => m.name === name);
    if (member === undefined) {
      throw new Error(`no server ${name} in the cluster (${this.members.map((m) => m.name).join(', ')})`);
    }
    return member;
  }

  private jsm(): Promise<{ nc: NatsConnection; jsm: JetStreamManager }> {
    this.client ??= (async () => {
      const nc = await connect({
        servers: this.urls,
        name: 'NatsCluster',
        maxReconnectAttempts: -1,
        reconnectTimeWait: 250,
      });
      return { nc, jsm: await jetstreamManager(nc, { timeout: 2000 }) };
    })();
    // A failed connect is not cached: the next call tries again.
    this.client.catch(() => {
      this.client = undefined;
    });
    return this.client;
  }

  /** Waits until `members` are healthy and all running servers agree on a running meta leader. */
  private async waitUntilReady(members: Member[]): Promise<void> {
    const timeoutMs = this.options.startTimeoutMs;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const dead = members.find((m) => !m.running);
      if (dead !== undefined) {
        throw new Error(`nats-server ${dead.name} exited during start (${dead.exit}):\n${this.log}`);
      }
      const health = await Promise.all(members.map((m) => m.healthy()));
      if (health.every(Boolean) && (await this.metaLeader()) !== undefined) return;
      if (Date.now() > deadline) {
        const sick = members.filter((_, i) => !health[i]).map((m) => m.name);
        const why = sick.length > 0 ? `not healthy: ${sick.join(', ')}` : 'no agreed meta leader';
        throw new Error(`NatsCluster not ready within ${timeoutMs} ms (${why}):\n${this.log}`);
      }
      await sleep(100);
    }
  }
}

/** `count` distinct free loopback ports (all held open at once so none repeats). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < count; i++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      const address = server.address();
      if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
}
