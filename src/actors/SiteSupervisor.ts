import { type Actor, type AnyActorRef, createActor, enqueueActions, type Snapshot, setup } from 'xstate';
import {
  type AgentContext,
  type AgentInput,
  type AgentOptions,
  type AgentOutput,
  type AgentStep,
  applyAgentInput,
  DeadlineQueue,
  type Decoded,
  nextDeadline,
  type Output,
  optionsFingerprint,
  type Rejection,
  type ResolvedAgentOptions,
  resolveAgentOptions,
  TimeProfile,
  type TimeProfileEntry,
} from '../domain/index.ts';
import { CheckpointError, SnapshotVersionError } from '../errors.ts';
import {
  type AgentMachine,
  type AgentStateValue,
  createAgentMachine,
  movesStatechart,
} from './agentMachine.ts';

/**
 * A stat or clock `ts` further than this past the site's event time is refused (`bad_ts`): it is
 * a clock error, and accepting it would close a month of intervals for every agent at once.
 */
export const MAX_FORWARD_JUMP_MS = 31 * 24 * 3_600_000;

/** The parent of a site's agent actors; it exists to share one actor system and to stop them. */
const siteRootMachine = setup({
  types: { events: {} as { type: 'site.stopAgents'; agents: AnyActorRef[] } },
}).createMachine({
  id: 'site',
  on: {
    'site.stopAgents': {
      actions: enqueueActions(({ event, enqueue }) => {
        for (const agent of event.agents) enqueue.stopChild(agent);
      }),
    },
  },
});

/**
 * A refused input, ready for the DLQ. `ordinal` is its position (0-based) among the DLQ entries
 * of the same input message, so `(tenant, seq, ordinal)` identifies it even when one input yields
 * two (e.g. the input refused and another agent quarantined on the deadline it reached).
 */
export interface DlqEntry {
  tenant: string;
  seq: number;
  ordinal: number;
  subject: string;
  reason: Rejection['reason'];
  detail: string;
}

/** What one input message produced, in production order. */
export interface SiteResult {
  outputs: Output[];
  dlq: DlqEntry[];
}

/** Options of a `SiteSupervisor` beyond the agents' own. */
export interface SiteSupervisorOptions {
  /**
   * Send every step to its agent's actor, not only the steps that move its statechart. The
   * outputs and snapshots are the same either way (a property test holds them equal); this is
   * the reference the fast path is checked against.
   * @defaultValue false
   */
  feedEveryStep?: boolean;
  /**
   * Test seam: the function that computes one agent step. Tests pass a wrapper that throws for a
   * chosen agent and input to exercise the supervisor's failure handling; production code never
   * sets it.
   * @defaultValue `applyAgentInput`
   */
  applyStep?: (
    context: AgentContext,
    input: AgentInput,
    seq: number,
    options: ResolvedAgentOptions,
  ) => AgentStep;
}

/**
 * Version of a persisted agent snapshot, `{"v":1,"snapshot":<the XState persisted snapshot>}`:
 * a restore refuses any other (SnapshotVersionError) rather than misread it.
 */
export const AGENT_SNAPSHOT_VERSION = 1;

/** Version of {@link SiteState}: a restore refuses any other (SnapshotVersionError). */
export const SITE_STATE_VERSION = 1;

/** Site-level state persisted beside the agents' snapshots. JSON-safe. */
export interface SiteState {
  /** {@link SITE_STATE_VERSION}. */
  v: number;
  /** The site's event time (-1: none yet). */
  siteTime: number;
  /** Agents quarantined after a deadline step threw: no deadline until their next own input. */
  quarantined: string[];
  /** `optionsFingerprint` of the options the state was computed under. */
  optionsFingerprint: string;
  /**
   * The site's time-profile history (TimeProfile entries), so a restart under the same
   * configuration reproduces the same interval grids exactly.
   */
  profiles: TimeProfileEntry[];
}

