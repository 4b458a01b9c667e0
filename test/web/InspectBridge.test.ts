import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { assign, createActor, SimulatedClock, setup } from 'xstate';
import { createElectionMachine, SiteSupervisor, VACANT_LEASE } from '../../src/actors/index.ts';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import {
  actorName,
  InspectBridge,
  type InspectBridgeOptions,
  matchActors,
  parseInspectActors,
  type StatelyActorMessage,
  type StatelyEventMessage,
  type StatelyMessage,
  type StatelySnapshotMessage,
  toInspectable,
} from '../../src/web/InspectBridge.ts';
import { feed, stateMsg, utc } from '../helpers/agentScenario.ts';
import { FakeElectionServices } from '../helpers/fakeElectionServices.ts';
import { flush } from '../helpers/fakeSiteServices.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

/** A stand-in inspector: a real WebSocket server that keeps every message it receives, parsed. */
class Inspector {
  readonly received: StatelyMessage[] = [];
  readonly #wss: WebSocketServer;

  private constructor(wss: WebSocketServer) {
    this.#wss = wss;
    wss.on('connection', (socket) => {
      socket.on('message', (data) => this.received.push(JSON.parse(String(data)) as StatelyMessage));
    });
  }

  static async start(port = 0): Promise<Inspector> {
    const wss = new WebSocketServer({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
    return new Inspector(wss);
  }

  get url(): string {
    const address = this.#wss.address();
    if (address === null || typeof address === 'string') throw new Error('not a TCP server');
    return `ws://127.0.0.1:${address.port}`;
  }

  of<T extends StatelyMessage['type']>(type: T, sessionId?: string): Extract<StatelyMessage, { type: T }>[] {
    return this.received.filter(
      (m): m is Extract<StatelyMessage, { type: T }> =>
        m.type === type && (sessionId === undefined || m.sessionId === sessionId),
    );
  }

  /** The `@xstate.actor` message of the actor named `name`. */
  actor(name: string): StatelyActorMessage | undefined {
    return this.of('@xstate.actor').find((m) => m.name === name);
  }

  async stop(): Promise<void> {
    for (const client of this.#wss.clients) client.terminate();
    await new Promise<void>((resolve) => this.#wss.close(() => resolve()));
  }
}

/** A TCP port nothing listens on (for an inspector that comes up later). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function until(check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function inspector(port?: number): Promise<Inspector> {
  const i = await Inspector.start(port);
  cleanups.push(() => i.stop());
  return i;
}

function bridge(options: Pick<InspectBridgeOptions, 'url'> & Partial<InspectBridgeOptions>): InspectBridge {
  const b = new InspectBridge({ minReconnectMs: 20, maxReconnectMs: 100, ...options });
  cleanups.push(() => b.close());
  return b;
}

const isLeading = (value: unknown): boolean =>
  typeof value === 'object' && value !== null && 'leading' in value;

/** A real election actor (xstate SimulatedClock, writes settled by the test) inspected by `b`. */
function election(b: InspectBridge, id = 'election:S1') {
  const services = new FakeElectionServices();
  const clock = new SimulatedClock();
  const actor = createActor(createElectionMachine(), {
    input: {
      node: 'me',
      services,
      clock,
      renewEveryMs: 250,
      permitMs: 500,
      silenceMs: 750,
      retryMs: 50,
      maxSuspectMs: 12_000,
      initial: VACANT_LEASE,
    },
    clock,
    id,
    inspect: b.observer,
  });
  cleanups.push(() => {
    actor.stop();
  });
  return { actor, services, clock };
}

/** An election started and brought to `leading` (claim of epoch 1 acknowledged at revision 10). */
async function leadingElection(b: InspectBridge) {
  const e = election(b);
  e.actor.start();
  e.clock.increment(0);
  await flush();
  e.services.take('claim').resolve(10);
  await flush();
  expect(e.actor.getSnapshot().matches('leading')).toBe(true);
  return e;
}

describe('inspection names and patterns', () => {
  it('parses --inspect-actors and matches globs exactly, * for any characters', () => {
    expect(parseInspectActors(' site:*, election:S1 ,,agent:S1/A1')).toEqual([
      'site:*',
      'election:S1',
      'agent:S1/A1',
    ]);
    expect(() => parseInspectActors(' , ')).toThrow(RangeError);
    const m = matchActors(['site:*', 'election:S1', 'agent:S1/A.1']);
    expect(m('site:S1')).toBe(true);
    expect(m('site:S1/checkpoint')).toBe(true);
    expect(m('election:S1')).toBe(true);
    expect(m('election:S10')).toBe(false);
    expect(m('agent:S1/A.1')).toBe(true);
    // `.` is literal, not a regex wildcard.
    expect(m('agent:S1/AX1')).toBe(false);
    expect(m('agents:S1')).toBe(false);
  });

  it('names agents by site and agent id, other children under their parent', () => {
    const root = createActor(setup({}).createMachine({}), { id: 'agents:S1' });
    const agent = createActor(setup({}).createMachine({}), { id: 'A1', parent: root });
    const site = createActor(setup({}).createMachine({}), { id: 'site:S1' });
    const child = createActor(setup({}).createMachine({}), { id: 'checkpoint', parent: site });
    expect(actorName(agent)).toBe('agent:S1/A1');
    expect(actorName(root)).toBe('agents:S1');
    expect(actorName(child)).toBe('site:S1/checkpoint');
  });

  it('serializes plain data and only names class instances (no services internals, no cycles)', () => {
    class Services {
      self = this;
      secret = 'x';
    }
    function renew() {}
    expect(
      toInspectable({
        a: [1, Number.NaN],
        d: new Date(0),
        s: new Services(),
        f: renew,
        e: new Error('boom'),
      }),
    ).toEqual({
      a: [1, 'NaN'],
      d: '1970-01-01T00:00:00.000Z',
      s: '[Services]',
      f: { type: 'renew' },
      e: { name: 'Error', message: 'boom' },
    });
  });
});

describe('InspectBridge', () => {
  it('streams @xstate.actor (with its definition), @xstate.event and @xstate.snapshot of an election', async () => {
    const server = await inspector();
    const b = bridge({ url: server.url });
    await until(() => b.stats.connected);
    const e = await leadingElection(b);
    const sessionId = e.actor.sessionId;
    await until(() => server.of('@xstate.snapshot', sessionId).some((m) => isLeading(m.snapshot.value)));

    const actor = server.actor('election:S1');
    expect(actor).toMatchObject({
      type: '@xstate.actor',
      name: 'election:S1',
      sessionId,
      rootId: sessionId,
      _version: '0.7.1',
      snapshot: { status: 'active' },
    });
    expect(actor?.createdAt).toMatch(/^\d{13}$/);
    expect(typeof actor?.id).toBe('string');
    // The machine's config, as JSON text: the inspector draws the statechart from it.
    const definition = JSON.parse(actor?.definition ?? 'null');
    expect(definition.id).toBe('election');
    expect(Object.keys(definition.states)).toEqual(
      expect.arrayContaining(['following', 'candidate', 'campaigning', 'leading']),
    );

    const events = server.of('@xstate.event', sessionId);
    expect(events[0]).toMatchObject({
      type: '@xstate.event',
      event: { type: 'xstate.init' },
      rootId: sessionId,
    });
    expect(events[0]?.sourceId).toBeUndefined();
    // The claim's result comes from the invoked promise actor: its session is the source.
    const done = events.find(
      (m) => m.event && (m.event as { type: string }).type.startsWith('xstate.done.actor'),
    );
    expect(done?.sourceId).toBeDefined();
    expect(done?.sourceId).not.toBe(sessionId);
    // ... which is streamed too (a child of a streamed actor matches `election:*`), parented.
    const child = server.of('@xstate.actor').find((m) => m.sessionId === done?.sourceId);
    expect(child?.name).toMatch(/^election:S1\//);
    expect(child?.parentId).toBe(sessionId);

    const leading = server.of('@xstate.snapshot', sessionId).find((m) => isLeading(m.snapshot.value));
    expect(leading).toMatchObject({
      type: '@xstate.snapshot',
      snapshot: {
        status: 'active',
        value: { leading: 'holding' },
        context: { node: 'me', epoch: 1, revision: 10 },
      },
      event: { type: expect.stringMatching(/^xstate\.done\.actor/) },
    });
    // The services and the clock are named, never serialized.
    const context = leading?.snapshot.context as Record<string, unknown>;
    expect(context.services).toBe('[FakeElectionServices]');
    expect(context.clock).toBe('[SimulatedClock]');
    // Messages arrive in the order xstate emitted them.
    const ids = server.received.map((m) => Number(m.id));
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
    expect(b.stats).toMatchObject({ dropped: 0, errors: 0, queued: 0 });
  });

  it('by default streams site and election actors, not agents', async () => {
    const server = await inspector();
    const b = bridge({ url: server.url });
    await until(() => b.stats.connected);
    const site = createActor(setup({}).createMachine({ id: 'site' }), { id: 'site:S1', inspect: b.observer });
    site.start();
    cleanups.push(() => {
      site.stop();
    });
    election(b).actor.start();
    const sup = new SiteSupervisor({ tenant: 'T1', site: 'S1' }, undefined, { inspect: b.observer });
    cleanups.push(() => sup.stop());
    feed(sup, [stateMsg('A1', 'Ready', null, utc(9, 0))]);
    // Closing writes what is queued first.
    await b.close();
    await until(() => server.actor('election:S1') !== undefined && server.actor('site:S1') !== undefined);
    expect(server.of('@xstate.actor').map((m) => m.name)).toEqual(['site:S1', 'election:S1']);
    expect(server.received.some((m) => m.type === '@xstate.snapshot' && m.sessionId === site.sessionId)).toBe(
      true,
    );
  });

  it('streams only the actors its filter accepts: agents when named', async () => {
    const server = await inspector();
    const b = bridge({ url: server.url, actors: ['election:*', 'agent:S1/A1'] });
    await until(() => b.stats.connected);
    const e = await leadingElection(b);
    const other = createActor(setup({}).createMachine({ id: 'other' }), {
      id: 'other:1',
      inspect: b.observer,
    });
    other.start();
    // Real agent actors, made by a SiteSupervisor given the observer.
    const sup = new SiteSupervisor({ tenant: 'T1', site: 'S1' }, undefined, { inspect: b.observer });
    cleanups.push(() => sup.stop());
    feed(sup, [
      stateMsg('A1', 'Ready', null, utc(9, 0)),
      stateMsg('A2', 'Ready', null, utc(9, 0)),
      stateMsg('A1', 'NotReady', null, utc(9, 1)),
    ]);
    await until(() =>
      server
        .of('@xstate.snapshot')
        .some((m) => (m.snapshot.value as { presence?: string } | undefined)?.presence === 'busy'),
    );
    await b.close();

    const names = server.of('@xstate.actor').map((m) => m.name);
    expect(names).toContain('election:S1');
    expect(names).toContain('agent:S1/A1');
    expect(names).not.toContain('agent:S1/A2');
    expect(names).not.toContain('agents:S1');
    expect(names).not.toContain('other:1');
    const a1 = server.actor('agent:S1/A1')!;
    // Its parent (the site's agent root) is not streamed, so none is named.
    expect(a1.parentId).toBeUndefined();
    expect(JSON.parse(a1.definition!).id).toBe('agent');
    const a1Snapshots = server.of('@xstate.snapshot', a1.sessionId) as StatelySnapshotMessage[];
    expect(a1Snapshots.at(-1)?.snapshot).toMatchObject({
      value: { presence: 'busy' },
      context: { agentId: 'A1' },
    });
    const a1Events = server.of('@xstate.event', a1.sessionId) as StatelyEventMessage[];
    // Each step that moved A1 came as a move event naming where its regions went.
    expect(a1Events.map((m) => (m.event as { type: string }).type)).toEqual([
      'xstate.init',
      'both.onQueue.unscheduled',
      'presence.busy',
    ]);
    const streamed = new Set(server.of('@xstate.actor').map((m) => m.sessionId));
    expect(server.received.every((m) => streamed.has(m.sessionId))).toBe(true);
    expect(e.actor.getSnapshot().matches('leading')).toBe(true);
  });

  it('keeps at most maxQueue messages while the inspector is away, counts the drops, then sends the rest in order', async () => {
    const port = await freePort();
    const b = bridge({ url: `ws://127.0.0.1:${port}`, maxQueue: 5, actors: ['site:*'] });
    const counter = createActor(
      setup({ types: { context: {} as { n: number }, events: {} as { type: 'inc' } } }).createMachine({
        id: 'counter',
        context: { n: 0 },
        on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
      }),
      { id: 'site:Q', inspect: b.observer },
    );
    counter.start();
    cleanups.push(() => {
      counter.stop();
    });
    // actor + init event + initial snapshot = 3, then an event and a snapshot per inc.
    for (let i = 0; i < 20; i++) counter.send({ type: 'inc' });
    const total = 3 + 2 * 20;
    expect(b.stats).toMatchObject({ connected: false, queued: 5, dropped: total - 5, sent: 0 });
    // Still bounded after a few failed reconnects.
    await new Promise((r) => setTimeout(r, 150));
    counter.send({ type: 'inc' });
    expect(b.stats).toMatchObject({ queued: 5, dropped: total + 2 - 5 });

    const server = await inspector(port);
    await until(() => server.received.length === 5);
    expect(b.stats).toMatchObject({ connected: true, queued: 0, sent: 5, dropped: total + 2 - 5 });
    // The newest five, oldest first: …, event 20, snapshot n=20, event 21, snapshot n=21.
    const kinds = server.received.map((m) =>
      m.type === '@xstate.snapshot' ? `s${(m.snapshot.context as { n: number }).n}` : m.type,
    );
    expect(kinds).toEqual(['s19', '@xstate.event', 's20', '@xstate.event', 's21']);
    // New messages go straight through behind them.
    counter.send({ type: 'inc' });
    await until(() => server.received.length === 7);
    expect(server.received.at(-1)).toMatchObject({
      type: '@xstate.snapshot',
      snapshot: { context: { n: 22 } },
    });
  });

  it('reconnects after the inspector restarts', async () => {
    const port = await freePort();
    const first = await Inspector.start(port);
    const b = bridge({ url: `ws://127.0.0.1:${port}`, actors: () => true });
    await until(() => b.stats.connected);
    await first.stop();
    await until(() => !b.stats.connected);
    const second = await inspector(port);
    await until(() => b.stats.connected);
    const e = election(b);
    e.actor.start();
    await until(() => second.actor('election:S1') !== undefined);
    expect(b.stats.connections).toBe(2);
  });

  it('refuses a URL that is not ws:// or wss://', () => {
    expect(() => new InspectBridge({ url: 'http://localhost:8080' })).toThrow(RangeError);
    expect(() => new InspectBridge({ url: 'not a url' })).toThrow(RangeError);
    expect(() => new InspectBridge({ url: 'ws://localhost:1', maxQueue: 0 })).toThrow(RangeError);
  });
});

describe('a node with inspect set', () => {
  it('streams its site and election actors (and a named agent) to the inspector', async () => {
    const server = await inspector();
    const nats = await NatsServer.start();
    cleanups.push(() => nats.stop());
    const dataDir = mkdtempSync(join(tmpdir(), 'wfm-inspect-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const b = bridge({ url: server.url, actors: ['site:*', 'election:*', 'agent:S1/a1'] });
    const config = localNodeConfig({ natsUrl: nats.url, dataDir, sites: ['S1'] });
    const node = await WfmNode.start({
      config,
      nodeId: 'n1',
      logger: createLogger({ level: 'silent' }),
      inspect: b.observer,
    });
    cleanups.push(() => node.stop());
    const wire = await WfmWire.connect(nats.url);
    cleanups.push(() => wire.close());
    const T = Date.UTC(2026, 0, 5, 9, 0);
    for (const agentId of ['a1', 'a2'])
      await wire.publish(`wfm.stat.T1.S1.${agentId}`, {
        statistic: 'CurrentState',
        agentId,
        status: 'Ready',
        callType: null,
        ts: T,
      });
    await until(() => server.actor('agent:S1/a1') !== undefined, 15_000);

    const site = server.actor('site:S1');
    const electionActor = server.actor('election:S1');
    expect(site).toBeDefined();
    expect(electionActor).toBeDefined();
    expect(JSON.parse(site!.definition!).id).toBe('site');
    expect(JSON.parse(electionActor!.definition!).id).toBe('election');
    // The site ran and leads; its election holds the lease.
    await until(() =>
      server
        .of('@xstate.snapshot', site!.sessionId)
        .some((m) => JSON.stringify(m.snapshot.value).includes('primary')),
    );
    await until(() =>
      server.of('@xstate.snapshot', electionActor!.sessionId).some((m) => isLeading(m.snapshot.value)),
    );
    // What the site invoked (its restore) is streamed as its child.
    const children = server.of('@xstate.actor').filter((m) => m.name.startsWith('site:S1/'));
    expect(children.length).toBeGreaterThan(0);
    expect(children.every((m) => m.parentId === site!.sessionId)).toBe(true);
    const names = server.of('@xstate.actor').map((m) => m.name);
    expect(names).not.toContain('agent:S1/a2');
    expect(b.stats).toMatchObject({ dropped: 0, errors: 0 });
  });
});
