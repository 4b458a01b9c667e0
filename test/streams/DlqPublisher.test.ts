import { describe, expect, it } from 'vitest';
import { type DeadLetter, DlqPublisher, deadLetterBody } from '../../src/streams/index.ts';
import { useNats } from '../helpers/natsFixture.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

const letter: DeadLetter = {
  tenant: 'T1',
  reason: 'invalid_json',
  subject: 'wfm.stat.T1.S1.a1',
  seq: 17,
  data: encoder.encode('{"statistic":"CurrentState",'),
  detail: 'Unexpected end of JSON input',
};

describe('DlqPublisher', () => {
  const nats = useNats({ freshStream: 'WFM_DLQ' });

  it('publishes to wfm.dlq.T the exact JSON body, keys in contract order, with Msg-Id dlq:T:seq', async () => {
    const p = new DlqPublisher(nats.js);
    p.publish(letter);
    await p.flush();
    const m = await nats.jsm.streams.getMessage('WFM_DLQ', { seq: 1 });
    expect(m?.subject).toBe('wfm.dlq.T1');
    expect(decoder.decode(m?.data)).toBe(
      '{"reason":"invalid_json","subject":"wfm.stat.T1.S1.a1","seq":17,' +
        '"payload":"{\\"statistic\\":\\"CurrentState\\",","detail":"Unexpected end of JSON input"}',
    );
    expect(m?.header.get('Nats-Msg-Id')).toBe('dlq:T1:17');
    expect(m?.header.get('Wfm-Source-Seq')).toBe('17');
    expect(p.stats).toEqual({
      submitted: 1,
      published: 1,
      duplicates: 0,
      failed: 0,
      discarded: 0,
      inFlight: 0,
    });
  });

  it('keeps non-UTF-8 bytes as replacement characters and an empty payload as ""', () => {
    expect(deadLetterBody({ ...letter, data: new Uint8Array([0x61, 0xff, 0x62]) }).payload).toBe('a\uFFFDb');
    expect(deadLetterBody({ ...letter, data: new Uint8Array() }).payload).toBe('');
  });

  it('the same input refused twice (a replay) is stored once', async () => {
    const p = new DlqPublisher(nats.js);
    p.publish(letter);
    p.publish({ ...letter, detail: 'another wording' });
    p.publish({ ...letter, seq: 18, reason: 'late', detail: 'ts older than last accepted' });
    await p.flush();
    const info = await nats.jsm.streams.info('WFM_DLQ');
    expect(info.state.messages).toBe(2);
    expect(p.stats).toMatchObject({ submitted: 3, published: 2, duplicates: 1 });
  });

  it('discard mode writes nothing; whenReady/flush behave like OutputPublisher', async () => {
    const p = new DlqPublisher(nats.js, { mode: 'discard', maxInFlight: 1 });
    p.publish(letter);
    expect(p.whenReady()).toBeUndefined();
    await p.flush();
    expect((await nats.jsm.streams.info('WFM_DLQ')).state.messages).toBe(0);
    p.setMode('write');
    expect(p.mode).toBe('write');
    p.publish(letter);
    expect(p.whenReady()).toBeInstanceOf(Promise);
    await p.whenReady();
    expect(p.stats).toEqual({
      submitted: 2,
      published: 1,
      duplicates: 0,
      failed: 0,
      discarded: 1,
      inFlight: 0,
    });
  });

  it('sets a 24 h duplicate window on WFM_DLQ so late replays still dedupe', async () => {
    const info = await nats.jsm.streams.info('WFM_DLQ');
    expect(info.config.duplicate_window).toBe(24 * 3600 * 1e9);
  });
});
