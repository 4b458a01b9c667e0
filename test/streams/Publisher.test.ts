import { DiscardPolicy, type StreamConfig } from '@nats-io/jetstream';
import type { Msg, Subscription } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type NatsError, PublishError } from '../../src/errors.ts';
import {
  connectNats,
  deadLetterMsgId,
  ensureStreams,
  outputMsgId,
  Publisher,
} from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';
import {
  adherenceOutput,
  deadLetter,
  FIXTURE_INTERVAL_START,
  gcOutput,
  intervalOutput,
  transferOutput,
} from '../helpers/outputFixtures.ts';

const decoder = new TextDecoder();

/** What a flush did: undefined when it resolved, the error when it rejected. */
function outcome(flush: Promise<void>): Promise<unknown> {
  return flush.then(
    () => undefined,
    (e: unknown) => e,
  );
}

/** Reads a promise's state without waiting for it. */
function watch(p: Promise<unknown>): () => 'pending' | 'resolved' | 'rejected' {
  let state: 'pending' | 'resolved' | 'rejected' = 'pending';
  p.then(
    () => {
      state = 'resolved';
    },
    () => {
      state = 'rejected';
    },
  );
  return () => state;
}

const OUT_WITHOUT_INTERVAL: Partial<StreamConfig> = {
  name: 'WFM_OUT',
  subjects: ['wfm.gc.>', 'wfm.adherence.>'],
};

