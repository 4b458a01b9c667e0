import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { type OperationalClock, realClock } from '../actors/index.ts';
import { listSites, natsConnectOptions, type SiteRef, type WfmConfig } from '../config/index.ts';
import { type DecodeOptions, decodeInput, defaultDecodeOptions } from '../domain/index.ts';
import { WfmError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import {
  type CheckpointStore,
  createIntervalSink,
  describeIntervalSink,
  type IntervalSink,
  LevelCheckpointStore,
  PrefetchingCheckpointStore,
} from '../persistence/index.ts';
import {
  closeNats,
  connectNats,
  ensureStreams,
  gatherReplies,
  natsStatusEvents,
  type RawInput,
  wholeRangeMaxFor,
} from '../streams/index.ts';
import { adminSubject } from './adminSubjects.ts';
import { type ClusterSites, clusterSites } from './clusterSites.ts';
import { EventLoopMonitor } from './EventLoopMonitor.ts';
import { IntervalHistory } from './IntervalHistory.ts';
import { NodeCluster } from './NodeCluster.ts';
import {
  emptyNodeCounters,
  type NodeCounters,
  renderDatabaseMetrics,
  renderMetrics,
  siteMetrics,
} from './NodeMetrics.ts';
import { type LaneStatus, laneStatus, type NodeStatus, nodeStatus } from './NodeStatus.ts';
import { PublishingConnection } from './PublishingConnection.ts';
import { answerReport } from './reportRequest.ts';
import { type RestartReply, type RestartRequest, resolveRestart } from './restartRequest.ts';
import { retryTransient } from './retryTransient.ts';
import { SharedInput } from './SharedInput.ts';
import type { SiteHost } from './SiteHost.ts';
import type { SiteProcessorFactory } from './SiteProcessor.ts';
import type { SiteRuntime } from './SiteRuntime.ts';
import { siteProcessorFactory } from './siteProcessorFactory.ts';
import { answerTransfer, type LedSite, type TransferContext } from './transferRequest.ts';
import { UNROUTED_LANE, UnroutedProcessor } from './UnroutedProcessor.ts';
import { defaultWfmNodeOptions, type WfmNodeOptions } from './WfmNodeOptions.ts';
import { whenSitesRun } from './whenSitesRun.ts';

/**
 * The composition root of a cluster node: connections, the shared input, the publisher, the
 * checkpoint store, and one lifecycle actor per site (plus one lane for input no site owns).
 * Every site restores, checkpoints and rebuilds on its own; the node only routes input to them.
 */
export class WfmNode {
  readonly options: WfmNodeOptions;
  readonly counters: NodeCounters = emptyNodeCounters();
  readonly #log: Logger;
  readonly #tenant: string;
  readonly #decode: DecodeOptions;
  #config: WfmConfig;
  readonly #refs = new Map<string, SiteRef>();
  #nc!: NatsConnection;
  #js!: JetStreamClient;
  #jsm!: JetStreamManager;
  #store!: CheckpointStore;
  #publishing: PublishingConnection | null = null;
  #cluster: NodeCluster | null = null;
  #history: IntervalHistory | null = null;
  #host!: SiteHost;
  #admin: NatsSubscription[] = [];
  #stopped = false;
  /** Event-loop stalls from the node's start to its stop. */
  #eventLoop: EventLoopMonitor | null = null;
  readonly #initialSites: ReadonlySet<string>;
  #input!: SharedInput;

  private constructor(options: WfmNodeOptions) {
    this.options = options;
    this.#log = options.logger;
    this.#config = options.config;
    this.#tenant = options.config.tenant.id;
    this.#decode = { ...defaultDecodeOptions, reasonCodeKeyName: options.config.reasonCodeKeyName };
    for (const ref of listSites(options.config)) this.#refs.set(ref.site, ref);
    this.#initialSites = new Set(this.#refs.keys());
  }

  /** Connects, makes the streams, restores every site from its checkpoint and starts reading. */
  static async start(
    options: Partial<WfmNodeOptions> & Pick<WfmNodeOptions, 'config' | 'nodeId' | 'logger'>,
  ): Promise<WfmNode> {
    const node = new WfmNode({ ...defaultWfmNodeOptions, ...options });
    try {
      await node.#open();
    } catch (err) {
      await node.stop().catch(() => undefined);
      throw err;
    }
    return node;
  }

  /** Every `WFM_IN` input at or before this has been routed to its site (or the unrouted lane). */
  get processedSeq(): number {
    return this.#input.routedSeq;
  }

  /** Sites this node hosts (as primary or backup) by id. */
  get sites(): ReadonlyMap<string, SiteRuntime> {
    const sites = new Map<string, SiteRuntime>();
    for (const [lane, h] of this.#cluster?.lanes?.lanes ?? [])
      if (lane !== UNROUTED_LANE) sites.set(lane, h.runtime);
    return sites;
  }

  /**
   * The lane of input no site owns (its dead letters), as the status shows a site's lease and
   * progress; null when this node does not host it. Not in `/api/status`, whose rows are sites.
   */
  get unroutedLane(): LaneStatus | null {
    const h = this.#cluster?.lanes?.lanes.get(UNROUTED_LANE);
    return h === undefined ? null : laneStatus(h.runtime, h.election);
  }

  /** The node's JetStream manager: the visualizer reads agents' inputs from `WFM_IN` with it. */
  get streamManager(): JetStreamManager {
    return this.#jsm;
  }

  /** The live nodes this node sees (itself included). */
  get clusterNodes(): readonly string[] {
    return this.#cluster?.nodes ?? [this.options.nodeId];
  }

  /**
   * Every site of the cluster as the live nodes' status replies tell it (the web UI's cluster
   * view): asks them all over NATS, this node included, and waits until each node this one sees
   * alive has answered or `timeoutMs` passed — a node that just died is then left out, and its
   * sites are shown by the others. Every configured site has a row, led or not.
   */
  async clusterSites(timeoutMs = 500): Promise<ClusterSites> {
    const live = this.clusterNodes;
    const replies = await gatherReplies(this.#nc, adminSubject(this.#tenant, 'status'), '', {
      timeoutMs,
      parse: (msg) => msg.json<NodeStatus>(),
      enough: (got) => live.every((n) => got.some((r) => r.nodeId === n)),
    });
    return clusterSites(replies, [...this.#refs.keys()]);
  }

  /** Every lane hosted here: sites and, when placed here, the lane of input no site owns. */
  #allLanes(): SiteRuntime[] {
    return [...(this.#cluster?.lanes?.lanes.values() ?? [])].map((h) => h.runtime);
  }

  status(): NodeStatus {
    return nodeStatus(this.options.nodeId, this.#tenant, this.#refs, this.#cluster, this.#history);
  }

  /** Interval rows this node wrote to the WFM database since it started. */
  get historyRowsWritten(): number {
    return this.#history?.rowsWritten ?? 0;
  }

  /** Prometheus text. */
  async metrics(): Promise<string> {
    let last: number | null = null;
    try {
      last = (await this.#jsm.streams.info('WFM_IN')).state.last_seq;
    } catch {
      // Lag is unknown while NATS is unreachable; the other metrics still render.
    }
    const sites = this.#allLanes().map(siteMetrics);
    const database =
      this.#history === null ? '' : renderDatabaseMetrics(this.options.nodeId, this.#history.metrics());
    return (
      renderMetrics(
        this.options.nodeId,
        sites,
        this.counters,
        last,
        this.#input.routedSeq,
        this.#eventLoop?.delay() ?? null,
      ) + database
    );
  }

  /**
   * Checkpoints every site now (each flushes its outputs first); resolves when all are written.
   * @throws the first site's error (PublishError, CheckpointError); every failed site's actor
   *   handles its own too.
   */
  async checkpoint(): Promise<void> {
    const lanes = this.#allLanes();
    const results = await Promise.allSettled(lanes.map((lane) => lane.checkpoint()));
    let first: PromiseRejectedResult | undefined;
    results.forEach((result, i) => {
      if (result.status !== 'rejected') return;
      first ??= result;
      // A publish failure needs the site rebuilt, as if its own timer had found it: each failed
      // site, since its flush took the failure away (telling only the first left the others
      // writing past their gaps, never re-sending them).
      lanes[i]!.actor.send({ type: 'fail', error: result.reason });
    });
    if (first !== undefined) throw first.reason;
  }

  /**
   * Stops: hands every lease it holds to a backup at once (SIGTERM needs no lease to run out),
   * stops reading, each site writes a final checkpoint, and it disconnects.
   */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#eventLoop?.stop();
    for (const sub of this.#admin) sub.unsubscribe();
    // Leases first (a successor claims at once), then the beacon says the node is leaving.
    await this.#cluster?.handOver(this.options.handoverTimeoutMs);
    await this.#cluster?.leave();
    this.#input?.stop();
    await this.#cluster?.drain();
    // After the sites flushed their outputs: a dump (after an outage) reads them from WFM_OUT.
    await this.#history
      ?.close()
      .catch((err: unknown) => this.#log.error({ err }, 'closing the WFM database failed'));
    await this.#store
      ?.close()
      .catch((err: unknown) => this.#log.error({ err }, 'closing the checkpoint store failed'));
    this.#log.debug('closing the NATS connections');
    // Both at once: each waits at most its drain timeout for a server that does not answer.
    await Promise.all([
      this.#publishing?.close(),
      this.#nc === undefined ? undefined : closeNats(this.#nc, { timers: this.#clock }),
    ]);
    this.#log.info({ routedSeq: this.#input?.routedSeq }, 'node stopped');
  }

  /** The operational clock (leases, retries, drain bounds): the injected one or the real one. */
  get #clock(): OperationalClock {
    return this.options.clock ?? realClock;
  }

  /** Every lane the node may host: the lane of input no site owns, then the configured sites. */
  #lanes(): string[] {
    return [UNROUTED_LANE, ...this.#refs.keys()];
  }

  async #open(): Promise<void> {
    const { config, nodeId } = this.options;
    const clock = this.#clock;
    this.#nc = await connectNats(natsConnectOptions(config, `wfm-agg ${nodeId}`));
    natsStatusEvents(this.#nc).subscribe((event) => {
      if (event.type === 'disconnected') this.counters.natsDisconnects++;
      this.#log.info({ nats: event.type }, 'nats connection');
    });
    const js = jetstream(this.#nc);
    this.#js = js;
    this.#jsm = await jetstreamManager(this.#nc);
    // Adds contract subjects an older stream lacks (wfm.command.>, wfm.transfer.>), or fails naming
    // the stream, the subjects and how to add them: never a silent loss of outputs or commands.
    // A NATS cluster that is starting too, or electing a leader, answers slowly for a while.
    const setup = <T>(what: string, attempt: () => Promise<T>) =>
      retryTransient(attempt, {
        clock,
        budgetMs: this.options.setupRetryMs,
        onRetry: (err, n) => this.#log.warn({ err, attempt: n }, `${what}: NATS not ready, trying again`),
      });
    const jsm = this.#jsm;
    await setup('checking the streams', () => ensureStreams(jsm, { replicas: config.streams.replicas }));
    const sink = this.options.intervalSink ?? createIntervalSink(config);
    this.#history = await IntervalHistory.open({
      tenant: this.#tenant,
      node: nodeId,
      sink,
      sinkLabel: describeIntervalSink(config),
      dumpFile: config.dbDumpFile,
      retryMs: config.dbRetrySeconds * 1000,
      js,
      jsm: this.#jsm,
      clock,
      logger: this.#log,
      writer: this.options.historyWriter,
      onOutage: (error) => this.options.onFatal?.(error),
    });
    const history = this.#history;
    const nc = this.#nc;
    this.#cluster = await setup('opening the lease buckets', () =>
      NodeCluster.open({ nc, config, node: nodeId, clock, logger: this.#log }),
    );
    const cluster = this.#cluster;
    this.#publishing = await PublishingConnection.open({
      connect: natsConnectOptions(config, `wfm-agg ${nodeId} out`),
      publisher: this.options.publisher,
      logger: this.#log,
      onLost: (error) => {
        this.counters.publishFailures++;
        for (const lane of this.#allLanes()) lane.actor.send({ type: 'fail', error });
      },
    });
    const publishing = this.#publishing;
    const store = new PrefetchingCheckpointStore(
      this.options.store ?? new LevelCheckpointStore({ location: join(config.dataDir, 'checkpoints') }),
    );
    this.#store = store;
    await store.open();
    // Every lane's checkpoint is read while the node joins the cluster (it listens for the other
    // nodes for two announce periods before any lane is placed), not after: 100k agents take
    // over a second to read. What no placed lane took is dropped once the lanes run.
    store.prefetch(this.#lanes().map((site) => ({ tenant: this.#tenant, site })));
    this.#input = new SharedInput({
      js,
      tenant: this.#tenant,
      logger: this.#log,
      route: (raw) => this.#route(raw),
      gate: () => publishing.publisher?.whenReady(),
      clock: this.#clock,
      onRestart: () => {
        this.counters.pipelineRestarts++;
      },
    });
    this.#host = {
      tenant: this.#tenant,
      store: this.#store,
      js,
      jsm: this.#jsm,
      logger: this.#log,
      publisher: () => publishing.current(),
      readFrom: (seq) => this.#input.readFrom(seq),
      routedSeq: () => this.#input.routedSeq,
      firstInputSeq: async () => (await this.#jsm.streams.info('WFM_IN')).state.first_seq,
      wholeRangeMax: () => wholeRangeMaxFor(this.#lanes().length),
      roleChanged: (site, role) => {
        if (site.site === UNROUTED_LANE) return;
        history.roleChanged(site.site, role, site.writer.epoch, () => site.onFenced());
      },
    };
    await cluster.join({
      host: this.#host,
      runtime: {
        checkpointEveryMs: this.options.checkpointEveryMs,
        checkpointEveryMessages: this.options.checkpointEveryMessages,
        captureChunk: this.options.captureChunk,
        clock,
        inspect: this.options.inspect,
      },
      lanes: () => this.#lanes(),
      factory: (lane) => this.#factory(lane),
      startedAt: (lane) => this.#startedAt(lane),
    });
    await whenSitesRun(this.#allLanes(), this.options.startTimeoutMs);
    store.forget();
    cluster.started();
    this.#eventLoop = new EventLoopMonitor(10);
    this.#eventLoop.start();
    this.#input.open();
    this.#admin.push(
      this.#nc.subscribe(adminSubject(this.#tenant, 'status'), {
        callback: (_err, msg) => {
          msg.respond(JSON.stringify(this.status()));
        },
      }),
      this.#nc.subscribe(adminSubject(this.#tenant, 'report'), {
        callback: (_err, msg) => {
          void answerReport(history.sinkForReports, msg.data, this.#tenant, {
            maxBytes: this.#nc.info?.max_payload,
          }).then((reply) => msg.respond(reply));
        },
      }),
      this.#nc.subscribe(adminSubject(this.#tenant, 'transfer'), {
        callback: (_err, msg) => {
          void answerTransfer(this.#transferContext(history.sinkForReports), msg.data).then((reply) =>
            msg.respond(JSON.stringify(reply)),
          );
        },
      }),
      this.#nc.subscribe(adminSubject(this.#tenant, 'restart'), {
        callback: (_err, msg) => {
          msg.respond(JSON.stringify(this.restart(parseRequest(msg.data))));
        },
      }),
    );
    this.#log.info(
      {
        nodeId,
        sites: [...this.sites.keys()],
        nodes: cluster.nodes,
        startSeq: this.#input.routedSeq + 1,
      },
      'node started',
    );
  }

  /** What `wfm-agg transfer` needs of this node: the sites it leads, running, and their state. */
  #transferContext(sink: IntervalSink): TransferContext {
    const led: LedSite[] = [];
    for (const [site, runtime] of this.sites) {
      if (runtime.role !== 'primary') continue;
      led.push({ site, processedSeq: runtime.processedSeq, supervisor: runtime.supervisor });
    }
    return { nodeId: this.options.nodeId, tenant: this.#tenant, js: this.#js, jsm: this.#jsm, led, sink };
  }

  #factory(lane: string): SiteProcessorFactory {
    if (lane === UNROUTED_LANE) return (cp) => new UnroutedProcessor(this.#tenant, cp?.seq ?? 0);
    return siteProcessorFactory(
      () => ({ config: this.#config, ref: this.#refs.get(lane)! }),
      this.options.inspect,
    );
  }

  /**
   * Where a lane new to the cluster starts when this node has no checkpoint of it: a site of the
   * configuration the node started with owns all input; one added later (`wfm-agg restart`)
   * owns input after what was routed when it was added (the rest went to the DLQ).
   */
  #startedAt(lane: string): number {
    if (lane === UNROUTED_LANE || this.#initialSites.has(lane)) return 0;
    return this.#input.routedSeq;
  }

  /**
   * `wfm-agg restart`: re-reads the configuration and restarts the named sites (or a business
   * unit's) from their checkpoints under it; a site new to this node is added without rewinding
   * the others. Unknown names change nothing.
   */
  restart(request: RestartRequest): RestartReply {
    const nodeId = this.options.nodeId;
    let config: WfmConfig;
    try {
      config = this.options.reloadConfig?.() ?? this.#config;
    } catch (err) {
      return { nodeId, ok: false, error: err instanceof WfmError ? err.message : String(err) };
    }
    const resolved = resolveRestart(config, request);
    if (!resolved.ok) return { nodeId, ok: false, error: resolved.error };
    if (config.tenant.id !== this.#tenant)
      return { nodeId, ok: false, error: 'the configuration names another tenant' };
    this.#config = config;
    const restarted: string[] = [];
    const added: string[] = [];
    for (const ref of resolved.sites) {
      const site = this.#cluster?.lanes?.get(ref.site);
      const known = this.#refs.has(ref.site);
      this.#refs.set(ref.site, ref);
      if (site !== undefined) {
        site.actor.send({ type: 'restart' });
        restarted.push(ref.site);
      } else if (!known) {
        // Input up to what was routed went to the DLQ as unknown_site; the rest is the site's.
        added.push(ref.site);
      }
    }
    if (added.length > 0) this.#cluster?.replace();
    this.#log.info({ restarted, added }, 'restart');
    return { nodeId, ok: true, restarted, added };
  }

  #route(raw: RawInput): void {
    const decoded = decodeInput(raw.subject, raw.data, this.#decode);
    const address = decoded.address;
    const own = address !== null && address.tenant === this.#tenant && this.#refs.has(address.site);
    const lanes = this.#cluster!.lanes!;
    const site = own ? lanes.get(address.site) : undefined;
    if (site !== undefined && raw.seq > site.startedAt) site.apply(raw.seq, raw.subject, raw.data, decoded);
    // A configured site placed on other nodes is theirs; the rest belongs to no site.
    else if (!own || site !== undefined)
      lanes.get(UNROUTED_LANE)?.apply(raw.seq, raw.subject, raw.data, decoded);
  }
}

function parseRequest(data: Uint8Array): RestartRequest {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as RestartRequest;
  } catch {
    return {};
  }
}
