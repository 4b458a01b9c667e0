import type { NatsConnection } from '@nats-io/transport-node';
import type { OperationalClock } from '../actors/index.ts';
import { natsConnectOptions, type WfmConfig } from '../config/index.ts';
import type { Logger } from '../logging/index.ts';
import { LeaseStore, NodeBeacon, NodeRegistry } from '../streams/index.ts';
import { ClusterMembership } from './ClusterMembership.ts';
import { HostedLanes, type HostedLanesOptions } from './HostedLanes.ts';
import { type ElectionTiming, electionTiming } from './SiteElection.ts';

/**
 * How often a node's beacon announces it (and its view of the membership is refreshed): as often
 * as a lease is renewed, but at least every 250 ms (the default lease's renewal). A node starts by
 * listening two announce periods for the others, so with a long lease (30 s: 2.5 s renewals) it
 * waited 5 s before taking any input; liveness keeps its own timeouts (`leaseSeconds`, a quarter
 * lease of beacon silence), which hearing nodes more often only makes more exact.
 */
export function announceEveryMs(timing: ElectionTiming): number {
  return Math.min(timing.renewEveryMs, MAX_ANNOUNCE_MS);
}

const MAX_ANNOUNCE_MS = 250;

/** What a node's part in the cluster is made of. */
export interface NodeClusterOptions {
  nc: NatsConnection;
  config: WfmConfig;
  node: string;
  clock: OperationalClock;
  logger: Logger;
}

/** What the lanes need from the node besides the cluster's own parts. */
export type NodeLanesOptions = Pick<
  HostedLanesOptions,
  'host' | 'runtime' | 'lanes' | 'factory' | 'startedAt'
>;

/**
 * This node's part in the cluster (DESIGN guarantee 2): its beacon (a worker thread announcing it
 * in `WFM_NODES`), the membership it sees, the site leases in `WFM_LEADER`, and the lanes the
 * placement gives it, each with its election; leadership moves towards the preferred primaries
 * once the placement is stable. The node owns connections and input; this owns who does what.
 */
export class NodeCluster {
  readonly timing: ElectionTiming;
  readonly #o: NodeClusterOptions;
  readonly #beaconStarting: Promise<NodeBeacon>;
  #beacon: NodeBeacon | null = null;
  #leases!: LeaseStore;
  #registry!: NodeRegistry;
  #membership: ClusterMembership | null = null;
  #lanes: HostedLanes | null = null;
  #started = false;
  #stopped = false;

  private constructor(options: NodeClusterOptions) {
    this.#o = options;
    this.timing = electionTiming(options.config.leaseSeconds);
    const { config, node } = options;
    // The beacon's worker thread starts at once and loads, connects on its own meanwhile.
    this.#beaconStarting = NodeBeacon.start({
      node,
      tenant: config.tenant.id,
      replicas: config.streams.replicas,
      everyMs: announceEveryMs(this.timing),
      connect: natsConnectOptions(config, `wfm-agg ${node} beacon`),
    });
    this.#beaconStarting.catch(() => undefined); // awaited in join(); leave() ends it either way
  }

  /** Starts the beacon and opens the KV buckets. @throws NatsError */
  static async open(options: NodeClusterOptions): Promise<NodeCluster> {
    const cluster = new NodeCluster(options);
    const { nc, config } = options;
    try {
      cluster.#leases = await LeaseStore.open(nc, config.tenant.id, config.streams.replicas);
      cluster.#registry = await NodeRegistry.open(nc, config.tenant.id, config.streams.replicas);
    } catch (err) {
      await cluster.leave();
      throw err;
    }
    return cluster;
  }

  /** The lanes hosted here (null before {@link join}). */
  get lanes(): HostedLanes | null {
    return this.#lanes;
  }

  /** The live nodes this node sees (itself included). */
  get nodes(): readonly string[] {
    return this.#membership?.nodes ?? [this.#o.node];
  }

  /** Hears the other nodes, places the lanes and adds this node's (they start restoring). */
  async join(lanes: NodeLanesOptions): Promise<void> {
    const { config, node, clock, logger } = this.#o;
    const leaseMs = config.leaseSeconds * 1000;
    this.#lanes = new HostedLanes({
      ...lanes,
      node,
      leases: this.#leases,
      clock,
      timing: this.timing,
      logger,
      replicas: 1 + config.standbyReplicas,
      // A holder whose beacon says its process lives, its main thread busy for less than three
      // leases, keeps its lease: no takeover for a long checkpoint or interval close.
      nodeAlive: (n) => this.#membership?.alive(n, this.timing.silenceMs, 3 * leaseMs) ?? false,
    });
    await this.#lanes.start();
    this.#beacon = await this.#beaconStarting;
    this.#membership = new ClusterMembership({
      node,
      registry: this.#registry,
      clock,
      logger,
      announceEveryMs: announceEveryMs(this.timing),
      timeoutMs: leaseMs,
      onChange: (nodes) => {
        if (this.#started) void this.#lanes?.apply(nodes);
      },
    });
    await this.#membership.start();
    await this.#lanes.apply(this.#membership.nodes);
  }

  /** The first lanes run: follow membership changes and rebalance from now on. */
  started(): void {
    this.#started = true;
    // Membership may have changed while the first lanes restored.
    void this.#lanes?.apply(this.nodes);
    this.#rebalanceEvery(this.#o.config.leaseSeconds * 1000);
  }

  /** Places the lanes again (a site was added to the configuration). */
  replace(): void {
    void this.#lanes?.apply(this.nodes);
  }

  /** Moves leadership towards the placement's preferred primaries, one site per lease period. */
  #rebalanceEvery(leaseMs: number): void {
    this.#o.clock.setTimeout(() => {
      if (this.#stopped) return;
      this.#lanes?.rebalance(2 * leaseMs);
      this.#rebalanceEvery(leaseMs);
    }, leaseMs);
  }

  /** Hands every lease this node holds over at once (SIGTERM needs no lease to run out). */
  async handOver(timeoutMs: number): Promise<void> {
    this.#stopped = true;
    await this.#lanes?.handOver(timeoutMs);
  }

  /** The beacon says the node is leaving and stops; membership stops. */
  async leave(): Promise<void> {
    this.#stopped = true;
    const beacon = this.#beacon ?? (await this.#beaconStarting.catch(() => null));
    await beacon?.stop();
    this.#membership?.stop();
  }

  /** Drains every lane (a final checkpoint each). */
  async drain(): Promise<void> {
    await this.#lanes?.drain();
  }
}
