import type { Snapshot } from 'xstate';
import type { AgentContext } from '../domain/index.ts';
import { CheckpointError } from '../errors.ts';
import {
  type AgentMachine,
  type AgentStateValue,
  adherenceStateOf,
  presenceStateOf,
} from './agentMachine.ts';

/** A restored agent's persisted snapshot, checked: what its actor is made from. */
export interface RestingAgent {
  readonly value: unknown;
  readonly context: AgentContext;
  readonly snapshot: Snapshot<unknown>;
}

/**
 * The restored agents of a site whose actors are not made yet. Making an XState actor from a
 * persisted snapshot costs ~40 µs (XState resolves the state nodes, walks the context for actor
 * references, registers the actor): 4 s of a 100k-agent restart, spent before the site could
 * take input, for agents most of which see none for a while. So a restore only checks each
 * snapshot and keeps it here; the agent's actor is made from it on its first use (an input, a
 * deadline, a transfer, a capture), and its state can be read meanwhile without one.
 *
 * What XState would refuse when making the actor is refused here, at the restore, as before: a
 * status other than `active`, child actors (an agent has none), a state value the agent machine
 * does not have. A value is checked by XState itself, once per distinct value (a site has a few
 * dozen), so the check costs a lookup per agent.
 */
export class RestingAgents {
  readonly #machine: AgentMachine;
  readonly #owner: string;
  readonly #agents = new Map<string, RestingAgent>();
  // JSON of state values XState resolved: a value is checked once, not once per agent.
  readonly #validValues = new Set<string>();

  constructor(machine: AgentMachine, owner: string) {
    this.#machine = machine;
    this.#owner = owner;
  }

  get size(): number {
    return this.#agents.size;
  }

  has(agentId: string): boolean {
    return this.#agents.has(agentId);
  }

  get(agentId: string): RestingAgent | undefined {
    return this.#agents.get(agentId);
  }

  /** Keeps `agentId`'s checked snapshot (from `readAgentSnapshot`); throws what XState would. */
  add(agentId: string, snapshot: Snapshot<unknown>): RestingAgent {
    const s = snapshot as Snapshot<unknown> & { value?: unknown; context?: AgentContext; children?: unknown };
    const where = `agent ${agentId} of ${this.#owner}`;
    if (s.status !== 'active') throw new CheckpointError(`${where}: snapshot status is ${String(s.status)}`);
    if (s.children !== undefined && Object.keys(s.children as object).length > 0)
      throw new CheckpointError(`${where}: snapshot has child actors; an agent has none`);
    this.#checkValue(where, s.value, s.context!);
    const resting: RestingAgent = { value: s.value, context: s.context!, snapshot };
    this.#agents.set(agentId, resting);
    return resting;
  }

  /** Takes `agentId`'s snapshot out (its actor is being made), or undefined when not resting. */
  take(agentId: string): RestingAgent | undefined {
    const resting = this.#agents.get(agentId);
    if (resting !== undefined) this.#agents.delete(agentId);
    return resting;
  }

  /** Calls `visit` with every resting agent's context. */
  forEachContext(visit: (context: AgentContext) => void): void {
    for (const resting of this.#agents.values()) visit(resting.context);
  }

  *entries(): IterableIterator<[string, RestingAgent]> {
    yield* this.#agents;
  }

  clear(): void {
    this.#agents.clear();
  }

  #checkValue(where: string, value: unknown, context: AgentContext): void {
    const key = JSON.stringify(value);
    if (!this.#validValues.has(key)) {
      try {
        // Resolving a value XState's way: what restoring the actor would do with it.
        this.#machine.resolveState({ value: value as never, context });
      } catch (err) {
        throw new CheckpointError(`${where}: state ${key} is not the agent machine's`, { cause: err });
      }
      this.#validValues.add(key);
    }
    // The agent machine's guards read the state a region is in from the context: a snapshot
    // whose state is not where its context belongs would never move right again.
    const regions = value as Partial<AgentStateValue>;
    const belongs: AgentStateValue = {
      presence: presenceStateOf(context),
      adherence: adherenceStateOf(context),
    };
    if (regions.presence !== belongs.presence || regions.adherence !== belongs.adherence)
      throw new CheckpointError(
        `${where}: state ${key} is not where its context belongs (${JSON.stringify(belongs)})`,
      );
  }
}
