import type { Subscription } from '@nats-io/transport-node';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NatsError } from '../../src/errors.ts';
import {
  deadLetterMessage,
  ensureStreams,
  outputMessage,
  Publisher,
  type ReadStoredIdsOptions,
  readStoredIds,
  type WfmMessage,
  WHOLE_RANGE_MAX,
  wholeRangeMaxFor,
} from '../../src/streams/index.ts';
import { type NatsFixture, useNats } from '../helpers/natsFixture.ts';
import { adherenceOutput, deadLetter, gcOutput, intervalOutput } from '../helpers/outputFixtures.ts';

/** The `WFM_OUT` subjects of one site, one per output kind (what a site reads back). */
function siteSubjects(site: string, tenant = 'T1'): string[] {
  return ['gc', 'adherence', 'interval'].map((kind) => `wfm.${kind}.${tenant}.${site}.>`);
}

/** One consumer-create request as the server received it. */
interface ConsumerCreate {
  subject: string;
  config: {
    filter_subject?: string;
    filter_subjects?: string[];
    headers_only?: boolean;
    opt_start_seq?: number;
  };
}

/** Stores one message as a Publisher would and returns its stream sequence. */
async function put(nats: NatsFixture, m: WfmMessage): Promise<number> {
  return (await nats.js.publish(m.subject, m.data, { headers: m.headers, msgID: m.msgId })).seq;
}

/**
 * Records the consumer-create requests made from now on (the API subjects are plain subjects),
 * until the subscription is ended.
 */
async function watchConsumerCreates(
  nats: NatsFixture,
  stream: string,
): Promise<{ seen: ConsumerCreate[]; watcher: Subscription }> {
  const seen: ConsumerCreate[] = [];
  const watcher = nats.nc.subscribe(`$JS.API.CONSUMER.CREATE.${stream}.>`, {
    callback: (_e, m) => {
      seen.push({ subject: m.subject, config: m.json<{ config: ConsumerCreate['config'] }>().config });
    },
  });
  await nats.nc.flush();
  return { seen, watcher };
}

/**
 * WFM_OUT as two sites, another tenant and a site whose id extends S1 wrote it:
 * seq 1 gc S1, 2 gc S2, 3 adherence S1, 4 gc S10, 5 interval S1 (source 50), 6 gc T2.S1,
 * 7 gc S1 (ordinal 1), 8 adherence S2.
 */
async function twoSites(nats: NatsFixture): Promise<void> {
  const seqs = [
    await put(nats, outputMessage(gcOutput('S1', 'a1', 1))),
    await put(nats, outputMessage(gcOutput('S2', 'a1', 2))),
    await put(nats, outputMessage(adherenceOutput('S1', 'a1', 3))),
    await put(nats, outputMessage(gcOutput('S10', 'a1', 4))),
    await put(nats, outputMessage(intervalOutput('S1', 'a2', 50, 1_700_000_100_000))),
    await put(nats, outputMessage(gcOutput('S1', 'a1', 6, 0, 'T2'))),
    await put(nats, outputMessage(gcOutput('S1', 'a1', 7, 1))),
    await put(nats, outputMessage(adherenceOutput('S2', 'a1', 8))),
  ];
  expect(seqs).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
}

/** What S1 stored in {@link twoSites}, read from its start. */
const S1_FROM_START = {
  ids: new Set([
    'gc:T1.S1.a1:1:0',
    'adherence:T1.S1.a1:3:0',
    'interval:T1.S1.a2:1700000100000',
    'gc:T1.S1.a1:7:1',
  ]),
  maxSourceSeq: 50,
};

