import { headers } from '@nats-io/transport-node';
import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/domain/index.ts';
import {
  type DeadLetter,
  deadLetterBody,
  deadLetterMessage,
  deadLetterMsgId,
  OutputHeaders,
  outputMessage,
  outputMsgId,
} from '../../src/streams/index.ts';
import { adherenceOutput, deadLetter, gcOutput, intervalOutput } from '../helpers/outputFixtures.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What nats.js's own headers encode to after `set(k, v)` of each pair in order. */
function natsWireForm(pairs: string[]): Uint8Array {
  const h = headers();
  for (let i = 0; i < pairs.length; i += 2) h.set(pairs[i]!, pairs[i + 1]!);
  return (h as typeof h & { encode(): Uint8Array }).encode();
}

const gc = gcOutput('S1', 'a1', 7, 2);
const adherence = adherenceOutput('S1', 'a2', 42, 1);
const interval = intervalOutput('S1', 'a3', 77);
const letter = deadLetter('S1', 17);

describe('outputMsgId', () => {
  it('names gc and adherence outputs by kind, tenant.site.agent, source seq and ordinal', () => {
    expect(outputMsgId(gc)).toBe('gc:T1.S1.a1:7:2');
    expect(outputMsgId(adherence)).toBe('adherence:T1.S1.a2:42:1');
  });

  it('tells apart two outputs of one input by their ordinal, and the same position in two sites', () => {
    expect(outputMsgId({ ...gc, ordinal: 3 })).toBe('gc:T1.S1.a1:7:3');
    expect(outputMsgId({ ...gc, site: 'S2' })).toBe('gc:T1.S2.a1:7:2');
    expect(outputMsgId({ ...gc, tenant: 'T2' })).toBe('gc:T2.S1.a1:7:2');
  });

  it('names an interval record by its interval start alone: re-closed from another input, it is the same record', () => {
    expect(outputMsgId(interval)).toBe('interval:T1.S1.a3:1700000100000');
    const reclosed: Output = { ...interval, ordinal: 5, payload: { ...interval.payload, sourceSeq: 78 } };
    expect(outputMsgId(reclosed)).toBe('interval:T1.S1.a3:1700000100000');
    const next: Output = {
      ...interval,
      payload: { ...interval.payload, intervalStart: interval.payload.intervalStart + 900_000 },
    };
    expect(outputMsgId(next)).toBe('interval:T1.S1.a3:1700001000000');
  });
});

describe('deadLetterMsgId', () => {
  it('is dlq:T:seq:ordinal, so two dead letters of one input are told apart', () => {
    expect(deadLetterMsgId(letter)).toBe('dlq:T1:17:0');
    expect(deadLetterMsgId({ ...letter, ordinal: 1 })).toBe('dlq:T1:17:1');
    expect(deadLetterMsgId({ tenant: 'T2', seq: 18, ordinal: 0 })).toBe('dlq:T2:18:0');
  });

  it('does not depend on the site, reason or detail (a replay that words it differently is the same letter)', () => {
    const reworded: DeadLetter = { ...letter, site: 'S9', reason: 'late', detail: 'other' };
    expect(deadLetterMsgId(reworded)).toBe('dlq:T1:17:0');
  });
});

describe('deadLetterBody', () => {
  it('has the contract keys in order: reason, subject, seq, payload, detail', () => {
    const body = deadLetterBody(letter);
    expect(Object.keys(body)).toEqual(['reason', 'subject', 'seq', 'payload', 'detail']);
    expect(body).toEqual({
      reason: 'invalid_json',
      subject: 'wfm.stat.T1.S1.a1',
      seq: 17,
      payload: '{"statistic":"CurrentState",',
      detail: 'Unexpected end of JSON input',
    });
  });

  it('turns bytes that are not UTF-8 into U+FFFD and keeps valid multi-byte text', () => {
    expect(deadLetterBody({ ...letter, data: new Uint8Array([0x61, 0xff, 0x62]) }).payload).toBe('a\uFFFDb');
    // A lone continuation byte and a truncated three-byte sequence at the end.
    expect(deadLetterBody({ ...letter, data: new Uint8Array([0x80, 0x41, 0xe2, 0x82]) }).payload).toBe(
      '\uFFFDA\uFFFD',
    );
    expect(deadLetterBody({ ...letter, data: encoder.encode('caf\u00e9 \u20ac') }).payload).toBe(
      'caf\u00e9 \u20ac',
    );
    expect(deadLetterBody({ ...letter, data: new Uint8Array() }).payload).toBe('');
  });
});

