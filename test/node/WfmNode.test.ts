import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nanos } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { startHttpServer } from '../../src/web/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import {
  compareRuns,
  readStream,
  type SentWatch,
  storedMoreThanOnce,
  watchSent,
} from '../helpers/outputs.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

const T = (h: number, m: number, s = 0) => Date.UTC(2026, 0, 5, h, m, s);
const state = (agentId: string, status: string, callType: string | null, ts: number) => ({
  statistic: 'CurrentState',
  agentId,
  status,
  callType,
  ts,
});
const reason = (agentId: string, value: string | null, ts: number) => ({
  statistic: 'CurrentStateReason',
  agentId,
  reasons: value === null ? {} : { ReasonCode: value },
  ts,
});

/**
 * `WFM_OUT`'s duplicate window: the least nats-server accepts, so an output published twice more
 * than 100 ms apart is stored twice (closer re-sends show in what {@link watchSent} sees).
 */
const OUT_DUPLICATE_WINDOW_MS = 100;

let server: NatsServer;
let wire: WfmWire;
let node: WfmNode;
let dataDir: string;
/** Every output the node sends, as sent (stored or not). */
let sent: SentWatch;

beforeAll(async () => {
  server = await NatsServer.start();
  wire = await WfmWire.connect(server.url);
  // Made before the node starts, which uses streams as it finds them.
  await ensureStreams(wire.jsm, { outDuplicateWindowMs: OUT_DUPLICATE_WINDOW_MS });
  sent = watchSent(wire.nc, ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>']);
  dataDir = mkdtempSync(join(tmpdir(), 'wfm-node-'));
  const config = localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1'] });
  node = await WfmNode.start({ config, nodeId: 'n1', logger: createLogger({ level: 'silent' }) });
});

afterAll(async () => {
  sent?.stop();
  await node?.stop();
  await wire?.close();
  await server?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

async function lastGc(agentId: string) {
  const all = await wire.read('WFM_OUT', `wfm.gc.T1.S1.${agentId}`);
  return all.filter((m) => m.subject === `wfm.gc.T1.S1.${agentId}`).at(-1)?.data;
}

describe('WfmNode end to end through NATS', () => {
  // Each row: input sequence for one agent → expected final GC presence/routing on wfm.gc.
  const rows: [string, unknown[], string, string][] = [
    ['LoggedOff', [state('r1', 'LoggedOff', null, T(9, 0))], 'OFFLINE', 'OFF_QUEUE'],
    ['NotReady, no reason', [state('r2', 'NotReady', null, T(9, 0))], 'BUSY', 'OFF_QUEUE'],
    [
      'NotReady, unmapped reason',
      [state('r3', 'NotReady', null, T(9, 0)), reason('r3', 'Personal', T(9, 0))],
      'BUSY',
      'OFF_QUEUE',
    ],
    [
      'NotReady, Break',
      [state('r4', 'NotReady', null, T(9, 0)), reason('r4', 'Break', T(9, 0))],
      'BREAK',
      'OFF_QUEUE',
    ],
    [
      'NotReady, Meal',
      [state('r5', 'NotReady', null, T(9, 0)), reason('r5', 'Meal', T(9, 0))],
      'MEAL',
      'OFF_QUEUE',
    ],
    [
      'NotReady, Meeting',
      [state('r6', 'NotReady', null, T(9, 0)), reason('r6', 'Meeting', T(9, 0))],
      'MEETING',
      'OFF_QUEUE',
    ],
    [
      'NotReady, Training',
      [state('r7', 'NotReady', null, T(9, 0)), reason('r7', 'Training', T(9, 0))],
      'TRAINING',
      'OFF_QUEUE',
    ],
    [
      'NotReady, any reason, Internal call',
      [reason('r8', 'Break', T(9, 0)), state('r8', 'NotReady', 'Internal', T(9, 0))],
      'BUSY',
      'COMMUNICATING',
    ],
    ['NotReady, Inbound call', [state('r9', 'NotReady', 'Inbound', T(9, 0))], 'BUSY', 'INTERACTING'],
    ['Ready, no call', [state('r10', 'Ready', null, T(9, 0))], 'ON_QUEUE', 'IDLE'],
    ['Ready, Internal call', [state('r11', 'Ready', 'Internal', T(9, 0))], 'ON_QUEUE', 'COMMUNICATING'],
    ['Ready, Outbound call', [state('r12', 'Ready', 'Outbound', T(9, 0))], 'ON_QUEUE', 'INTERACTING'],
    [
      'AfterCallWork keeps presence from before (Break)',
      [
        state('r13', 'NotReady', null, T(9, 0)),
        reason('r13', 'Break', T(9, 0)),
        state('r13', 'AfterCallWork', null, T(9, 1)),
      ],
      'BREAK',
      'INTERACTING',
    ],
    [
      'AfterCallWork keeps presence from before (On Queue)',
      [state('r14', 'Ready', 'Inbound', T(9, 0)), state('r14', 'AfterCallWork', null, T(9, 1))],
      'ON_QUEUE',
      'INTERACTING',
    ],
  ];

  it('observes every mapping row on wfm.gc.T.S.A', async () => {
    for (const [, inputs] of rows) {
      for (const input of inputs) {
        const agentId = (input as { agentId: string }).agentId;
        await wire.publish(`wfm.stat.T1.S1.${agentId}`, input);
      }
    }
    await wire.until(async () => (await lastGc('r14'))?.routingStatus === 'INTERACTING');
    for (const [name, inputs, presence, routingStatus] of rows) {
      const agentId = (inputs[0] as { agentId: string }).agentId;
      expect({ name, ...(await lastGc(agentId)) }).toMatchObject({ name, agentId, presence, routingStatus });
    }
  });

  it('runs the worked adherence day: real-time adherence and interval records', async () => {
    const a = 'day1';
    const subject = `wfm.stat.T1.S1.${a}`;
    const seqSchedule = await wire.publish(`wfm.schedule.T1.S1.${a}`, {
      agentId: a,
      from: T(0, 0),
      to: T(23, 0),
      activities: [{ start: T(10, 0), end: T(10, 30), category: 'OnQueueWork' }],
    });
    expect(seqSchedule).toBeGreaterThan(0);
    await wire.publish(subject, state(a, 'Ready', null, T(9, 58)));
    const seqTick10 = await wire.publish('wfm.clock.T1.S1', { ts: T(10, 0) });
    const seqNr = await wire.publish(subject, state(a, 'NotReady', null, T(10, 5)));
    await wire.publish(subject, state(a, 'Ready', null, T(10, 5, 40)));
    await wire.publish(subject, reason(a, 'Meal', T(10, 14, 30)));
    await wire.publish(subject, state(a, 'NotReady', null, T(10, 14, 30)));
    const seqBack = await wire.publish(subject, state(a, 'Ready', null, T(10, 16)));
    const seqTick31 = await wire.publish('wfm.clock.T1.S1', { ts: T(10, 31) });
    await wire.until(async () => (await wire.read('WFM_OUT', `wfm.interval.T1.S1.${a}`)).length === 3);

    const adherence = (await wire.read('WFM_OUT', `wfm.adherence.T1.S1.${a}`)).map((m) => m.data);
    expect(adherence.map((x) => [x.adherenceState, x.impact, x.ts, x.sourceSeq])).toEqual([
      ['Unscheduled', 'Neutral', T(9, 58), seqSchedule + 1],
      ['InAdherence', 'Neutral', T(10, 0), seqTick10],
      ['OutOfAdherence', 'Negative', T(10, 5), seqNr],
      ['InAdherence', 'Neutral', T(10, 5, 40), seqNr + 1],
      ['OutOfAdherence', 'Negative', T(10, 14, 30), seqNr + 3],
      ['InAdherence', 'Neutral', T(10, 16), seqBack],
      ['Unscheduled', 'Neutral', T(10, 30), seqTick31],
    ]);
    const intervals = (await wire.read('WFM_OUT', `wfm.interval.T1.S1.${a}`)).map((m) => m.data);
    expect(intervals).toEqual([
      {
        agentId: a,
        site: 'S1',
        intervalStart: T(9, 45),
        intervalMinutes: 15,
        secondsByPresence: { ON_QUEUE: 120 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 120,
        conformancePercentage: null,
        // 09:45 closes at 10:01 (end + 60 s): the 10:00 tick is too early, the 10:05 event closes it.
        sourceSeq: seqNr,
      },
      {
        agentId: a,
        site: 'S1',
        intervalStart: T(10, 0),
        intervalMinutes: 15,
        secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 30,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 830,
        conformancePercentage: 92.22,
        sourceSeq: seqBack,
      },
      {
        agentId: a,
        site: 'S1',
        intervalStart: T(10, 15),
        intervalMinutes: 15,
        secondsByPresence: { MEAL: 60, ON_QUEUE: 840 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 60,
        adherencePercentage: 93.33,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 840,
        conformancePercentage: 93.33,
        sourceSeq: seqTick31,
      },
    ]);
  });

  it('sends hostile input to the DLQ with reasons and keeps every other agent going', async () => {
    const good = 'steady';
    await wire.publish(`wfm.stat.T1.S1.${good}`, state(good, 'Ready', null, T(11, 0)));
    const hostile: [string, string, string][] = [
      ['wfm.stat.T1.S1.h1', '{not json', 'invalid_json'],
      ['wfm.stat.T1.S1.h1', '[1,2,3]', 'not_object'],
      ['wfm.stat.T1.S1.h1', JSON.stringify(state('h1', 'Sleeping', null, T(11, 0))), 'bad_status'],
      ['wfm.stat.T1.S1.h1', JSON.stringify(state('h1', 'Ready', 'Fax', T(11, 0))), 'bad_call_type'],
      ['wfm.stat.T1.S1.h1', JSON.stringify(state('h1', 'Ready', null, -5)), 'bad_ts'],
      ['wfm.stat.T1.S1.h1', JSON.stringify(state('someoneElse', 'Ready', null, T(11, 0))), 'agent_mismatch'],
      [
        'wfm.stat.T1.S1.h1',
        JSON.stringify({ statistic: 'Mood', agentId: 'h1', ts: T(11, 0) }),
        'unknown_statistic',
      ],
      [
        'wfm.stat.T1.S1.h1',
        '{"statistic":"CurrentState","__proto__":{"polluted":true},"agentId":"h1"}',
        'bad_payload',
      ],
      [
        'wfm.stat.T1.S1.h1',
        JSON.stringify({ ...state('h1', 'Ready', null, T(11, 0)), pad: 'x'.repeat(70_000) }),
        'too_large',
      ],
      [
        'wfm.schedule.T1.S1.h1',
        JSON.stringify({ agentId: 'h1', from: T(12, 0), to: T(11, 0), activities: [] }),
        'bad_schedule',
      ],
      ['wfm.stat.T1.nowhere.h1', JSON.stringify(state('h1', 'Ready', null, T(11, 0))), 'unknown_site'],
      ['wfm.stat.T1.S1.bad$id', JSON.stringify(state('h1', 'Ready', null, T(11, 0))), 'bad_subject'],
    ];
    const seqs: number[] = [];
    for (const [subject, text] of hostile) seqs.push(await wire.publish(subject, text));
    await wire.publish(`wfm.stat.T1.S1.${good}`, state(good, 'NotReady', null, T(11, 1)));
    const late = await wire.publish(`wfm.stat.T1.S1.${good}`, state(good, 'Ready', null, T(11, 0, 30)));
    await wire.publish(`wfm.stat.T1.S1.${good}`, state(good, 'Ready', 'Inbound', T(11, 2)));

    await wire.until(async () => (await lastGc(good))?.routingStatus === 'INTERACTING');
    await wire.until(async () => (await wire.read('WFM_DLQ')).length === hostile.length + 1);
    const messages = await wire.read('WFM_DLQ');
    expect(messages.every((m) => m.subject === 'wfm.dlq.T1')).toBe(true);
    const dlq = messages.map((m) => m.data);
    expect(dlq.map((d) => [d.reason, d.seq, d.subject])).toEqual([
      ...hostile.map(([subject, , r], i) => [r, seqs[i], subject]),
      ['late', late, `wfm.stat.T1.S1.${good}`],
    ]);
    expect(dlq[0]).toMatchObject({ reason: 'invalid_json', payload: '{not json' });
    expect(Object.keys(dlq[0]!)).toEqual(['reason', 'subject', 'seq', 'payload', 'detail']);
    const steady = (await wire.read('WFM_OUT', `wfm.gc.T1.S1.${good}`)).map((m) => [
      m.data.presence,
      m.data.routingStatus,
    ]);
    expect(steady).toEqual([
      ['ON_QUEUE', 'IDLE'],
      ['BUSY', 'OFF_QUEUE'],
      ['ON_QUEUE', 'INTERACTING'],
    ]);
    expect(Object.getPrototypeOf({}).polluted).toBeUndefined();
  });

  it('as a backup a site keeps its actors current but writes nothing; promoted, it writes what no primary wrote', async () => {
    const site = node.sites.get('S1')!;
    const dlqBefore = (await wire.read('WFM_DLQ')).length;
    const outputsBefore = site.counters.outputs.gc;
    site.actor.send({ type: 'demote' });
    expect(site.role).toBe('backup');
    const ready = await wire.publish('wfm.stat.T1.S1.bk1', state('bk1', 'Ready', null, T(12, 0)));
    const bad = await wire.publish('wfm.stat.T1.S1.bk1', '{not json');
    await wire.until(() => node.status().sites[0]!.processedSeq >= bad);
    // Computed and counted, but neither the output nor the dead letter was written.
    expect(site.counters.outputs.gc).toBe(outputsBefore + 1);
    expect([...site.supervisor!.agents()].find((a) => a.agentId === 'bk1')?.value).toEqual({
      presence: 'onQueue',
      adherence: 'unscheduled',
    });
    expect(await wire.read('WFM_OUT', 'wfm.gc.T1.S1.bk1')).toEqual([]);
    expect((await wire.read('WFM_DLQ')).length).toBe(dlqBefore);

    // Promoted, the site restores from its checkpoint and writes exactly what is missing: here,
    // with no other primary, everything it computed as a backup, once.
    site.actor.send({ type: 'promote' });
    const next = await wire.publish('wfm.stat.T1.S1.bk1', state('bk1', 'NotReady', null, T(12, 1)));
    await wire.until(async () => (await lastGc('bk1'))?.presence === 'BUSY');
    expect(site.role).toBe('primary');
    expect((await wire.read('WFM_OUT', 'wfm.gc.T1.S1.bk1')).map((m) => m.data)).toEqual([
      { agentId: 'bk1', presence: 'ON_QUEUE', routingStatus: 'IDLE', ts: T(12, 0), sourceSeq: ready },
      { agentId: 'bk1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: T(12, 1), sourceSeq: next },
    ]);
    const letters = (await wire.read('WFM_DLQ')).slice(dlqBefore);
    expect(letters.map((m) => [m.data.reason, m.data.seq])).toEqual([['invalid_json', bad]]);
  });

  it('serves /api/status and /metrics with processed and checkpoint sequences', async () => {
    const http = await startHttpServer(node, { port: 0 });
    try {
      const last = (await wire.jsm.streams.info('WFM_IN')).state.last_seq;
      await node.checkpoint();
      const status = await (await fetch(`${http.url}/api/status`)).json();
      expect(status).toMatchObject({
        nodeId: 'n1',
        sites: [{ tenant: 'T1', site: 'S1', role: 'primary', processedSeq: last, checkpointSeq: last }],
      });
      const metrics = await (await fetch(`${http.url}/metrics`)).text();
      expect(metrics).toContain('wfm_dlq_total{node="n1",site="S1",reason="late"} 1');
      expect(metrics).toContain(`wfm_checkpoint_seq{node="n1",site="S1"} ${last}`);
      expect(metrics).toContain('wfm_lag_messages{node="n1"} 0');
      const { steps, transitions } = node.sites.get('S1')!.supervisor!.stepCounts;
      expect(transitions).toBeGreaterThan(0);
      expect(transitions).toBeLessThan(steps);
      expect(metrics).toContain(`wfm_agent_steps_total{node="n1",site="S1"} ${steps}`);
      expect(metrics).toContain(`wfm_agent_transitions_total{node="n1",site="S1"} ${transitions}`);
      expect(http.url.startsWith('http://127.0.0.1:')).toBe(true);
    } finally {
      await http.close();
    }
  });

  // Last, so it covers every output the tests above caused: all kinds, and a backup switch.
  it('publishes each output once with a deterministic Nats-Msg-Id', async () => {
    const { config, state: stream } = await wire.jsm.streams.info('WFM_OUT');
    expect(config.duplicate_window).toBe(nanos(OUT_DUPLICATE_WINDOW_MS));
    const stored = await readStream(wire.js, wire.jsm, 'WFM_OUT');
    expect(stored.length).toBe(stream.messages);
    expect(new Set(stored.map((r) => r.subject.split('.')[1]))).toEqual(
      new Set(['gc', 'adherence', 'interval']),
    );
    // Each output (subject, Nats-Msg-Id, payload) is stored once, and no two share an id.
    expect(storedMoreThanOnce(stored)).toEqual({ duplicates: [], sharedMsgIds: [] });
    // And was sent once: a re-send within the server's dedupe would not show in the stream.
    await wire.nc.flush();
    const onTheWire = compareRuns(stored, sent.records, 'outputs sent, against those stored');
    expect(onTheWire.same, onTheWire.summary).toBe(true);

    const first = stored[0]!;
    const payload = first.data as { agentId: string; sourceSeq: number };
    expect(first.msgId).toBe(`gc:T1.S1.${payload.agentId}:${payload.sourceSeq}:0`);
  });
});
