import { waitFor } from 'xstate';
import type { OperationalClock } from '../actors/index.ts';
import { type Placement, place } from '../domain/index.ts';
import type { Logger } from '../logging/index.ts';
import type { LeaseEntry, LeaseStore } from '../streams/index.ts';
import { Handback } from './Handback.ts';
import { type ElectionTiming, SiteElection } from './SiteElection.ts';
import type { SiteHost, SiteRuntimeOptions } from './SiteHost.ts';
import type { SiteProcessorFactory } from './SiteProcessor.ts';
import { SiteRuntime } from './SiteRuntime.ts';

/** What {@link HostedLanes} needs from the node. */
export interface HostedLanesOptions {
  node: string;
  host: SiteHost;
  leases: LeaseStore;
  clock: OperationalClock;
  timing: ElectionTiming;
  logger: Logger;
  /** Copies of each lane in the cluster: 1 + `standbyReplicas`. */
  replicas: number;
  runtime: Partial<SiteRuntimeOptions>;
  /** Every lane to place: the configured sites and the lane of input no site owns. */
  lanes: () => readonly string[];
  /** The processor factory of a lane. */
  factory: (lane: string) => SiteProcessorFactory;
  /** Where a lane new to the cluster (no lease yet) and to this node starts. */
  startedAt: (lane: string) => number;
  /** Whether a node's process is alive though its main thread may be busy. */
  nodeAlive: (node: string) => boolean;
}

interface Hosted {
  runtime: SiteRuntime;
  election: SiteElection;
  leaving: boolean;
}

/**
 * The lanes (sites, and the lane of input no site owns) this node hosts, each a `SiteRuntime`
 * with its `SiteElection`, decided by the cluster's placement (`place`, the same on every node)
 * over the live nodes. A lane placed here starts as a hot backup and leads when its election wins;
 * a lane no longer placed here hands its lease over first, then drains and leaves.
 */
export class HostedLanes {
  readonly #o: HostedLanesOptions;
  readonly #hosted = new Map<string, Hosted>();
  readonly #latest = new Map<string, LeaseEntry>();
  #placement: Placement | null = null;
  #unwatch: (() => void) | null = null;
  #applying: Promise<void> = Promise.resolve();
  #stopped = false;
  // When the placement last changed (operational clock): leadership moves only once it is stable.
  #placedAt = Number.NEGATIVE_INFINITY;
  #placementKey = '';
  // Which lease goes to its lane's preferred primary at each rebalance.
  readonly #handback = new Handback();

  constructor(options: HostedLanesOptions) {
    this.#o = options;
  }

  /** Hosted lanes by id. */
  get lanes(): ReadonlyMap<string, Hosted> {
    return this.#hosted;
  }

  /** A hosted lane's runtime (also while it leaves). */
  get(lane: string): SiteRuntime | undefined {
    return this.#hosted.get(lane)?.runtime;
  }

  /** A lane's replicas in takeover order, by the current placement. */
  replicas(lane: string): readonly string[] {
    return this.#placement?.byLane.get(lane) ?? [];
  }

