import { assign, setup } from 'xstate';
import {
  type AdherenceState,
  type AgentContext,
  initialAgentContext,
  type Presence,
} from '../domain/index.ts';
import { memoizeMoves } from './MemoMachine.ts';

/** The presence region's states: the Genesys Cloud presence, `unknown` before the first state. */
export const PRESENCE_STATES = [
  'unknown',
  'offline',
  'busy',
  'break',
  'meal',
  'meeting',
  'training',
  'onQueue',
] as const;
export type PresenceStateName = (typeof PRESENCE_STATES)[number];

/** The adherence region's states: real-time adherence, `unknown` before the first state. */
export const ADHERENCE_STATES = ['unknown', 'inAdherence', 'outOfAdherence', 'unscheduled'] as const;
export type AdherenceStateName = (typeof ADHERENCE_STATES)[number];

/** An agent actor's statechart value. */
export interface AgentStateValue {
  presence: PresenceStateName;
  adherence: AdherenceStateName;
}

const PRESENCE_STATE: Record<Presence, PresenceStateName> = {
  OFFLINE: 'offline',
  BUSY: 'busy',
  BREAK: 'break',
  MEAL: 'meal',
  MEETING: 'meeting',
  TRAINING: 'training',
  ON_QUEUE: 'onQueue',
};

const ADHERENCE_STATE: Record<AdherenceState, AdherenceStateName> = {
  InAdherence: 'inAdherence',
  OutOfAdherence: 'outOfAdherence',
  Unscheduled: 'unscheduled',
};

/** The presence state an agent context belongs in. */
export function presenceStateOf(context: AgentContext): PresenceStateName {
  return context.gc === null ? 'unknown' : PRESENCE_STATE[context.gc.presence];
}

/** The adherence state an agent context belongs in. */
export function adherenceStateOf(context: AgentContext): AdherenceStateName {
  return context.adherence === null ? 'unknown' : ADHERENCE_STATE[context.adherence.adherenceState];
}

/**
 * The event that takes an agent actor from `value` to the states `context` belongs in, naming
 * the region(s) that move and where to: `presence.<state>`, `adherence.<state>`, or
 * `both.<presence>.<adherence>`; null when both regions already are where the context belongs.
 */
export function moveEvent(value: AgentStateValue, context: AgentContext): AgentMoveEvent | null {
  const presence = presenceStateOf(context);
  const adherence = adherenceStateOf(context);
  if (value.presence !== presence)
    return value.adherence !== adherence
      ? { type: `both.${presence}.${adherence}` }
      : { type: `presence.${presence}` };
  return value.adherence !== adherence ? { type: `adherence.${adherence}` } : null;
}

/**
 * The event a site sends when a step moves the statechart (see `SiteAgents.apply`): the site has
 * already adopted the step's context into the actor's, in place, so the event only says where
 * each region goes. XState looks its transitions up by type — no guard runs and no `assign`
 * copies the context — which took a quarter off a transition's time and its allocation.
 */
export type AgentMoveEvent =
  | { type: `presence.${PresenceStateName}` }
  | { type: `adherence.${AdherenceStateName}` }
  | { type: `both.${PresenceStateName}.${AdherenceStateName}` };

/**
 * The reference event: the context the domain core computed for an input, adopted by XState's
 * `assign` and moving each region by guards. A site sends it only when fed every step
 * (`SiteSupervisorOptions.feedEveryStep`), which property tests compare with the move events.
 */
export interface AgentStepEvent {
  type: 'agent.step';
  context: AgentContext;
}

/** What an agent actor accepts. */
export type AgentEvent = AgentStepEvent | AgentMoveEvent;

/** Every move event's type ({@link AgentMoveEvent}). */
function moveEventTypes(): string[] {
  const types: string[] = [];
  for (const presence of PRESENCE_STATES) {
    types.push(`presence.${presence}`);
    for (const adherence of ADHERENCE_STATES) types.push(`both.${presence}.${adherence}`);
  }
  for (const adherence of ADHERENCE_STATES) types.push(`adherence.${adherence}`);
  return types;
}

/** A region's transitions on the move events: each to the state the event names for the region. */
function moveTransitions(region: 'presence' | 'adherence'): Record<string, { target: string }> {
  const on: Record<string, { target: string }> = {};
  for (const type of moveEventTypes()) {
    const [kind, first, second] = type.split('.');
    if (kind === 'both') on[type] = { target: `.${region === 'presence' ? first : second}` };
    else if (kind === region) on[type] = { target: `.${first}` };
  }
  return on;
}

/**
 * The agent statechart: what a supervisor watches — GC presence and real-time adherence — as two
 * parallel regions, with the agent's whole state (`AgentContext`) as context. The rules live in
 * the pure domain core; a step moves the regions to where its context belongs, by a move event
 * ({@link AgentMoveEvent}) or by the reference event ({@link AgentStepEvent}). There are no
 * XState delays: time moves only by event time, so snapshots restore exactly.
 */
export function createAgentMachine() {
  // A move event only moves the regions (no guard, no action): XState's transition for it is
  // learnt once per configuration and reused, which is most of what a step cost in XState.
  return memoizeMoves(agentStatechart(), moveEventTypes());
}

/** The statechart as XState makes it (see {@link createAgentMachine}). */
function agentStatechart() {
  return setup({
    types: {
      context: {} as AgentContext,
      input: {} as { agentId: string },
      events: {} as AgentEvent,
    },
    actions: {
      adopt: assign(({ context, event }) => (event.type === 'agent.step' ? event.context : context)),
    },
    // A region takes a transition only to another state. One that would stay where it is takes
    // none (the presence region only adopts the context): XState would exit and re-enter the
    // state, and that was more than half of what a step that moves the other region cost. The
    // state a region is in is the one its context belongs in (an invariant RestingAgents checks
    // on restore, and every step keeps), so the guard reads it from the context.
    guards: {
      presenceMovesTo: ({ context, event }, params: { state: PresenceStateName }) =>
        event.type === 'agent.step' &&
        presenceStateOf(event.context) === params.state &&
        presenceStateOf(context) !== params.state,
      adherenceMovesTo: ({ context, event }, params: { state: AdherenceStateName }) =>
        event.type === 'agent.step' &&
        adherenceStateOf(event.context) === params.state &&
        adherenceStateOf(context) !== params.state,
    },
  }).createMachine({
    id: 'agent',
    type: 'parallel',
    context: ({ input }) => initialAgentContext(input.agentId),
    states: {
      presence: {
        initial: 'unknown',
        states: Object.fromEntries(PRESENCE_STATES.map((s) => [s, {}])) as Record<PresenceStateName, object>,
        on: {
          ...moveTransitions('presence'),
          // The context is adopted once, here, moving or not; the adherence region only moves.
          'agent.step': [
            ...PRESENCE_STATES.map((state) => ({
              guard: { type: 'presenceMovesTo' as const, params: { state } },
              target: `.${state}`,
              actions: 'adopt' as const,
            })),
            { actions: 'adopt' as const },
          ],
        },
      },
      adherence: {
        initial: 'unknown',
        states: Object.fromEntries(ADHERENCE_STATES.map((s) => [s, {}])) as Record<
          AdherenceStateName,
          object
        >,
        on: {
          ...moveTransitions('adherence'),
          'agent.step': ADHERENCE_STATES.map((state) => ({
            guard: { type: 'adherenceMovesTo' as const, params: { state } },
            target: `.${state}`,
          })),
        },
      },
    },
  });
}

/** The agent machine type (for snapshots and the visualizer). */
export type AgentMachine = ReturnType<typeof agentStatechart>;
