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
  type Rejection,
  type ResolvedAgentOptions,
  resolveAgentOptions,
} from '../domain/index.ts';
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

/** Site-level state persisted beside the agents' snapshots. */
export interface SiteState {
  siteTime: number;
  /** Agents quarantined after a deadline step threw: no deadline until their next own input. */
  quarantined: string[];
}

/** A site's state as persisted: last applied seq, site state, and agent snapshots. */
export interface SiteSnapshot {
  seq: number;
  site: SiteState;
  agents: Map<string, unknown>;
}

/**
 * One site: routes each decoded input to its agent's actor (created on first sight), advances
 * the site's event time from stat and clock messages, advances agents whose deadlines that time
 * has reached (schedule boundaries, interval closes), and collects outputs in input order.
 * Processing is synchronous and uses event time only, so it is a pure function of the input.
 */
export class SiteSupervisor {
  readonly options: ResolvedAgentOptions;
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
    this.options = resolveAgentOptions(options);
    this.#feedEveryStep = feedEveryStep;
    this.#applyStep = applyStep;
    this.#root.start();
    if (snapshot !== undefined) this.#restore(snapshot);
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

  /** The state to persist now: seq, site state, and every agent changed since the last call. */
  takeDirty(): { seq: number; site: SiteState; agents: [string, unknown][] } {
    const agents: [string, unknown][] = [];
    for (const agentId of this.#dirty)
      agents.push([agentId, this.#agents.get(agentId)!.getPersistedSnapshot()]);
    this.#dirty.clear();
    return { seq: this.#seq, site: this.#siteState(), agents };
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
    return { siteTime: this.#siteTime, quarantined: this.quarantined };
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

  #restore(snapshot: SiteSnapshot): void {
    this.#seq = snapshot.seq;
    this.#siteTime = snapshot.site.siteTime;
    for (const agentId of snapshot.site.quarantined ?? []) this.#quarantined.add(agentId);
    for (const [agentId, persisted] of snapshot.agents) {
      const actor = createActor(this.#machine, {
        input: { agentId },
        id: agentId,
        parent: this.#root,
        snapshot: persisted as Snapshot<unknown>,
      });
      actor.start();
      this.#agents.set(agentId, actor);
      if (!this.#quarantined.has(agentId))
        this.#deadlines.set(agentId, nextDeadline(actor.getSnapshot().context, this.options));
    }
  }
}
