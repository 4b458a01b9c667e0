import type { OperationalClock } from '../actors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { NodeRegistry } from '../streams/index.ts';

/** How a node keeps track of the cluster's live nodes. */
export interface ClusterMembershipOptions {
  node: string;
  registry: NodeRegistry;
  clock: OperationalClock;
  logger: Logger;
  /** Announce this often. */
  announceEveryMs: number;
  /** A node not heard from for this long (this clock) is out. */
  timeoutMs: number;
  /** The live set changed (called after the change, at most once per announce period). */
  onChange: (nodes: readonly string[]) => void;
}

/**
 * The live nodes of the tenant's cluster as this node sees them: itself, and every node whose
 * announcement in `WFM_NODES` it heard within `timeoutMs` on its own clock (never a KV expiry).
 * A node that says it is leaving is out at once, so its sites move without waiting.
 */
export class ClusterMembership {
  readonly #o: ClusterMembershipOptions;
  readonly #heard = new Map<string, number>();
  #live: string[];
  #timer: unknown = null;
  #unwatch: (() => void) | null = null;
  #stopped = false;

  constructor(options: ClusterMembershipOptions) {
    this.#o = options;
    this.#live = [options.node];
  }

  /** Live node ids, sorted. */
  get nodes(): readonly string[] {
    return this.#live;
  }

  /** When each other node was last heard (this clock), for status. */
  lastHeard(node: string): number | undefined {
    return this.#heard.get(node);
  }

  /**
   * Announces this node and listens for the others; resolves after one timeout so the first
   * view includes every live node (a node that placed sites before hearing the others would
   * take them all and hand them back).
   */
  async start(): Promise<void> {
    this.#unwatch = await this.#o.registry.watch((a) => {
      if (a.node === this.#o.node) return;
      if (a.leaving) this.#heard.delete(a.node);
      else this.#heard.set(a.node, this.#o.clock.now());
      if (a.leaving || !this.#live.includes(a.node)) this.#update();
    });
    await this.#announce(false);
    this.#tick();
    await new Promise<void>((resolve) =>
      this.#o.clock.setTimeout(() => resolve(), this.#o.announceEveryMs * 2),
    );
    this.#update();
  }

  /** Says this node is leaving and stops announcing. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#unwatch?.();
    await this.#announce(true);
  }

  #tick(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      if (this.#stopped) return;
      void this.#announce(false);
      this.#update();
      this.#tick();
    }, this.#o.announceEveryMs);
  }

  async #announce(leaving: boolean): Promise<void> {
    try {
      await this.#o.registry.announce({ node: this.#o.node, leaving });
    } catch (err) {
      this.#o.logger.warn({ err }, 'announcing this node failed');
    }
  }

  #update(): void {
    const now = this.#o.clock.now();
    for (const [node, at] of this.#heard) if (now - at >= this.#o.timeoutMs) this.#heard.delete(node);
    const live = [this.#o.node, ...this.#heard.keys()].sort();
    if (live.length === this.#live.length && live.every((n, i) => n === this.#live[i])) return;
    this.#o.logger.info({ nodes: live, before: this.#live }, 'cluster membership changed');
    this.#live = live;
    this.#o.onChange(live);
  }
}