/**
 * A site's state to persist, serialized at capture: the last applied seq, the site state, and
 * the agents changed since the previous capture, each as the JSON text of its versioned
 * snapshot (`{"v":AGENT_SNAPSHOT_VERSION,"snapshot":…}`).
 */
export interface SiteCapture {
  seq: number;
  site: SiteState;
  agents: [agentId: string, json: string][];
}

/** A site's state as persisted, to restore from. */
export interface SiteSnapshot {
  /** Last applied `WFM_IN` sequence. */
  seq: number;
  /** The {@link SiteState} as captured (parsed JSON); validated on restore. */
  site: unknown;
  /**
   * agentId → the agent's persisted snapshot as captured: its JSON text, or that text parsed
   * (what a checkpoint store's `load()` returns). A `Map` is such an iterable.
   */
  agents: Iterable<readonly [string, unknown]>;
}

/**
 * One site: routes each decoded input to its agent's actor (created on first sight), advances
 * the site's event time from stat and clock messages, advances agents whose deadlines that time
 * has reached (schedule boundaries, interval closes), and collects outputs in input order.
 * Processing is synchronous and uses event time only, so it is a pure function of the input.
 */
export class SiteSupervisor {
  /**
   * The options in force: those given, with, after a restore, the time-profile history
   * continued with the given grid (see `TimeProfile.switchTo`).
   */
  readonly options: ResolvedAgentOptions;
  /** `optionsFingerprint` of the options given. */
  readonly optionsFingerprint: string;
  /** The fingerprint found in the restored site state; null when not restored. */
  readonly restoredOptionsFingerprint: string | null = null;
  readonly #machine: AgentMachine = createAgentMachine();
  readonly #feedEveryStep: boolean;
  readonly #applyStep: NonNullable<SiteSupervisorOptions['applyStep']>;
  // Agents are children of one root actor so they share one actor system (less heap per agent).
  readonly #root = createActor(siteRootMachine);
  readonly #agents = new Map<string, Actor<AgentMachine>>();
  readonly #deadlines = new DeadlineQueue();
  readonly #dirty = new Set<string>();
  readonly #quarantined = new Set<string>();
  #seq = 0;
  #siteTime = -1;
  #steps = 0;
  #transitions = 0;
  #emptyActivitiesDropped = 0;
  // Per-message collection; reset at the start of every process() call.
  #outputs: Output[] = [];
  #dlq: DlqEntry[] = [];
  #current = { seq: 0, subject: '' };

  constructor(
    options: Partial<AgentOptions> & Pick<AgentOptions, 'tenant' | 'site'>,
    snapshot?: SiteSnapshot,
    { feedEveryStep = false, applyStep = applyAgentInput }: SiteSupervisorOptions = {},
  ) {
    const resolved = resolveAgentOptions(options);
    this.optionsFingerprint = optionsFingerprint(resolved);
    this.#feedEveryStep = feedEveryStep;
    this.#applyStep = applyStep;
    if (snapshot === undefined) {
      this.options = resolved;
      this.#root.start();
      return;
    }
    const site = this.#readSiteState(resolved, snapshot.site);
    this.restoredOptionsFingerprint = site.optionsFingerprint;
    // Time already accounted keeps the grid it was accounted on; a changed grid applies from the
    // next boundary (DESIGN.md "Running it": restart).
    const profile = new TimeProfile(site.profiles).switchTo(
      resolved.intervalMinutes,
      resolved.offsetMinutes,
      site.siteTime,
    );
    this.options = { ...resolved, profile };
    this.#root.start();
    try {
      this.#restore(snapshot.seq, site, snapshot.agents);
    } catch (err) {
      // A snapshot refused half-way: the actors made before it must not outlive this attempt.
      this.stop();
      throw err;
    }
  }

  /**
   * Whether the options given differ from those the restored state was computed under (false
   * when not restored): the node logs it. A changed time profile applies from the next interval
   * boundary; other options from the next input.
   */
  get restoredOptionsChanged(): boolean {
    return (
      this.restoredOptionsFingerprint !== null && this.restoredOptionsFingerprint !== this.optionsFingerprint
    );
  }

