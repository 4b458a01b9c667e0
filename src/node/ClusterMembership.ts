import type { OperationalClock } from '../actors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { NodeRegistry } from '../streams/index.ts';

/** How a node keeps track of the cluster's live nodes. */
export interface ClusterMembershipOptions {
  node: string;
  registry: NodeRegistry;
  clock: OperationalClock;
  logger: Logger;
  /** Nodes announce this often (their beacons); the view is refreshed as often. */
  announceEveryMs: number;
  /** A node not heard from for this long (this clock) is out. */
  timeoutMs: number;
  /** The live set changed (called after the change, at most once per announce period). */
  onChange: (nodes: readonly string[]) => void;
}

interface Heard {
  /** When (this clock). */
  at: number;
  /** How long that node's main thread had been silent then. */
  stalledMs: number;
}

/**
 * The live nodes of the tenant's cluster as this node sees them: itself, and every node whose
 * beacon in `WFM_NODES` it heard within `timeoutMs` on its own clock (never a KV expiry). A node
 * that says it is leaving is out at once, so its sites move without waiting. It also tells the
 * elections whether a lease holder's *process* is alive though its main thread is busy
 * ({@link alive}), so a long stall is not mistaken for a death.
 */
export class ClusterMembership {
  readonly #o: ClusterMembershipOptions;
  readonly #heard = new Map<string, Heard>();
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

  /**
   * Whether `node`'s beacon was heard within `withinMs` saying its main thread had been silent
   * for less than `maxStallMs`: the process is alive and working, only busy.
   */
  alive(node: string, withinMs: number, maxStallMs: number): boolean {
    if (node === this.#o.node) return true;
    const heard = this.#heard.get(node);
    if (heard === undefined) return false;
    const age = this.#o.clock.now() - heard.at;
    return age < withinMs && heard.stalledMs + age < maxStallMs;
  }

  /**
   * Listens for the other nodes' beacons; resolves after two announce periods so the first view
   * includes every live node (a node that placed sites before hearing the others would take
   * them all and hand them back).
   */
  async start(): Promise<void> {
    this.#unwatch = await this.#o.registry.watch((a) => {
      if (a.node === this.#o.node) return;
      if (a.leaving) this.#heard.delete(a.node);
      else this.#heard.set(a.node, { at: this.#o.clock.now(), stalledMs: a.stalledMs });
      if (a.leaving || !this.#live.includes(a.node)) this.#update();
    });
    this.#tick();
    await new Promise<void>((resolve) =>
      this.#o.clock.setTimeout(() => resolve(), this.#o.announceEveryMs * 2),
    );
    this.#update();
  }

  /** Stops listening. */
  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) this.#o.clock.clearTimeout(this.#timer);
    this.#unwatch?.();
  }

  #tick(): void {
    this.#timer = this.#o.clock.setTimeout(() => {
      if (this.#stopped) return;
      this.#update();
      this.#tick();
    }, this.#o.announceEveryMs);
  }

  #update(): void {
    const now = this.#o.clock.now();
    for (const [node, heard] of this.#heard)
      if (now - heard.at >= this.#o.timeoutMs) this.#heard.delete(node);
    const live = [this.#o.node, ...this.#heard.keys()].sort();
    if (live.length === this.#live.length && live.every((n, i) => n === this.#live[i])) return;
    this.#o.logger.info({ nodes: live, before: this.#live }, 'cluster membership changed');
    this.#live = live;
    this.#o.onChange(live);
  }
}
