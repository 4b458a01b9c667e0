import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import { type AgentDetail, EventStream, startHttpServer, type VisualizedNode } from '../../src/web/index.ts';
import { reasonMsg, stateMsg } from '../helpers/agentScenario.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

const T = (h: number, m: number, s = 0) => Date.UTC(2026, 0, 5, h, m, s);
const XSS = '<img src=x onerror=alert(1)>';

const schedule = (agentId: string, category: string) => ({
  agentId,
  from: T(0, 0),
  to: T(23, 0),
  activities: [{ start: T(10, 0), end: T(11, 0), category }],
});

let server: NatsServer;
let wire: WfmWire;
let node: WfmNode;
let http: Awaited<ReturnType<typeof startHttpServer>>;
let dataDir: string;
/** WFM_IN sequences of S1/xss's inputs, in order. */
const xssSeqs: number[] = [];
let xssReasonText = '';

async function get(path: string): Promise<{ status: number; type: string | null; body: unknown }> {
  const res = await fetch(`${http.url}${path}`);
  return { status: res.status, type: res.headers.get('content-type'), body: await res.json() };
}

beforeAll(async () => {
  server = await NatsServer.start();
  wire = await WfmWire.connect(server.url);
  dataDir = mkdtempSync(join(tmpdir(), 'wfm-viz-'));
  const config = localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1', 'S2'] });
  node = await WfmNode.start({ config, nodeId: 'n1', logger: createLogger({ level: 'silent' }) });
  // WfmNode is what the visualizer reads (the server finds it by these members).
  const visualized: VisualizedNode = node;
  http = await startHttpServer(visualized as WfmNode, { port: 0 });

  const stat = (site: string, agent: string, payload: unknown) =>
    wire.publish(`wfm.stat.T1.${site}.${agent}`, payload);
  for (const [agent, category] of [
    ['neg-long', 'OnQueueWork'],
    ['neg-short', 'OnQueueWork'],
    ['ready', 'OnQueueWork'],
    ['pos', 'Break'],
    ['neutral', 'Meeting'],
  ] as const)
    await wire.publish(`wfm.schedule.T1.S1.${agent}`, schedule(agent, category));
  xssSeqs.push(await wire.publish('wfm.schedule.T1.S1.xss', schedule('xss', 'OnQueueWork')));
  await wire.send(stateMsg('ready', 'Ready', null, T(10, 0)));
  await wire.send(stateMsg('neg-long', 'NotReady', null, T(10, 1)));
  await wire.send(stateMsg('pos', 'Ready', null, T(10, 3)));
  await wire.send(stateMsg('neutral', 'NotReady', null, T(10, 4)));
  await wire.send(reasonMsg('neutral', 'Break', T(10, 4)));
  xssSeqs.push(await wire.send(stateMsg('xss', 'NotReady', null, T(10, 5))));
  xssReasonText = reasonMsg('xss', XSS, T(10, 5)).data;
  xssSeqs.push(await stat('S1', 'xss', xssReasonText));
  await wire.send(stateMsg('neg-short', 'NotReady', null, T(10, 8)));
  await wire.publish('wfm.clock.T1.S1', { ts: T(10, 10) });
  await wire.publish('wfm.schedule.T1.S2.unknown', schedule('unknown', 'OnQueueWork'));
  const last = await stat('S2', 'unsched', stateMsg('unsched', 'Ready', null, T(10, 0)).data);
  await wire.until(() => node.processedSeq >= last);
});