describe('Publisher', () => {
  const nats = useNats();
  let held: Subscription | undefined;

  beforeEach(async () => {
    await nats.jsm.streams.delete('WFM_OUT').catch(() => false);
    await nats.jsm.streams.delete('WFM_DLQ').catch(() => false);
    await ensureStreams(nats.jsm);
  });

  afterEach(() => {
    held?.unsubscribe();
    held = undefined;
  });

  /** Replaces WFM_OUT with a stream of the given config (a test's own limits or subjects). */
  async function replaceOut(config: Partial<StreamConfig>): Promise<void> {
    await nats.jsm.streams.delete('WFM_OUT');
    await nats.jsm.streams.add({ name: 'WFM_OUT', ...config });
  }

  /**
   * A core subscriber on `wfm.interval.>` that holds every message it gets: with a WFM_OUT that does
   * not capture interval records, their publishes get no ack until the test answers (or never).
   */
  function holdIntervals(): Msg[] {
    const msgs: Msg[] = [];
    held = nats.nc.subscribe('wfm.interval.>', {
      callback: (_e, m) => {
        msgs.push(m);
      },
    });
    return msgs;
  }

  async function stored(
    stream: string,
  ): Promise<{ seq: number; subject: string; data: string; headers: Record<string, string> }[]> {
    const info = await nats.jsm.streams.info(stream);
    const out = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const m = await nats.jsm.streams.getMessage(stream, { seq });
      if (m === null) continue;
      const headers: Record<string, string> = {};
      for (const [k, v] of m.header) headers[k] = v.join(',');
      out.push({ seq, subject: m.subject, data: decoder.decode(m.data), headers });
    }
    return out;
  }

  async function until(check: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  describe('what it stores', () => {
    it('stores each output on its subject with its JSON payload, Nats-Msg-Id and Wfm-Source-Seq', async () => {
      const p = new Publisher(nats.nc);
      const outputs = [
        gcOutput('S1', 'a1', 7, 0),
        adherenceOutput('S1', 'a2', 42, 1),
        intervalOutput('S1', 'a3', 77),
      ];
      for (const o of outputs) p.publishOutput('S1', o);
      await p.flush('S1');
      expect(await stored('WFM_OUT')).toEqual([
        {
          seq: 1,
          subject: 'wfm.gc.T1.S1.a1',
          data: JSON.stringify(outputs[0]!.payload),
          headers: { 'Nats-Msg-Id': 'gc:T1.S1.a1:7:0', 'Wfm-Source-Seq': '7' },
        },
        {
          seq: 2,
          subject: 'wfm.adherence.T1.S1.a2',
          data: JSON.stringify(outputs[1]!.payload),
          headers: { 'Nats-Msg-Id': 'adherence:T1.S1.a2:42:1', 'Wfm-Source-Seq': '42' },
        },
        {
          seq: 3,
          subject: 'wfm.interval.T1.S1.a3',
          data: JSON.stringify(outputs[2]!.payload),
          headers: { 'Nats-Msg-Id': 'interval:T1.S1.a3:1700000100000', 'Wfm-Source-Seq': '77' },
        },
      ]);
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id'])).toEqual(
        outputs.map(outputMsgId),
      );
      expect(p.stats).toEqual({ submitted: 3, published: 3, duplicates: 0, failed: 0, inFlight: 0 });
    });

    it('stores dead letters on wfm.dlq.T with the contract body, keys in order, and Wfm-Site', async () => {
      const p = new Publisher(nats.nc);
      // Two dead letters of one input (ordinals 0 and 1), and one of the node's lane.
      p.publishDeadLetter('S1', deadLetter('S1', 17, 0));
      p.publishDeadLetter('S1', {
        ...deadLetter('S1', 17, 1),
        reason: 'late',
        detail: 'older than the last',
      });
      // Lanes on one subject are stored in no defined order between them: S1's go first here.
      await p.flush('S1');
      p.publishDeadLetter('_node', {
        ...deadLetter('_node', 18),
        reason: 'bad_subject',
        subject: 'wfm.stat.T1',
        data: new Uint8Array([0x61, 0xff]),
        detail: 'no site',
      });
      await p.flush('S1');
      await p.flush('_node');
      const body = '"payload":"{\\"statistic\\":\\"CurrentState\\",",';
      expect(await stored('WFM_DLQ')).toEqual([
        {
          seq: 1,
          subject: 'wfm.dlq.T1',
          data: `{"reason":"invalid_json","subject":"wfm.stat.T1.S1.a1","seq":17,${body}"detail":"Unexpected end of JSON input"}`,
          headers: { 'Nats-Msg-Id': 'dlq:T1:17:0', 'Wfm-Source-Seq': '17', 'Wfm-Site': 'S1' },
        },
        {
          seq: 2,
          subject: 'wfm.dlq.T1',
          data: `{"reason":"late","subject":"wfm.stat.T1.S1.a1","seq":17,${body}"detail":"older than the last"}`,
          headers: { 'Nats-Msg-Id': 'dlq:T1:17:1', 'Wfm-Source-Seq': '17', 'Wfm-Site': 'S1' },
        },
        {
          seq: 3,
          subject: 'wfm.dlq.T1',
          data: '{"reason":"bad_subject","subject":"wfm.stat.T1","seq":18,"payload":"a\uFFFD","detail":"no site"}',
          headers: {
            'Nats-Msg-Id': deadLetterMsgId(deadLetter('_node', 18)),
            'Wfm-Source-Seq': '18',
            'Wfm-Site': '_node',
          },
        },
      ]);
      expect(p.stats).toEqual({ submitted: 3, published: 3, duplicates: 0, failed: 0, inFlight: 0 });
    });

    it('a re-sent Nats-Msg-Id within the duplicate window is stored once and counted as a duplicate', async () => {
      const p = new Publisher(nats.nc);
      p.publishOutput('S1', gcOutput('S1', 'a1', 7));
      p.publishDeadLetter('S1', deadLetter('S1', 17));
      await p.flush('S1');
      // A replay after a restart: same identities; a reworded dead letter and an interval record
      // re-closed from another input are still the same messages.
      p.publishOutput('S1', gcOutput('S1', 'a1', 7));
      p.publishDeadLetter('S1', { ...deadLetter('S1', 17), detail: 'another wording' });
      p.publishOutput('S1', intervalOutput('S1', 'a3', 77));
      p.publishOutput('S1', { ...intervalOutput('S1', 'a3', 78), ordinal: 4 });
      await p.flush('S1');
      expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(2);
      expect((await nats.jsm.streams.info('WFM_DLQ')).state.messages).toBe(1);
      expect(p.stats).toEqual({ submitted: 6, published: 3, duplicates: 3, failed: 0, inFlight: 0 });
      // A duplicate's ack names the original's seq: ackedSeq does not go back.
      expect(p.ackedSeq('WFM_OUT')).toBe(2);
      expect(p.ackedSeq('WFM_DLQ')).toBe(1);
    });

    it('keeps at most maxInFlight pending when the caller honours whenReady(), and stores in call order', async () => {
      const p = new Publisher(nats.nc, { maxInFlight: 8 });
      let maxSeen = 0;
      let waited = 0;
      for (let i = 1; i <= 500; i++) {
        const ready = p.whenReady();
        if (ready !== undefined) {
          waited++;
          expect(p.stats.inFlight).toBe(8);
          await ready;
        }
        p.publishOutput(`S${i % 3}`, gcOutput(`S${i % 3}`, `a${i % 7}`, i));
        maxSeen = Math.max(maxSeen, p.stats.inFlight);
      }
      await Promise.all([p.flush('S0'), p.flush('S1'), p.flush('S2')]);
      expect(maxSeen).toBe(8);
      expect(waited).toBeGreaterThan(0);
      expect(p.whenReady()).toBeUndefined();
      const all = await stored('WFM_OUT');
      expect(all.map((m) => Number(m.headers['Wfm-Source-Seq']))).toEqual(
        Array.from({ length: 500 }, (_, i) => i + 1),
      );
      expect(p.stats).toEqual({ submitted: 500, published: 500, duplicates: 0, failed: 0, inFlight: 0 });
    });
  });

  describe('ackedSeq', () => {
    it('rises to the last stream sequence acknowledged, per stream', async () => {
      const p = new Publisher(nats.nc);
      expect(p.ackedSeq('WFM_OUT')).toBe(0);
      for (let i = 1; i <= 5; i++) p.publishOutput(`S${i % 2}`, gcOutput(`S${i % 2}`, 'a1', i));
      p.publishDeadLetter('S1', deadLetter('S1', 3));
      p.publishDeadLetter('S0', deadLetter('S0', 4));
      await p.flush('S0');
      await p.flush('S1');
      const out = await nats.jsm.streams.info('WFM_OUT');
      const dlq = await nats.jsm.streams.info('WFM_DLQ');
      expect(out.state.last_seq).toBe(5);
      expect(dlq.state.last_seq).toBe(2);
      expect(p.ackedSeq('WFM_OUT')).toBe(out.state.last_seq);
      expect(p.ackedSeq('WFM_DLQ')).toBe(dlq.state.last_seq);
      expect(p.ackedSeq('WFM_IN')).toBe(0);
      // Another publisher's acks are its own.
      expect(new Publisher(nats.nc).ackedSeq('WFM_OUT')).toBe(0);
    });

    it('follows the stream past earlier messages it did not publish itself', async () => {
      await nats.js.publish('wfm.gc.T1.X.a1', '{}');
      await nats.js.publish('wfm.gc.T1.X.a2', '{}');
      const p = new Publisher(nats.nc);
      p.publishOutput('S1', gcOutput('S1', 'a1', 1));
      await p.flush('S1');
      expect(p.ackedSeq('WFM_OUT')).toBe(3);
    });
  });

  describe('lanes', () => {
    it('an error ack in the middle of a lane fails that lane’s flush only, keeping the server’s code', async () => {
      // An operator's WFM_OUT refusing large messages: interval records are refused, gc lands.
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'], max_msg_size: 256 });
      const p = new Publisher(nats.nc);
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      p.publishOutput('B', gcOutput('B', 'b1', 1));
      p.publishOutput('A', gcOutput('A', 'a1', 2));
      p.publishOutput('A', intervalOutput('A', 'a1', 3));
      p.publishOutput('B', gcOutput('B', 'b1', 2));
      p.publishOutput('A', gcOutput('A', 'a1', 4));
      p.publishOutput('A', gcOutput('A', 'a1', 5));
      p.publishOutput('B', gcOutput('B', 'b1', 3));
      await expect(p.flush('B')).resolves.toBeUndefined();
      const err = await outcome(p.flush('A'));
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).code).toBe('WFM_PUBLISH_FAILED');
      expect((err as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first interval:T1\.A\.a1:1700000100000: .*maximum/,
      );
      expect((err as PublishError).cause).toMatchObject({
        kind: 'api',
        apiCode: 400,
        errCode: 10054,
        transient: false,
      });
      // The failure is forgotten once reported: the next flush, with no new failure, resolves.
      await expect(p.flush('A')).resolves.toBeUndefined();
      p.publishOutput('A', gcOutput('A', 'a1', 6));
      await expect(p.flush('A')).resolves.toBeUndefined();
      // In call order per subject (subjects between them are in no defined order).
      const ids = (await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id']);
      expect(ids.filter((id) => id?.startsWith('gc:T1.A.'))).toEqual([
        'gc:T1.A.a1:1:0',
        'gc:T1.A.a1:2:0',
        'gc:T1.A.a1:4:0',
        'gc:T1.A.a1:5:0',
        'gc:T1.A.a1:6:0',
      ]);
      expect(ids.filter((id) => id?.startsWith('gc:T1.B.'))).toEqual([
        'gc:T1.B.b1:1:0',
        'gc:T1.B.b1:2:0',
        'gc:T1.B.b1:3:0',
      ]);
      expect(p.stats).toEqual({ submitted: 9, published: 8, duplicates: 0, failed: 1, inFlight: 0 });
      expect(p.ackedSeq('WFM_OUT')).toBe(8);
    });

    it('counts every failure of a lane and names the first', async () => {
      await replaceOut({ subjects: ['wfm.gc.>'], max_msgs: 1, discard: DiscardPolicy.New });
      const p = new Publisher(nats.nc);
      for (let i = 1; i <= 4; i++) p.publishOutput('A', gcOutput('A', 'a1', i));
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toMatch(
        /^3 publish\(es\) of A got no ack; first gc:T1\.A\.a1:2:0: maximum messages exceeded$/,
      );
      expect(p.stats).toMatchObject({ submitted: 4, published: 1, failed: 3 });
    });

    it('a publish no stream captures (503) fails its lane with a cause naming 503; later ones land', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const p = new Publisher(nats.nc);
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      p.publishOutput('A', intervalOutput('A', 'a1', 2));
      p.publishOutput('B', gcOutput('B', 'b1', 1));
      p.publishOutput('A', adherenceOutput('A', 'a1', 3));
      const err = await outcome(p.flush('A'));
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first interval:T1\.A\.a1:1700000100000: .*503/,
      );
      const cause = (err as PublishError).cause as NatsError;
      expect(cause).toMatchObject({ kind: 'no_responders' });
      expect(cause.message).toContain('503');
      await expect(p.flush('B')).resolves.toBeUndefined();
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id'])).toEqual([
        'gc:T1.A.a1:1:0',
        'gc:T1.B.b1:1:0',
        'adherence:T1.A.a1:3:0',
      ]);
      expect(p.stats).toEqual({ submitted: 4, published: 3, duplicates: 0, failed: 1, inFlight: 0 });
    });

    it('a lane’s output that fails holds back its later ones on the subject: they are never sent', async () => {
      // A replicated stream that loses its leader loses a publish in flight and stores the next:
      // a gap. Here the gap is made by a refused message (too large) on an agent's interval subject.
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'], max_msg_size: 1000 });
      const p = new Publisher(nats.nc);
      const big = intervalOutput('A', 'a1', 1, FIXTURE_INTERVAL_START);
      const padded = { ...big, payload: { ...big.payload, secondsByPresence: { ['X'.repeat(2000)]: 1 } } };
      p.publishOutput('A', padded);
      p.publishOutput('A', intervalOutput('A', 'a1', 2, FIXTURE_INTERVAL_START + 900_000));
      p.publishOutput('A', gcOutput('A', 'a1', 2));
      p.publishOutput('A', intervalOutput('A', 'a1', 3, FIXTURE_INTERVAL_START + 1_800_000));
      p.publishOutput('B', intervalOutput('B', 'b1', 3, FIXTURE_INTERVAL_START));
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toMatch(
        /^3 publish\(es\) of A got no ack; first interval:T1\.A\.a1:1700000100000: .*maximum/,
      );
      await expect(p.flush('B')).resolves.toBeUndefined();
      // a1's later interval records never reached the stream: re-sent after the first, they keep
      // the order. Its gc output, on another subject, and lane B went their own way.
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id']).sort()).toEqual([
        'gc:T1.A.a1:2:0',
        'interval:T1.B.b1:1700000100000',
      ]);
      expect(p.stats).toEqual({ submitted: 5, published: 2, duplicates: 0, failed: 3, inFlight: 0 });
      // The site goes on applying input until it rebuilds: a later record on the subject, made
      // after the failure was reported, is not sent either (stored, it would pass the gap).
      p.publishOutput('A', intervalOutput('A', 'a1', 4, FIXTURE_INTERVAL_START + 2_700_000));
      const later = await outcome(p.flush('A'));
      expect((later as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first interval:T1\.A\.a1:1700002800000: not sent: an earlier publish on wfm\.interval\.T1\.A\.a1 was not stored$/,
      );
      // Rebuilt, the site reopens its lane and re-sends from the gap, in order.
      p.reopen('A');
      for (const [i, start] of [
        [1, FIXTURE_INTERVAL_START],
        [2, FIXTURE_INTERVAL_START + 900_000],
      ] as const)
        p.publishOutput('A', intervalOutput('A', 'a1', i, start));
      await expect(p.flush('A')).resolves.toBeUndefined();
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id']).slice(2)).toEqual([
        'interval:T1.A.a1:1700000100000',
        'interval:T1.A.a1:1700001000000',
      ]);
    });

    it('dead letters stay pipelined: one refused does not hold back the next', async () => {
      await nats.jsm.streams.delete('WFM_DLQ');
      await nats.jsm.streams.add({ name: 'WFM_DLQ', subjects: ['wfm.dlq.>'], max_msg_size: 600 });
      const p = new Publisher(nats.nc);
      p.publishDeadLetter('A', { ...deadLetter('A', 1), data: new Uint8Array(1000).fill(65) });
      p.publishDeadLetter('A', deadLetter('A', 2));
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first dlq:T1:1:0: .*maximum/,
      );
      expect((await stored('WFM_DLQ')).map((m) => m.headers['Nats-Msg-Id'])).toEqual(['dlq:T1:2:0']);
    });

    it('holds a subject’s next publish until the one before it is stored; other subjects go at once', async () => {
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>'] });
      const msgs = holdIntervals();
      // Each ack comes within the timeout, the two together after it: the wait is not counted.
      const p = new Publisher(nats.nc, { ackTimeoutMs: 600 });
      p.publishOutput('A', intervalOutput('A', 'a1', 1, FIXTURE_INTERVAL_START));
      p.publishOutput('A', intervalOutput('A', 'a1', 2, FIXTURE_INTERVAL_START + 900_000));
      p.publishOutput('A', gcOutput('A', 'a1', 2));
      await until(() => msgs.length === 1);
      // The gc output, on its own subject, is stored while the first interval record awaits its ack.
      await until(() => p.stats.published === 1);
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id'])).toEqual(['gc:T1.A.a1:2:0']);
      expect(msgs.length).toBe(1);
      await new Promise((r) => setTimeout(r, 400));
      msgs[0]!.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":99}'));
      await until(() => msgs.length === 2);
      expect(msgs.map((m) => m.headers?.get('Nats-Msg-Id'))).toEqual([
        'interval:T1.A.a1:1700000100000',
        'interval:T1.A.a1:1700001000000',
      ]);
      await new Promise((r) => setTimeout(r, 400));
      msgs[1]!.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":100}'));
      await expect(p.flush('A')).resolves.toBeUndefined();
    });

    it('a held publish whose turn comes while its gate says park waits unsent; unparked, it goes', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      let say: 'send' | 'park' | 'refuse' = 'send';
      p.gate('A', () => say);
      p.publishOutput('A', intervalOutput('A', 'a1', 1, FIXTURE_INTERVAL_START));
      p.publishOutput('A', intervalOutput('A', 'a1', 2, FIXTURE_INTERVAL_START + 900_000));
      p.publishOutput('B', intervalOutput('B', 'b1', 1, FIXTURE_INTERVAL_START));
      p.publishOutput('B', intervalOutput('B', 'b1', 2, FIXTURE_INTERVAL_START + 900_000));
      await until(() => msgs.length === 2);
      // A's permit runs out while its first record awaits its ack (a paused process, a stall).
      say = 'park';
      for (const m of msgs.splice(0)) m.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":99}'));
      await until(() => msgs.length === 1);
      expect(msgs[0]!.headers?.get('Nats-Msg-Id')).toBe('interval:T1.B.b1:1700001000000');
      const flushA = watch(p.flush('A'));
      p.unpark('A'); // a renewal came back too late: the permit it sets is past as well
      await new Promise((r) => setTimeout(r, 100));
      expect(msgs.length).toBe(1);
      expect(flushA()).toBe('pending');
      // A renewal kept the lease: what waited goes.
      say = 'send';
      p.unpark('A');
      await until(() => msgs.length === 2);
      expect(msgs[1]!.headers?.get('Nats-Msg-Id')).toBe('interval:T1.A.a1:1700001000000');
      for (const m of msgs.splice(0)) m.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":100}'));
      await until(() => flushA() === 'resolved');
      expect(p.stats).toMatchObject({ published: 4, failed: 0, inFlight: 0 });
    });

    it('a held publish refused (its lease lost, parked or at its turn) fails unsent with those behind it', async () => {
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.transfer.>'] });
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      let sayA: 'send' | 'park' | 'refuse' = 'send';
      let sayB: 'send' | 'park' | 'refuse' = 'send';
      p.gate('A', () => sayA);
      p.gate('B', () => sayB);
      p.publishOutput('A', intervalOutput('A', 'a1', 1, FIXTURE_INTERVAL_START));
      p.publishOutput('A', intervalOutput('A', 'a1', 2, FIXTURE_INTERVAL_START + 900_000));
      p.publishOutput('A', intervalOutput('A', 'a1', 3, FIXTURE_INTERVAL_START + 1_800_000));
      p.publishOutput('A', transferOutput('A', 'tr-1', 4));
      p.publishOutput('B', intervalOutput('B', 'b1', 1, FIXTURE_INTERVAL_START));
      p.publishOutput('B', intervalOutput('B', 'b1', 2, FIXTURE_INTERVAL_START + 900_000));
      await until(() => msgs.length === 2);
      sayA = 'park';
      sayB = 'refuse';
      for (const m of msgs.splice(0)) m.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":99}'));
      // B's held record is refused at its turn.
      const errB = await outcome(p.flush('B'));
      expect((errB as PublishError).message).toMatch(
        /^1 publish\(es\) of B got no ack; first interval:T1\.B\.b1:1700001000000: not sent: the lease permit of B ran out/,
      );
      // A's is parked until its site says the lease is lost; then it, the record behind it and
      // the transfer record after them fail, none sent.
      const flushA = watch(p.flush('A'));
      await new Promise((r) => setTimeout(r, 100));
      expect(flushA()).toBe('pending');
      p.refuseParked('A');
      const errA = await outcome(p.flush('A'));
      expect(errA).toBeInstanceOf(PublishError);
      expect((errA as PublishError).message).toMatch(
        /^3 publish\(es\) of A got no ack; first interval:T1\.A\.a1:1700001000000: not sent: the lease permit of A ran out/,
      );
      expect((errA as PublishError).cause).toMatchObject({ code: 'WFM_PERMIT_EXPIRED', site: 'A' });
      expect(p.lastFailed('A')).toBe(3);
      expect(msgs).toEqual([]);
      expect(p.stats).toMatchObject({ published: 2, failed: 4, inFlight: 0 });
      expect(await stored('WFM_OUT')).toEqual([]);
    });

    it('a transfer record waits for all its lane sent before it, and all after it waits for it', async () => {
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.transfer.>'] });
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      p.publishOutput('A', intervalOutput('A', 'a1', 1));
      p.publishOutput('A', gcOutput('A', 'a2', 1));
      p.publishOutput('A', transferOutput('A', 'tr-1', 2));
      p.publishOutput('A', gcOutput('A', 'a3', 3));
      p.publishOutput('B', gcOutput('B', 'b1', 3));
      await until(() => msgs.length === 1 && p.stats.published === 2);
      // gc a2 (before the record) and lane B are stored; the record and gc a3 wait for the interval.
      expect((await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id'])).toEqual([
        'gc:T1.A.a2:1:0',
        'gc:T1.B.b1:3:0',
      ]);
      msgs[0]!.respond(new TextEncoder().encode('{"stream":"WFM_OUT", "seq":99}'));
      await expect(p.flush('A')).resolves.toBeUndefined();
      const ids = (await stored('WFM_OUT')).map((m) => m.headers['Nats-Msg-Id']);
      expect(ids.slice(2)).toEqual(['transfer:T1.A.a2:2:0', 'gc:T1.A.a3:3:0']);
    });

    it('a transfer record after a failed publish is never sent, nor anything behind it', async () => {
      await replaceOut({ subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.transfer.>'] });
      const p = new Publisher(nats.nc);
      p.publishOutput('A', intervalOutput('A', 'a1', 1)); // no stream captures it: 503
      p.publishOutput('A', transferOutput('A', 'tr-1', 2));
      p.publishOutput('A', gcOutput('A', 'a3', 3));
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toMatch(/^3 publish\(es\) of A got no ack; first interval:.*503/);
      expect(await stored('WFM_OUT')).toEqual([]);
    });

    it('flush(lane) waits only for that lane: another lane’s unanswered publish does not hold it', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      p.publishOutput('A', intervalOutput('A', 'a1', 1));
      p.publishOutput('B', gcOutput('B', 'b1', 2));
      p.publishOutput('A', gcOutput('A', 'a1', 3));
      await p.flush('B');
      await until(() => msgs.length === 1);
      const flushA = p.flush('A');
      const a = watch(flushA);
      await nats.nc.flush();
      await new Promise((r) => setTimeout(r, 100));
      expect(a()).toBe('pending');
      expect(p.stats.inFlight).toBe(1);
      // A lane that never published has nothing to wait for.
      await expect(p.flush('C')).resolves.toBeUndefined();
      msgs[0]!.respond('{"stream":"WFM_OUT","seq":41}');
      await expect(flushA).resolves.toBeUndefined();
      expect(p.stats).toEqual({ submitted: 3, published: 3, duplicates: 0, failed: 0, inFlight: 0 });
    });
  });

  describe('flushPoint', () => {
    it('flush(lane, point) does not wait for publishes made after the point', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      p.publishOutput('A', adherenceOutput('A', 'a1', 1, 1));
      const point = p.flushPoint();
      p.publishOutput('A', intervalOutput('A', 'a1', 2));
      p.publishOutput('A', gcOutput('A', 'a1', 3));
      await expect(p.flush('A', point)).resolves.toBeUndefined();
      await until(() => msgs.length === 1 && p.stats.inFlight === 1);
      // Without a point, the flush waits for the unanswered one too.
      const all = p.flush('A');
      const state = watch(all);
      await new Promise((r) => setTimeout(r, 100));
      expect(state()).toBe('pending');
      // A point taken now covers the held publish as well.
      const later = watch(p.flush('A', p.flushPoint()));
      msgs[0]!.respond('{"stream":"WFM_OUT","seq":99}');
      await expect(all).resolves.toBeUndefined();
      await until(() => later() === 'resolved');
      expect(p.ackedSeq('WFM_OUT')).toBe(99);
    });

    it('a publish after the point that times out fails the next flush, not the one at the point', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc, { ackTimeoutMs: 300 });
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      const point = p.flushPoint();
      p.publishOutput('A', intervalOutput('A', 'a1', 2));
      await expect(p.flush('A', point)).resolves.toBeUndefined();
      const started = performance.now();
      const err = await outcome(p.flush('A'));
      expect(performance.now() - started).toBeGreaterThanOrEqual(200);
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).message).toBe(
        '1 publish(es) of A got no ack; first interval:T1.A.a1:1700000100000: no ack within 300 ms',
      );
      expect(msgs).toHaveLength(1);
      // A late ack of a publish already counted as failed does not undo the failure; it still says
      // where the stream stored a message sent earlier, so ackedSeq may follow it.
      msgs[0]!.respond('{"stream":"WFM_OUT","seq":2}');
      await nats.nc.flush();
      expect(p.stats).toEqual({ submitted: 2, published: 1, duplicates: 0, failed: 1, inFlight: 0 });
      await expect(p.flush('A')).resolves.toBeUndefined();
      expect(p.ackedSeq('WFM_OUT')).toBe(2);
    });
  });

  describe('acks', () => {
    it('reads every ack shape: a domain, a duplicate, an error, and a reply that is no ack', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc);
      // Four agents: four subjects, all on the wire at once (one subject's wait for each ack).
      for (let i = 0; i < 4; i++)
        p.publishOutput('A', intervalOutput('A', `a${i}`, i, 1_700_000_100_000 + i * 900_000));
      await until(() => msgs.length === 4);
      msgs[0]!.respond('{"stream":"WFM_OUT","domain":"hub","seq":11}');
      msgs[1]!.respond('{"stream":"WFM_OUT","seq":5,"duplicate":true}');
      msgs[2]!.respond('{"error":{"code":503,"err_code":10077,"description":"maximum messages exceeded"}}');
      msgs[3]!.respond('hello');
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toBe(
        '2 publish(es) of A got no ack; first interval:T1.A.a2:1700001900000: maximum messages exceeded',
      );
      expect((err as PublishError).cause).toMatchObject({ kind: 'api', apiCode: 503, errCode: 10077 });
      expect(p.stats).toEqual({ submitted: 4, published: 1, duplicates: 1, failed: 2, inFlight: 0 });
      expect(p.ackedSeq('WFM_OUT')).toBe(11);
    });
  });

  describe('abort', () => {
    it('fails every pending publish at once and every later one, in every lane', async () => {
      await replaceOut(OUT_WITHOUT_INTERVAL);
      const msgs = holdIntervals();
      const p = new Publisher(nats.nc, { ackTimeoutMs: 30_000, maxInFlight: 3 });
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      await p.flush('A');
      p.publishOutput('A', intervalOutput('A', 'a1', 2));
      p.publishOutput('A', intervalOutput('A', 'a2', 2));
      p.publishOutput('B', intervalOutput('B', 'b1', 2));
      await until(() => msgs.length === 3);
      const ready = p.whenReady();
      expect(ready).toBeInstanceOf(Promise);
      const flushA = outcome(p.flush('A'));
      const lost = new Error('connection lost');
      const started = performance.now();
      p.abort(lost);
      await ready;
      const errA = await flushA;
      const errB = await outcome(p.flush('B'));
      expect(performance.now() - started).toBeLessThan(1000);
      expect(errA).toBeInstanceOf(PublishError);
      expect((errA as PublishError).message).toBe(
        '2 publish(es) of A got no ack; first interval:T1.A.a1:1700000100000: connection lost',
      );
      expect((errA as PublishError).cause).toBe(lost);
      expect((errB as PublishError).cause).toBe(lost);
      // A lane with nothing pending has nothing to report.
      await expect(p.flush('C')).resolves.toBeUndefined();
      // Later publishes fail at once and are not sent.
      p.publishOutput('C', gcOutput('C', 'c1', 3));
      p.publishDeadLetter('C', deadLetter('C', 3));
      const errC = await outcome(p.flush('C'));
      expect((errC as PublishError).message).toBe(
        '2 publish(es) of C got no ack; first gc:T1.C.c1:3:0: connection lost',
      );
      // Late acks of aborted publishes do not undo their failures.
      for (const m of msgs) m.respond('{"stream":"WFM_OUT","seq":7}');
      await nats.nc.flush();
      expect(p.stats).toEqual({ submitted: 6, published: 1, duplicates: 0, failed: 5, inFlight: 0 });
      await expect(p.flush('A')).resolves.toBeUndefined();
      expect((await nats.jsm.streams.info('WFM_OUT')).state.messages).toBe(1);
      expect((await nats.jsm.streams.info('WFM_DLQ')).state.messages).toBe(0);
      expect(p.whenReady()).toBeUndefined();
    });
  });

  describe('a closed connection', () => {
    it('fails the lane’s flush instead of throwing from publish, also on the first publish', async () => {
      const nc = await connectNats({ servers: [nats.server.url] });
      await nc.close();
      const p = new Publisher(nc, { ackTimeoutMs: 30_000 });
      expect(() => p.publishOutput('A', gcOutput('A', 'a1', 1))).not.toThrow();
      const err = await outcome(p.flush('A'));
      expect(err).toBeInstanceOf(PublishError);
      expect((err as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first gc:T1\.A\.a1:1:0: /,
      );
      expect(p.stats).toEqual({ submitted: 1, published: 0, duplicates: 0, failed: 1, inFlight: 0 });
    });

    it('fails publishes made after the connection closed', async () => {
      const nc = await connectNats({ servers: [nats.server.url] });
      const p = new Publisher(nc, { ackTimeoutMs: 30_000 });
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      await p.flush('A');
      await nc.close();
      p.publishOutput('A', gcOutput('A', 'a1', 2));
      const err = await outcome(p.flush('A'));
      expect((err as PublishError).message).toMatch(
        /^1 publish\(es\) of A got no ack; first gc:T1\.A\.a1:2:0: /,
      );
      expect(p.stats).toMatchObject({ submitted: 2, published: 1, failed: 1, inFlight: 0 });
    });
  });

  describe('options', () => {
    it.each([0, -1, 1.5, Number.NaN])('refuses maxInFlight %s', (maxInFlight) => {
      expect(() => new Publisher(nats.nc, { maxInFlight })).toThrow(RangeError);
      expect(() => new Publisher(nats.nc, { maxInFlight })).toThrow(
        `maxInFlight must be a positive integer, got ${maxInFlight}`,
      );
    });

    it.each([0, -5, Number.NaN])('refuses ackTimeoutMs %s', (ackTimeoutMs) => {
      expect(() => new Publisher(nats.nc, { ackTimeoutMs })).toThrow(RangeError);
      expect(() => new Publisher(nats.nc, { ackTimeoutMs })).toThrow(
        `ackTimeoutMs must be positive, got ${ackTimeoutMs}`,
      );
    });

    it('accepts maxInFlight 1: one publish at a time', async () => {
      const p = new Publisher(nats.nc, { maxInFlight: 1 });
      expect(p.connection).toBe(nats.nc);
      expect(p.whenReady()).toBeUndefined();
      p.publishOutput('A', gcOutput('A', 'a1', 1));
      const ready = p.whenReady();
      expect(ready).toBeInstanceOf(Promise);
      await ready;
      expect(p.stats).toMatchObject({ published: 1, inFlight: 0 });
      expect(p.whenReady()).toBeUndefined();
    });
  });
});
