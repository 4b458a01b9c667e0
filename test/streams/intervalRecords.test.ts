import { describe, expect, it } from 'vitest';
import { parseHistoryMessage } from '../../src/streams/index.ts';
import { intervalRecord, transferRecord } from '../persistence/intervalSinkContract.ts';

const encode = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));

describe('parseHistoryMessage', () => {
  const record = intervalRecord('S1', 'A', 1_700_000_000_000);
  const transfer = transferRecord('x1', 'A', 'B');

  it('reads interval records and transfers of a site, with the stream sequence', () => {
    expect(parseHistoryMessage('T1', 7, 'wfm.interval.T1.S1.A', encode(record))).toEqual({
      tenant: 'T1',
      outSeq: 7,
      record,
    });
    expect(parseHistoryMessage('T1', 8, 'wfm.transfer.T1.S1.B', encode(transfer))).toEqual({
      tenant: 'T1',
      outSeq: 8,
      transfer,
    });
    const refused = transferRecord('x2', 'A', 'A', 'refused');
    expect(parseHistoryMessage('T1', 9, 'wfm.transfer.T1.S1.A', encode(refused))).toMatchObject({
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
