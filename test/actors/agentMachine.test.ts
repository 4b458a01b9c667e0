import { describe, expect, it } from 'vitest';
import { createActor, type Snapshot } from 'xstate';
import {
  ADHERENCE_STATES,
  type AgentStateValue,
  adherenceStateOf,
  createAgentMachine,
  moveEvent,
  PRESENCE_STATES,
  presenceStateOf,
} from '../../src/actors/index.ts';
import {
  type AdherenceState,
  type AgentContext,
  type AgentInput,
  type AgentStatus,
  applyAgentInput,
  type CallType,
  initialAgentContext,
  PRESENCES,
  type Presence,
  resolveAgentOptions,
} from '../../src/domain/index.ts';
import { act, utc } from '../helpers/agentScenario.ts';

const options = resolveAgentOptions({ tenant: 'T1', site: 'S1' });

/** An agent actor driven the way a site drives it: the core computes, the actor adopts. */
function start(snapshot?: unknown) {
  const actor = createActor(createAgentMachine(), {
    input: { agentId: 'A1' },
    ...(snapshot === undefined ? {} : { snapshot: snapshot as Snapshot<unknown> }),
  });
  actor.start();
  let seq = 0;
  const send = (input: AgentInput, at = seq + 1) => {
    seq = at;
    const step = applyAgentInput(actor.getSnapshot().context, input, seq, options);
    actor.send({ type: 'agent.step', context: step.context });
    return step;
  };
  return { actor, send };
}

function state(status: AgentStatus, ts: number, callType: CallType | null = null): AgentInput {
  return { type: 'state', agentId: 'A1', status, callType, ts };
}

function reason(value: string | null, ts: number): AgentInput {
  return { type: 'reason', agentId: 'A1', reason: value, ts };
}

/** A known agent's context with the given presence and adherence (the rest is irrelevant here). */
function known(presence: Presence, adherenceState: AdherenceState): AgentContext {
  return {
    ...initialAgentContext('A1'),
    gc: { presence, routingStatus: 'IDLE' },
    adherence: {
      adherenceState,
      scheduledCategory: null,
      actualCategory: 'Offline',
      impact: 'Neutral',
      since: 0,
    },
  };
}