  /** Starts watching the leases. */
  async start(): Promise<void> {
    this.#unwatch = await this.#o.leases.watch((lane, entry) => {
      const last = this.#latest.get(lane);
      if (last !== undefined && last.revision > entry.revision) return;
      this.#latest.set(lane, entry);
      this.#hosted.get(lane)?.election.observe(entry);
    });
  }

  /** Places every lane over `nodes` and adds or removes lanes here to match; resolves when added. */
  apply(nodes: readonly string[]): Promise<void> {
    const run = this.#applying.then(() => this.#apply(nodes));
    this.#applying = run.catch((err: unknown) => this.#o.logger.error({ err }, 'placing lanes failed'));
    return run;
  }

  async #apply(nodes: readonly string[]): Promise<void> {
    if (this.#stopped) return;
    const { node, replicas, logger } = this.#o;
    const placement = place({ lanes: this.#o.lanes(), nodes, replicas });
    this.#placement = placement;
    const key = JSON.stringify([...placement.byLane]);
    if (key !== this.#placementKey) {
      this.#placementKey = key;
      this.#placedAt = this.#o.clock.now();
    }
    if (nodes.length < replicas)
      logger.warn(
        { nodes: nodes.length, copies: replicas },
        `fewer live nodes than copies per site (1 + standbyReplicas): running with ${placement.copies}`,
      );
    const mine = new Set(placement.byNode.get(node) ?? []);
    const added: string[] = [];
    for (const lane of mine) {
      const hosted = this.#hosted.get(lane);
      if (hosted === undefined) {
        await this.#add(lane);
        added.push(lane);
      } else {
        hosted.leaving = false;
      }
    }
    const leaving = [...this.#hosted.entries()].filter(([lane, h]) => !mine.has(lane) && !h.leaving);
    for (const [lane, h] of leaving) {
      h.leaving = true;
      void this.#remove(lane, h);
    }
    if (added.length > 0 || leaving.length > 0)
      logger.info({ added, leaving: leaving.map(([l]) => l), hosted: [...mine] }, 'placement applied');
  }

  async #add(lane: string): Promise<void> {
    const o = this.#o;
    const got = await o.leases.get(lane);
    const seen = this.#latest.get(lane);
    const entry = seen !== undefined && seen.revision > got.revision ? seen : got;
    // A lane the cluster already runs starts where its lease says; a new one where this node says.
    const startedAt = entry.record?.startedAt ?? o.startedAt(lane);
    const runtime = new SiteRuntime(lane, 'backup', startedAt, o.factory(lane), o.host, o.runtime);
    const election = new SiteElection(
      runtime,
      {
        node: o.node,
        leases: o.leases,
        clock: o.clock,
        timing: o.timing,
        logger: o.logger,
        replicas: (l) => this.replicas(l),
        nodeAlive: o.nodeAlive,
      },
      entry,
    );
    this.#hosted.set(lane, { runtime, election, leaving: false });
    runtime.start();
    election.actor.subscribe({ error: (err) => o.logger.error({ err, lane }, 'election actor failed') });
    election.start();
  }

  async #remove(lane: string, h: Hosted): Promise<void> {
    // Hosted until another node leads it: released, and released again should this node have
    // taken it back because nobody else claimed it (a replica still restoring), so the site is
    // never left without a leader while it moves. Then drained.
    for (;;) {
      if (!h.leaving || this.#hosted.get(lane) !== h || this.#stopped) return;
      const lease = h.election.lease.record;
      if (!h.election.leading && lease !== null && lease.node !== this.#o.node && !lease.released) break;
      if (h.election.leading) h.election.actor.send({ type: 'release' });
      await new Promise<void>((resolve) =>
        this.#o.clock.setTimeout(() => resolve(), this.#o.timing.silenceMs),
      );
    }
    h.election.actor.send({ type: 'stop' });
    h.runtime.actor.send({ type: 'stop' });
    await waitFor(h.runtime.actor, (s) => s.status === 'done').catch(() => undefined);
    if (this.#hosted.get(lane) === h && h.leaving) this.#hosted.delete(lane);
  }

  /**
   * Gives one lease this node holds to the site's preferred primary by the placement, when
   * {@link Handback} says so (the placement stable for `stableMs`, the lane led here that long,
   * not just handed over and come back) — so a node that joins takes its share of leadership
   * over time, one site per node per call, and leadership never moves back and forth while nodes
   * come and go.
   * @returns the lane handed over, if any.
   */
  rebalance(stableMs: number): string | null {
    if (this.#stopped || this.#placement === null) return null;
    const placement = this.#placement;
    const lanes = [...this.#hosted].map(([lane, h]) => ({
      lane,
      leading: h.election.leading,
      epoch: h.election.epoch,
      leaving: h.leaving,
      preferred: placement.byLane.get(lane)?.[0],
    }));
    const lane = this.#handback.choose(lanes, this.#o.node, this.#o.clock.now(), this.#placedAt, stableMs);
    const h = lane === null ? undefined : this.#hosted.get(lane);
    if (lane === null || h === undefined) return null;
    this.#o.logger.info(
      { site: lane, to: placement.byLane.get(lane)?.[0] },
      'handing the site to its preferred primary',
    );
    h.election.actor.send({ type: 'release' });
    return lane;
  }

  /** Hands every lease this node holds over (without waiting for a lease to run out). */
  async handOver(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    const all = [...this.#hosted.values()];
    for (const h of all) h.election.actor.send({ type: 'stop' });
    await Promise.all(
      all.map((h) =>
        waitFor(h.election.actor, (s) => s.status === 'done', { timeout: timeoutMs }).catch(() => undefined),
      ),
    );
  }

  /** Drains every lane (a final checkpoint each). */
  async drain(): Promise<void> {
    const all = [...this.#hosted.values()];
    for (const h of all) h.runtime.actor.send({ type: 'stop' });
    await Promise.all(
      all.map((h) => waitFor(h.runtime.actor, (s) => s.status === 'done').catch(() => undefined)),
    );
    // Watched until here: a backup's final checkpoint waits for the new primary's mark.
    this.#unwatch?.();
  }
}