afterAll(async () => {
  await http?.close();
  await node?.stop();
  await wire?.close();
  await server?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

const ids = (body: unknown) =>
  (body as { rows: { site: string; agentId: string }[] }).rows.map((r) => `${r.site}/${r.agentId}`);

describe('visualizer API of a live node', () => {
  it('GET /api/agents sorts by severity on site event time, filters and pages', async () => {
    const all = await get('/api/agents');
    expect(all.status).toBe(200);
    expect(all.type).toContain('application/json');
    expect(all.body).toMatchObject({ total: 8, offset: 0, limit: 50 });
    expect(ids(all.body)).toEqual([
      'S1/neg-long',
      'S1/xss',
      'S1/neg-short',
      'S1/pos',
      'S1/neutral',
      'S1/ready',
      'S2/unknown',
      'S2/unsched',
    ]);
    const rows = (all.body as { rows: Record<string, unknown>[] }).rows;
    // Site S1's event time is 10:10 (its clock tick): seconds in state come from it.
    expect(rows[0]).toEqual({
      site: 'S1',
      agentId: 'neg-long',
      role: 'primary',
      presence: 'BUSY',
      routingStatus: 'OFF_QUEUE',
      status: 'NotReady',
      reason: null,
      adherenceState: 'OutOfAdherence',
      since: T(10, 1),
      secondsInState: 540,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Negative',
      outOfAdherenceTodaySecs: 540,
    });
    expect(rows.map((r) => r.secondsInState)).toEqual([540, 300, 120, 420, 360, 600, null, 0]);
    expect(rows[3]).toMatchObject({ impact: 'Positive', outOfAdherenceTodaySecs: 420 });
    expect(rows[6]).toMatchObject({ adherenceState: null, presence: null, outOfAdherenceTodaySecs: 0 });

    const page = await get('/api/agents?sort=severity&offset=2&limit=3');
    expect(page.body).toMatchObject({ total: 8, offset: 2, limit: 3 });
    expect(ids(page.body)).toEqual(['S1/neg-short', 'S1/pos', 'S1/neutral']);
    expect(ids((await get('/api/agents?site=S2')).body)).toEqual(['S2/unknown', 'S2/unsched']);
    expect(ids((await get('/api/agents?state=Unknown')).body)).toEqual(['S2/unknown']);
    expect(ids((await get('/api/agents?state=Unscheduled')).body)).toEqual(['S2/unsched']);
    expect(ids((await get('/api/agents?state=OutOfAdherence&sort=agent')).body)).toEqual([
      'S1/neg-long',
      'S1/neg-short',
      'S1/neutral',
      'S1/pos',
      'S1/xss',
    ]);
    expect(ids((await get('/api/agents?q=ONERROR')).body)).toEqual(['S1/xss']);
    expect(ids((await get('/api/agents?q=neg&sort=since')).body)).toEqual(['S1/neg-long', 'S1/neg-short']);
    expect((await get('/api/agents?limit=100000')).body).toMatchObject({ limit: 500, total: 8 });
    const bad = await get('/api/agents?sort=nonsense');
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ error: expect.stringContaining('sort') });
  });

  it('GET /api/agents/:site/:agentId gives the actor and the inputs that brought it there, verbatim', async () => {
    const res = await fetch(`${http.url}/api/agents/S1/xss`);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const detail = (await res.json()) as AgentDetail;
    expect(detail).toMatchObject({
      site: 'S1',
      agentId: 'xss',
      role: 'primary',
      value: { presence: 'busy', adherence: 'outOfAdherence' },
      context: { agentId: 'xss', reason: XSS, status: 'NotReady' },
      interval: { intervalStart: T(10, 0), intervalMinutes: 15 },
    });
    expect(detail.history.map((h) => h.seq)).toEqual(xssSeqs);
    expect(detail.history[0]?.subject).toBe('wfm.schedule.T1.S1.xss');
    expect(detail.history[2]).toEqual({
      seq: xssSeqs[2],
      subject: 'wfm.stat.T1.S1.xss',
      data: xssReasonText,
    });
    expect(JSON.parse(detail.history[2]!.data).reasons.ReasonCode).toBe(XSS);

    const missing = await get('/api/agents/S1/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ error: expect.any(String) });
    expect((await get('/api/agents/S9/xss')).status).toBe(404);
  });

  it('GET /api/machines gives each machine definition; the agent one has its two regions', async () => {
    const { body } = await get('/api/machines');
    const machines = body as Record<string, { type: string; states: Record<string, { type: string }> }>;
    expect(machines.agent!.type).toBe('parallel');
    expect(Object.keys(machines.agent!.states)).toEqual(['presence', 'adherence']);
    expect(machines.agent!.states.presence!.type).toBe('compound');
    expect(Object.keys(machines.site!.states)).toContain('running');
    expect(Object.keys(machines.election!.states)).toContain('leading');
  });

  it('GET /api/sites lists the hosted sites', async () => {
    const { body } = await get('/api/sites');
    const sites = body as { site: string }[];
    expect(sites.map((s) => s.site).sort()).toEqual(['S1', 'S2']);
    expect(sites.find((s) => s.site === 'S1')).toMatchObject({
      role: 'primary',
      leader: 'n1',
      replicas: ['n1'],
      siteTime: T(10, 10),
      agents: 6,
      election: { leading: expect.any(String) },
      state: { running: expect.anything() },
    });
  });

  it('GET /api/events streams a status event and an agents event naming a changed agent', async () => {
    const controller = new AbortController();
    const res = await fetch(`${http.url}/api/events`, { signal: controller.signal });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    const events: { event: string; data: Record<string, unknown> }[] = [];
    let text = '';
    const seen = async (check: () => boolean) => {
      while (!check()) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        text += decoder.decode(value, { stream: true });
        for (let end = text.indexOf('\n\n'); end >= 0; end = text.indexOf('\n\n')) {
          const block = text.slice(0, end);
          text = text.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) });
        }
      }
    };
    try {
      await seen(() => events.some((e) => e.event === 'status'));
      const status = events.find((e) => e.event === 'status')!.data;
      expect(status).toMatchObject({
        nodeId: 'n1',
        nodes: ['n1'],
        rates: expect.any(Object),
        lag: 0,
        dlq: expect.any(Object),
      });
      expect((status.sites as { site: string }[]).map((s) => s.site).sort()).toEqual(['S1', 'S2']);
      await wire.send(stateMsg('ready', 'NotReady', null, T(10, 11)));
      await seen(() =>
        events.some((e) => e.event === 'agents' && (e.data.changed as string[]).includes('S1/ready')),
      );
      await seen(() => events.filter((e) => e.event === 'status').length >= 3);
      const rates = events.filter((e) => e.event === 'status').at(-1)!.data.rates;
      expect(rates).toMatchObject({ eventsPerSec: expect.any(Number), outputsPerSec: expect.any(Number) });
    } finally {
      controller.abort();
    }
  });

  it('serves the static files of its folder only, with their content types', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wfm-public-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>x</title>');
    writeFileSync(join(dir, 'app.js'), 'export {};');
    writeFileSync(join(dir, 'style.css'), 'body{}');
    writeFileSync(join(dir, 'notes.txt'), 'secret');
    mkdirSync(join(dir, 'sub.js'));
    const other = await startHttpServer(
      { status: () => ({}), metrics: async () => '' },
      { port: 0, publicDir: dir },
    );
    try {
      const at = async (path: string) => {
        const res = await fetch(`${other.url}${path}`);
        return [res.status, res.headers.get('content-type'), await res.text()] as const;
      };
      expect(await at('/')).toEqual([200, 'text/html; charset=utf-8', '<!doctype html><title>x</title>']);
      expect(await at('/app.js')).toEqual([200, 'text/javascript; charset=utf-8', 'export {};']);
      expect(await at('/style.css')).toEqual([200, 'text/css; charset=utf-8', 'body{}']);
      for (const path of [
        '/notes.txt',
        '/sub.js',
        '/index.html',
        '/%2e%2e/package.json',
        '/..%2fpackage.json',
      ])
        expect((await at(path))[0], path).toBe(404);
      // A source that is no node has no visualizer API.
      expect((await at('/api/agents'))[0]).toBe(404);
    } finally {
      await other.close();
      rmSync(dir, { recursive: true, force: true });
    }
    const empty = await startHttpServer(
      { status: () => ({}), metrics: async () => '' },
      { port: 0, publicDir: join(dir, 'gone') },
    );
    try {
      expect((await fetch(`${empty.url}/`)).status).toBe(404);
    } finally {
      await empty.close();
    }
  });

  // Last: it restarts the node the other tests read.
  it("after a restart lists an agent's last stored input of each kind, its log being empty", async () => {
    await http.close();
    await node.stop();
    const config = localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1', 'S2'] });
    node = await WfmNode.start({ config, nodeId: 'n1', logger: createLogger({ level: 'silent' }) });
    http = await startHttpServer(node, { port: 0 });
    await wire.until(async () => (await get('/api/agents/S1/xss')).status === 200, 30_000);
    const detail = (await get('/api/agents/S1/xss')).body as AgentDetail;
    // Restored from its checkpoint, not replayed: the agent's input log starts empty.
    expect(node.sites.get('S1')?.supervisor?.inputs.seqs('xss')).toEqual([]);
    // Its schedule and its last statistic (the reason with markup) as WFM_IN stores them; the
    // state change between them was not the last on its subject.
    expect(detail.history).toEqual([
      {
        seq: xssSeqs[0],
        subject: 'wfm.schedule.T1.S1.xss',
        data: JSON.stringify(schedule('xss', 'OnQueueWork')),
      },
      { seq: xssSeqs[2], subject: 'wfm.stat.T1.S1.xss', data: xssReasonText },
    ]);
    // A new input, once applied, is in the log; of what came before the restart only the last on
    // each subject can be found (JetStream reads a subject's last message, not the one before it).
    const next = await wire.send(stateMsg('xss', 'Ready', null, T(10, 12)));
    await wire.until(() => node.processedSeq >= next);
    const after = (await get('/api/agents/S1/xss')).body as AgentDetail;
    expect(after.history.map((h) => h.seq)).toEqual([xssSeqs[0], next]);
  });
});

describe('EventStream', () => {
  it('runs its timer only while a client is connected, and drops a closed client', async () => {
    let ticks = 0;
    const stream = new EventStream(
      {
        status: async () => ({ tick: ++ticks }),
        agents: () => null,
      },
      { intervalMs: 50, keepAliveMs: 100 },
    );
    const srv = createServer((req, res) => stream.add(req, res));
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const port = (srv.address() as AddressInfo).port;
    try {
      expect(stream.running).toBe(false);
      const got = await new Promise<string>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path: '/' }, (res) => {
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
            if (text.includes(': keep-alive') && text.includes('event: status')) {
              req.destroy();
              resolve(text);
            }
          });
        });
        req.on('error', (err) => (err.message.includes('socket hang up') ? undefined : reject(err)));
        req.end();
      });
      expect(got).toMatch(/event: status\ndata: \{"tick":\d+\}\n\n/);
      expect(got).not.toContain('event: agents');
      const deadline = Date.now() + 5000;
      while (stream.running && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(stream.clients).toBe(0);
      expect(stream.running).toBe(false);
      const after = ticks;
      await new Promise((r) => setTimeout(r, 200));
      expect(ticks).toBe(after);
    } finally {
      stream.close();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});
