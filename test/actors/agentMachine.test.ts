import { describe, expect, it } from 'vitest';
import { createActor, type Snapshot } from 'xstate';
import { type AgentEvent, type AgentStepSlot, createAgentMachine } from '../../src/actors/index.ts';
import {
  type AgentStatus,
  type CallType,
  initialAgentContext,
  resolveAgentOptions,
} from '../../src/domain/index.ts';
import { act, adherenceCore, gcCore, intervalCore, utc } from '../helpers/agentScenario.ts';

const options = resolveAgentOptions({ tenant: 'T1', site: 'S1' });

function start(snapshot?: unknown) {
  const slot: AgentStepSlot = { step: null };
  const machine = createAgentMachine(options, slot);
  const actor = createActor(machine, {
    input: { agentId: 'A1' },
    ...(snapshot === undefined ? {} : { snapshot: snapshot as Snapshot<unknown> }),
  });
  actor.start();
  const send = (event: AgentEvent) => {
    actor.send(event);
    const step = slot.step;
    slot.step = null;
    return step;
  };
  return { actor, send };
}

function state(status: AgentStatus, ts: number, seq: number, callType: CallType | null = null): AgentEvent {
  return { type: 'stat.state', update: { type: 'state', agentId: 'A1', status, callType, ts }, seq };
}

describe('agentMachine', () => {
  it('starts unknown, with no call, and the initial context', () => {
    const { actor } = start();
    expect(actor.getSnapshot().value).toEqual({ availability: 'unknown', call: 'none' });
    expect(actor.getSnapshot().context).toEqual(initialAgentContext('A1'));
  });

  it('follows the Stat Server state and call type in two parallel regions', () => {
    const { actor, send } = start();
    const steps: [AgentEvent, unknown][] = [
      [state('Ready', utc(10, 0), 1), { availability: 'ready', call: 'none' }],
      [state('Ready', utc(10, 1), 2, 'Inbound'), { availability: 'ready', call: 'external' }],
      [state('AfterCallWork', utc(10, 2), 3), { availability: 'afterCallWork', call: 'none' }],
      [state('NotReady', utc(10, 3), 4, 'Internal'), { availability: 'notReady', call: 'internal' }],
      [state('NotReady', utc(10, 4), 5, 'Consult'), { availability: 'notReady', call: 'external' }],
      [
        state('AfterCallWork', utc(10, 5), 6, 'Outbound'),
        { availability: 'afterCallWork', call: 'external' },
      ],
      [state('LoggedOff', utc(10, 6), 7), { availability: 'loggedOff', call: 'none' }],
    ];
    for (const [event, value] of steps) {
      send(event);
      expect(actor.getSnapshot().value).toEqual(value);
    }
  });

  it('leaves the step of each event in the slot', () => {
    const { send } = start();
    expect(send(state('Ready', utc(10, 0), 1))).toEqual({
      context: expect.objectContaining({
        agentId: 'A1',
        status: 'Ready',
        lastTs: utc(10, 0),
        acctTs: utc(10, 0),
      }),
      outputs: [
        gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 0), 1),
        adherenceCore('A1', {
          state: 'Unscheduled',
          scheduled: null,
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 0),
          seq: 1,
        }),
      ],
      rejection: null,
    });
  });

  it('a late state changes neither region nor context, and reports the rejection', () => {
    const { actor, send } = start();
    send(state('NotReady', utc(10, 5), 1, 'Inbound'));
    const before = actor.getSnapshot().context;
    expect(send(state('Ready', utc(10, 4), 2))).toEqual({
      context: before,
      outputs: [],
      rejection: {
        reason: 'late',
        detail: `ts ${utc(10, 4)} is older than the agent's last accepted ts ${utc(10, 5)}`,
      },
    });
    expect(actor.getSnapshot().value).toEqual({ availability: 'notReady', call: 'external' });
    expect(actor.getSnapshot().context).toEqual(before);
  });

  it('reason, schedule and tick events change the context but not the regions', () => {
    const { actor, send } = start();
    send(state('NotReady', utc(10, 0), 1));
    expect(
      send({
        type: 'stat.reason',
        update: { type: 'reason', agentId: 'A1', reason: 'Meal', ts: utc(10, 1) },
        seq: 2,
      })?.outputs,
    ).toEqual([
      gcCore('A1', 'MEAL', 'OFF_QUEUE', utc(10, 1), 2),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Meal',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 1),
        seq: 2,
      }),
    ]);
    expect(
      send({
        type: 'schedule',
        update: {
          type: 'schedule',
          agentId: 'A1',
          from: utc(10, 0),
          to: utc(11, 0),
          activities: [act(utc(10, 5), utc(10, 30), 'Meal')],
        },
        seq: 3,
      })?.outputs,
    ).toEqual([]);
    expect(send({ type: 'tick', at: utc(10, 5), seq: 4 })?.outputs).toEqual([
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'Meal',
        actual: 'Meal',
        impact: 'Neutral',
        since: utc(10, 5),
        ts: utc(10, 5),
        seq: 4,
      }),
    ]);
    expect(actor.getSnapshot().value).toEqual({ availability: 'notReady', call: 'none' });
    expect(actor.getSnapshot().context.reason).toBe('Meal');
    expect(actor.getSnapshot().context.acctTs).toBe(utc(10, 5));
  });

  it('a persisted snapshot survives JSON and the restored actor continues identically', () => {
    const a = start();
    a.send(state('Ready', utc(10, 0), 1));
    a.send(state('NotReady', utc(10, 5), 2, 'Inbound'));
    const persisted = JSON.parse(JSON.stringify(a.actor.getPersistedSnapshot()));
    const b = start(persisted);
    expect(b.actor.getSnapshot().value).toEqual({ availability: 'notReady', call: 'external' });
    expect(b.actor.getSnapshot().context).toEqual(a.actor.getSnapshot().context);
    const next = state('Ready', utc(10, 20), 3);
    const fromA = a.send(next);
    const fromB = b.send(next);
    expect(fromB).toEqual(fromA);
    expect(fromA?.outputs).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 300, BUSY: 600 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 300,
        conformancePercentage: null,
        sourceSeq: 3,
      }),
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 20), 3),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 20),
        seq: 3,
      }),
    ]);
    expect(b.actor.getSnapshot().value).toEqual({ availability: 'ready', call: 'none' });
  });
});