describe('outputMessage', () => {
  it.each([
    ['gc', gc, 'wfm.gc.T1.S1.a1', 'gc:T1.S1.a1:7:2', '7'],
    ['adherence', adherence, 'wfm.adherence.T1.S1.a2', 'adherence:T1.S1.a2:42:1', '42'],
    ['interval', interval, 'wfm.interval.T1.S1.a3', 'interval:T1.S1.a3:1700000100000', '77'],
  ] as const)(
    '%s: subject, JSON payload, msgId and Wfm-Source-Seq',
    (_kind, output, subject, msgId, sourceSeq) => {
      const m = outputMessage(output);
      expect(m.subject).toBe(subject);
      expect(m.msgId).toBe(msgId);
      expect(JSON.parse(decoder.decode(m.data))).toEqual(output.payload);
      expect(decoder.decode(m.data)).toBe(JSON.stringify(output.payload));
      expect(m.headers.get('Wfm-Source-Seq')).toBe(sourceSeq);
    },
  );

  it('carries its Nats-Msg-Id, and its headers encode to the bytes nats.js headers would', () => {
    for (const output of [gc, adherence, interval]) {
      const m = outputMessage(output);
      expect(m.headers.get('Nats-Msg-Id')).toBe(m.msgId);
      const wire = natsWireForm(['Wfm-Source-Seq', String(output.payload.sourceSeq), 'Nats-Msg-Id', m.msgId]);
      expect(Buffer.from((outputMessage(output).headers as OutputHeaders).encode())).toEqual(
        Buffer.from(wire),
      );
      expect(decoder.decode(wire)).toBe(
        `NATS/1.0\r\nWfm-Source-Seq: ${output.payload.sourceSeq}\r\nNats-Msg-Id: ${m.msgId}\r\n\r\n`,
      );
    }
  });

  it('gives each message its own headers', () => {
    const a = outputMessage(gc);
    a.headers.set('X-Test', '1');
    expect(outputMessage(gc).headers.has('X-Test')).toBe(false);
  });
});

describe('OutputHeaders', () => {
  it('encodes like nats.js headers, also values nats.js trims or refuses, and after changes', () => {
    const cases = [['A-B', '1', 'Nats-Msg-Id', 'x:y:1'], ['K', ' padded ', 'L', 'caf\u00e9'], ['K', ''], []];
    for (const pairs of cases) {
      expect(Buffer.from(new OutputHeaders(pairs).encode())).toEqual(Buffer.from(natsWireForm(pairs)));
    }
    expect(() => new OutputHeaders(['K', 'a\r\nb'])).toThrow();
    const changed = new OutputHeaders(['A', '1', 'B', '2']);
    changed.set('A', '3');
    changed.append('C', '4');
    const reference = headers();
    reference.set('A', '1');
    reference.set('B', '2');
    reference.set('A', '3');
    reference.append('C', '4');
    expect(Buffer.from(changed.encode())).toEqual(
      Buffer.from((reference as typeof reference & { encode(): Uint8Array }).encode()),
    );
    expect([...changed]).toEqual([...reference]);
    expect(changed.keys()).toEqual(['B', 'A', 'C']);
  });
});

describe('deadLetterMessage', () => {
  it('goes to wfm.dlq.T with the exact body, its msgId, Wfm-Source-Seq and Wfm-Site', () => {
    const m = deadLetterMessage({ ...letter, site: 'S2', ordinal: 1 });
    expect(m.subject).toBe('wfm.dlq.T1');
    expect(m.msgId).toBe('dlq:T1:17:1');
    expect(decoder.decode(m.data)).toBe(
      '{"reason":"invalid_json","subject":"wfm.stat.T1.S1.a1","seq":17,' +
        '"payload":"{\\"statistic\\":\\"CurrentState\\",","detail":"Unexpected end of JSON input"}',
    );
    expect(m.headers.get('Wfm-Source-Seq')).toBe('17');
    expect(m.headers.get('Wfm-Site')).toBe('S2');
  });

  it('encodes its headers as nats.js would: Wfm-Source-Seq, Wfm-Site, Nats-Msg-Id', () => {
    const m = deadLetterMessage({ ...letter, site: 'S2', ordinal: 1 });
    expect(m.headers.get('Nats-Msg-Id')).toBe('dlq:T1:17:1');
    const wire = natsWireForm(['Wfm-Source-Seq', '17', 'Wfm-Site', 'S2', 'Nats-Msg-Id', 'dlq:T1:17:1']);
    const fresh = deadLetterMessage({ ...letter, site: 'S2', ordinal: 1 }).headers as OutputHeaders;
    expect(Buffer.from(fresh.encode())).toEqual(Buffer.from(wire));
  });

  it('keeps the tenant subject when the input subject is unreadable', () => {
    const m = deadLetterMessage({ ...letter, site: '_node', reason: 'bad_subject', subject: 'wfm.stat.x' });
    expect(m.subject).toBe('wfm.dlq.T1');
    expect(m.headers.get('Wfm-Site')).toBe('_node');
  });
});
