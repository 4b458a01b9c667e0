import type { Actor, AnyActorLogic } from 'xstate';
import { InternalError } from '../errors.ts';

// Agents are observed through their site (outputs, snapshots, inspection of the actor system),
// never one by one: a listener on one agent's actor is a bug, reported where it is added.
const observedAlone = (what: string) =>
  new InternalError(`${what} on an agent actor: agents are observed through their site, not one by one`);

/** An always-empty Map: reads work (nothing there), adding throws. */
class EmptyListeners extends Map<string, Set<unknown>> {
  override set(): this {
    throw observedAlone('actor.on()');
  }
}

/** An always-empty Set: iterating and deleting work (nothing there), adding throws. */
class EmptyObservers extends Set<unknown> {
  override add(): this {
    throw observedAlone('actor.subscribe()');
  }
}

const NO_LISTENERS = new EmptyListeners();
const NO_OBSERVERS = new EmptyObservers();
// XState reads `options.devTools` after start (attachDevTools); nothing else once started.
const STARTED_OPTIONS = Object.freeze({ devTools: false });

/** The XState internals {@link slimAgentActor} replaces: public fields of its `Actor` class. */
interface ActorInternals {
  options: object;
  eventListeners: Map<string, Set<unknown>>;
  observers: Set<unknown>;
  /** XState's ProcessingStatus: 0 not started, 1 running, 2 stopped. */
  _processingStatus: number;
}

const RUNNING = 1;

/**
 * Drops what a started agent actor holds for its whole life but a site never uses, ~750 bytes
 * per agent (measured on the memory bench's warm-up: 4,180 → 3,430 bytes of heap per agent),
 * about 75 MB at 100k agents:
 * - `options`, the object it was created with. XState reads only `input` and `snapshot` from it
 *   while starting, yet keeps it, and with it a restored agent's whole persisted snapshot. In a
 *   process that makes actors of several machines, V8's object spread in XState's constructor
 *   turns megamorphic and gives every such object a hidden class of its own (~400 bytes).
 * - `eventListeners` (for `actor.on`) and `observers` (for `actor.subscribe`): an empty Map and
 *   an empty Set per agent that nobody fills. They become one shared empty collection each that
 *   throws an {@link InternalError} when something tries to add to it, so a future use fails at
 *   once instead of sharing listeners between agents.
 * The actor's snapshot, mailbox, system and transitions are untouched; the agent tests run every
 * agent slimmed.
 */
export function slimAgentActor<T extends AnyActorLogic>(actor: Actor<T>): Actor<T> {
  const internals = actor as unknown as ActorInternals;
  if (internals._processingStatus !== RUNNING)
    throw new InternalError('slimAgentActor: the actor must be started');
  if (!(internals.eventListeners instanceof Map) || internals.eventListeners.size > 0)
    throw new InternalError('slimAgentActor: unexpected eventListeners (an XState change?)');
  if (!(internals.observers instanceof Set) || internals.observers.size > 0)
    throw new InternalError('slimAgentActor: unexpected observers (an XState change?)');
  internals.options = STARTED_OPTIONS;
  internals.eventListeners = NO_LISTENERS;
  internals.observers = NO_OBSERVERS;
  return actor;
}
