import { DiscardPolicy } from '@nats-io/jetstream';
import { firstValueFrom } from 'rxjs';
import { filter } from 'rxjs/operators';
import { describe, expect, it } from 'vitest';
import { type Output, outputSubject } from '../../src/domain/index.ts';
import { PublishError } from '../../src/errors.ts';
import { ensureStreams, natsStatusEvents, OutputPublisher, outputMsgId } from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

function gc(agentId: string, sourceSeq: number, index = 0, site = 'S1'): Output {
  return {
    kind: 'gc',
    tenant: 'T1',
    site,
    agentId,
    index,
    payload: {
      agentId,
      presence: 'ON_QUEUE',
      routingStatus: 'IDLE',
      ts: 1_700_000_000_000 + sourceSeq,
      sourceSeq,
    },
  };
}

const adherence: Output = {
  kind: 'adherence',
  tenant: 'T1',
  site: 'S1',
  agentId: 'a2',
  index: 1,
  payload: {
    agentId: 'a2',
    adherenceState: 'OutOfAdherence',
    scheduledCategory: 'OnQueueWork',
    actualCategory: 'Meal',
    impact: 'Negative',
    since: 1_700_000_000_000,
    ts: 1_700_000_090_000,
    sourceSeq: 42,
  },
};

const interval: Output = {
  kind: 'interval',
  tenant: 'T1',
  site: 'S1',
  agentId: 'a3',
  index: 0,
  payload: {
    agentId: 'a3',
    site: 'S1',
    intervalStart: 1_700_000_100_000,
    intervalMinutes: 15,
    secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 30,
    adherencePercentage: 96.67,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 830,
    conformancePercentage: 92.22,
    sourceSeq: 77,
  },
};

const decoder = new TextDecoder();

/** Publishes gc outputs of seq 1 and 2 for agent a1, flushes, and returns what the flush threw. */
async function publishTwoAndFlush(p: OutputPublisher): Promise<unknown> {
  p.publish(gc('a1', 1), 1);
  p.publish(gc('a1', 2), 2);
  return p.flush().then(
    () => undefined,
    (e: unknown) => e,
  );
}

