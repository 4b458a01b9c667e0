import { type Actor, createActor } from 'xstate';
import {
  createSiteMachine,
  type FailureStage,
  type SiteLifecycleServices,
  type SiteMachine,
  type SiteRole,
  SiteSupervisor,
} from '../actors/index.ts';
import type { Decoded } from '../domain/index.ts';
import { CheckpointError } from '../errors.ts';
import { JsonText } from '../persistence/index.ts';
import type { DeadLetter, LeaseMark, Publisher } from '../streams/index.ts';
import { reportRestore } from './reportRestore.ts';
import { SiteCheckpointMeta } from './SiteCheckpointMeta.ts';
import {
  defaultSiteRuntimeOptions,
  emptySiteCounters,
  type SiteCounters,
  type SiteHost,
  type SiteRuntimeOptions,
} from './SiteHost.ts';
import type { ProcessorResult, SiteProcessor, SiteProcessorFactory } from './SiteProcessor.ts';
import { SiteWriter } from './SiteWriter.ts';
import { storedSince } from './storedSince.ts';

const NO_LETTERS: readonly DeadLetter[] = [];

/**
 * One site on one node — the unit that restores, runs as primary or backup, checkpoints and
 * rebuilds, driven by its lifecycle actor (`createSiteMachine`). It owns its processor (the
 * site's supervisor and agent actors), its input position, and what it already wrote: restored
 * from a checkpoint, it reads the identities `WFM_OUT` and `WFM_DLQ` hold after the checkpoint's
 * stream positions and skips exactly those while it re-processes, so nothing is lost or doubled
 * whatever happened to single publishes and whatever the server's duplicate window.
 */
export class SiteRuntime implements SiteLifecycleServices {
  readonly site: string;
  readonly counters: SiteCounters = emptySiteCounters();
  readonly actor: Actor<SiteMachine>;
  readonly #host: SiteHost;
  readonly #options: SiteRuntimeOptions;
  readonly #create: SiteProcessorFactory;
  readonly writer: SiteWriter;
  #processor: SiteProcessor | null = null;
  #publisher: Publisher | null = null;
  #meta: SiteCheckpointMeta;
  #accepting = false;
  #processedSeq = 0;
  #countedSeq = 0;
  // How far the site has considered input, its own or not: see `position`.
  #position = 0;
  #checkpointSeq = 0;
  #sinceCheckpoint = 0;
  #checkpointing: Promise<void> | null = null;

