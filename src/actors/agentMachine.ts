import { assign, setup } from 'xstate';
import {
  type AgentContext,
  type AgentStep,
  advanceAgent,
  applyReasonUpdate,
  applyScheduleUpdate,
  applyStateUpdate,
  initialAgentContext,
  type ReasonUpdate,
  type ResolvedAgentOptions,
  type ScheduleUpdate,
  type StateUpdate,
} from '../domain/index.ts';

/** Events an agent actor accepts. `seq` is the `WFM_IN` sequence that caused them. */
export type AgentEvent =
  | { type: 'stat.state'; update: StateUpdate; seq: number }
  | { type: 'stat.reason'; update: ReasonUpdate; seq: number }
  | { type: 'schedule'; update: ScheduleUpdate; seq: number }
  | { type: 'tick'; at: number; seq: number };

/**
 * Where an agent actor leaves what its last event produced. `send()` is synchronous, so the
 * site reads and clears the slot right after each send: outputs stay in input order without a
 * per-actor listener (memory) or an emitted-event round trip (time).
 */
export interface AgentStepSlot {
  step: AgentStep | null;
}

function step(context: AgentContext, event: AgentEvent, options: ResolvedAgentOptions): AgentStep {
  switch (event.type) {
    case 'stat.state':
      return applyStateUpdate(context, event.update, event.seq, options);
    case 'stat.reason':
      return applyReasonUpdate(context, event.update, event.seq, options);
    case 'schedule':
      return applyScheduleUpdate(context, event.update, event.seq, options);
    case 'tick':
      return advanceAgent(context, event.at, event.seq, options);
  }
}

/**
 * The agent statechart: parallel regions a supervisor can read — availability (the Stat Server
 * state) and call — with every rule delegated to the pure domain core. There are no XState
 * delays: time moves only by event time carried in events, so snapshots restore exactly.
 */
export function createAgentMachine(options: ResolvedAgentOptions, slot: AgentStepSlot) {
  return setup({
    types: {
      context: {} as AgentContext,
      input: {} as { agentId: string },
      events: {} as AgentEvent,
    },
    actions: {
      apply: assign(({ context, event }) => {
        let result: AgentStep;
        try {
          result = step(context, event, options);
        } catch (err) {
          // A bug must not stop the actor (XState would put it in an error state for good):
          // keep the state from before the input and send the input to the DLQ.
          const detail = err instanceof Error ? err.message : String(err);
          result = { context, outputs: [], rejection: { reason: 'internal_error', detail } };
        }
        slot.step = result;
        return result.context;
      }),
    },
    guards: {
      late: ({ context, event }) => event.type === 'stat.state' && event.update.ts < context.lastTs,
      loggedOff: ({ event }) => event.type === 'stat.state' && event.update.status === 'LoggedOff',
      notReady: ({ event }) => event.type === 'stat.state' && event.update.status === 'NotReady',
      ready: ({ event }) => event.type === 'stat.state' && event.update.status === 'Ready',
      noCall: ({ event }) => event.type === 'stat.state' && event.update.callType === null,
      internalCall: ({ event }) => event.type === 'stat.state' && event.update.callType === 'Internal',
    },
  }).createMachine({
    id: 'agent',
    type: 'parallel',
    context: ({ input }) => initialAgentContext(input.agentId),
    states: {
      availability: {
        initial: 'unknown',
        states: { unknown: {}, loggedOff: {}, notReady: {}, ready: {}, afterCallWork: {} },
        on: {
          'stat.state': [
            { guard: 'late', actions: 'apply' },
            { guard: 'loggedOff', target: '.loggedOff', actions: 'apply' },
            { guard: 'notReady', target: '.notReady', actions: 'apply' },
            { guard: 'ready', target: '.ready', actions: 'apply' },
            { target: '.afterCallWork', actions: 'apply' },
          ],
          'stat.reason': { actions: 'apply' },
          schedule: { actions: 'apply' },
          tick: { actions: 'apply' },
        },
      },
      call: {
        initial: 'none',
        states: { none: {}, internal: {}, external: {} },
        on: {
          'stat.state': [
            { guard: 'late' },
            { guard: 'noCall', target: '.none' },
            { guard: 'internalCall', target: '.internal' },
            { target: '.external' },
          ],
        },
      },
    },
  });
}

/** The agent machine type (for snapshots and the visualizer). */
export type AgentMachine = ReturnType<typeof createAgentMachine>;