  /** Last applied `WFM_IN` sequence. */
  get seq(): number {
    return this.#seq;
  }

  /** The site's event time: the greatest `ts` seen on its stat and clock subjects (-1: none yet). */
  get siteTime(): number {
    return this.#siteTime;
  }

  /**
   * Agent steps taken (inputs and deadlines applied to agents) and how many of them moved a
   * statechart, i.e. were sent to the actor as an event; since this supervisor was made.
   */
  get stepCounts(): { steps: number; transitions: number } {
    return { steps: this.#steps, transitions: this.#transitions };
  }

  /**
   * Scheduled activities with start = end dropped from the schedules this supervisor applied
   * (they cover no time), since it was made.
   */
  get emptyActivitiesDropped(): number {
    return this.#emptyActivitiesDropped;
  }

  /** Agents quarantined after a deadline step threw, sorted; each leaves it with its next own input. */
  get quarantined(): string[] {
    return [...this.#quarantined].sort();
  }

  /** Number of agents seen. */
  get agentCount(): number {
    return this.#agents.size;
  }

  /**
   * Applies one decoded input. Messages at or below the last applied seq are ignored (they were
   * applied before a restart), which makes replays after a crash harmless.
   */
  process(seq: number, subject: string, decoded: Decoded): SiteResult {
    if (seq <= this.#seq) return { outputs: [], dlq: [] };
    this.#seq = seq;
    this.#outputs = [];
    this.#dlq = [];
    this.#current = { seq, subject };
    if (!decoded.ok) {
      this.#reject(decoded.rejection);
    } else {
      const event = decoded.event;
      if (
        event.type !== 'schedule' &&
        this.#siteTime >= 0 &&
        event.ts > this.#siteTime + MAX_FORWARD_JUMP_MS
      ) {
        this.#reject({
          reason: 'bad_ts',
          detail: `ts ${event.ts} jumps more than 31 days past the site's event time ${this.#siteTime}`,
        });
        return { outputs: this.#outputs, dlq: this.#dlq };
      }
      if (event.type === 'clock') {
        this.#advanceSiteTime(event.ts);
      } else {
        if (event.type !== 'schedule') this.#advanceSiteTime(event.ts);
        else if (event.emptyActivitiesDropped) this.#emptyActivitiesDropped += event.emptyActivitiesDropped;
        this.#apply(event.agentId, event, seq);
      }
      this.#fireDeadlines(seq);
    }
    return { outputs: this.#outputs, dlq: this.#dlq };
  }

  /**
   * The state to persist now, serialized at capture: seq, site state, and every agent changed
   * since the last capture as JSON text — so input can go on changing the live actors while the
   * checkpoint is written, and nothing in flight changes what is written. The dirty set is
   * taken; when the commit of this capture fails, {@link markDirty} puts its agents back.
   */
  capture(): SiteCapture {
    const agents: [string, string][] = [];
    for (const agentId of this.#dirty) {
      const snapshot = JSON.stringify(this.#agents.get(agentId)!.getPersistedSnapshot());
      // The versioned envelope, written as text: one string, no wrapper object per agent.
      agents.push([agentId, `{"v":${AGENT_SNAPSHOT_VERSION},"snapshot":${snapshot}}`]);
    }
    this.#dirty.clear();
    return { seq: this.#seq, site: this.#siteState(), agents };
  }

  /**
   * Puts agents back in the dirty set, so the next capture writes them again: a caller whose
   * commit of a capture failed calls it with that capture's agents (B1). Ids of agents this
   * supervisor does not hold are ignored.
   */
  markDirty(agentIds: Iterable<string>): void {
    for (const agentId of agentIds) if (this.#agents.has(agentId)) this.#dirty.add(agentId);
  }

  /** Every agent's current context and statechart value (for status pages and the visualizer). */
  *agents(): IterableIterator<{ agentId: string; value: unknown; context: AgentContext }> {
    for (const [agentId, actor] of this.#agents) {
      const snapshot = actor.getSnapshot();
      yield { agentId, value: snapshot.value, context: snapshot.context };
    }
  }

  /** Stops every agent actor, then the site's root actor. Calling it again does nothing. */
  stop(): void {
    if (this.#root.getSnapshot().status === 'stopped') return;
    // Agents are made with `parent: root`, which shares the root's actor system but does not make
    // them children the root stops when it stops (XState stops only children it spawned), and a
    // child cannot be stopped directly: the root stops them.
    this.#root.send({ type: 'site.stopAgents', agents: [...this.#agents.values()] });
    this.#root.stop();
  }

  #siteState(): SiteState {
    return {
      v: SITE_STATE_VERSION,
      siteTime: this.#siteTime,
      quarantined: this.quarantined,
      optionsFingerprint: this.optionsFingerprint,
      profiles: this.options.profile.entries.map((e) => ({ ...e })),
    };
  }

  #advanceSiteTime(ts: number): void {
    if (ts > this.#siteTime) this.#siteTime = ts;
  }

  #fireDeadlines(seq: number): void {
    for (
      let due = this.#deadlines.popDue(this.#siteTime);
      due;
      due = this.#deadlines.popDue(this.#siteTime)
    ) {
      this.#apply(due.agentId, { type: 'tick', at: due.at }, seq);
    }
  }

  /**
   * Runs the domain core for one agent input and keeps the result in the agent's actor. Only a
   * step that moves the statechart (presence or adherence) is sent as an event: the others —
   * most of them, e.g. calls starting and ending while on queue — are adopted into the actor's
   * context in place. An XState transition costs more than the rest of a step together, and the
   * regions are a function of the context, so the actor ends up exactly as if it had been sent
   * every step (`feedEveryStep` does that, and a property test compares the two).
   */
  #apply(agentId: string, input: AgentInput, seq: number): void {
    let actor = this.#agents.get(agentId);
    if (actor === undefined) {
      actor = createActor(this.#machine, { input: { agentId }, id: agentId, parent: this.#root });
      actor.start();
      this.#agents.set(agentId, actor);
    }
    const snapshot = actor.getSnapshot();
    const before = snapshot.context;
    this.#steps++;
    this.#dirty.add(agentId);
    let step: AgentStep;
    let deadline: number | null;
    try {
      step = this.#applyStep(before, input, seq, this.options);
      deadline = nextDeadline(step.context, this.options);
    } catch (err) {
      // A bug must not stop the site: the agent keeps the state from before the step.
      this.#stepFailed(agentId, input, err);
      return;
    }
    if (this.#feedEveryStep || movesStatechart(snapshot.value as AgentStateValue, step.context)) {
      this.#transitions++;
      actor.send({ type: 'agent.step', context: step.context });
    } else if (step.context !== before) {
      Object.assign(before, step.context);
    }
    if (step.outputs.length > 0) this.#collect(agentId, step.outputs);
    if (step.rejection !== null) this.#reject(step.rejection);
    // A step that went through ends a quarantine: the agent has deadlines again.
    if (this.#quarantined.size > 0) this.#quarantined.delete(agentId);
    this.#deadlines.set(agentId, deadline);
  }

  /**
   * The core threw on a step of `agentId`. On its own input, the input goes to the DLQ as
   * `internal_error` and its deadline stays as it was (still queued: if it is due, the deadline
   * step that follows is handled like any other). On a deadline, the agent is quarantined: its
   * deadline was just popped, and setting it again from the unchanged context would pop the same
   * deadline forever; so it gets none until its next own input, and one DLQ entry says so.
   */
  #stepFailed(agentId: string, input: AgentInput, err: unknown): void {
    const message = err instanceof Error ? err.message : String(err);
    if (input.type !== 'tick') {
      this.#reject({ reason: 'internal_error', detail: message });
      return;
    }
    this.#deadlines.set(agentId, null);
    this.#quarantined.add(agentId);
    this.#reject({
      reason: 'agent_quarantined',
      detail: `agent ${agentId} quarantined: advancing it to its deadline ${input.at} threw: ${message}; it gets no deadline until its next input`,
    });
  }

  #collect(agentId: string, outputs: AgentOutput[]): void {
    const { tenant, site } = this.options;
    for (const output of outputs) {
      this.#outputs.push({
        kind: output.kind,
        tenant,
        site,
        agentId,
        ordinal: this.#outputs.length,
        payload: output.payload,
      } as Output);
    }
  }

