import { describe, expect, it, vi } from 'vitest';
import { SiteSupervisor } from '../../src/actors/index.ts';
import { SnapshotVersionError } from '../../src/errors.ts';
import { SITE, SiteScenario, TENANT, utc } from '../helpers/agentScenario.ts';
import { createdActors } from '../helpers/createdActors.ts';

// Every actor the supervisor creates, so the test can look at the agents' own status after stop().
vi.mock('xstate', async (original) =>
  (await import('../helpers/createdActors.ts')).recordingXstate(original),
);
const created = createdActors;

/** Each actor made with its status; a supervisor's first actor is its root (its id is generated). */
const statuses = () => created.map((a, i) => [i === 0 ? 'root' : a.id, a.getSnapshot().status]);

describe('SiteSupervisor: stop', () => {
  it('stops every agent actor, not only the root (stopping a root does not stop actors made with parent: root)', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    s.state('B1', 'NotReady', utc(10, 1));
    expect(statuses()).toEqual([
      ['root', 'active'],
      ['A1', 'active'],
      ['B1', 'active'],
    ]);
    s.sup.stop();
    expect(statuses()).toEqual([
      ['root', 'stopped'],
      ['A1', 'stopped'],
      ['B1', 'stopped'],
    ]);
    // A second stop is harmless (nothing is sent to a stopped actor).
    expect(() => s.sup.stop()).not.toThrow();
  });

  it('a refused restore leaves no actor running (agents get actors only on first use, after it)', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    s.state('B1', 'Ready', utc(10, 0));
    const capture = s.sup.capture();
    s.sup.stop();
    created.length = 0;
    const b1 = JSON.parse(capture.agents[1]![1]);
    const agents = new Map<string, unknown>([capture.agents[0]!, ['B1', { ...b1, v: 99 }]]);
    expect(() => new SiteSupervisor({ tenant: TENANT, site: SITE }, { ...capture, agents })).toThrow(
      SnapshotVersionError,
    );
    expect(statuses()).toEqual([['root', 'stopped']]);
  });
});
