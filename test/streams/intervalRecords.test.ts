import { describe, expect, it } from 'vitest';
import { type HistoryMessage, parseHistoryMessage, readSiteHistory } from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';
import { adherenceOutput, gcOutput } from '../helpers/outputFixtures.ts';
import { intervalRecord, transferRecord } from '../persistence/intervalSinkContract.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
const T_START = 1_700_000_100_000;

describe('parseHistoryMessage', () => {
  const record = intervalRecord('S1', 'A', 1_700_000_000_000);
  const transfer = transferRecord('x1', 'A', 'B');

  it('reads interval records and transfers of a site, with the stream sequence', () => {
    expect(parseHistoryMessage('T1', 7, 'wfm.interval.T1.S1.A', encode(record))).toEqual({
      tenant: 'T1',
      outSeq: 7,
      record,
    });
    expect(parseHistoryMessage('T1', 8, 'wfm.transfer.T1.S1', encode(transfer))).toEqual({
      tenant: 'T1',
      outSeq: 8,
      transfer,
    });
    const refused = transferRecord('x2', 'A', 'A', 'refused');
    expect(parseHistoryMessage('T1', 9, 'wfm.transfer.T1.S1', encode(refused))).toMatchObject({
      transfer: refused,
    });
  });

  it('passes over gc and adherence outputs by subject, whatever they hold', () => {
    // Interval-shaped payloads on other subjects: only the subject decides, nothing is parsed.
    for (const kind of ['gc', 'adherence', 'dlq', 'intervalx']) {
      expect(parseHistoryMessage('T1', 1, `wfm.${kind}.T1.S1.A`, encode(record))).toBeNull();
    }
    expect(parseHistoryMessage('T1', 1, 'wfm.gc.T1.S1.A', new Uint8Array([0xff, 0x7b]))).toBeNull();
  });

  it('passes over what is not a record or transfer the sinks would take', () => {
    const bad = [
      ['interval', '{"agentId":"A"'],
      ['interval', '[1]'],
      ['interval', JSON.stringify({ ...record, intervalStart: '2024' })],
      ['transfer', JSON.stringify({ ...transfer, from: 'not an id' })],
      ['transfer', JSON.stringify({ ...transfer, to: 'A' })],
      ['transfer', JSON.stringify({ ...transfer, result: 'done' })],
      ['transfer', JSON.stringify({ ...transfer, appliedAt: null })],
      ['transfer', JSON.stringify({ ...transfer, counts: [] })],
    ];
    for (const [kind, text] of bad) {
      expect(
        parseHistoryMessage('T1', 1, `wfm.${kind}.T1.S1.A`, new TextEncoder().encode(text)),
        text,
      ).toBeNull();
    }
  });
});

describe('readSiteHistory', () => {
  const nats = useNats({ freshStream: 'WFM_OUT' });
  const TENANT = 'T1';

  /** Publishes `value` on `subject`; returns what the site's history holds for it (null: not its). */
  async function put(subject: string, value: unknown): Promise<HistoryMessage | null> {
    const { seq } = await nats.js.publish(subject, JSON.stringify(value));
    return parseHistoryMessage(TENANT, seq, subject, encode(value));
  }

  /** S1's interval rows and transfers among gc, adherence and S2 outputs; returns S1's in order. */
  async function publishMixed(from: number, n: number): Promise<HistoryMessage[]> {
    const items: (HistoryMessage | null)[] = [];
    for (let k = from; k < from + n; k++) {
      items.push(await put(`wfm.interval.${TENANT}.S1.A`, intervalRecord('S1', 'A', T_START + k * 900_000)));
      items.push(await put(`wfm.gc.${TENANT}.S1.A`, gcOutput('S1', 'A', k).payload));
      items.push(await put(`wfm.interval.${TENANT}.S2.A`, intervalRecord('S2', 'A', T_START + k * 900_000)));
      if (k % 3 === 1) items.push(await put(`wfm.transfer.${TENANT}.S1`, transferRecord(`x${k}`, 'A', 'B')));
      if (k % 4 === 2) items.push(await put(`wfm.transfer.${TENANT}.S2`, transferRecord(`y${k}`, 'A', 'B')));
      items.push(await put(`wfm.adherence.${TENANT}.S1.A`, adherenceOutput('S1', 'A', k).payload));
    }
    // S2's records parse too (the parser does not look at the site): drop them by subject here.
    return items.filter((m): m is HistoryMessage => m !== null && !isS2(m));
  }
  const isS2 = (m: HistoryMessage) =>
    'record' in m ? m.record.site === 'S2' : m.transfer.id.startsWith('y');
  const lastSeq = async () => (await nats.jsm.streams.info('WFM_OUT')).state.last_seq;

  it("merges the site's interval rows and transfers exactly, in outSeq order, after afterSeq", async () => {
    const expected = await publishMixed(0, 12);
    expect(expected.filter((m) => 'transfer' in m)).toHaveLength(4);
    const end = await lastSeq();
    expect(await readSiteHistory(nats.js, nats.jsm, TENANT, 'S1', 0)).toEqual({ items: expected, upTo: end });
    const middle = expected[9]!.outSeq;
    expect(await readSiteHistory(nats.js, nats.jsm, TENANT, 'S1', middle)).toEqual({
      items: expected.slice(10),
      upTo: end,
    });
    // Nothing after: none, and upTo is the stream's last sequence (never below afterSeq).
    expect(await readSiteHistory(nats.js, nats.jsm, TENANT, 'S1', end)).toEqual({ items: [], upTo: end });
    expect(await readSiteHistory(nats.js, nats.jsm, TENANT, 'S3', 0)).toEqual({ items: [], upTo: end });
    // The short-lived consumers of both reads are gone.
    const left = [];
    for await (const ci of nats.jsm.consumers.list('WFM_OUT')) left.push(ci);
    expect(left).toEqual([]);
  });

  it("stops at the stream's last sequence taken first: what is stored after it is left for the next read", async () => {
    const first = await publishMixed(0, 6);
    const stored = await lastSeq();
    let bound = 0;
    const late: HistoryMessage[] = [];
    // Stores a row and a transfer of S1 right after the bound is taken, before either range is read.
    const streams = new Proxy(nats.jsm.streams, {
      get(target, prop) {
        if (prop === 'info') {
          return async (name: string) => {
            const info = await target.info(name);
            bound = info.state.last_seq;
            late.push((await put(`wfm.transfer.${TENANT}.S1`, transferRecord('late', 'A', 'B')))!);
            late.push(
              (await put(`wfm.interval.${TENANT}.S1.A`, intervalRecord('S1', 'A', T_START - 900_000)))!,
            );
            return info;
          };
        }
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const racing = new Proxy(nats.jsm, {
      get(target, prop) {
        if (prop === 'streams') return streams;
        const value: unknown = Reflect.get(target, prop);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const read = await readSiteHistory(nats.js, racing, TENANT, 'S1', 0);
    expect(bound).toBe(stored);
    expect(late.map((m) => m.outSeq)).toEqual([stored + 1, stored + 2]);
    expect(read).toEqual({ items: first, upTo: bound });
    expect(await readSiteHistory(nats.js, nats.jsm, TENANT, 'S1', read.upTo)).toEqual({
      items: late,
      upTo: await lastSeq(),
    });
  });
});