  #reject(rejection: Rejection): void {
    const { seq, subject } = this.#current;
    this.#dlq.push({
      tenant: this.options.tenant,
      seq,
      ordinal: this.#dlq.length,
      subject,
      reason: rejection.reason,
      detail: rejection.detail,
    });
  }

  #restore(seq: number, site: SiteState, agents: SiteSnapshot['agents']): void {
    this.#seq = seq;
    this.#siteTime = site.siteTime;
    for (const agentId of site.quarantined) this.#quarantined.add(agentId);
    for (const [agentId, persisted] of agents) {
      const actor = createActor(this.#machine, {
        input: { agentId },
        id: agentId,
        parent: this.#root,
        snapshot: this.#readAgentSnapshot(agentId, persisted),
      });
      actor.start();
      this.#agents.set(agentId, actor);
      if (!this.#quarantined.has(agentId))
        this.#deadlines.set(agentId, nextDeadline(actor.getSnapshot().context, this.options));
    }
  }

  /** The persisted site state, checked: another version is refused, a malformed one too. */
  #readSiteState(options: ResolvedAgentOptions, stored: unknown): SiteState {
    const where = `site ${options.tenant}/${options.site}`;
    const r = stored as Partial<SiteState> | null;
    const v = typeof r === 'object' && r !== null ? r.v : undefined;
    if (v !== SITE_STATE_VERSION) throw new SnapshotVersionError(`state of ${where}`, v, SITE_STATE_VERSION);
    const bad = (what: string) => new CheckpointError(`state of ${where}: ${what}`);
    if (typeof r!.siteTime !== 'number' || !Number.isFinite(r!.siteTime))
      throw bad('siteTime is not a number');
    if (!Array.isArray(r!.quarantined) || !r!.quarantined.every((id) => typeof id === 'string'))
      throw bad('quarantined is not a list of agent ids');
    if (typeof r!.optionsFingerprint !== 'string') throw bad('optionsFingerprint is not a string');
    if (!Array.isArray(r!.profiles) || !r!.profiles.every((e) => typeof e === 'object' && e !== null))
      throw bad('profiles is not a list of time profiles');
    try {
      new TimeProfile(r!.profiles);
    } catch (err) {
      throw new CheckpointError(`state of ${where}: profiles: ${(err as Error).message}`, { cause: err });
    }
    return r as SiteState;
  }

  /** The XState snapshot inside a persisted agent snapshot (JSON text or parsed), checked. */
  #readAgentSnapshot(agentId: string, persisted: unknown): Snapshot<unknown> {
    const owner = `agent ${agentId} of site ${this.options.tenant}/${this.options.site}`;
    let value = persisted;
    if (typeof persisted === 'string') {
      try {
        value = JSON.parse(persisted);
      } catch (err) {
        throw new CheckpointError(`${owner}: snapshot is not JSON`, { cause: err });
      }
    }
    const r = value as { v?: unknown; snapshot?: { context?: { agentId?: unknown } } } | null;
    const v = typeof r === 'object' && r !== null ? r.v : undefined;
    if (v !== AGENT_SNAPSHOT_VERSION) throw new SnapshotVersionError(owner, v, AGENT_SNAPSHOT_VERSION);
    if (r!.snapshot?.context?.agentId !== agentId)
      throw new CheckpointError(`${owner}: snapshot is not this agent's`);
    return r!.snapshot as Snapshot<unknown>;
  }
}