describe('agentMachine', () => {
  it('starts with presence and adherence unknown, and the initial context', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toEqual({ presence: 'unknown', adherence: 'unknown' });
    expect(actor.getSnapshot().context).toEqual(initialAgentContext('A1'));
  });

  it('has one presence state per GC presence and one adherence state per adherence, plus unknown', () => {
    const presenceStates = PRESENCES.map((p) => presenceStateOf(known(p, 'Unscheduled')));
    expect(new Set(presenceStates).size).toBe(PRESENCES.length);
    expect(['unknown', ...presenceStates].sort()).toEqual([...PRESENCE_STATES].sort());
    expect(presenceStateOf(known('ON_QUEUE', 'Unscheduled'))).toBe('onQueue');
    const states: AdherenceState[] = ['InAdherence', 'OutOfAdherence', 'Unscheduled'];
    const adherenceStates = states.map((a) => adherenceStateOf(known('BUSY', a)));
    expect(['unknown', ...adherenceStates].sort()).toEqual([...ADHERENCE_STATES].sort());
    expect(adherenceStateOf(initialAgentContext('A1'))).toBe('unknown');
  });

  it('moves its presence and adherence regions to where each step puts the agent', () => {
    const { actor, send } = start();
    send({
      type: 'schedule',
      agentId: 'A1',
      from: utc(10, 0),
      to: utc(11, 0),
      activities: [act(utc(10, 0), utc(10, 30), 'OnQueueWork'), act(utc(10, 30), utc(11, 0), 'Meal')],
    });
    const steps: [AgentInput, AgentStateValue][] = [
      [state('Ready', utc(10, 0)), { presence: 'onQueue', adherence: 'inAdherence' }],
      [state('Ready', utc(10, 1), 'Inbound'), { presence: 'onQueue', adherence: 'inAdherence' }],
      [state('AfterCallWork', utc(10, 2)), { presence: 'onQueue', adherence: 'inAdherence' }],
      [state('NotReady', utc(10, 3)), { presence: 'busy', adherence: 'outOfAdherence' }],
      [reason('Break', utc(10, 4)), { presence: 'break', adherence: 'outOfAdherence' }],
      [reason('Meeting', utc(10, 5)), { presence: 'meeting', adherence: 'outOfAdherence' }],
      [reason('Training', utc(10, 6)), { presence: 'training', adherence: 'outOfAdherence' }],
      [reason('Meal', utc(10, 7)), { presence: 'meal', adherence: 'outOfAdherence' }],
      [
        { type: 'tick', at: utc(10, 30) },
        { presence: 'meal', adherence: 'inAdherence' },
      ],
      [state('LoggedOff', utc(11, 0)), { presence: 'offline', adherence: 'unscheduled' }],
    ];
    for (const [input, value] of steps) {
      send(input);
      expect(actor.getSnapshot().value).toEqual(value);
    }
    expect(actor.getSnapshot().context.status).toBe('LoggedOff');
  });

  it('adopts the context of every step, including steps that do not move a region', () => {
    const { actor, send } = start();
    send(state('Ready', utc(10, 0)));
    const step = send(state('Ready', utc(10, 1), 'Internal'));
    expect(actor.getSnapshot().context).toEqual(step.context);
    expect(actor.getSnapshot().context.gc).toEqual({ presence: 'ON_QUEUE', routingStatus: 'COMMUNICATING' });
  });

  it('moveEvent names the regions that move and where to; null when neither does', () => {
    const value: AgentStateValue = { presence: 'onQueue', adherence: 'unscheduled' };
    expect(moveEvent(value, known('ON_QUEUE', 'Unscheduled'))).toBeNull();
    expect(moveEvent(value, known('BUSY', 'Unscheduled'))).toEqual({ type: 'presence.busy' });
    expect(moveEvent(value, known('ON_QUEUE', 'InAdherence'))).toEqual({ type: 'adherence.inAdherence' });
    expect(moveEvent(value, known('MEAL', 'OutOfAdherence'))).toEqual({ type: 'both.meal.outOfAdherence' });
    expect(moveEvent(value, initialAgentContext('A1'))).toEqual({ type: 'both.unknown.unknown' });
    expect(moveEvent({ presence: 'unknown', adherence: 'unknown' }, initialAgentContext('A1'))).toBeNull();
  });

  it('from every state, the move event takes the actor to every other pair of states, context untouched', () => {
    const machine = createAgentMachine();
    const contexts = [initialAgentContext('A1')];
    for (const p of PRESENCES)
      for (const a of ['InAdherence', 'OutOfAdherence', 'Unscheduled'] as const) contexts.push(known(p, a));
    let moves = 0;
    for (const from of contexts)
      for (const to of contexts) {
        const value = { presence: presenceStateOf(from), adherence: adherenceStateOf(from) };
        const actor = createActor(machine, {
          input: { agentId: 'A1' },
          snapshot: machine.resolveState({ value, context: from }),
        }).start();
        const event = moveEvent(value, to);
        if (event === null) {
          expect(to).toBe(from);
          continue;
        }
        moves++;
        actor.send(event);
        const after = actor.getSnapshot();
        expect(after.value).toEqual({ presence: presenceStateOf(to), adherence: adherenceStateOf(to) });
        // XState moved the regions only: the context is the one the site adopted, as it was.
        expect(after.context).toBe(from);
        actor.stop();
      }
    expect(moves).toBe(contexts.length * (contexts.length - 1));
  });

  it('a persisted snapshot survives JSON; the restored actor has the same value and context', () => {
    const a = start();
    a.send(state('Ready', utc(10, 0)));
    a.send(state('NotReady', utc(10, 5), 'Inbound'));
    const persisted = JSON.parse(JSON.stringify(a.actor.getPersistedSnapshot()));
    const b = start(persisted);
    expect(b.actor.getSnapshot().value).toEqual({ presence: 'busy', adherence: 'unscheduled' });
    expect(b.actor.getSnapshot().context).toEqual(a.actor.getSnapshot().context);
    const next = state('Ready', utc(10, 20));
    const fromA = a.send(next, 3);
    const fromB = b.send(next, 3);
    expect(fromB).toEqual(fromA);
    expect(b.actor.getSnapshot().value).toEqual({ presence: 'onQueue', adherence: 'unscheduled' });
  });
});
