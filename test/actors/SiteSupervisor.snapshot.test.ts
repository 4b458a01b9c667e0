import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import {
  AGENT_SNAPSHOT_VERSION,
  agentSnapshotJson,
  createAgentMachine,
  readAgentSnapshot,
  SITE_STATE_VERSION,
  type SiteCapture,
  type SiteCaptureStream,
  type SiteSnapshot,
  SiteSupervisor,
} from '../../src/actors/index.ts';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import { CheckpointError, SnapshotVersionError } from '../../src/errors.ts';
import { TrafficGenerator } from '../../src/simulator/index.ts';
import { clockMsg, feed, reasonMsg, SITE, stateMsg, TENANT, utc } from '../helpers/agentScenario.ts';

function site(options: { adherenceExceptionThresholdSeconds?: number } = {}, snapshot?: SiteSnapshot) {
  return new SiteSupervisor({ tenant: TENANT, site: SITE, ...options }, snapshot);
}

/** A capture as a checkpoint store gives it back: the site state and agent snapshots parsed. */
function loaded(capture: SiteCapture): SiteSnapshot {
  return {
    seq: capture.seq,
    site: JSON.parse(JSON.stringify(capture.site)),
    agents: new Map(capture.agents.map(([id, json]) => [id, JSON.parse(json)])),
  };
}

const start = [stateMsg('A1', 'Ready', null, utc(10, 0)), stateMsg('B1', 'NotReady', null, utc(10, 1))];

describe('SiteSupervisor.capture: snapshots serialized at capture', () => {
  it('writes each dirty agent as the JSON text of its versioned snapshot, as it was at capture', () => {
    const sup = site();
    feed(sup, start);
    const capture = sup.capture();
    const [a1] = [...sup.agents()];
    expect(capture.agents.map(([id]) => id)).toEqual(['A1', 'B1']);
    const parsed = JSON.parse(capture.agents[0]![1]);
    expect(Object.keys(parsed)).toEqual(['v', 'snapshot']);
    expect(parsed.v).toBe(AGENT_SNAPSHOT_VERSION);
    expect(parsed.snapshot.value).toEqual({ presence: 'onQueue', adherence: 'unscheduled' });
    expect(parsed.snapshot.context).toEqual(JSON.parse(JSON.stringify(a1!.context)));
    // Input after the capture changes the live actors, never what was captured.
    const text = capture.agents.map(([, json]) => json);
    feed(sup, [stateMsg('A1', 'NotReady', null, utc(10, 5)), clockMsg(utc(10, 16))], 3);
    expect(capture.agents.map(([, json]) => json)).toEqual(text);
    expect(JSON.parse(capture.agents[0]![1]).snapshot.context.status).toBe('Ready');
    sup.stop();
  });

  it("writes exactly XState's persisted snapshot of each agent (simulated traffic, every state)", () => {
    const generator = new TrafficGenerator({
      tenant: TENANT,
      sites: [SITE],
      agentsPerSite: 40,
      seed: 3,
      startTs: utc(7, 0),
    });
    const sup = site();
    const encoder = new TextEncoder();
    const machine = createAgentMachine();
    const values = new Set<string>();
    for (let seq = 1; seq <= 6000; seq++) {
      const m = generator.next();
      sup.process(
        seq,
        m.subject,
        decodeInput(m.subject, encoder.encode(JSON.stringify(m.payload)), defaultDecodeOptions),
      );
      if (seq % 1500 !== 0) continue;
      for (const [agentId, json] of sup.capture().agents) {
        const persisted = readAgentSnapshot({ tenant: TENANT, site: SITE }, agentId, json);
        values.add(JSON.stringify((persisted as { value?: unknown }).value));
        const actor = createActor(machine, { input: { agentId }, snapshot: persisted }).start();
        expect(json).toBe(agentSnapshotJson(actor.getPersistedSnapshot()));
        actor.stop();
      }
    }
    expect(values.size).toBeGreaterThan(5);
    sup.stop();
  });

  it('markDirty puts back the agents of a capture whose commit failed (B1); unknown ids are ignored', () => {
    const sup = site();
    feed(sup, start);
    const failed = sup.capture();
    // Without markDirty, a capture now would hold neither agent: they would never be written.
    sup.markDirty(failed.agents.map(([id]) => id));
    sup.markDirty(['nobody']);
    feed(sup, [stateMsg('B1', 'Ready', null, utc(10, 2))], 3);
    const next = sup.capture();
    expect(next.seq).toBe(3);
    expect(next.agents.map(([id]) => id)).toEqual(['A1', 'B1']);
    // Their state now, not the state of the failed capture.
    expect(JSON.parse(next.agents[1]![1]).snapshot.context.status).toBe('Ready');
    expect(sup.capture().agents).toEqual([]);
    sup.stop();
  });
});

