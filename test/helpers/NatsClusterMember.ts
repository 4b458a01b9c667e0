/**
 * One nats-server process of a `NatsCluster`: its ports, config file and store dir, the
 * process itself (launch, signal, the tail of what it printed) and what its monitoring port says
 * (`/healthz`, the meta group and each stream's RAFT group from `/jsz`).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { keepOutputTail, killOnExit, NATS_SERVER_NOT_FOUND } from '../../src/dev/index.ts';

/** One server of a `NatsCluster`; the getters follow it through `kill()` and `restart()`. */
export interface NatsClusterServer {
  /** `server_name`: `n1`, `n2`, … */
  readonly name: string;
  /** `nats://127.0.0.1:<client port>` (the same across `restart()`). */
  readonly url: string;
  /** Process id while running, else undefined. */
  readonly pid: number | undefined;
  /** True while the process is running. */
  readonly running: boolean;
  /** `http://127.0.0.1:<monitoring port>` (`/jsz`, `/healthz`, `/routez`…). */
  readonly monitorUrl: string;
  /** JetStream store dir (kept across `kill()` and `restart()`). */
  readonly storeDir: string;
  /** The last lines the server printed, stdout and stderr (for failure messages). */
  readonly log: string;
}

const NOT_FOUND = NATS_SERVER_NOT_FOUND;
const OUTPUT_TAIL_LINES = 60;

export interface Ports {
  client: number;
  cluster: number;
  monitor: number;
}

/** What `/jsz` says about the JetStream meta group (nats-server 2.9). */
export interface MetaClusterJson {
  name?: string;
  leader?: string;
  cluster_size?: number;
  replicas?: { name: string; current: boolean }[];
}

/** What `/jsz?accounts=true&streams=true&consumers=true` says about one stream (nats-server 2.9). */
interface StreamDetailJson {
  name: string;
  state?: { last_seq?: number };
  cluster?: { leader?: string; replicas?: { name: string; current: boolean; lag?: number }[] };
  consumer_detail?: { name: string; cluster?: { leader?: string } }[];
}

export class Member implements NatsClusterServer {
  readonly name: string;
  readonly ports: Ports;
  readonly configFile: string;
  readonly storeDir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  private output: string[] = [];

  constructor(name: string, ports: Ports, dir: string) {
    this.name = name;
    this.ports = ports;
    this.configFile = join(dir, 'nats.conf');
    this.storeDir = join(dir, 'store');
  }

  get url(): string {
    return `nats://127.0.0.1:${this.ports.client}`;
  }

  get monitorUrl(): string {
    return `http://127.0.0.1:${this.ports.monitor}`;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  get log(): string {
    return this.output.join('\n');
  }

  /** Why the last process ended, while it is down (`exit code …, signal …`). */
  get exit(): string | undefined {
    return this.running ? undefined : this.exitInfo;
  }

  /** Spawns the process and returns at once; readiness is the cluster's business. */
  launch(binaryPath: string): void {
    if (this.child !== undefined) throw new Error(`nats-server ${this.name} is already running`);
    this.output = [];
    this.exitInfo = undefined;
    const child = spawn(binaryPath, ['-c', this.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo ??= `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    child.once('error', (err) => {
      const enoent = (err as NodeJS.ErrnoException).code === 'ENOENT';
      this.exitInfo = enoent ? NOT_FOUND : `failed to spawn: ${err.message}`;
    });
    keepOutputTail(child, this.output, OUTPUT_TAIL_LINES);
    this.child = child;
    killOnExit(child);
  }

  /** Sends `signal`, waits for the exit; SIGKILL after `timeoutMs` if it is still running. */
  async signal(signal: NodeJS.Signals, timeoutMs: number): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** True when `GET /healthz` answers 200: JetStream is current with an elected meta leader. */
  async healthy(): Promise<boolean> {
    if (!this.running) return false;
    try {
      const res = await fetch(`${this.monitorUrl}/healthz`, { signal: AbortSignal.timeout(2000) });
      await res.body?.cancel();
      return res.ok;
    } catch {
      return false;
    }
  }

  /** This server's view of each stream's RAFT group, from `GET /jsz` (one line each). */
  async streamView(): Promise<string> {
    if (!this.running) return 'down';
    try {
      const url = `${this.monitorUrl}/jsz?accounts=true&streams=true&consumers=true`;
      const res = await fetch(url, { signal: AbortSignal.timeout(2000) });
      const body = (await res.json()) as { account_details?: { stream_detail?: StreamDetailJson[] }[] };
      const streams = (body.account_details ?? []).flatMap((a) => a.stream_detail ?? []);
      return streams
        .map((st) => {
          const peers = (st.cluster?.replicas ?? []).map(
            (p) => `${p.name}${p.current ? '' : ' behind'} lag ${p.lag ?? 0}`,
          );
          const consumers = (st.consumer_detail ?? []).map((c) => `${c.name}@${c.cluster?.leader ?? '?'}`);
          return `${st.name} last ${st.state?.last_seq} leader ${st.cluster?.leader ?? 'none'} [${peers.join(', ')}] consumers ${consumers.join(' ')}`;
        })
        .join('\n');
    } catch (error) {
      return `no /jsz: ${(error as Error).message}`;
    }
  }

  /** `meta_cluster` of `GET /jsz`, or undefined when the server does not answer. */
  async metaCluster(): Promise<MetaClusterJson | undefined> {
    if (!this.running) return undefined;
    try {
      const res = await fetch(`${this.monitorUrl}/jsz`, { signal: AbortSignal.timeout(2000) });
      if (!res.ok) return undefined;
      const body = (await res.json()) as { meta_cluster?: MetaClusterJson };
      return body.meta_cluster;
    } catch {
      return undefined;
    }
  }
}

export function describeMember(m: Member): string {
  const state = m.running ? `running, pid ${m.pid}` : `down (${m.exit ?? 'not started'})`;
  return `--- ${m.name} ${m.url} ${state}\n${m.log}`;
}

/** nats-server config: JSON strings are valid quoted strings in its format. */
export function serverConfig(member: Member, others: Member[], clusterName: string): string {
  const q = JSON.stringify;
  const routes = others.map((o) => q(`nats-route://127.0.0.1:${o.ports.cluster}`)).join(', ');
  return [
    `server_name: ${q(member.name)}`,
    `listen: ${q(`127.0.0.1:${member.ports.client}`)}`,
    `http: ${q(`127.0.0.1:${member.ports.monitor}`)}`,
    `jetstream { store_dir: ${q(member.storeDir)} }`,
    'cluster {',
    `  name: ${q(clusterName)}`,
    `  listen: ${q(`127.0.0.1:${member.ports.cluster}`)}`,
    `  routes: [${routes}]`,
    '}',
    '',
  ].join('\n');
}