// Every read's result is checked both ways a range is read: whole, in one pass filtered here (the
// default for ranges of up to WHOLE_RANGE_MAX messages), and subject by subject, filtered by the
// server (past it; `wholeRangeMax: 0` forces it).
/** [filter_subject, opt_start_seq] of each consumer a read made. */
type Creates = [string | undefined, number | undefined][];
const S1_FROM_1: Creates = siteSubjects('S1').map((s) => [s, 1]);
const S1_GC_INTERVAL_FROM_5: Creates = [
  ['wfm.gc.T1.S1.>', 5],
  ['wfm.interval.T1.S1.>', 5],
];
describe.each<[string, number, { all: Creates; after4: Creates }]>([
  ['in one pass', WHOLE_RANGE_MAX, { all: [[undefined, 1]], after4: [[undefined, 5]] }],
  ['subject by subject', 0, { all: S1_FROM_1, after4: S1_GC_INTERVAL_FROM_5 }],
])('readStoredIds, %s', (_mode, wholeRangeMax, creates) => {
  const nats = useNats();
  const readIds = (options: ReadStoredIdsOptions) =>
    readStoredIds(nats.js, nats.jsm, { wholeRangeMax, ...options });
  let watcher: Subscription | undefined;
  const watchCreates = async (stream: string) => {
    const watch = await watchConsumerCreates(nats, stream);
    watcher = watch.watcher;
    return watch.seen;
  };

  beforeEach(async () => {
    await nats.jsm.streams.delete('WFM_OUT').catch(() => false);
    await nats.jsm.streams.delete('WFM_DLQ').catch(() => false);
    await ensureStreams(nats.jsm);
  });

  afterEach(async () => {
    watcher?.unsubscribe();
    watcher = undefined;
    // Nothing a read made is left on the server.
    for (const stream of ['WFM_OUT', 'WFM_DLQ']) {
      const info = await nats.jsm.streams.info(stream).catch(() => null);
      if (info !== null) expect(info.state.consumer_count, stream).toBe(0);
    }
  });

  it('returns exactly the ids stored after afterSeq on the given subjects, and the greatest source seq', async () => {
    await twoSites(nats);
    const read = (site: string, afterSeq: number) =>
      readIds({ stream: 'WFM_OUT', subjects: siteSubjects(site), afterSeq });
    expect(await read('S1', 2)).toEqual({
      ids: new Set(['adherence:T1.S1.a1:3:0', 'interval:T1.S1.a2:1700000100000', 'gc:T1.S1.a1:7:1']),
      maxSourceSeq: 50,
    });
    expect(await read('S1', 0)).toEqual(S1_FROM_START);
    expect(await read('S1', 5)).toEqual({ ids: new Set(['gc:T1.S1.a1:7:1']), maxSourceSeq: 7 });
    expect(await read('S2', 0)).toEqual({
      ids: new Set(['gc:T1.S2.a1:2:0', 'adherence:T1.S2.a1:8:0']),
      maxSourceSeq: 8,
    });
    expect(await read('S10', 0)).toEqual({ ids: new Set(['gc:T1.S10.a1:4:0']), maxSourceSeq: 4 });
    expect(
      await readIds({
        stream: 'WFM_OUT',
        subjects: siteSubjects('S1', 'T2'),
        afterSeq: 0,
      }),
    ).toEqual({ ids: new Set(['gc:T2.S1.a1:6:0']), maxSourceSeq: 6 });
  });

  it('is empty, without making a consumer, when nothing is stored after afterSeq', async () => {
    await twoSites(nats);
    const creates = await watchCreates('WFM_OUT');
    const empty = { ids: new Set(), maxSourceSeq: 0 };
    const read = (subjects: string[], afterSeq: number) => readIds({ stream: 'WFM_OUT', subjects, afterSeq });
    // S1's last message is seq 7.
    expect(await read(siteSubjects('S1'), 7)).toEqual(empty);
    expect(await read(siteSubjects('S1'), 8)).toEqual(empty);
    expect(await read(siteSubjects('S1'), 1000)).toEqual(empty);
    // A site that never wrote anything, and no subjects at all.
    expect(await read(siteSubjects('S9'), 0)).toEqual(empty);
    expect(await read([], 0)).toEqual(empty);
    await nats.nc.flush();
    expect(creates).toEqual([]);
  });

  it('makes one consumer without a filter for the range, or one per subject with that one filter', async () => {
    await twoSites(nats);
    const seen = await watchCreates('WFM_OUT');
    await readIds({ stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 0 });
    await nats.nc.flush();
    expect(seen.map((c) => [c.config.filter_subject, c.config.opt_start_seq])).toEqual(creates.all);
    for (const c of seen) {
      // nats-server 2.9 takes one filter per consumer.
      expect(c.config.filter_subjects).toBeUndefined();
      expect(c.config.headers_only).toBe(true);
    }
  });

  it('skips a subject whose last message is before afterSeq and reads the others from afterSeq', async () => {
    await twoSites(nats);
    const seen = await watchCreates('WFM_OUT');
    // S1's adherence ends at seq 3; its gc and interval have messages after 4.
    expect(await readIds({ stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 4 })).toEqual({
      ids: new Set(['interval:T1.S1.a2:1700000100000', 'gc:T1.S1.a1:7:1']),
      maxSourceSeq: 50,
    });
    await nats.nc.flush();
    expect(seen.map((c) => [c.config.filter_subject, c.config.opt_start_seq])).toEqual(creates.after4);
  });

  describe('with a header filter (WFM_DLQ: one subject per tenant, the site in Wfm-Site)', () => {
    /** seq 1 S1 17, 2 S2 18, 3 S1 19:0, 4 S1 19:1, 5 _node 20, 6 S2 21. */
    async function letters(): Promise<void> {
      const seqs = [
        await put(nats, deadLetterMessage(deadLetter('S1', 17))),
        await put(nats, deadLetterMessage(deadLetter('S2', 18))),
        await put(nats, deadLetterMessage(deadLetter('S1', 19, 0))),
        await put(nats, deadLetterMessage(deadLetter('S1', 19, 1))),
        await put(nats, deadLetterMessage(deadLetter('_node', 20))),
        await put(nats, deadLetterMessage(deadLetter('S2', 21))),
      ];
      expect(seqs).toEqual([1, 2, 3, 4, 5, 6]);
    }

    const read = (site: string, afterSeq: number) =>
      readIds({
        stream: 'WFM_DLQ',
        subjects: ['wfm.dlq.T1'],
        afterSeq,
        header: { name: 'Wfm-Site', value: site },
      });

    it('keeps only the messages whose header has the value', async () => {
      await letters();
      expect(await read('S1', 0)).toEqual({
        ids: new Set(['dlq:T1:17:0', 'dlq:T1:19:0', 'dlq:T1:19:1']),
        maxSourceSeq: 19,
      });
      expect(await read('S1', 1)).toEqual({ ids: new Set(['dlq:T1:19:0', 'dlq:T1:19:1']), maxSourceSeq: 19 });
      expect(await read('S2', 0)).toEqual({ ids: new Set(['dlq:T1:18:0', 'dlq:T1:21:0']), maxSourceSeq: 21 });
      expect(await read('_node', 0)).toEqual({ ids: new Set(['dlq:T1:20:0']), maxSourceSeq: 20 });
      expect(await read('S9', 0)).toEqual({ ids: new Set(), maxSourceSeq: 0 });
      // Without the filter: every site's.
      const all = await readIds({
        stream: 'WFM_DLQ',
        subjects: ['wfm.dlq.T1'],
        afterSeq: 4,
      });
      expect(all).toEqual({ ids: new Set(['dlq:T1:20:0', 'dlq:T1:21:0']), maxSourceSeq: 21 });
    });

    it('ends at the last message even when that one is filtered out (no wait for the fetch to expire)', async () => {
      await letters();
      // The subject's last message (seq 6) is S2's: S1's read must not wait for more.
      const started = performance.now();
      expect(await read('S1', 0)).toEqual({
        ids: new Set(['dlq:T1:17:0', 'dlq:T1:19:0', 'dlq:T1:19:1']),
        maxSourceSeq: 19,
      });
      expect(await read('_node', 4)).toEqual({ ids: new Set(['dlq:T1:20:0']), maxSourceSeq: 20 });
      expect(performance.now() - started).toBeLessThan(2000);
    });
  });

  it('ignores messages without a Nats-Msg-Id, also as the last one on the subject', async () => {
    await put(nats, outputMessage(gcOutput('S1', 'a1', 1)));
    await nats.js.publish('wfm.gc.T1.S1.a9', '{}');
    const started = performance.now();
    expect(
      await readIds({
        stream: 'WFM_OUT',
        subjects: ['wfm.gc.T1.S1.>'],
        afterSeq: 0,
      }),
    ).toEqual({ ids: new Set(['gc:T1.S1.a1:1:0']), maxSourceSeq: 1 });
    expect(performance.now() - started).toBeLessThan(2000);
  });

  it('reads past one fetch batch (1000), among another site’s messages', async () => {
    const p = new Publisher(nats.nc);
    const expected = new Set<string>();
    for (let i = 1; i <= 5000; i++) {
      await p.whenReady();
      const site = i % 2 === 0 ? 'S1' : 'S2';
      p.publishOutput(site, gcOutput(site, `a${i % 13}`, i));
      if (site === 'S1' && i > 1000) expected.add(`gc:T1.S1.a${i % 13}:${i}:0`);
    }
    await p.flush('S1');
    await p.flush('S2');
    expect(p.ackedSeq('WFM_OUT')).toBe(5000);
    const found = await readIds({
      stream: 'WFM_OUT',
      subjects: siteSubjects('S1'),
      afterSeq: 1000,
    });
    expect(found.ids.size).toBe(2000);
    expect(found.ids).toEqual(expected);
    expect(found.maxSourceSeq).toBe(5000);
  });

  it('stops between batches once its signal is aborted: rejects with the reason, reads on nowhere', async () => {
    const p = new Publisher(nats.nc);
    for (let i = 1; i <= 3000; i++) {
      await p.whenReady();
      p.publishOutput('S1', gcOutput('S1', `a${i % 13}`, i));
    }
    await p.flush('S1');
    const reason = new Error('overtaken');
    // Aborted before it starts: no request at all.
    const creates = await watchCreates('WFM_OUT');
    const before = new AbortController();
    before.abort(reason);
    const early = { stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 0, signal: before.signal };
    expect(await readIds(early).catch((e: unknown) => e)).toBe(reason);
    expect(creates).toEqual([]);
    // Aborted while its first batch (of three) is asked for: it ends after that batch.
    const during = new AbortController();
    let fetches = 0;
    const next = nats.nc.subscribe('$JS.API.CONSUMER.MSG.NEXT.WFM_OUT.>', {
      callback: () => {
        fetches++;
        during.abort(reason);
      },
    });
    await nats.nc.flush();
    const read = { stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 0, signal: during.signal };
    const err = await readIds(read).catch((e: unknown) => e);
    next.unsubscribe();
    expect(err).toBe(reason);
    expect(fetches).toBe(1);
    expect(creates).toHaveLength(1); // the gc subject's consumer only
  });

  it('leaves no consumer behind', async () => {
    await twoSites(nats);
    await put(nats, deadLetterMessage(deadLetter('S1', 17)));
    await put(nats, deadLetterMessage(deadLetter('S2', 18)));
    await readIds({ stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 0 });
    await readIds({ stream: 'WFM_OUT', subjects: siteSubjects('S2'), afterSeq: 3 });
    await readIds({
      stream: 'WFM_DLQ',
      subjects: ['wfm.dlq.T1'],
      afterSeq: 0,
      header: { name: 'Wfm-Site', value: 'S1' },
    });
    for (const stream of ['WFM_OUT', 'WFM_DLQ']) {
      expect((await nats.jsm.streams.info(stream)).state.consumer_count).toBe(0);
      expect(await nats.jsm.consumers.list(stream).next()).toEqual([]);
    }
  });

  it('throws NatsError naming subject and stream when the stream cannot be read', async () => {
    await nats.jsm.streams.delete('WFM_OUT');
    const err = await readIds({
      stream: 'WFM_OUT',
      subjects: ['wfm.gc.T1.S1.>'],
      afterSeq: 0,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NatsError);
    expect((err as NatsError).message).toMatch(/^cannot read wfm\.gc\.T1\.S1\.> from WFM_OUT: /);
  });
});

describe('readStoredIds: wholeRangeMax', () => {
  const nats = useNats({ freshStream: 'WFM_OUT' });

  it('reads in one pass a range of up to wholeRangeMax messages (every subject’s), subject by subject past it', async () => {
    await twoSites(nats);
    const { seen, watcher } = await watchConsumerCreates(nats, 'WFM_OUT');
    try {
      // S1's last message is seq 7: from seq 0, the range spans 7 messages.
      for (const [max, consumers] of [
        [7, 1],
        [6, 3],
        [1000, 1],
        [0, 3],
      ] as const) {
        seen.length = 0;
        const read = { stream: 'WFM_OUT', subjects: siteSubjects('S1'), afterSeq: 0, wholeRangeMax: max };
        expect(await readStoredIds(nats.js, nats.jsm, read), `wholeRangeMax ${max}`).toEqual(S1_FROM_START);
        await nats.nc.flush();
        expect(seen, `wholeRangeMax ${max}`).toHaveLength(consumers);
      }
    } finally {
      watcher.unsubscribe();
    }
  });
});

describe('wholeRangeMaxFor', () => {
  it('shares WHOLE_RANGE_MAX among the sites a node may restore at once', () => {
    expect(WHOLE_RANGE_MAX).toBe(100_000);
    expect([0, 1, 2, 3, 40, 100, 200_000].map(wholeRangeMaxFor)).toEqual([
      100_000, 100_000, 50_000, 33_333, 2500, 1000, 0,
    ]);
  });
});
