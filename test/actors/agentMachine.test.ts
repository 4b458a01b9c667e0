import { describe, expect, it } from 'vitest';
import { createActor, type Snapshot } from 'xstate';
import {
  ADHERENCE_STATES,
  type AgentStateValue,
  createAgentMachine,
  movesStatechart,
  PRESENCE_STATES,
} from '../../src/actors/index.ts';
import {
  type AgentContext,
  type AgentInput,
  type AgentStatus,
  applyAgentInput,
  type CallType,
  initialAgentContext,
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

describe('agentMachine', () => {
  it('starts with presence and adherence unknown, and the initial context', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toEqual({ presence: 'unknown', adherence: 'unknown' });
    expect(actor.getSnapshot().context).toEqual(initialAgentContext('A1'));
  });

  it('has a presence state for every GC presence and an adherence state for every adherence', () => {
    expect(PRESENCE_STATES).toEqual([
      'unknown',
      'offline',
      'busy',
      'break',
      'meal',
      'meeting',
      'training',
      'onQueue',
    ]);
    expect(ADHERENCE_STATES).toEqual(['unknown', 'inAdherence', 'outOfAdherence', 'unscheduled']);
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

  it('movesStatechart is true exactly when presence or adherence state differs', () => {
    const known = (presence: 'ON_QUEUE' | 'BUSY', adherenceState: 'InAdherence' | 'Unscheduled') =>
      ({
        ...initialAgentContext('A1'),
        gc: { presence, routingStatus: 'IDLE' },
        adherence: {
          adherenceState,
          scheduledCategory: null,
          actualCategory: 'OnQueueWork',
          impact: 'Neutral',
          since: 0,
        },
      }) satisfies AgentContext;
    const value: AgentStateValue = { presence: 'onQueue', adherence: 'unscheduled' };
    expect(movesStatechart(value, known('ON_QUEUE', 'Unscheduled'))).toBe(false);
    expect(movesStatechart(value, known('BUSY', 'Unscheduled'))).toBe(true);
    expect(movesStatechart(value, known('ON_QUEUE', 'InAdherence'))).toBe(true);
    expect(movesStatechart(value, initialAgentContext('A1'))).toBe(true);
    expect(movesStatechart({ presence: 'unknown', adherence: 'unknown' }, initialAgentContext('A1'))).toBe(
      false,
    );
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