/** A streamed capture read whole, as a plain capture. */
async function readStream(stream: SiteCaptureStream): Promise<SiteCapture> {
  const agents: [string, string][] = [];
  for await (const entry of stream.agents) agents.push(entry);
  expect(agents.map(([id]) => id)).toEqual(stream.agentIds);
  return { seq: stream.seq, site: stream.site, agents };
}

describe('SiteSupervisor.captureStream', () => {
  it('takes the dirty set at once and serializes exactly what capture() would, a chunk per pause, as it is read', async () => {
    const messages = [
      ...start,
      stateMsg('C1', 'Ready', null, utc(10, 2)),
      stateMsg('D1', 'AfterCallWork', null, utc(10, 3)),
      stateMsg('E1', 'LoggedOff', null, utc(10, 4)),
    ];
    const whole = site();
    feed(whole, messages);
    const chunked = site();
    feed(chunked, messages);
    expect(chunked.dirtyCount).toBe(5);
    let pauses = 0;
    const stream = chunked.captureStream(2, async () => {
      pauses++;
    });
    // Taken at once; nothing serialized until read.
    expect(chunked.dirtyCount).toBe(0);
    expect(pauses).toBe(0);
    const capture = await readStream(stream);
    expect(pauses).toBe(2); // chunks of 2, 2 and 1
    expect(capture).toEqual(whole.capture());
    whole.stop();
    chunked.stop();
  });
  it('captures the state when called: input between chunks changes nothing captured and is captured next', async () => {
    const messages = [
      ...start,
      stateMsg('C1', 'Ready', null, utc(10, 2)),
      stateMsg('D1', 'AfterCallWork', null, utc(10, 3)),
      stateMsg('E1', 'LoggedOff', null, utc(10, 4)),
    ];
    // The same input after the capture, applied between chunks to one site and after it to the other.
    const later = [
      stateMsg('A1', 'NotReady', null, utc(10, 5)), // moves A1's statechart
      stateMsg('C1', 'Ready', 'Inbound', utc(10, 6)), // a call while on queue: adopted in place
      reasonMsg('B1', 'Meal', utc(10, 7)),
      clockMsg(utc(10, 16)), // closes the 10:00 interval of every agent
    ];
    const reference = site();
    feed(reference, messages);
    const expected = reference.capture();
    feed(reference, later, messages.length + 1);
    const chunked = site();
    feed(chunked, messages);
    let pauses = 0;
    const capture = await readStream(
      chunked.captureStream(2, async () => {
        if (pauses++ === 0) feed(chunked, later, messages.length + 1);
      }),
    );
    expect(pauses).toBe(2);
    expect(capture).toEqual(expected);
    expect(chunked.capture()).toEqual(reference.capture());
    reference.stop();
    chunked.stop();
  });
});

