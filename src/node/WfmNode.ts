import { join } from 'node:path';
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription as NatsSubscription } from '@nats-io/transport-node';
import type { Subscription } from 'rxjs';
import { SiteSupervisor } from '../actors/index.ts';
import { listSites, natsConnectOptions, type SiteRef, type WfmConfig } from '../config/index.ts';
import { type DecodeOptions, decodeInput, defaultDecodeOptions, tenantInputFilter } from '../domain/index.ts';
import type { Logger } from '../logging/index.ts';
import { LevelCheckpointStore } from '../persistence/index.ts';
import {
  connectNats,
  type DeadLetter,
  DlqPublisher,
  ensureStreams,
  findPublishedMark,
  inputMessages,
  natsStatusEvents,
  OutputPublisher,
  type RawInput,
} from '../streams/index.ts';
import { adminSubject } from './adminSubjects.ts';
import { InputBatcher } from './InputBatcher.ts';
import { emptyNodeCounters, type NodeCounters, renderMetrics } from './NodeMetrics.ts';
import { type SiteRole, SiteRuntime, type SiteSinks } from './SiteRuntime.ts';

/** How a node runs. */
export interface WfmNodeOptions {
  config: WfmConfig;
  /** This node's id, unique in the cluster. */
  nodeId: string;
  logger: Logger;
  /**
   * Checkpoint after this many applied messages, a bound on re-processing after a crash for
   * bursts faster than `checkpointEveryMs`. A checkpoint costs about the same at any count (it
   * serializes the agents changed, up to all of them, while input waits), so a low count only
   * makes catching up on a backlog slower: at 50000 it took 8% of a node's CPU.
   * @defaultValue 250000
   */
  checkpointEveryMessages: number;
  /**
   * Checkpoint at least this often (wall clock: a persistence policy, never a processing input).
   * Each checkpoint serializes every agent changed since the last one while input waits; a
   * restart re-processes at most this much input, whose outputs are skipped or deduplicated.
   * @defaultValue 5000
   */
  checkpointEveryMs: number;
}

export const defaultWfmNodeOptions: Pick<WfmNodeOptions, 'checkpointEveryMessages' | 'checkpointEveryMs'> = {
  checkpointEveryMessages: 250_000,
  checkpointEveryMs: 5000,
};

/** One site as `GET /api/status` shows it. */
export interface SiteStatus {
  tenant: string;
  site: string;
  businessUnit: string;
  name: string;
  statServer: string;
  role: SiteRole;
  processedSeq: number;
  checkpointSeq: number;
  siteTime: number;
  agents: number;
}

/** `GET /api/status` and the `status` admin reply. */
export interface NodeStatus {
  nodeId: string;
  tenant: string;
  sites: SiteStatus[];
}

/**
 * The composition root of a cluster node: NATS in, one supervisor per configured site, outputs
 * and dead letters out, LevelDB checkpoints. Outputs are flushed (acknowledged by JetStream)
 * before every checkpoint, and a restart re-processes from the checkpoint while skipping what
 * `WFM_OUT` already holds — so outputs are exactly-once in effect.
 */
