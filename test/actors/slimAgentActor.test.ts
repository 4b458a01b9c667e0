import { describe, expect, it, vi } from 'vitest';
import {
  type AgentStepEvent,
  createAgentMachine,
  SiteSupervisor,
  slimAgentActor,
} from '../../src/actors/index.ts';
import { initialAgentContext } from '../../src/domain/index.ts';
import { InternalError } from '../../src/errors.ts';
import { act, feed, SITE, scheduleMsg, stateMsg, TENANT, utc } from '../helpers/agentScenario.ts';
import { createdActors } from '../helpers/createdActors.ts';

// Every actor made, to look at the agents' actors a site made.
vi.mock('xstate', async (original) =>
  (await import('../helpers/createdActors.ts')).recordingXstate(original),
);

const { createActor } = await import('xstate');
const machine = createAgentMachine();

/** Steps that move both regions: known and Ready, then Not Ready (Break) and out of adherence. */
function steps(): AgentStepEvent[] {
  const ready = {
    ...initialAgentContext('A1'),
    status: 'Ready' as const,
    gc: { presence: 'ON_QUEUE', routingStatus: 'IDLE' },
    adherence: {
      adherenceState: 'InAdherence',
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OnQueueWork',
      impact: 'Neutral',
      since: 1,
    },
  } as unknown as AgentStepEvent['context'];
  const onBreak = {
    ...ready,
    status: 'NotReady' as const,
    gc: { presence: 'BREAK', routingStatus: 'OFF_QUEUE' },
    adherence: { ...ready.adherence, adherenceState: 'OutOfAdherence', actualCategory: 'Break', since: 2 },
  } as unknown as AgentStepEvent['context'];
  return [
    { type: 'agent.step', context: ready },
    { type: 'agent.step', context: onBreak },
  ];
}

describe('slimAgentActor', () => {
  it('leaves the actor’s behaviour as it was: the same states, context and persisted snapshot', () => {
    const plain = createActor(machine, { input: { agentId: 'A1' }, id: 'A1' });
    const slim = createActor(machine, { input: { agentId: 'A1' }, id: 'A1' });
    plain.start();
    slimAgentActor(slim.start());
    for (const event of steps()) {
      plain.send(event);
      slim.send(event);
      expect(slim.getSnapshot().value).toEqual(plain.getSnapshot().value);
    }
    expect(slim.getSnapshot().value).toEqual({ presence: 'break', adherence: 'outOfAdherence' });
    expect(slim.getPersistedSnapshot()).toEqual(plain.getPersistedSnapshot());
    slim.stop();
    expect(slim.getSnapshot().status).toBe('stopped');
  });

  it('keeps nothing of the options it was made with, a restored agent’s snapshot included', () => {
    const source = createActor(machine, { input: { agentId: 'A1' } }).start();
    source.send(steps()[0]!);
    const persisted = source.getPersistedSnapshot();
    const restored = slimAgentActor(
      createActor(machine, { input: { agentId: 'A1' }, snapshot: persisted }).start(),
    );
    expect(restored.getSnapshot().value).toEqual(source.getSnapshot().value);
    expect(restored.options).toEqual({ devTools: false });
    expect(Object.values(restored.options)).not.toContain(persisted);
  });

  it('refuses a listener or a subscriber on a slimmed actor with an InternalError, at once', () => {
    const slim = slimAgentActor(createActor(machine, { input: { agentId: 'A1' } }).start());
    const other = slimAgentActor(createActor(machine, { input: { agentId: 'A2' } }).start());
    expect(() => slim.subscribe(() => undefined)).toThrow(InternalError);
    expect(() => slim.on('*', () => undefined)).toThrow(/agents are observed through their site/);
    let thrown: unknown;
    try {
      other.subscribe(() => undefined);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toMatchObject({ code: 'WFM_INTERNAL', name: 'InternalError' });
    // Nothing was added anywhere: both still send and stop.
    slim.send(steps()[0]!);
    expect(slim.getSnapshot().value).toEqual({ presence: 'onQueue', adherence: 'inAdherence' });
    other.stop();
    slim.stop();
  });

  it('refuses an actor that is not started', () => {
    expect(() => slimAgentActor(createActor(machine, { input: { agentId: 'A1' } }))).toThrow(InternalError);
  });

  it('is applied by a site to every agent actor it makes', () => {
    createdActors.length = 0;
    const sup = new SiteSupervisor({ tenant: TENANT, site: SITE });
    feed(sup, [
      scheduleMsg('A1', utc(9, 0), utc(17, 0), [act(utc(9, 0), utc(17, 0), 'OnQueueWork')]),
      stateMsg('A1', 'Ready', null, utc(10, 0)),
      stateMsg('B1', 'NotReady', null, utc(10, 1)),
    ]);
    const agents = createdActors.filter((a) => a.id === 'A1' || a.id === 'B1');
    expect(agents.map((a) => a.id).sort()).toEqual(['A1', 'B1']);
    for (const agent of agents) {
      expect((agent as unknown as { options: object }).options).toEqual({ devTools: false });
      expect(() => agent.subscribe(() => undefined)).toThrow(InternalError);
    }
    sup.stop();
  });
});
