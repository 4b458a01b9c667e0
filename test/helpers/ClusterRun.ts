/**
 * Several `wfm-agg node` child processes of one tenant, each on its own {@link NodeHome} (config
 * file and data dir), for hot-standby tests: who leads which site, waiting for every site to be
 * led, killing and restarting nodes. Each node is seen only through its process and
 * `GET /api/status`.
 */
import { NodeHome, NodeProcess, type NodeStatusJson, waitFor } from './NodeProcess.ts';

/** What a {@link ClusterRun} is made of. */
export interface ClusterRunOptions {
  /** NATS URL(s) of every node, or per node id. */
  natsUrl: string | string[] | ((node: string) => string | string[]);
  sites: string[];
  /** Config keys over the generated ones (e.g. `leaseSeconds`, `standbyReplicas`). */
  extraConfig: Record<string, unknown>;
}

/** The site → leading node ids (every node that says it is primary) of a moment. */
export type Leaders = Map<string, string[]>;

export class ClusterRun {
  readonly options: ClusterRunOptions;
  readonly homes = new Map<string, NodeHome>();
  readonly processes = new Map<string, NodeProcess>();
  /** Every process ever started (to kill them all at the end). */
  readonly all: NodeProcess[] = [];

  constructor(options: ClusterRunOptions) {
    this.options = options;
  }

  async #home(id: string): Promise<NodeHome> {
    let home = this.homes.get(id);
    if (home === undefined) {
      const url = this.options.natsUrl;
      home = await NodeHome.create({
        natsUrl: typeof url === 'function' ? url(id) : url,
        sites: this.options.sites,
        extraConfig: this.options.extraConfig,
      });
      this.homes.set(id, home);
    }
    return home;
  }

  /** Spawns node `id` on its home (made on first use); returns at once. */
  async spawn(id: string): Promise<NodeProcess> {
    const node = NodeProcess.spawn(await this.#home(id), { nodeId: id });
    this.processes.set(id, node);
    this.all.push(node);
    return node;
  }

  /** Spawns node `id` and waits until it serves. */
  async start(id: string): Promise<NodeProcess> {
    const node = await this.spawn(id);
    await node.ready;
    return node;
  }

  node(id: string): NodeProcess {
    const node = this.processes.get(id);
    if (node === undefined) throw new Error(`no node ${id}`);
    return node;
  }

  /** Status of every running node that answers. */
  async statuses(): Promise<Map<string, NodeStatusJson>> {
    const out = new Map<string, NodeStatusJson>();
    await Promise.all(
      [...this.processes].map(async ([id, node]) => {
        if (!node.running || node.url === undefined) return;
        try {
          out.set(id, await node.status());
        } catch {
          // Not answering (paused, dying): not counted.
        }
      }),
    );
    return out;
  }

  /** Who says it leads each site now (a site missing: nobody). */
  async leaders(exclude: readonly string[] = []): Promise<Leaders> {
    const leaders: Leaders = new Map();
    for (const [id, status] of await this.statuses()) {
      if (exclude.includes(id)) continue;
      for (const s of status.sites) {
        if (s.role !== 'primary') continue;
        leaders.set(s.site, [...(leaders.get(s.site) ?? []), id]);
      }
    }
    return leaders;
  }

  /**
   * Waits until every site has exactly one primary among the nodes not excluded; returns them.
   * With `preferred`, until that primary is also the site's preferred replica (its placement's
   * first), so a node that led first and is about to hand the site over is not taken for it.
   */
  async waitAllLed(options: {
    exclude?: string[];
    timeoutMs: number;
    preferred?: boolean;
  }): Promise<Map<string, string>> {
    let last: Leaders = new Map();
    return waitFor(
      async () => {
        last = await this.leaders(options.exclude);
        const one = this.options.sites.every((s) => last.get(s)?.length === 1);
        if (!one) return undefined;
        const led = new Map([...last].map(([s, ids]) => [s, ids[0]!]));
        if (options.preferred === true) {
          const statuses = await this.statuses();
          const settled = [...led].every(([site, id]) => {
            const replicas = statuses.get(id)?.sites.find((x) => x.site === site)?.replicas;
            return Array.isArray(replicas) && replicas[0] === id;
          });
          if (!settled) return undefined;
        }
        return led;
      },
      {
        timeoutMs: options.timeoutMs,
        intervalMs: 20,
        describe: () => `leaders ${JSON.stringify([...last])}\n${this.logs()}`,
      },
    );
  }

  /**
   * Waits until every site's primary and backups (running nodes) applied input up to `lastSeq`.
   * Applied is not stored: with `stored: true`, also until each site's primary has a checkpoint at
   * `lastSeq` or later — a primary's checkpoint flushes its outputs first, so everything up to it
   * is then in the streams (for reading them while the nodes run; stopping a node drains it too).
   */
  async waitCaughtUp(lastSeq: number, timeoutMs: number, { stored = false } = {}): Promise<void> {
    let last = new Map<string, NodeStatusJson>();
    await waitFor(
      async () => {
        last = await this.statuses();
        const sites = [...last.values()].flatMap((st) => st.sites);
        const led = this.options.sites.every((s) =>
          sites.some(
            (x) =>
              x.site === s &&
              x.role === 'primary' &&
              x.processedSeq >= lastSeq &&
              (!stored || x.checkpointSeq >= lastSeq),
          ),
        );
        return led && sites.every((x) => x.processedSeq >= lastSeq) ? true : undefined;
      },
      {
        timeoutMs,
        describe: () =>
          `statuses ${JSON.stringify([...last].map(([id, st]) => [id, st.sites.map((s) => [s.site, s.role, s.processedSeq, s.checkpointSeq])]))}\n${this.logs()}`,
      },
    );
  }

  /** The last log lines of every running node. */
  logs(): string {
    return [...this.processes]
      .map(
        ([id, n]) =>
          `--- ${id} (${n.running ? 'running' : 'exited'})\n${n.log.split('\n').slice(-40).join('\n')}`,
      )
      .join('\n');
  }

  /** Stops (SIGTERM) every running node, then removes every home. */
  async stop(): Promise<void> {
    await Promise.all(this.all.map((n) => n.kill()));
    await Promise.all([...this.homes.values()].map((h) => h.remove()));
  }
}