export class WfmNode {
  readonly options: WfmNodeOptions;
  readonly counters: NodeCounters = emptyNodeCounters();
  readonly #log: Logger;
  readonly #decode: DecodeOptions;
  readonly #refs: SiteRef[];
  #nc!: NatsConnection;
  // Outputs and dead letters go out on their own connection, which never reconnects: on one
  // connection the server stores a prefix of what was sent, so a drop loses only a suffix and
  // the last stored output of a site (the published mark) has nothing missing before it.
  #pubNc: NatsConnection | null = null;
  #js!: JetStreamClient;
  #jsm!: JetStreamManager;
  #store!: LevelCheckpointStore;
  #outputs!: OutputPublisher;
  #dlq!: DlqPublisher;
  #sites = new Map<string, SiteRuntime>();
  #input: Subscription | null = null;
  #admin: NatsSubscription | null = null;
  #timer: NodeJS.Timeout | null = null;
  #processedSeq = 0;
  #sinceCheckpoint = 0;
  readonly #batcher = new InputBatcher<RawInput>({
    apply: (raw) => this.#apply(raw),
    blocked: () => this.#checkpointing,
    afterBatch: () => {
      if (this.#sinceCheckpoint >= this.options.checkpointEveryMessages)
        this.checkpoint().catch(() => undefined);
    },
  });
  #checkpointing: Promise<void> | null = null;
  #restarting = false;
  #stopped = false;

  private constructor(options: WfmNodeOptions) {
    this.options = options;
    this.#log = options.logger;
    this.#decode = { ...defaultDecodeOptions, reasonCodeKeyName: options.config.reasonCodeKeyName };
    this.#refs = listSites(options.config);
  }

  /** Connects, makes the streams, restores every site from its checkpoint and starts reading. */
  static async start(
    options: Partial<WfmNodeOptions> & Pick<WfmNodeOptions, 'config' | 'nodeId' | 'logger'>,
  ) {
    const node = new WfmNode({ ...defaultWfmNodeOptions, ...options });
    await node.#open();
    return node;
  }

  /** Last `WFM_IN` sequence this node has applied. */
  get processedSeq(): number {
    return this.#processedSeq;
  }

  /** Sites of this node by id. */
  get sites(): ReadonlyMap<string, SiteRuntime> {
    return this.#sites;
  }

  status(): NodeStatus {
    const tenant = this.options.config.tenant.id;
    return {
      nodeId: this.options.nodeId,
      tenant,
      sites: [...this.#sites.values()].map((s) => ({
        tenant,
        site: s.ref.site,
        businessUnit: s.ref.businessUnit,
        name: s.ref.name,
        statServer: s.ref.statServer,
        role: s.role,
        processedSeq: Math.max(this.#processedSeq, s.supervisor.seq),
        checkpointSeq: s.checkpointSeq,
        siteTime: s.supervisor.siteTime,
        agents: s.supervisor.agentCount,
      })),
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
    return renderMetrics(this.options.nodeId, this.#sites.values(), this.counters, last, this.#processedSeq);
  }

  /** Drains: stops reading, flushes outputs, writes a final checkpoint, disconnects. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#input?.unsubscribe();
    this.#input = null;
    this.#batcher.drainNow();
    try {
      await this.checkpoint();
    } catch (err) {
      this.#log.error({ err }, 'final checkpoint failed; the next start resumes from the previous one');
    }
    this.#admin?.unsubscribe();
    for (const site of this.#sites.values()) site.supervisor.stop();
    await this.#store.close();
    await this.#pubNc?.drain().catch(() => undefined);
    await this.#nc.drain().catch(() => undefined);
    this.#log.info({ processedSeq: this.#processedSeq }, 'node stopped');
  }

  /**
   * Flushes every pending output and dead letter, then writes each site's dirty agents and the
   * applied seq in one batch per site. Input is held back until it is done.
   */
  checkpoint(): Promise<void> {
    if (this.#checkpointing !== null) return this.#checkpointing;
    // While the pipeline is being rebuilt, the sites in memory may hold state whose outputs were
    // never stored (the flush that found the failure already consumed it): never persist them.
    if (this.#restarting) return Promise.resolve();
    // Inputs received but not applied yet are simply not part of this checkpoint.
    // Captured now, synchronously between two messages, so the state and the seq agree.
    const seq = this.#processedSeq;
    const dirty = [...this.#sites.values()].map((s) => ({ runtime: s, ...s.supervisor.takeDirty() }));
    const started = process.hrtime.bigint();
    this.#sinceCheckpoint = 0;
    this.#checkpointing = (async () => {
      try {
        await this.#outputs.flush();
        await this.#dlq.flush();
      } catch (err) {
        this.counters.publishFailures++;
        // Dirty agents were taken: rebuild from the last good checkpoint rather than lose them.
        this.#restartPipeline(err);
        throw err;
      }
      const tenant = this.options.config.tenant.id;
      for (const d of dirty) {
        const commitSeq = Math.max(seq, d.seq);
        await this.#store.commit(
          { tenant, site: d.runtime.ref.site },
          { seq: commitSeq, site: d.site, agents: d.agents },
        );
        d.runtime.checkpointSeq = commitSeq;
      }
      const secs = Number(process.hrtime.bigint() - started) / 1e9;
      this.counters.checkpoints++;
      this.counters.checkpointSecondsSum += secs;
      this.counters.lastCheckpointSeconds = secs;
    })().finally(() => {
      this.#checkpointing = null;
    });
    return this.#checkpointing;
  }

  async #open(): Promise<void> {
    const { config, nodeId } = this.options;
    this.#nc = await connectNats(natsConnectOptions(config, `wfm-agg ${nodeId}`));
    natsStatusEvents(this.#nc).subscribe((event) => {
      if (event.type === 'disconnected') this.counters.natsDisconnects++;
      this.#log.info({ nats: event.type }, 'nats connection');
    });
    this.#js = jetstream(this.#nc);
    this.#jsm = await jetstreamManager(this.#nc);
    await ensureStreams(this.#jsm);
    await this.#openPublishers();
    this.#store = new LevelCheckpointStore({ location: join(config.dataDir, 'checkpoints') });
    await this.#store.open();
    await this.#startPipeline();
    this.#timer = setInterval(() => {
      if (this.#sinceCheckpoint > 0) this.checkpoint().catch(() => undefined);
    }, this.options.checkpointEveryMs);
    this.#admin = this.#nc.subscribe(adminSubject(config.tenant.id, 'status'), {
      callback: (_err, msg) => {
        msg.respond(JSON.stringify(this.status()));
      },
    });
    this.#log.info(
      { nodeId, sites: this.#refs.map((r) => r.site), startSeq: this.#processedSeq + 1 },
      'node started',
    );
  }

  async #openPublishers(): Promise<void> {
    const { config, nodeId } = this.options;
    const pubNc = await connectNats({
      ...natsConnectOptions(config, `wfm-agg ${nodeId} out`),
      reconnect: false,
    });
    this.#pubNc = pubNc;
    const js = jetstream(pubNc);
    this.#outputs = new OutputPublisher(js);
    this.#dlq = new DlqPublisher(js);
    void pubNc.closed().then((err) => {
      if (this.#pubNc === pubNc && !this.#stopped) {
        this.#restartPipeline(err ?? new Error('the publishing connection closed'));
      }
    });
  }

  /**
   * Restores every site from its checkpoint and starts reading after it.
   * Outputs WFM_OUT already holds are skipped by each site's last stored output (the published
   * mark): the publishing connection never reconnects, so what it stored has no gap.
   */
  async #startPipeline(): Promise<void> {
    const { config } = this.options;
    const tenant = config.tenant.id;
    const sites = new Map<string, SiteRuntime>();
    let startSeq = Number.MAX_SAFE_INTEGER;
    for (const ref of this.#refs) {
      const checkpoint = await this.#store.load({ tenant, site: ref.site });
      const supervisor = new SiteSupervisor(
        {
          tenant,
          site: ref.site,
          mappedReasons: config.mappedReasons,
          intervalMinutes: ref.intervalMinutes,
          offsetMinutes: ref.offsetMinutes,
          ...config.adherence,
        },
        checkpoint === null
          ? undefined
          : { seq: checkpoint.seq, site: checkpoint.site as { siteTime: number }, agents: checkpoint.agents },
      );
      const mark = await findPublishedMark(this.#jsm, tenant, ref.site);
      const previous = this.#sites.get(ref.site);
      const runtime = new SiteRuntime(ref, supervisor, mark, this.#sinks);
      if (previous !== undefined) runtime.role = previous.role;
      sites.set(ref.site, runtime);
      startSeq = Math.min(startSeq, supervisor.seq + 1);
    }
    for (const old of this.#sites.values()) old.supervisor.stop();
    this.#sites = sites;
    this.#processedSeq = startSeq - 1;
    await this.#checkInputRetention(startSeq);
    this.#input = inputMessages(this.#js, {
      filterSubject: tenantInputFilter(tenant),
      startSeq,
      whenReady: () => this.#whenReady(),
      onEvent: (event) => this.#log.info({ input: event.type, ...event }, 'input consumer'),
    }).subscribe({
      next: (raw) => this.#onInput(raw),
      error: (err: unknown) => this.#restartPipeline(err),
    });
  }

  /**
   * Messages after the checkpoint must still be in WFM_IN. If retention dropped some, they are
   * lost to this node: say so loudly (log and metric) rather than start silently after them.
   */
  async #checkInputRetention(startSeq: number): Promise<void> {
    const { first_seq: firstSeq } = (await this.#jsm.streams.info('WFM_IN')).state;
    if (firstSeq <= startSeq) return;
    const missing = firstSeq - startSeq;
    this.counters.inputGapMessages += missing;
    this.#log.error(
      { startSeq, firstSeq, missing },
      'WFM_IN no longer holds input this node had not checkpointed (retention dropped it): it is lost',
    );
  }

  #restartPipeline(cause: unknown): void {
    if (this.#restarting || this.#stopped) return;
    this.#restarting = true;
    // Unapplied input is dropped with the pipeline: the rebuilt one re-reads it from the checkpoint.
    this.#batcher.clear();
    // Close the publishing connection now, so nothing it still buffers is sent after a lost
    // message; what it did store is a prefix, which the published marks then skip exactly.
    const pubNc = this.#pubNc;
    this.#pubNc = null;
    void pubNc?.close().catch(() => undefined);
    this.counters.pipelineRestarts++;
    this.#log.warn({ err: cause }, 'input pipeline failed; rebuilding it from the last checkpoint');
    this.#input?.unsubscribe();
    this.#input = null;
    const retry = async (): Promise<void> => {
      while (!this.#stopped) {
        await new Promise((r) => setTimeout(r, 1000));
        try {
          if (this.#pubNc === null) await this.#openPublishers();
          await this.#startPipeline();
          return;
        } catch (err) {
          this.#log.warn({ err }, 'rebuilding the input pipeline failed; trying again');
        }
      }
    };
    void retry().finally(() => {
      this.#restarting = false;
    });
  }

  #gate(): Promise<void> | undefined {
    return (
      this.#batcher.whenRoom() ?? this.#checkpointing ?? this.#outputs.whenReady() ?? this.#dlq.whenReady()
    );
  }

  #whenReady(): Promise<void> | undefined {
    const first = this.#gate();
    if (first === undefined) return undefined;
    return (async () => {
      // Every gate may have closed again while we waited: wait until all are open at once.
      for (let gate: Promise<void> | undefined = first; gate !== undefined; gate = this.#gate()) {
        await gate.catch(() => undefined);
      }
    })();
  }

  #onInput(raw: RawInput): void {
    if (!this.#restarting) this.#batcher.push(raw); // else: a torn-down consumer's last deliveries
  }

  #apply(raw: RawInput): void {
    if (raw.seq <= this.#processedSeq) return;
    this.#processedSeq = raw.seq;
    const tenant = this.options.config.tenant.id;
    const decoded = decodeInput(raw.subject, raw.data, this.#decode);
    const address = decoded.address;
    const runtime = address === null ? undefined : this.#sites.get(address.site);
    if (address === null || address.tenant !== tenant) {
      const rejection = decoded.ok
        ? { reason: 'bad_subject' as const, detail: 'subject of another tenant' }
        : decoded.rejection;
      this.#deadLetter({ tenant, seq: raw.seq, subject: raw.subject, data: raw.data, ...rejection });
    } else if (runtime === undefined) {
      this.#deadLetter({
        tenant,
        seq: raw.seq,
        subject: raw.subject,
        data: raw.data,
        reason: 'unknown_site',
        detail: `site ${address.site} is not configured`,
      });
    } else {
      runtime.apply(raw.seq, raw.subject, raw.data, decoded);
    }
    this.#sinceCheckpoint++;
  }

  readonly #sinks: SiteSinks = {
    output: (output, ordinal) => this.#outputs.publish(output, ordinal),
    deadLetter: (letter) => this.#deadLetter(letter),
  };

  #deadLetter(letter: DeadLetter): void {
    this.counters.dlqByReason[letter.reason] = (this.counters.dlqByReason[letter.reason] ?? 0) + 1;
    this.#dlq.publish(letter);
  }
}
