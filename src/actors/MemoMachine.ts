import {
  type ActorScope,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type AnyStateNode,
  type EventObject,
  StateMachine,
} from 'xstate';
import { InternalError } from '../errors.ts';

/** One configuration of the statechart: its state nodes, value and tags, shared by every snapshot in it. */
interface Configuration {
  readonly _nodes: readonly AnyStateNode[];
  readonly value: AnyMachineSnapshot['value'];
  readonly tags: ReadonlySet<string>;
}

/** A transition learnt once: where an event takes the statechart from one configuration. */
interface LearntMove {
  readonly to: Configuration;
  // What XState's own macrostep tells an inspector it took (`@xstate.microstep`).
  readonly transitions: unknown[];
}

/** The part of XState's actor system a memoized transition reports through, as its macrostep does. */
interface InspectingSystem {
  _sendInspectionEvent?(event: {
    type: '@xstate.microstep';
    actorRef: unknown;
    event: EventObject;
    snapshot: AnyMachineSnapshot;
    _transitions: unknown[];
  }): void;
}

/** A Set that stays empty: the tags of a machine that has none (adding throws). */
class NoTags extends Set<string> {
  override add(): this {
    throw new InternalError('MemoMachine: a snapshot tags set is shared and must not change');
  }
}
const NO_TAGS: ReadonlySet<string> = new NoTags();

// `StateMachine`'s constructor, typed loosely: the subclass is handed back as the machine it wraps.
const AnyMachineClass = StateMachine as unknown as new (
  config: AnyStateMachine['config'],
  implementations: AnyStateMachine['implementations'],
) => AnyStateMachine;

/**
 * A state machine whose transitions on chosen events XState computes once per configuration and
 * event, then reuses. XState's macrostep builds Sets, sorts state nodes and copies the snapshot
 * on every transition (~8 µs and ~16 kB for an agent moving both regions); for an event that only
 * moves the statechart — no guard, no action, no entry or exit, nothing eventless — the result
 * depends on nothing but where it starts, so a learnt move is the snapshot with the learnt
 * configuration: the same fields, context, children and history as XState's, with its state
 * nodes, value and tags shared (frozen) by every snapshot in that configuration.
 *
 * What makes that exact is checked, not assumed: the constructor refuses a machine with any
 * entry, exit, eventless, delayed or invoked behaviour, history or final states, tags, or a guard
 * or action on a memoized event's transitions; each time a move is learnt, XState's own result
 * must have exactly the fields a learnt one is given (see `SNAPSHOT_FIELDS`), every one but the
 * configuration's unchanged. Any other event goes to XState as is.
 */
class MemoMachine extends AnyMachineClass {
  readonly #memoized: ReadonlySet<string>;
  // Configuration key (its atomic state ids) -> the configuration every memoized snapshot uses.
  readonly #configurations = new Map<string, Configuration>();
  // A configuration's shared state node array -> what each memoized event does from it.
  readonly #moves = new Map<readonly AnyStateNode[], Map<string, LearntMove>>();

  constructor(machine: AnyStateMachine, memoized: readonly string[]) {
    super(machine.config, machine.implementations);
    this.#memoized = new Set(memoized);
    assertMemoizable(this.root, this.#memoized);
  }

  override transition(
    snapshot: AnyMachineSnapshot,
    event: EventObject,
    actorScope: ActorScope<AnyMachineSnapshot, EventObject>,
  ): AnyMachineSnapshot {
    if (!this.#memoized.has(event.type) || snapshot.status !== 'active')
      return super.transition(snapshot, event, actorScope);
    const moves = this.#moves.get(snapshot._nodes) ?? this.#movesFrom(this.#configuration(snapshot));
    const learnt = moves.get(event.type);
    if (learnt !== undefined) {
      const next = inConfiguration(snapshot, learnt.to);
      (actorScope.system as InspectingSystem)._sendInspectionEvent?.({
        type: '@xstate.microstep',
        actorRef: actorScope.self,
        event,
        snapshot: next,
        _transitions: learnt.transitions,
      });
      return next;
    }
    const next = super.transition(snapshot, event, actorScope);
    const fields = Object.keys(next);
    const onlyMoved =
      fields.length === SNAPSHOT_FIELDS.length &&
      SNAPSHOT_FIELDS.every(
        (field, i) =>
          fields[i] === field && (field in CONFIGURATION_FIELDS || next[field] === snapshot[field]),
      );
    if (!onlyMoved)
      throw new InternalError(
        `MemoMachine: ${event.type} changed more than the configuration, or XState's snapshot has other fields; it cannot be memoized`,
      );
    const to = this.#configuration(next);
    moves.set(event.type, { to, transitions: this.getTransitionData(snapshot, event) });
    return inConfiguration(next, to);
  }

  /** The shared configuration a snapshot is in (made the first time one is in it). */
  #configuration(snapshot: AnyMachineSnapshot): Configuration {
    const key = snapshot._nodes
      .filter((node) => node.type === 'atomic')
      .map((node) => node.id)
      .sort()
      .join('\n');
    let known = this.#configurations.get(key);
    if (known === undefined) {
      known = {
        _nodes: Object.freeze([...snapshot._nodes]),
        value: deepFreeze(structuredClone(snapshot.value)),
        tags: NO_TAGS,
      };
      this.#configurations.set(key, known);
    }
    return known;
  }

  #movesFrom(configuration: Configuration): Map<string, LearntMove> {
    let moves = this.#moves.get(configuration._nodes);
    if (moves === undefined) {
      moves = new Map();
      this.#moves.set(configuration._nodes, moves);
    }
    return moves;
  }
}