describe('OutputPublisher', () => {
  const nats = useNats({ connect: { reconnectTimeWaitMs: 100 }, freshStream: 'WFM_OUT' });

  async function stored(): Promise<{ subject: string; body: unknown; headers: Record<string, string> }[]> {
    const info = await nats.jsm.streams.info('WFM_OUT');
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await nats.jsm.streams.getMessage('WFM_OUT', { seq });
      if (m === null) continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of m.header) headers[k] = v.join(',');
      out.push({ subject: m.subject, body: JSON.parse(decoder.decode(m.data)), headers });
    }
    return out;
  }

  it('names subject and Nats-Msg-Id deterministically', () => {
    expect(outputSubject(gc('a1', 7, 2))).toBe('wfm.gc.T1.S1.a1');
    expect(outputMsgId(gc('a1', 7, 2))).toBe('gc:T1.S1.a1:7:2');
    expect(outputSubject(adherence)).toBe('wfm.adherence.T1.S1.a2');
    expect(outputMsgId(adherence)).toBe('adherence:T1.S1.a2:42:1');
    expect(outputSubject(interval)).toBe('wfm.interval.T1.S1.a3');
    expect(outputMsgId(interval)).toBe('interval:T1.S1.a3:1700000100000');
  });

  it('stores each output with its JSON payload and its headers (id, source seq, ordinal)', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(gc('a1', 7), 10);
    p.publish(adherence, 11);
    p.publish(interval, 12);
    await p.flush();
    expect(await stored()).toEqual([
      {
        subject: 'wfm.gc.T1.S1.a1',
        body: gc('a1', 7).payload,
        headers: {
          'Nats-Msg-Id': 'gc:T1.S1.a1:7:0',
          'Wfm-Source-Seq': '7',
          'Wfm-Ordinal': '10',
        },
      },
      {
        subject: 'wfm.adherence.T1.S1.a2',
        body: adherence.payload,
        headers: {
          'Nats-Msg-Id': 'adherence:T1.S1.a2:42:1',
          'Wfm-Source-Seq': '42',
          'Wfm-Ordinal': '11',
        },
      },
      {
        subject: 'wfm.interval.T1.S1.a3',
        body: interval.payload,
        headers: {
          'Nats-Msg-Id': 'interval:T1.S1.a3:1700000100000',
          'Wfm-Source-Seq': '77',
          'Wfm-Ordinal': '12',
        },
      },
    ]);
    expect(p.stats).toEqual({
      submitted: 3,
      published: 3,
      duplicates: 0,
      failed: 0,
      discarded: 0,
      inFlight: 0,
    });
  });

  it('the same output twice is stored once and counted as a duplicate', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(gc('a1', 7), 1);
    await p.flush();
    // A replay after restart: same output, possibly another ordinal; the Msg-Id decides.
    p.publish(gc('a1', 7), 1);
    p.publish(gc('a1', 7), 2);
    await p.flush();
    expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(1);
    expect(p.stats).toMatchObject({ submitted: 3, published: 1, duplicates: 2, failed: 0 });
  });

  it('an interval record re-closed from another input is still one message', async () => {
    const p = new OutputPublisher(nats.js);
    p.publish(interval, 1);
    p.publish({ ...interval, payload: { ...interval.payload, sourceSeq: 78 } }, 2);
    await p.flush();
    expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(1);
    expect(p.stats).toMatchObject({ published: 1, duplicates: 1 });
  });

  it('discard mode stores nothing but counts; switching to write publishes', async () => {
    const p = new OutputPublisher(nats.js, { mode: 'discard' });
    expect(p.mode).toBe('discard');
    for (let i = 1; i <= 3; i++) p.publish(gc('a1', i), i);
    expect(p.whenReady()).toBeUndefined();
    await p.flush();
    expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(0);
    expect(p.stats).toEqual({
      submitted: 3,
      published: 0,
      duplicates: 0,
      failed: 0,
      discarded: 3,
      inFlight: 0,
    });
    p.setMode('write');
    p.publish(gc('a1', 4), 4);
    await p.flush();
    expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(1);
    expect(p.stats).toMatchObject({ submitted: 4, published: 1, discarded: 3 });
  });

  it('keeps at most maxInFlight pending when the caller honours whenReady(), and stores in call order', async () => {
    const p = new OutputPublisher(nats.js, { maxInFlight: 8 });
    let maxSeen = 0;
    let waited = 0;
    for (let i = 1; i <= 500; i++) {
      const ready = p.whenReady();
      if (ready !== undefined) {
        waited++;
        expect(p.stats.inFlight).toBe(8);
        await ready;
      }
      p.publish(gc(`a${i % 7}`, i), i);
      maxSeen = Math.max(maxSeen, p.stats.inFlight);
    }
    await p.flush();
    expect(maxSeen).toBe(8);
    expect(waited).toBeGreaterThan(0);
    expect(p.whenReady()).toBeUndefined();
    const all = await stored();
    expect(all.map((m) => Number(m.headers['Wfm-Ordinal']))).toEqual(
      Array.from({ length: 500 }, (_, i) => i + 1),
    );
    expect(p.stats).toEqual({
      submitted: 500,
      published: 500,
      duplicates: 0,
      failed: 0,
      discarded: 0,
      inFlight: 0,
    });
  });

  it('flush() throws PublishError when a publish failed, then forgets it', async () => {
    await nats.jsm.streams.delete('WFM_OUT');
    const p = new OutputPublisher(nats.js);
    const err = await publishTwoAndFlush(p);
    expect(err).toBeInstanceOf(PublishError);
    expect((err as PublishError).code).toBe('WFM_PUBLISH_FAILED');
    expect((err as PublishError).message).toMatch(
      /^2 publish\(es\) to WFM_OUT got no ack; first gc:T1\.S1\.a1:1:0: /,
    );
    expect(p.stats).toMatchObject({ submitted: 2, published: 0, failed: 2, inFlight: 0 });
    await expect(p.flush()).resolves.toBeUndefined();
    await ensureStreams(nats.jsm);
    p.publish(gc('a1', 1), 1);
    await p.flush();
    expect(p.stats).toMatchObject({ submitted: 3, published: 1, failed: 2 });
  });

  it('a JetStream error ack (a stream limit refusing the message) fails the flush with its description', async () => {
    // An operator's WFM_OUT that refuses new messages once full: the server answers with an error.
    await nats.jsm.streams.delete('WFM_OUT');
    await nats.jsm.streams.add({
      name: 'WFM_OUT',
      subjects: ['wfm.gc.>'],
      max_msgs: 1,
      discard: DiscardPolicy.New,
    });
    const p = new OutputPublisher(nats.js);
    const err = await publishTwoAndFlush(p);
    expect((err as PublishError).message).toMatch(
      /^1 publish\(es\) to WFM_OUT got no ack; first gc:T1\.S1\.a1:2:0: .*maximum messages/,
    );
    expect(p.stats).toMatchObject({ submitted: 2, published: 1, duplicates: 0, failed: 1 });
  });

  it('rejects a maxInFlight below 1', () => {
    expect(() => new OutputPublisher(nats.js, { maxInFlight: 0 })).toThrow(RangeError);
  });

  // Last: it takes the server down.
  it('publishes that get no ack while the server is down fail the flush; re-sending after it is back stores each once', async () => {
    const p = new OutputPublisher(nats.js, { ackTimeoutMs: 300 });
    p.publish(gc('a1', 1), 1);
    await p.flush();
    await nats.server.kill();
    p.publish(gc('a1', 2), 2);
    p.publish(gc('a1', 3), 3);
    await expect(p.flush()).rejects.toBeInstanceOf(PublishError);
    const reconnected = firstValueFrom(
      natsStatusEvents(nats.nc).pipe(filter((e) => e.type === 'reconnected')),
    );
    await nats.server.restart();
    await reconnected;
    for (;;) {
      p.publish(gc('a1', 2), 2);
      p.publish(gc('a1', 3), 3);
      try {
        await p.flush();
        break;
      } catch {
        // still reconnecting
      }
    }
    const all = await stored();
    expect(all.map((m) => m.headers['Nats-Msg-Id'])).toEqual([
      'gc:T1.S1.a1:1:0',
      'gc:T1.S1.a1:2:0',
      'gc:T1.S1.a1:3:0',
    ]);
  });
});
