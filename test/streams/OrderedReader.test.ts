import type { ConsumerMessages, JetStreamClient } from '@nats-io/jetstream';
import type { Subscription } from 'rxjs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import { ensureStreams, type InputMessagesEvent, inputMessages } from '../../src/streams/index.ts';
import { waitFor } from '../helpers/NodeProcess.ts';
import { useNats } from '../helpers/natsFixture.ts';

const read = (seen: number[], count: number): Promise<true> =>
  waitFor(() => (seen.length >= count ? true : undefined), {
    timeoutMs: 20_000,
    describe: () => `${seen.length} of ${count} read`,
  });

/**
 * Fault injection for the reader's watchdog: a JetStream client whose consumers can be made to
 * go silent — no message and no status reaches the reader, while the real consumer and the
 * client's own heartbeat monitor stay healthy. That is the client believing all is well about a
 * consumer that delivers nothing, as a backup saw after a NATS server kill (its monitor cancelled
 * by the disconnect and never restarted).
 */
function silenceable(js: JetStreamClient): { js: JetStreamClient; silenceAll(): void } {
  const live = new Set<{ silent: boolean }>();
  const wrapMessages = (real: ConsumerMessages): ConsumerMessages => {
    const state = { silent: false };
    live.add(state);
    let closed: () => void = () => {};
    const whenClosed = new Promise<void>((resolve) => {
      closed = resolve;
    });
    async function* quietAfterSilence<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
      for await (const item of source) {
        if (state.silent) {
          await whenClosed;
          return;
        }
        yield item;
      }
    }
    const messages = quietAfterSilence(real);
    const wrapped = {
      close: async () => {
        live.delete(state);
        closed();
        return real.close();
      },
      status: () => quietAfterSilence(real.status()),
      [Symbol.asyncIterator]: () => messages,
    };
    return wrapped as unknown as ConsumerMessages;
  };
  const wrappedJs = {
    consumers: {
      get: async (...args: Parameters<JetStreamClient['consumers']['get']>) => {
        const consumer = await js.consumers.get(...args);
        return {
          consume: async (...o: Parameters<typeof consumer.consume>) =>
            wrapMessages(await consumer.consume(...o)),
          delete: () => consumer.delete(),
        };
      },
    },
  };
  return {
    js: wrappedJs as unknown as JetStreamClient,
    silenceAll: () => {
      for (const s of live) s.silent = true;
    },
  };
}

describe('OrderedReader watchdog', () => {
  const nats = useNats();
  const subs: Subscription[] = [];

  async function publish(from: number, to: number): Promise<void> {
    for (let n = from; n <= to; n++) nats.nc.publish('wfm.stat.T1.S1.a1', JSON.stringify({ n }));
    await nats.nc.flush();
  }

  beforeEach(async () => {
    await ensureStreams(nats.jsm);
  });
  afterEach(async () => {
    for (const s of subs.splice(0)) s.unsubscribe();
    await nats.jsm.streams.delete('WFM_IN');
  });

  it('replaces a consumer gone silent after three heartbeat intervals on its clock, with no loss or repeat', async () => {
    const clock = new SimulatedClock();
    const faulty = silenceable(nats.js);
    const seen: number[] = [];
    const events: InputMessagesEvent[] = [];
    subs.push(
      inputMessages(faulty.js, {
        startSeq: 1,
        expiresMs: 2000,
        clock,
        onEvent: (e) => events.push(e),
      }).subscribe((m) => seen.push(m.seq)),
    );
    await publish(1, 300);
    await read(seen, 300);
    faulty.silenceAll();
    await publish(301, 600);
    // Real time passes, the operational clock does not: nothing is read and nothing is declared.
    await new Promise((r) => setTimeout(r, 500));
    expect(seen.length).toBe(300);
    clock.increment(2000);
    expect(events.filter((e) => e.type === 'consumer_lost')).toEqual([]);
    // 3 000 ms of silence (three heartbeats of a 2 000 ms pull) is the threshold.
    clock.increment(1000);
    await read(seen, 600);
    expect(seen).toEqual(Array.from({ length: 600 }, (_, i) => i + 1));
    const lost = events.filter((e) => e.type === 'consumer_lost');
    expect(lost).toEqual([
      { type: 'consumer_lost', startSeq: 301, reason: 'stalled: no message or heartbeat for 3000 ms' },
    ]);
    expect(events.filter((e) => e.type === 'consumer_started').map((e) => e.startSeq)).toEqual([1, 301]);
  });

  it('never declares a healthy idle consumer stalled: the server heartbeats it', async () => {
    const events: InputMessagesEvent[] = [];
    const seen: number[] = [];
    subs.push(
      inputMessages(nats.js, { startSeq: 1, expiresMs: 1000, onEvent: (e) => events.push(e) }).subscribe(
        (m) => seen.push(m.seq),
      ),
    );
    await publish(1, 10);
    await read(seen, 10);
    // Four times the 1 500 ms threshold with nothing to read.
    await new Promise((r) => setTimeout(r, 6000));
    await publish(11, 20);
    await read(seen, 20);
    expect(events.map((e) => e.type)).toEqual(['consumer_started']);
  });

  it('does not count a pause by downstream as silence', async () => {
    const clock = new SimulatedClock();
    const events: InputMessagesEvent[] = [];
    const seen: number[] = [];
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    subs.push(
      inputMessages(nats.js, {
        startSeq: 1,
        expiresMs: 1000,
        clock,
        whenReady: () => (seen.length === 5 ? gate : undefined),
        onEvent: (e) => events.push(e),
      }).subscribe((m) => seen.push(m.seq)),
    );
    await publish(1, 10);
    await read(seen, 5);
    clock.increment(10_000);
    release();
    await read(seen, 10);
    expect(seen).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(events.map((e) => e.type)).toEqual(['consumer_started']);
  });
});
