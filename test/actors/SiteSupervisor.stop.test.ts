import { describe, expect, it, vi } from 'vitest';
import type { AnyActorRef } from 'xstate';
import { SiteScenario, utc } from '../helpers/agentScenario.ts';

// Every actor the supervisor creates, so the test can look at the agents' own status after stop().
const created = vi.hoisted(() => [] as AnyActorRef[]);
vi.mock('xstate', async (importOriginal) => {
  const xstate = await importOriginal<typeof import('xstate')>();
  return {
    ...xstate,
    createActor: (...args: Parameters<typeof xstate.createActor>) => {
      const actor = xstate.createActor(...args);
      created.push(actor);
      return actor;
    },
  };
});

describe('SiteSupervisor: stop', () => {
  it('stops every agent actor, not only the root (stopping a root does not stop actors made with parent: root)', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    s.state('B1', 'NotReady', utc(10, 1));
    expect(created.map((a) => [a.id, a.getSnapshot().status])).toEqual([
      ['x:0', 'active'],
      ['A1', 'active'],
      ['B1', 'active'],
    ]);
    s.sup.stop();
    expect(created.map((a) => [a.id, a.getSnapshot().status])).toEqual([
      ['x:0', 'stopped'],
      ['A1', 'stopped'],
      ['B1', 'stopped'],
    ]);
    // A second stop is harmless (nothing is sent to a stopped actor).
    expect(() => s.sup.stop()).not.toThrow();
  });
});
