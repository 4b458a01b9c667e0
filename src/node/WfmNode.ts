import { join } from 'node:path';
import { type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import { waitFor } from 'xstate';
import { listSites, natsConnectOptions, type SiteRef, type WfmConfig } from '../config/index.ts';
import { type DecodeOptions, decodeInput, defaultDecodeOptions } from '../domain/index.ts';
import { NatsError, SiteStartError, WfmError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import { type CheckpointStore, LevelCheckpointStore } from '../persistence/index.ts';
import { connectNats, ensureStreams, natsStatusEvents, type RawInput } from '../streams/index.ts';
import { adminSubject } from './adminSubjects.ts';
import { emptyNodeCounters, type NodeCounters, renderMetrics, siteMetrics } from './NodeMetrics.ts';
import { type NodeStatus, siteStatus } from './NodeStatus.ts';
import { PublishingConnection } from './PublishingConnection.ts';
import { type RestartReply, type RestartRequest, resolveRestart } from './restartRequest.ts';
import { SharedInput } from './SharedInput.ts';
import type { SiteHost, SiteRuntimeOptions } from './SiteHost.ts';
import type { SiteProcessorFactory } from './SiteProcessor.ts';
import { SiteRuntime } from './SiteRuntime.ts';
import { siteProcessorFactory } from './siteProcessorFactory.ts';
import { UNROUTED_LANE, UnroutedProcessor } from './UnroutedProcessor.ts';
import { defaultWfmNodeOptions, type WfmNodeOptions } from './WfmNodeOptions.ts';

/** Restores of one site that may fail in a row before the node's start fails. */
const START_ATTEMPTS = 3;

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
  #jsm!: JetStreamManager;
  #store!: CheckpointStore;
  #publishing: PublishingConnection | null = null;
  readonly #sites = new Map<string, SiteRuntime>();
  #unrouted!: SiteRuntime;
  #host!: SiteHost;
  #admin: NatsSubscription[] = [];
  #stopped = false;
  #input!: SharedInput;

  private constructor(options: WfmNodeOptions) {
    this.options = options;
    this.#log = options.logger;
    this.#config = options.config;
    this.#tenant = options.config.tenant.id;
    this.#decode = { ...defaultDecodeOptions, reasonCodeKeyName: options.config.reasonCodeKeyName };
    for (const ref of listSites(options.config)) this.#refs.set(ref.site, ref);
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

  /** Sites of this node by id. */
  get sites(): ReadonlyMap<string, SiteRuntime> {
    return this.#sites;
  }

  status(): NodeStatus {
    return {
      nodeId: this.options.nodeId,
      tenant: this.#tenant,
      sites: [...this.#sites.values()].map((s) =>
        siteStatus(this.#tenant, this.#refs.get(s.site)!, s, this.#unrouted.checkpointSeq),
      ),
    };
  }

  /** Prometheus text. */
  async metrics(): Promise<string> {
    let last: number | null = null;
    try {
      last = (await this.#jsm.streams.info('WFM_IN')).state.last_seq;
    } catch {
      // Lag is unknown while NATS is unreachable; the other metrics still render.
    }
    const sites = [...this.#sites.values(), this.#unrouted].map(siteMetrics);
    return renderMetrics(this.options.nodeId, sites, this.counters, last, this.#input.routedSeq);
  }

  /**
   * Checkpoints every site now (each flushes its outputs first); resolves when all are written.
   * @throws the first site's error (PublishError, CheckpointError); that site's actor handles it too.
   */
  async checkpoint(): Promise<void> {
    const lanes = [...this.#sites.values(), this.#unrouted];
    const results = await Promise.allSettled(lanes.map((lane) => lane.checkpoint()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) {
      // A publish failure needs the site rebuilt, as if its own timer had found it.
      const lane = lanes[results.indexOf(failed)]!;
      lane.actor.send({ type: 'fail', error: failed.reason });
      throw failed.reason;
    }
  }

  /** Drains: stops reading, each site flushes and writes a final checkpoint, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const sub of this.#admin) sub.unsubscribe();
    this.#input?.stop();
    const lanes = [...this.#sites.values(), ...(this.#unrouted !== undefined ? [this.#unrouted] : [])];
    for (const lane of lanes) lane.actor.send({ type: 'stop' });
    await Promise.all(
      lanes.map((lane) => waitFor(lane.actor, (s) => s.status === 'done').catch(() => undefined)),
    );
    await this.#store
      ?.close()
      .catch((err: unknown) => this.#log.error({ err }, 'closing the checkpoint store failed'));
    await this.#publishing?.close();
    await this.#nc?.drain().catch(() => undefined);
    this.#log.info({ routedSeq: this.#input.routedSeq }, 'node stopped');
  }

  async #open(): Promise<void> {
    const { config, nodeId } = this.options;
    this.#nc = await connectNats(natsConnectOptions(config, `wfm-agg ${nodeId}`));
    natsStatusEvents(this.#nc).subscribe((event) => {
      if (event.type === 'disconnected') this.counters.natsDisconnects++;
      this.#log.info({ nats: event.type }, 'nats connection');
    });
    const js = jetstream(this.#nc);
    this.#jsm = await jetstreamManager(this.#nc);
    // Refuses (StreamMismatchError, naming the subject) a stream that would drop some outputs.
    await ensureStreams(this.#jsm, { replicas: config.streams.replicas });
    this.#publishing = await PublishingConnection.open({
      connect: natsConnectOptions(config, `wfm-agg ${nodeId} out`),
      publisher: this.options.publisher,
      logger: this.#log,
      onLost: (error) => {
        this.counters.publishFailures++;
        for (const lane of [...this.#sites.values(), this.#unrouted])
          lane.actor.send({ type: 'fail', error });
      },
    });
    const publishing = this.#publishing;
    this.#store =
      this.options.store ?? new LevelCheckpointStore({ location: join(config.dataDir, 'checkpoints') });
    await this.#store.open();
    this.#input = new SharedInput({
      js,
      tenant: this.#tenant,
      logger: this.#log,
      route: (raw) => this.#route(raw),
      gate: () => publishing.publisher?.whenReady(),
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
    };
    // The lane of unowned input first: a site new to the checkpoints starts where it stands.
    this.#unrouted = this.#lane(UNROUTED_LANE, 0, (cp) => new UnroutedProcessor(this.#tenant, cp?.seq ?? 0));
    await this.#whenRunning([this.#unrouted]);
    for (const ref of this.#refs.values()) this.#addSite(ref, this.#unrouted.position);
    await this.#whenRunning([...this.#sites.values()]);
    this.#input.open();
    this.#admin.push(
      this.#nc.subscribe(adminSubject(this.#tenant, 'status'), {
        callback: (_err, msg) => {
          msg.respond(JSON.stringify(this.status()));
        },
      }),
      this.#nc.subscribe(adminSubject(this.#tenant, 'restart'), {
        callback: (_err, msg) => {
          msg.respond(JSON.stringify(this.restart(parseRequest(msg.data))));
        },
      }),
    );
    this.#log.info(
      { nodeId, sites: [...this.#sites.keys()], startSeq: this.#input.routedSeq + 1 },
      'node started',
    );
  }

  #lane(site: string, startedAt: number, create: SiteProcessorFactory): SiteRuntime {
    const options: Partial<SiteRuntimeOptions> = {
      checkpointEveryMs: this.options.checkpointEveryMs,
      checkpointEveryMessages: this.options.checkpointEveryMessages,
      clock: this.options.clock,
    };
    const lane = new SiteRuntime(site, 'primary', startedAt, create, this.#host, options);
    lane.start();
    return lane;
  }

  #addSite(ref: SiteRef, startedAt: number): SiteRuntime {
    this.#refs.set(ref.site, ref);
    const create = siteProcessorFactory(() => ({ config: this.#config, ref: this.#refs.get(ref.site)! }));
    const site = this.#lane(ref.site, startedAt, create);
    this.#sites.set(ref.site, site);
    return site;
  }

  async #whenRunning(lanes: SiteRuntime[]): Promise<void> {
    const timeout = this.options.startTimeoutMs;
    await Promise.all(
      lanes.map(async (lane) => {
        // Running, or failing to restore three times in a row: a start that cannot succeed
        // (an unreadable checkpoint, a stream it cannot read) fails now rather than at the timeout.
        const settled = await waitFor(
          lane.actor,
          (s) => s.matches('running') || s.context.failures >= START_ATTEMPTS,
          { timeout },
        ).catch((err: unknown) => {
          throw new NatsError(`site ${lane.site} did not start within ${timeout} ms`, { cause: err });
        });
        if (!settled.matches('running')) {
          throw new SiteStartError(`site ${lane.site} could not be restored: ${settled.context.lastError}`);
        }
      }),
    );
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
      const site = this.#sites.get(ref.site);
      this.#refs.set(ref.site, ref);
      if (site !== undefined) {
        site.actor.send({ type: 'restart' });
        restarted.push(ref.site);
      } else {
        // Input up to what was routed went to the DLQ as unknown_site; the rest is the site's.
        this.#addSite(ref, this.#input.routedSeq);
        added.push(ref.site);
      }
    }
    this.#log.info({ restarted, added }, 'restart');
    return { nodeId, ok: true, restarted, added };
  }

  #route(raw: RawInput): void {
    const decoded = decodeInput(raw.subject, raw.data, this.#decode);
    const address = decoded.address;
    const site =
      address !== null && address.tenant === this.#tenant ? this.#sites.get(address.site) : undefined;
    const lane = site !== undefined && raw.seq > site.startedAt ? site : this.#unrouted;
    lane.apply(raw.seq, raw.subject, raw.data, decoded);
  }
}

function parseRequest(data: Uint8Array): RestartRequest {
  try {
    return JSON.parse(new TextDecoder().decode(data)) as RestartRequest;
  } catch {
    return {};
  }
}