describe('SiteSupervisor restore', () => {
  it('takes agent snapshots as parsed JSON or as the JSON text captured, alike', () => {
    const a = site();
    feed(a, start);
    const capture = a.capture();
    const fromParsed = site({}, loaded(capture));
    const fromText = site({}, { seq: capture.seq, site: capture.site, agents: capture.agents });
    expect([...fromParsed.agents()]).toEqual([...a.agents()]);
    expect([...fromText.agents()]).toEqual([...a.agents()]);
    const rest = [clockMsg(utc(10, 16)), stateMsg('B1', 'Ready', null, utc(10, 20)), clockMsg(utc(10, 31))];
    const expected = feed(a, rest, 3);
    expect(feed(fromParsed, rest, 3)).toEqual(expected);
    expect(feed(fromText, rest, 3)).toEqual(expected);
    for (const s of [a, fromParsed, fromText]) s.stop();
  });

  it('refuses an agent snapshot of another version, or of none, naming the agent and both versions', () => {
    const a = site();
    feed(a, start);
    const capture = loaded(a.capture());
    const agents = [...capture.agents] as [string, { v?: unknown; snapshot: unknown }][];
    const restore = (a1: unknown) =>
      site({}, { ...capture, agents: new Map<string, unknown>([['A1', a1], agents[1]!]) });
    const future = { ...agents[0]![1], v: 2 };
    expect(() => restore(future)).toThrow(
      new SnapshotVersionError(`agent A1 of site ${TENANT}/${SITE}`, 2, AGENT_SNAPSHOT_VERSION),
    );
    try {
      restore(future);
    } catch (err) {
      expect(err).toBeInstanceOf(SnapshotVersionError);
      expect(err).toMatchObject({
        code: 'WFM_SNAPSHOT_VERSION',
        owner: `agent A1 of site ${TENANT}/${SITE}`,
        found: 2,
        supported: 1,
        message: `agent A1 of site ${TENANT}/${SITE}: snapshot version 2 is not supported; this build reads version 1`,
      });
    }
    // An unversioned snapshot (the bare XState snapshot written before versions) is refused too.
    expect(() => restore(agents[0]![1].snapshot)).toThrow(
      `agent A1 of site ${TENANT}/${SITE}: snapshot version none is not supported; this build reads version 1`,
    );
    expect(() => restore(JSON.stringify(future))).toThrow(SnapshotVersionError);
    expect(() => restore('{"v":1,')).toThrow(
      new CheckpointError(`agent A1 of site ${TENANT}/${SITE}: snapshot is not JSON`),
    );
    // B1's snapshot under A1's id: refused, not adopted.
    expect(() => restore(agents[1]![1])).toThrow(
      new CheckpointError(`agent A1 of site ${TENANT}/${SITE}: snapshot is not this agent's`),
    );
    a.stop();
  });

  it('refuses a site state of another version, or of none, and a malformed one', () => {
    const a = site();
    feed(a, start);
    const capture = loaded(a.capture());
    const state = capture.site as Record<string, unknown>;
    const restore = (s: unknown) => site({}, { ...capture, site: s });
    expect(() => restore({ ...state, v: 7 })).toThrow(
      new SnapshotVersionError(`state of site ${TENANT}/${SITE}`, 7, SITE_STATE_VERSION),
    );
    expect(() => restore({ siteTime: utc(10, 1) })).toThrow(
      `state of site ${TENANT}/${SITE}: snapshot version none is not supported; this build reads version 1`,
    );
    expect(() => restore(null)).toThrow(SnapshotVersionError);
    expect(() => restore({ ...state, siteTime: 'x' })).toThrow(
      new CheckpointError(`state of site ${TENANT}/${SITE}: siteTime is not a number`),
    );
    expect(() => restore({ ...state, profiles: [] })).toThrow(
      new CheckpointError(
        `state of site ${TENANT}/${SITE}: profiles: a time profile needs at least one grid`,
      ),
    );
    expect(() => restore({ ...state, quarantined: [1] })).toThrow(
      new CheckpointError(`state of site ${TENANT}/${SITE}: quarantined is not a list of agent ids`),
    );
    a.stop();
  });
});

describe('SiteSupervisor options fingerprint', () => {
  it('is kept in the site state; a restore tells whether the options changed since', () => {
    const a = site();
    expect(a.restoredOptionsFingerprint).toBeNull();
    expect(a.restoredOptionsChanged).toBe(false);
    feed(a, start);
    const capture = a.capture();
    expect(capture.site.optionsFingerprint).toBe(a.optionsFingerprint);
    expect(a.optionsFingerprint).toBe(
      '{"mappedReasons":["Break","Meal","Meeting","Training"],"adherenceExceptionThresholdSeconds":60,' +
        '"nonOnQueueActivitiesEquivalent":false,"intervalMinutes":15,"offsetMinutes":0}',
    );
    const same = site({}, loaded(capture));
    expect(same.restoredOptionsFingerprint).toBe(a.optionsFingerprint);
    expect(same.restoredOptionsChanged).toBe(false);
    const changed = site({ adherenceExceptionThresholdSeconds: 30 }, loaded(capture));
    expect(changed.restoredOptionsFingerprint).toBe(a.optionsFingerprint);
    expect(changed.restoredOptionsChanged).toBe(true);
    expect(changed.capture().site.optionsFingerprint).toBe(changed.optionsFingerprint);
    expect(changed.optionsFingerprint).not.toBe(a.optionsFingerprint);
    for (const s of [a, same, changed]) s.stop();
  });
});
