import {
  type Actor,
  type AnyActorRef,
  createActor,
  enqueueActions,
  type InspectionEvent,
  type Snapshot,
  setup,
} from 'xstate';
import {
  type AgentAuditEvent,
  type AgentContext,
  type AgentInput,
  type AgentOutput,
  type AgentStep,
  adoptContext,
  type applyAgentInput,
  DeadlineQueue,
  nextDeadline,
  type ResolvedAgentOptions,
  type TransferCount,
  type TransferDataType,
  transferAgentData,
} from '../domain/index.ts';
import { type AgentMachine, type AgentStateValue, createAgentMachine, moveEvent } from './agentMachine.ts';
import { RestingAgents } from './RestingAgents.ts';
import type { SiteResultCollector } from './siteResult.ts';
import { agentSnapshotJson, readAgentSnapshot, type SiteSnapshot } from './siteSnapshot.ts';
import { slimAgentActor } from './slimAgentActor.ts';

// Stands in for an agent's context while XState makes its persisted snapshot (see #snapshotJson).
const NO_CONTEXT = {} as AgentContext;

/**
 * An agent's state taken for a checkpoint, to serialize later while input goes on. Its XState
 * snapshot is never changed (a transition makes a new one), nor is anything its context refers
 * to (the domain core's steps are copy-on-write: see agentCore). The context object itself is
 * the one exception — a step that moves no statechart is adopted into it in place
 * ({@link SiteAgents.apply}) — so it is taken as a shallow copy.
 */
interface TakenAgent {
  agentId: string;
  snapshot: ReturnType<Actor<AgentMachine>['getSnapshot']>;
  context: AgentContext;
}

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
 * The agents of one `SiteSupervisor`: their actors (created on first sight), their deadlines and
 * quarantine, which of them changed since the last capture, and the step counts. What a step
 * produces goes to the site's {@link SiteResultCollector}.
 */
export class SiteAgents {
  readonly #options: ResolvedAgentOptions;
  readonly #result: SiteResultCollector;
  readonly #feedEveryStep: boolean;
  readonly #applyStep: typeof applyAgentInput;
  readonly #machine: AgentMachine = createAgentMachine();
  // Agents are children of one root actor so they share one actor system (less heap per agent).
  readonly #root: Actor<typeof siteRootMachine>;
  // Every agent the site holds is in exactly one of these: with its actor, or restored and
  // resting until its first use (see RestingAgents). #actor() moves one from the second to the first.
  readonly #actors = new Map<string, Actor<AgentMachine>>();
  readonly #resting: RestingAgents;
  readonly #deadlines = new DeadlineQueue();
  readonly #dirty = new Set<string>();
  readonly #quarantined = new Set<string>();
  #steps = 0;
  #transitions = 0;

  /** See `SiteSupervisorOptions` for `feedEveryStep`, `applyStep` and `inspect`. */
  constructor(
    options: ResolvedAgentOptions,
    result: SiteResultCollector,
    feedEveryStep: boolean,
    applyStep: typeof applyAgentInput,
    inspect?: (event: InspectionEvent) => void,
  ) {
    // Its id names the agents for inspection (`agent:<site>/<agentId>`); inspect observes them all.
    this.#root = createActor(siteRootMachine, { id: `agents:${options.site}`, inspect });
    this.#resting = new RestingAgents(this.#machine, `site ${options.tenant}/${options.site}`);
    this.#options = options;
    this.#result = result;
    this.#feedEveryStep = feedEveryStep;
    this.#applyStep = applyStep;
    this.#root.start();
  }