/**
 * A machine snapshot's fields, in the order XState's `createMachineSnapshot` makes them: a learnt
 * move's snapshot is the same object shape (one hidden class for V8), written out because an
 * object spread of 15 fields was most of what a learnt move cost. Checked against XState's own
 * result each time a move is learnt.
 */
const SNAPSHOT_FIELDS = [
  'status',
  'output',
  'error',
  'machine',
  'context',
  '_nodes',
  'value',
  'tags',
  'children',
  'historyValue',
  'matches',
  'hasTag',
  'can',
  'getMeta',
  'toJSON',
] as const satisfies readonly (keyof AnyMachineSnapshot)[];
// The fields a configuration holds: a move may change only these.
const CONFIGURATION_FIELDS = { _nodes: true, value: true, tags: true };

/** `s` in configuration `to`: every other field as it was. */
function inConfiguration(s: AnyMachineSnapshot, to: Configuration): AnyMachineSnapshot {
  return {
    status: s.status,
    output: s.output,
    error: s.error,
    machine: s.machine,
    context: s.context,
    _nodes: to._nodes,
    value: to.value,
    tags: to.tags,
    children: s.children,
    historyValue: s.historyValue,
    matches: s.matches,
    hasTag: s.hasTag,
    can: s.can,
    getMeta: s.getMeta,
    toJSON: s.toJSON,
  } as AnyMachineSnapshot;
}

/** Throws unless every transition on `memoized` events depends on nothing but the configuration. */
function assertMemoizable(root: AnyStateNode, memoized: ReadonlySet<string>): void {
  const refuse = (node: AnyStateNode, what: string) => {
    throw new InternalError(`MemoMachine: state ${node.id} has ${what}; its transitions cannot be memoized`);
  };
  const visit = (node: AnyStateNode) => {
    // Delays first: XState schedules them by entry and exit actions of its own.
    if (node.after.length > 0) refuse(node, 'delayed transitions');
    if (node.entry.length > 0) refuse(node, 'entry actions');
    if (node.exit.length > 0) refuse(node, 'exit actions');
    if ((node.always ?? []).length > 0) refuse(node, 'eventless transitions');
    if (node.invoke.length > 0) refuse(node, 'invoked actors');
    if (node.tags.length > 0) refuse(node, 'tags');
    if (node.type === 'history') refuse(node, 'a history state');
    // Reaching one ends the actor (status `done`, output): more than the configuration changes.
    if (node.type === 'final') refuse(node, 'a final state');
    for (const [type, transitions] of node.transitions) {
      if (!memoized.has(type)) continue;
      for (const t of transitions) {
        if (t.guard !== undefined) refuse(node, `a guard on ${type}`);
        if (t.actions.length > 0) refuse(node, `actions on ${type}`);
      }
    }
    for (const child of Object.values(node.states)) visit(child);
  };
  visit(root);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

/**
 * `machine` as a new machine (same config and implementations) whose transitions on the `memoized`
 * event types are learnt once per configuration and then reused (see {@link MemoMachine}).
 * @throws InternalError when a transition on one of them could depend on more than where it starts.
 */
export function memoizeMoves<M extends AnyStateMachine>(machine: M, memoized: readonly string[]): M {
  return new MemoMachine(machine, memoized) as unknown as M;
}
