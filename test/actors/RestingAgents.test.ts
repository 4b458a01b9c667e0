import { describe, expect, it, vi } from 'vitest';
import { type SiteCapture, type SiteSnapshot, SiteSupervisor } from '../../src/actors/index.ts';
import { CheckpointError } from '../../src/errors.ts';
import { TrafficGenerator, wireText } from '../../src/simulator/index.ts';
import { act, feed, SITE, scheduleMsg, stateMsg, TENANT, utc } from '../helpers/agentScenario.ts';
import { createdActors } from '../helpers/createdActors.ts';

// Every actor made, to tell which agents of a restored site got one.
vi.mock('xstate', async (original) =>
  (await import('../helpers/createdActors.ts')).recordingXstate(original),
);
const created = createdActors;

/** A capture as a checkpoint store gives it back. */
function loaded(capture: SiteCapture): SiteSnapshot {
  return {
    seq: capture.seq,
    site: JSON.parse(JSON.stringify(capture.site)),
    agents: new Map(capture.agents.map(([id, json]) => [id, JSON.parse(json)])),
  };
}

const agentActors = () => created.slice(1).map((a) => a.id);

function traffic() {
  const generator = new TrafficGenerator({
    tenant: TENANT,
    sites: [SITE],
    agentsPerSite: 30,
    seed: 17,
    startTs: utc(7, 0),
  });
  return [...generator.messages(utc(10, 0))].map((m) => ({
    subject: m.subject,
    data: wireText(m),
  }));
}

describe('a restored site makes each agent’s actor on its first use', () => {
  it('makes no agent actor at the restore; state reads need none; input makes only its agent’s', () => {
    const live = new SiteSupervisor({ tenant: TENANT, site: SITE });
    feed(live, [
      scheduleMsg('A1', utc(9, 0), utc(17, 0), [act(utc(9, 0), utc(17, 0), 'OnQueueWork')]),
      stateMsg('A1', 'Ready', null, utc(10, 0)),
      stateMsg('B1', 'NotReady', null, utc(10, 1)),
    ]);
    const snapshot = loaded(live.capture());
    created.length = 0;
    const restored = new SiteSupervisor({ tenant: TENANT, site: SITE }, snapshot);
    expect(agentActors()).toEqual([]);
    expect(restored.restingAgents).toBe(2);
    // What a reader sees is the restored state, with or without an actor.
    const read = (sup: SiteSupervisor) =>
      [...sup.agents()]
        .map((a) => [a.agentId, a.value, a.context])
        .sort((x, y) => String(x[0]).localeCompare(String(y[0])));
    expect(read(restored)).toEqual(read(live));
    expect(restored.agent('B1')).toEqual(live.agent('B1'));

    const next = [stateMsg('B1', 'Ready', null, utc(10, 5))];
    expect(feed(restored, next, 4)).toEqual(feed(live, next, 4));
    expect(agentActors()).toEqual(['B1']);
    expect(restored.restingAgents).toBe(1);
    // The capture holds only B1 (the one changed), as the live site's does.
    expect(restored.capture()).toEqual(live.capture());
    live.stop();
    restored.stop();
  });

  it('a deadline of a resting agent (its schedule boundary) makes its actor and steps it as if restored eagerly', () => {
    const messages = traffic();
    const cut = Math.floor(messages.length / 2);
    const live = new SiteSupervisor({ tenant: TENANT, site: SITE });
    feed(live, messages.slice(0, cut));
    const restored = new SiteSupervisor({ tenant: TENANT, site: SITE }, loaded(live.capture()));
    expect(restored.restingAgents).toBe(30);
    // The rest of the day: every output (deadlines of agents with no input included) and capture.
    expect(feed(restored, messages.slice(cut), cut + 1)).toEqual(feed(live, messages.slice(cut), cut + 1));
    expect(restored.restingAgents).toBeLessThan(30);
    expect(restored.capture()).toEqual(live.capture());
    live.stop();
    restored.stop();
  });

  it('refuses at the restore, as making the actor would, a snapshot XState could not restore', () => {
    const live = new SiteSupervisor({ tenant: TENANT, site: SITE });
    feed(live, [stateMsg('A1', 'Ready', null, utc(10, 0))]);
    const capture = live.capture();
    live.stop();
    const persisted = JSON.parse(capture.agents[0]![1]);
    const bad = (change: (snapshot: Record<string, unknown>) => void) => {
      const copy = structuredClone(persisted);
      change(copy.snapshot);
      return { ...capture, site: JSON.parse(JSON.stringify(capture.site)), agents: new Map([['A1', copy]]) };
    };
    const restore = (snapshot: SiteSnapshot) => () =>
      new SiteSupervisor({ tenant: TENANT, site: SITE }, snapshot);
    expect(restore(bad((s) => (s.value = { presence: 'dancing', adherence: 'unscheduled' })))).toThrow(
      /agent A1 of site T1\/S1: state \{"presence":"dancing","adherence":"unscheduled"\} is not the agent machine's/,
    );
    expect(restore(bad((s) => (s.value = { presence: 'break', adherence: 'unknown' })))).toThrow(
      /agent A1 of site T1\/S1: state \{"presence":"break","adherence":"unknown"\} is not where its context belongs \(\{"presence":"onQueue","adherence":"unscheduled"\}\)/,
    );
    expect(restore(bad((s) => (s.status = 'done')))).toThrow(CheckpointError);
    expect(restore(bad((s) => (s.children = { x: {} })))).toThrow(/has child actors/);
    // The unchanged one restores.
    expect(restore(bad(() => undefined))).not.toThrow();
  });
});
