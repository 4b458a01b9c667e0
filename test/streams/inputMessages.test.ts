import { jetstream } from '@nats-io/jetstream';
import { firstValueFrom, type Subscription } from 'rxjs';
import { filter, take, toArray } from 'rxjs/operators';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NatsError } from '../../src/errors.ts';
import {
  connectNats,
  ensureStreams,
  type InputMessagesEvent,
  inputMessages,
  natsStatusEvents,
  type RawInput,
} from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

const decoder = new TextDecoder();

async function waitFor(
  what: string,
  check: () => boolean | Promise<boolean>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe('inputMessages', () => {
  const nats = useNats({ connect: { reconnectTimeWaitMs: 100 } });
  const subs: Subscription[] = [];

  /** Publishes `count` messages (core publish, pipelined) and waits until the stream holds them. */
  async function fill(
    count: number,
    subjectOf: (i: number) => string = () => 'wfm.stat.T1.S1.a1',
  ): Promise<void> {
    const before = (await nats.jsm.streams.info('WFM_IN')).state.last_seq;
    for (let i = 0; i < count; i++) nats.nc.publish(subjectOf(i), JSON.stringify({ n: before + i + 1 }));
    await nats.nc.flush();
    await waitFor(
      'stream fill',
      async () => (await nats.jsm.streams.info('WFM_IN')).state.last_seq === before + count,
    );
  }

  async function consumerCount(): Promise<number> {
    return (await nats.jsm.streams.info('WFM_IN')).state.consumer_count;
  }

  beforeEach(async () => {
    await ensureStreams(nats.jsm);
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await nats.jsm.streams.delete('WFM_IN');
  });

  it('delivers the stream in order from startSeq, with subject and bytes', async () => {
    await fill(10);
    const got = await firstValueFrom(inputMessages(nats.js, { startSeq: 4 }).pipe(take(7), toArray()));
    expect(got.map((m) => m.seq)).toEqual(range(4, 10));
    expect(got.every((m) => m.subject === 'wfm.stat.T1.S1.a1')).toBe(true);
    expect(got.map((m) => JSON.parse(decoder.decode(m.data)).n)).toEqual(range(4, 10));
  });

  it('then goes on with messages published later', async () => {
    await fill(3);
    const seen: number[] = [];
    subs.push(inputMessages(nats.js, { startSeq: 2 }).subscribe((m) => seen.push(m.seq)));
    await waitFor('first two', () => seen.length === 2);
    await fill(3);
    await waitFor('all', () => seen.length === 5);
    expect(seen).toEqual([2, 3, 4, 5, 6]);
  });

  it('filters on the server when the filter lies inside one stream subject', async () => {
    await fill(12, (i) => (i % 3 === 0 ? 'wfm.stat.T1.S2.a9' : `wfm.stat.T1.S1.a${i}`));
    const events: InputMessagesEvent[] = [];
    const got = await firstValueFrom(
      inputMessages(nats.js, {
        startSeq: 2,
        filterSubject: 'wfm.stat.T1.S2.>',
        onEvent: (e) => events.push(e),
      }).pipe(take(3), toArray()),
    );
    expect(got.map((m) => m.seq)).toEqual([4, 7, 10]);
    expect(events[0]).toEqual({ type: 'consumer_started', startSeq: 2, filter: 'server' });
  });

  it('filters here when 2.9 refuses a filter spanning several stream subjects', async () => {
    const subjects = ['wfm.stat.T1.S2.a9', 'wfm.stat.T1.S1.a1', 'wfm.schedule.T1.S2.a9', 'wfm.stat.T2.S2.a9'];
    await fill(8, (i) => subjects[i % subjects.length] ?? 'wfm.stat.T1.S1.a1');
    const events: InputMessagesEvent[] = [];
    const got = await firstValueFrom(
      inputMessages(nats.js, {
        startSeq: 2,
        filterSubject: 'wfm.*.T1.S2.>',
        onEvent: (e) => events.push(e),
      }).pipe(take(3), toArray()),
    );
    expect(got.map((m) => [m.seq, m.subject])).toEqual([
      [3, 'wfm.schedule.T1.S2.a9'],
      [5, 'wfm.stat.T1.S2.a9'],
      [7, 'wfm.schedule.T1.S2.a9'],
    ]);
    expect(events.slice(0, 2)).toEqual([
      {
        type: 'client_side_filter',
        filterSubjects: ['wfm.*.T1.S2.>'],
        reason: 'consumer filter subject is not a valid subset of the interest subjects',
      },
      { type: 'consumer_started', startSeq: 2, filter: 'client' },
    ]);
  });

  it("reads a site's whole input (agents and clock) with two filters, applied here", async () => {
    const subjects = [
      'wfm.stat.T1.S2.a9',
      'wfm.clock.T1.S1',
      'wfm.schedule.T1.S2.a9',
      'wfm.clock.T1.S2',
      'wfm.stat.T1.S1.a1',
    ];
    await fill(10, (i) => subjects[i % subjects.length] ?? 'wfm.stat.T1.S1.a1');
    const events: InputMessagesEvent[] = [];
    const got = await firstValueFrom(
      inputMessages(nats.js, {
        startSeq: 1,
        filterSubject: ['wfm.*.T1.S2.>', 'wfm.clock.T1.S2'],
        onEvent: (e) => events.push(e),
      }).pipe(take(6), toArray()),
    );
    expect(got.map((m) => m.seq)).toEqual([1, 3, 4, 6, 8, 9]);
    expect(events.slice(0, 2)).toEqual([
      {
        type: 'client_side_filter',
        filterSubjects: ['wfm.*.T1.S2.>', 'wfm.clock.T1.S2'],
        reason: 'several filters (nats-server 2.9 consumers take one)',
      },
      { type: 'consumer_started', startSeq: 1, filter: 'client' },
    ]);
  });

  it('a startSeq past the end waits for new messages', async () => {
    await fill(5);
    const first = firstValueFrom(inputMessages(nats.js, { startSeq: 9 }));
    await fill(5);
    expect((await first).seq).toBe(9);
  });

  it('rejects a startSeq below 1', () => {
    expect(() => inputMessages(nats.js, { startSeq: 0 })).toThrow(RangeError);
  });

  it('backpressure: while whenReady() is pending nothing is emitted and the client holds at most ~a batch', async () => {
    const total = 5000;
    const batchSize = 100;
    await fill(total);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: RawInput[] = [];
    const events: InputMessagesEvent[] = [];
    const stream = inputMessages(nats.js, {
      startSeq: 1,
      batchSize,
      // Short pulls so heartbeats lapse during the pause: they must not be reported as trouble.
      expiresMs: 1000,
      onEvent: (e) => events.push(e),
      whenReady: () => (seen.length >= 50 ? gate : undefined),
    });
    subs.push(stream.subscribe((m) => seen.push(m)));
    await waitFor('50 emitted', () => seen.length === 50);
    await new Promise((r) => setTimeout(r, 1500));
    expect(seen.length).toBe(50);
    expect(events.filter((e) => e.type === 'heartbeats_missed')).toEqual([]);
    // What the server has handed to this client is what the client buffers, beyond what it emitted.
    const consumers = await nats.jsm.consumers.list('WFM_IN').next();
    expect(consumers).toHaveLength(1);
    const delivered = consumers[0]?.delivered.stream_seq ?? 0;
    expect(delivered).toBeGreaterThanOrEqual(50);
    expect(delivered - seen.length).toBeLessThanOrEqual(2 * batchSize);
    release();
    await waitFor('all emitted', () => seen.length === total);
    expect(seen.map((m) => m.seq)).toEqual(range(1, total));
  });

  it('unsubscribing deletes the consumer, also while waiting on whenReady', async () => {
    await fill(20);
    const seen: number[] = [];
    const never = new Promise<void>(() => {});
    const sub = inputMessages(nats.js, {
      startSeq: 1,
      whenReady: () => (seen.length >= 5 ? never : undefined),
    }).subscribe((m) => seen.push(m.seq));
    await waitFor('5 emitted', () => seen.length === 5);
    expect(await consumerCount()).toBe(1);
    sub.unsubscribe();
    await waitFor('consumer deleted', async () => (await consumerCount()) === 0, 5000);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('replaces a consumer deleted under it (e.g. inactive while paused) with no loss or repeat', async () => {
    await fill(2000);
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const seen: number[] = [];
    const events: InputMessagesEvent[] = [];
    subs.push(
      inputMessages(nats.js, {
        startSeq: 1,
        batchSize: 100,
        // Short pulls: the vanished consumer is noticed after two missed heartbeats (2 x 1 s).
        expiresMs: 2000,
        whenReady: () => (seen.length === 150 ? gate : undefined),
        onEvent: (e) => events.push(e),
      }).subscribe((m) => seen.push(m.seq)),
    );
    await waitFor('150 emitted', () => seen.length === 150);
    const [info] = await nats.jsm.consumers.list('WFM_IN').next();
    await nats.jsm.consumers.delete('WFM_IN', info?.name ?? 'missing');
    release();
    await waitFor('all emitted', () => seen.length >= 2000);
    await new Promise((r) => setTimeout(r, 200));
    expect(seen).toEqual(range(1, 2000));
    expect(events.filter((e) => e.type === 'consumer_started').length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'consumer_lost')).toBe(true);
  });

  it("errors with whenReady's own rejection", async () => {
    await fill(3);
    const boom = new Error('downstream failed');
    const err = await firstValueFrom(
      inputMessages(nats.js, { startSeq: 1, whenReady: () => Promise.reject(boom) }).pipe(toArray()),
    ).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBe(boom);
    await waitFor('consumer deleted', async () => (await consumerCount()) === 0, 5000);
  });

  it('errors with NatsError when its connection is closed', async () => {
    await fill(3);
    const own = await connectNats({ servers: [nats.server.url] });
    const seen: number[] = [];
    const done = new Promise<unknown>((resolve) => {
      inputMessages(jetstream(own), { startSeq: 1 }).subscribe({
        next: (m) => seen.push(m.seq),
        error: resolve,
        complete: () => resolve('completed'),
      });
    });
    await waitFor('3 emitted', () => seen.length === 3);
    await own.close();
    const err = await done;
    expect(err).toBeInstanceOf(NatsError);
    const e = err as NatsError;
    expect(e.message).toBe('reading WFM_IN stopped: closed connection');
    expect([e.kind, e.transient]).toEqual(['connection_closed', true]);
  });

  it('reports a failed consumer with the JetStream error kept, and keeps trying', async () => {
    const failed: Extract<InputMessagesEvent, { type: 'consumer_failed' }>[] = [];
    subs.push(
      inputMessages(nats.js, {
        stream: 'WFM_NOPE',
        startSeq: 7,
        maxRetryDelayMs: 100,
        onEvent: (e) => {
          if (e.type === 'consumer_failed') failed.push(e);
        },
      }).subscribe(),
    );
    await waitFor('two failures', () => failed.length >= 2);
    for (const f of failed.slice(0, 2)) {
      expect(f.startSeq).toBe(7);
      expect(f.error).toBeInstanceOf(NatsError);
      expect([f.error.kind, f.error.apiCode, f.error.errCode, f.error.transient]).toEqual([
        'api',
        404,
        10059,
        false,
      ]);
      expect(f.error.message).toBe(
        'cannot read WFM_NOPE from seq 7: stream not found (JetStream API error 10059, status 404)',
      );
    }
    expect(failed.slice(0, 2).map((f) => f.retryInMs)).toEqual([100, 100]);
  });

  it.each([
    ['restart (SIGTERM)', false],
    ['kill (SIGKILL) and restart', true],
  ])('survives a server %s mid-stream: every seq exactly once, in order', async (_label, hard) => {
    await fill(3000);
    const seen: number[] = [];
    const events: InputMessagesEvent[] = [];
    let tick = 0;
    // A downstream slow enough that the restart lands mid-stream.
    const whenReady = () => (++tick % 50 === 0 ? new Promise<void>((r) => setTimeout(r, 5)) : undefined);
    subs.push(
      inputMessages(nats.js, {
        startSeq: 1,
        batchSize: 64,
        whenReady,
        onEvent: (e) => events.push(e),
      }).subscribe((m) => seen.push(m.seq)),
    );
    await waitFor('some emitted', () => seen.length >= 500);
    expect(seen.length).toBeLessThan(3000);
    const reconnected = firstValueFrom(
      natsStatusEvents(nats.nc).pipe(filter((e) => e.type === 'reconnected')),
    );
    if (hard) await nats.server.kill();
    await nats.server.restart(200);
    await reconnected;
    await fill(1000);
    await waitFor('all 4000', () => seen.length >= 4000, 40_000);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen).toEqual(range(1, 4000));
    const started = events.filter((e) => e.type === 'consumer_started');
    expect(started[0]).toEqual({ type: 'consumer_started', startSeq: 1, filter: 'none' });
    // The restart made a new consumer right after the last emitted message.
    expect(started.length).toBeGreaterThanOrEqual(2);
    expect(events.some((e) => e.type === 'consumer_lost')).toBe(true);
  });
});