  /**
   * `startedAt`: for a site new to this node's checkpoints, the last input sequence that is not
   * its own (input before it went to the DLQ as `unknown_site`); ignored when a checkpoint exists.
   * `create` makes the site's processor from its checkpoint (or from nothing).
   */
  constructor(
    site: string,
    role: SiteRole,
    startedAt: number,
    create: SiteProcessorFactory,
    host: SiteHost,
    options: Partial<SiteRuntimeOptions> = {},
  ) {
    this.site = site;
    this.#host = host;
    this.#options = { ...defaultSiteRuntimeOptions, ...options };
    this.#create = create;
    this.#meta = SiteCheckpointMeta.initial(startedAt);
    const { checkpointEveryMs, retryDelayMs, maxRetryDelayMs, clock } = this.#options;
    this.writer = new SiteWriter(
      {
        site,
        clock,
        counters: this.counters,
        storedAfter: (mark, signal) =>
          storedSince(host, site, this.#meta.at(mark.outSeq, mark.dlqSeq), signal),
        onFenced: () => this.onFenced(),
      },
      this.#options.outboxMessages,
    );
    this.actor = createActor(createSiteMachine(), {
      input: { site, role, services: this, checkpointEveryMs, retryDelayMs, maxRetryDelayMs },
      clock,
      id: `site:${site}`,
      inspect: this.#options.inspect,
    });
  }

  /** The inspection observer of the site's actors (its election's too). */
  get inspect(): SiteRuntimeOptions['inspect'] {
    return this.#options.inspect;
  }

  /** Called when the lease permit ran out with something to write (the election listens). */
  onFenced: () => void = () => undefined;

  /** Input at or before this sequence is not the site's (see the constructor). */
  get startedAt(): number {
    return this.#meta.startedAt;
  }

  /** Last `WFM_IN` sequence of this site's own input applied. */
  get processedSeq(): number {
    return this.#processedSeq;
  }

  /**
   * Last `WFM_IN` sequence the site has considered: its own input applied, and everything routed
   * elsewhere while it took input (none of that is its own). This is what it checkpoints, so a
   * quiet site does not hold back the node's reading or the stream's retention. Never decreases.
   */
  get position(): number {
    const routed = this.#accepting ? this.#host.routedSeq() : 0;
    return Math.max(this.#position, this.#processedSeq, routed);
  }

  /** Last `WFM_IN` sequence whose effects are durable in the checkpoint. */
  get checkpointSeq(): number {
    return this.#checkpointSeq;
  }

  /** The site's supervisor while it runs (null while it restores, and for the unrouted lane). */
  get supervisor(): SiteSupervisor | null {
    return this.#processor instanceof SiteSupervisor ? this.#processor : null;
  }

  /** The site's processor while it runs (null while it restores). */
  get processor(): SiteProcessor | null {
    return this.#processor;
  }

  /** The lifecycle actor's state, e.g. `{ running: { role: 'primary', checkpoints: 'idle' } }`. */
  get state(): unknown {
    return this.actor.getSnapshot().value;
  }

  /** The site's role (primary or backup), whatever its lifecycle state. */
  get role(): SiteRole {
    return this.actor.getSnapshot().context.role;
  }

  /** Starts the lifecycle: restore, then run. */
  start(): void {
    this.actor.start();
  }

  /**
   * Applies one input of this site (the hot path). Input is ignored unless the site is running
   * and the input is past what it applied: after a restore it is read again from the checkpoint.
   */
  apply(seq: number, subject: string, data: Uint8Array, decoded: Decoded): void {
    if (!this.#accepting || seq <= this.#processedSeq) return;
    this.#processedSeq = seq;
    const result = this.#processor!.process(seq, subject, decoded);
    // Counters count each input once per process: what a rebuild re-applies is not new.
    const fresh = seq > this.#countedSeq;
    if (fresh) {
      this.#countedSeq = seq;
      this.#count(result);
    }
    const letters =
      result.dlq.length === 0
        ? NO_LETTERS
        : result.dlq.map((entry): DeadLetter => ({ ...entry, site: this.site, data }));
    this.writer.record(seq, result.outputs, letters);
    if (++this.#sinceCheckpoint === this.#options.checkpointEveryMessages)
      this.actor.send({ type: 'checkpoint' });
  }

  #count(result: ProcessorResult): void {
    const { counters } = this;
    counters.events++;
    for (const output of result.outputs) counters.outputs[output.kind]++;
    for (const entry of result.dlq)
      counters.dlqByReason[entry.reason] = (counters.dlqByReason[entry.reason] ?? 0) + 1;
  }

  async restore(): Promise<void> {
    const { tenant, store } = this.#host;
    // Timed for the log line below only (operators and the takeover bench read where a slow
    // restore spent its time); nothing decides by it.
    const started = performance.now();
    const checkpoint = await store.load({ tenant, site: this.site });
    const loaded = performance.now();
    this.#publisher = this.#host.publisher();
    if (checkpoint !== null) this.#meta = SiteCheckpointMeta.read(this.site, checkpoint.site);
    const processor = this.#create(
      checkpoint === null
        ? null
        : { ...checkpoint, site: SiteCheckpointMeta.processorState(checkpoint.site) },
    );
    const seq = checkpoint?.seq ?? this.#meta.startedAt;
    if (checkpoint === null) {
      // Make the site's start durable before it takes input, so a crash cannot move it.
      const site = this.#meta.toJSON(processor.capture().site);
      await store.commit({ tenant, site: this.site }, { seq, site, agents: [] });
    }
    const read = performance.now();
    const stored = await storedSince(this.#host, this.site, this.#meta);
    const readDone = performance.now();
    // The checkpoint is a confirmed mark: everything before it was stored, the rest after its positions.
    const base: LeaseMark = { seq, outSeq: this.#meta.outSeq, dlqSeq: this.#meta.dlqSeq };
    this.writer.reset(this.#publisher, base, stored);
    await reportRestore(this.#host, this.site, this.counters, seq, processor);
    this.#processor = processor;
    this.#processedSeq = seq;
    this.#position = seq;
    this.#checkpointSeq = seq;
    this.#sinceCheckpoint = 0;
    const ms = (from: number, to: number) => Math.round(to - from);
    const now = performance.now();
    this.#host.logger.info(
      {
        site: this.site,
        seq,
        storedSinceCheckpoint: stored.ids.size,
        loadMs: ms(started, loaded),
        readStoredMs: ms(read, readDone),
        totalMs: ms(started, now),
      },
      'site restored',
    );
  }

  checkpoint(): Promise<void> {
    // One checkpoint at a time: a commit must never overtake an earlier capture's.
    const run = (this.#checkpointing ?? Promise.resolve())
      .catch(() => undefined)
      .then(() => this.#checkpoint());
    const tracked = run.finally(() => {
      if (this.#checkpointing === tracked) this.#checkpointing = null;
    });
    this.#checkpointing = tracked;
    return tracked;
  }

  async #checkpoint(): Promise<void> {
    const processor = this.#processor;
    const publisher = this.#publisher;
    if (processor === null || publisher === null) return;
    const started = performance.now();
    // Everything applied so far goes to the publisher first (when it may), so the flush below
    // covers it. Captured synchronously between two inputs: the state, the seq and the stream
    // positions agree. Everything published after this is stored after the positions taken here.
    // Serializing what was captured may take several turns; input goes on meanwhile.
    this.writer.pump();
    const writing = this.writer.allSent;
    const seq = this.position;
    const capture = this.#capture(processor);
    this.#position = seq;
    const mark = this.writer.mark;
    // Re-applying input whose outputs were stored before (after a rebuild or a takeover), the
    // positions of now are past some of them: a restore from here would look after them, miss
    // them and write them again. Until it is past that input, it keeps the positions it was
    // restored with (correct for any later seq: everything after them is read).
    let meta =
      seq < this.writer.storedThrough
        ? this.#meta
        : this.#meta.at(
            Math.max(publisher.ackedSeq('WFM_OUT'), mark.outSeq),
            Math.max(publisher.ackedSeq('WFM_DLQ'), mark.dlqSeq),
          );
    this.#sinceCheckpoint = 0;
    if (writing) {
      await publisher.flush(this.site, publisher.flushPoint());
    } else {
      // A backup (or a primary that may not write): see SiteWriter.backupCheckpointMark.
      const at = await this.writer.backupCheckpointMark(seq, this.#options.checkpointEveryMs);
      if (at === 'not yet' || this.#processor !== processor) {
        processor.markDirty(capture.agentIds);
        this.counters.checkpointsDeferred++;
        return;
      }
      meta = at === null ? this.#meta : this.#meta.at(at.outSeq, at.dlqSeq);
    }
    try {
      await this.#host.store.commit(
        { tenant: this.#host.tenant, site: this.site },
        { seq, site: meta.toJSON(capture.site), agents: capture.agents },
      );
    } catch (error) {
      // B1: the captured agents were taken out of the dirty set; put them back or they would
      // never be written again while the next commit moves the seq past their stale snapshots.
      if (this.#processor === processor) processor.markDirty(capture.agentIds);
      this.counters.checkpointFailures++;
      throw error instanceof CheckpointError
        ? error
        : new CheckpointError(`checkpoint of ${this.site} failed`, { cause: error });
    }
    this.#meta = meta;
    if (seq > this.#checkpointSeq) this.#checkpointSeq = seq;
    this.counters.checkpoints++;
    this.counters.checkpointSecondsSum += (performance.now() - started) / 1000;
  }

  /**
   * The processor's state now, taken synchronously. Many changed agents come as a stream the
   * store reads while it writes, serialized a chunk at a time with the event loop free between
   * chunks (a checkpoint of 100k agents would otherwise stall it for seconds, past the lease
   * silence, and hold all their JSON at once) while input goes on: it changes nothing taken.
   */
  #capture(processor: SiteProcessor): TakenCapture {
    const chunk = this.#options.captureChunk;
    if (processor.dirtyCount <= chunk) {
      const { site, agents } = processor.capture();
      return {
        site,
        agentIds: agents.map(([id]) => id),
        agents: agents.map(([id, json]): [string, JsonText] => [id, new JsonText(json)]),
      };
    }
    const { site, agentIds, agents } = processor.captureStream(
      chunk,
      () => new Promise((r) => setImmediate(r)),
    );
    return { site, agentIds, agents: asJsonText(agents) };
  }

  async teardown(): Promise<void> {
    this.counters.rebuilds++;
    await this.#checkpointing?.catch(() => undefined);
    // Let what the site sent settle (acked, failed or timed out) before it looks again at what
    // the streams hold, so nothing of its old life lands after that look; what waits parked for
    // a permit (see SiteWriter) never goes.
    this.writer.refuseParked();
    await this.#publisher?.flush(this.site).catch(() => undefined);
    this.#dropState();
  }

  async takeOver(): Promise<void> {
    const kind = await this.writer.takeOver(this.position);
    if (kind === 'hot') this.counters.hotTakeovers++;
    else this.counters.resumedLeases++;
  }

  async drain(): Promise<void> {
    if (this.#processor !== null) {
      try {
        await this.checkpoint();
      } catch (error) {
        this.#host.logger.error(
          { site: this.site, err: error },
          'final checkpoint failed; the next start resumes from the previous one',
        );
      }
    }
    this.#dropState();
    this.#host.roleChanged?.(this, null);
  }

  #dropState(): void {
    this.#processor?.stop();
    this.#processor = null;
    this.writer.detach();
  }

  accept(on: boolean): void {
    // Leaving, the site keeps how far it considered input; input routed from now on is not seen.
    if (!on) this.#position = this.position;
    this.#accepting = on;
    if (on) this.#host.readFrom(this.#processedSeq + 1);
  }

  setRole(role: SiteRole): void {
    this.writer.setWriting(role === 'primary');
    this.#host.roleChanged?.(this, role);
  }

  failed(stage: FailureStage, error: unknown): void {
    if (stage === 'takeover') {
      this.counters.coldTakeovers++;
      this.#host.logger.info(
        { site: this.site, reason: error instanceof Error ? error.message : String(error) },
        'takeover rebuilds from the checkpoint',
      );
      return;
    }
    this.#host.logger.warn({ site: this.site, stage, err: error }, `site ${stage} failed`);
  }
}

/** A capture as a checkpoint commits it: the agents' JSON as pre-serialized text. */
interface TakenCapture {
  site: unknown;
  agentIds: string[];
  agents: Iterable<[string, JsonText]> | AsyncIterable<[string, JsonText]>;
}

async function* asJsonText(agents: AsyncIterable<[string, string]>): AsyncGenerator<[string, JsonText]> {
  for await (const [id, json] of agents) yield [id, new JsonText(json)];
}