  /** Agent steps taken and how many of them moved a statechart. */
  get stepCounts(): { steps: number; transitions: number } {
    return { steps: this.#steps, transitions: this.#transitions };
  }

  /** Agents quarantined after a deadline step threw, sorted. */
  get quarantined(): string[] {
    return [...this.#quarantined].sort();
  }

  /** Number of agents seen. */
  get size(): number {
    return this.#actors.size + this.#resting.size;
  }

  /** Agents restored from a checkpoint whose actor is not made yet (see RestingAgents). */
  get restingCount(): number {
    return this.#resting.size;
  }

  /**
   * The versioned snapshot (JSON text) of every agent changed since the last capture; the dirty
   * set is taken.
   */
  capture(): [string, string][] {
    return this.#take().map((agent): [string, string] => [agent.agentId, this.#snapshotJson(agent)]);
  }

  /** Agents changed since the last capture. */
  get dirtyCount(): number {
    return this.#dirty.size;
  }

  /**
   * {@link capture} as a stream: the dirty set is taken now, synchronously (`agentIds`), and each
   * agent's JSON text is made as `agents` is read, with `pause()` awaited after every `chunk` of
   * them. So a checkpoint of many agents never holds all their text at once — ~100 MB at 100k
   * agents, which lived long enough to be promoted to V8's old generation and grow it at every
   * big checkpoint — nor stalls the event loop while it serializes. The text is the agents' state
   * when this was called, whatever input is applied meanwhile (see {@link TakenAgent}).
   */
  captureStream(
    chunk: number,
    pause: () => Promise<void>,
  ): { agentIds: string[]; agents: AsyncIterable<[string, string]> } {
    const taken = this.#take();
    const snapshotJson = (agent: TakenAgent) => this.#snapshotJson(agent);
    async function* agents(): AsyncGenerator<[string, string]> {
      for (let i = 0; i < taken.length; i++) {
        if (i > 0 && i % chunk === 0) await pause();
        const agent = taken[i]!;
        yield [agent.agentId, snapshotJson(agent)];
      }
    }
    return { agentIds: taken.map((agent) => agent.agentId), agents: agents() };
  }

  /** Every dirty agent's state now; the dirty set is taken. */
  #take(): TakenAgent[] {
    const taken: TakenAgent[] = [];
    for (const agentId of this.#dirty) {
      const snapshot = this.#actor(agentId)!.getSnapshot();
      taken.push({ agentId, snapshot, context: { ...snapshot.context } });
    }
    this.#dirty.clear();
    return taken;
  }

  /**
   * The JSON text of an agent's versioned persisted snapshot: `actor.getPersistedSnapshot()`'s,
   * without XState walking the whole context for actor references to replace — an agent context
   * is plain JSON data and holds none — which cost about as much as serializing it. XState still
   * makes the persisted snapshot (status, value, history, children); only the context it is
   * given is empty, and the agent's own goes in its place (same key, so the same text).
   */
  #snapshotJson(agent: TakenAgent): string {
    const persisted = this.#machine.getPersistedSnapshot({
      ...agent.snapshot,
      context: NO_CONTEXT,
    }) as Record<string, unknown>;
    persisted.context = agent.context;
    return agentSnapshotJson(persisted);
  }

  /** Puts agents back in the dirty set; ids of agents not held are ignored. */
  markDirty(agentIds: Iterable<string>): void {
    for (const agentId of agentIds) if (this.has(agentId)) this.#dirty.add(agentId);
  }

  /**
   * Calls `visit` with every agent's current context: a pass over all agents with no object per
   * agent (the visualizer's grid reads 100k agents a second per open page).
   */
  forEachContext(visit: (context: AgentContext) => void): void {
    for (const actor of this.#actors.values()) visit(actor.getSnapshot().context);
    this.#resting.forEachContext(visit);
  }

  /** Every agent's current context and statechart value. */
  *entries(): IterableIterator<{ agentId: string; value: unknown; context: AgentContext }> {
    for (const [agentId, actor] of this.#actors) {
      const snapshot = actor.getSnapshot();
      yield { agentId, value: snapshot.value, context: snapshot.context };
    }
    for (const [agentId, resting] of this.#resting.entries())
      yield { agentId, value: resting.value, context: resting.context };
  }

  /** Stops every agent actor, then the root actor. Calling it again does nothing. */
  stop(): void {
    if (this.#root.getSnapshot().status === 'stopped') return;
    // Agents are made with `parent: root`, which shares the root's actor system but does not make
    // them children the root stops when it stops (XState stops only children it spawned), and a
    // child cannot be stopped directly: the root stops them.
    this.#root.send({ type: 'site.stopAgents', agents: [...this.#actors.values()] });
    this.#root.stop();
    this.#resting.clear();
  }

  /** Applies every deadline that `siteTime` has reached, as a step of input message `seq`. */
  fireDeadlines(siteTime: number, seq: number): void {
    for (let due = this.#deadlines.popDue(siteTime); due; due = this.#deadlines.popDue(siteTime)) {
      this.apply(due.agentId, { type: 'tick', at: due.at }, seq);
    }
  }

  /**
   * Runs the domain core for one agent input and keeps the result in the agent's actor: the
   * step's context is adopted in place, and only a step that moves the statechart (presence or
   * adherence) is sent, as a move event (see {@link SiteAgents.#adoptStep}). Most steps — e.g.
   * calls starting and ending while on queue — move neither region. An XState transition costs
   * more than the rest of a step together, and the regions are a function of the context, so the
   * actor ends up exactly as if it had been sent every step (`feedEveryStep` does that, and a
   * property test compares the two).
   */
  apply(agentId: string, input: AgentInput, seq: number): void {
    const actor = this.#actor(agentId) ?? this.#start(agentId, undefined);
    const snapshot = actor.getSnapshot();
    const before = snapshot.context;
    this.#steps++;
    this.#dirty.add(agentId);
    let step: AgentStep;
    let deadline: number | null;
    try {
      step = this.#applyStep(before, input, seq, this.#options);
      deadline = nextDeadline(step.context, this.#options);
    } catch (err) {
      // A bug must not stop the site: the agent keeps the state from before the step.
      this.#stepFailed(agentId, input, err);
      return;
    }
    this.#adoptStep(actor, snapshot.value as AgentStateValue, before, step.context);
    if (step.outputs.length > 0) this.#result.collect(agentId, step.outputs);
    if (step.rejection !== null) this.#result.reject(step.rejection);
    // A step that went through ends a quarantine: the agent has deadlines again.
    if (this.#quarantined.size > 0) this.#quarantined.delete(agentId);
    this.#deadlines.set(agentId, deadline);
  }

  /** Whether the site has an actor for `agentId` (it has had input). */
  has(agentId: string): boolean {
    return this.#actors.has(agentId) || this.#resting.has(agentId);
  }

  /** The current context of `agentId`, or undefined when the site has no actor for it. */
  context(agentId: string): AgentContext | undefined {
    return this.agent(agentId)?.context;
  }

  /** `agentId`'s statechart value and context now (undefined: no actor for it). */
  agent(agentId: string): { value: unknown; context: AgentContext } | undefined {
    const resting = this.#resting.get(agentId);
    if (resting !== undefined) return { value: resting.value, context: resting.context };
    const snapshot = this.#actors.get(agentId)?.getSnapshot();
    return snapshot === undefined ? undefined : { value: snapshot.value, context: snapshot.context };
  }

  /**
   * Applies a transfer of `from`'s data to `to` (both held, distinct) as one step of input
   * `event.sourceSeq`: both actors adopt their new contexts, and their outputs are collected,
   * the source's first. Returns the counts per data type.
   */
  transfer(
    from: string,
    to: string,
    at: number,
    event: AgentAuditEvent,
  ): Record<TransferDataType, TransferCount> {
    const source = this.#actor(from);
    const target = this.#actor(to);
    if (source === undefined || target === undefined || from === to)
      throw new RangeError(`transfer ${from} → ${to}: both agents must be held and distinct`);
    const outcome = transferAgentData(source.getSnapshot().context, target.getSnapshot().context, at, event);
    this.#adopt(from, source, outcome.source, outcome.sourceOutputs);
    this.#adopt(to, target, outcome.target, outcome.targetOutputs);
    return outcome.counts;
  }

  #adopt(agentId: string, actor: Actor<AgentMachine>, context: AgentContext, outputs: AgentOutput[]): void {
    this.#steps++;
    this.#dirty.add(agentId);
    const snapshot = actor.getSnapshot();
    this.#adoptStep(actor, snapshot.value as AgentStateValue, snapshot.context, context);
    if (outputs.length > 0) this.#result.collect(agentId, outputs);
    this.#quarantined.delete(agentId);
    this.#deadlines.set(agentId, nextDeadline(context, this.#options));
  }

  /**
   * Makes `context` (a step's result) the actor's context and moves its regions where it belongs.
   * The context is adopted in place, into the object the actor holds (`held`), and only a step
   * that moves a region is sent, as a move event that names where each goes: XState then runs
   * no guard and copies no context. So the actor ends up exactly as if XState had adopted the
   * context itself — what `feedEveryStep` does, sending every step as `agent.step`, and what a
   * property test compares this with.
   */
  #adoptStep(
    actor: Actor<AgentMachine>,
    value: AgentStateValue,
    held: AgentContext,
    context: AgentContext,
  ): void {
    if (this.#feedEveryStep) {
      this.#transitions++;
      actor.send({ type: 'agent.step', context });
      return;
    }
    if (context !== held) adoptContext(held, context);
    const move = moveEvent(value, context);
    if (move === null) return;
    this.#transitions++;
    actor.send(move);
  }

  /**
   * Makes the agents of a persisted site: `quarantined` as the site state lists them, and each
   * agent's actor from its persisted snapshot (checked), with its deadline unless quarantined.
   */
  restore(quarantined: string[], agents: SiteSnapshot['agents']): void {
    for (const agentId of quarantined) this.#quarantined.add(agentId);
    for (const [agentId, persisted] of agents) {
      if (this.has(agentId)) throw new RangeError(`agent ${agentId} restored twice`);
      const resting = this.#resting.add(agentId, readAgentSnapshot(this.#options, agentId, persisted));
      if (!this.#quarantined.has(agentId))
        this.#deadlines.set(agentId, nextDeadline(resting.context, this.#options));
    }
  }

  /** `agentId`'s actor, made from its resting snapshot on first use; undefined: not held. */
  #actor(agentId: string): Actor<AgentMachine> | undefined {
    const actor = this.#actors.get(agentId);
    if (actor !== undefined) return actor;
    const resting = this.#resting.take(agentId);
    return resting === undefined ? undefined : this.#start(agentId, resting.snapshot);
  }

  /** Makes and starts `agentId`'s actor: new, or from its persisted snapshot. */
  #start(agentId: string, snapshot: Snapshot<unknown> | undefined): Actor<AgentMachine> {
    if (this.#actors.has(agentId) || this.#resting.has(agentId))
      throw new RangeError(`agent ${agentId} already has its actor or a resting snapshot`);
    const actor = createActor(this.#machine, {
      input: { agentId },
      id: agentId,
      parent: this.#root,
      snapshot,
    });
    actor.start();
    this.#actors.set(agentId, slimAgentActor(actor));
    return actor;
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
      this.#result.reject({ reason: 'internal_error', detail: message });
      return;
    }
    this.#deadlines.set(agentId, null);
    this.#quarantined.add(agentId);
    this.#result.reject({
      reason: 'agent_quarantined',
      detail: `agent ${agentId} quarantined: advancing it to its deadline ${input.at} threw: ${message}; it gets no deadline until its next input`,
    });
  }
}
