import type { JsMsg } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { streamSequence } from '../../src/streams/streamSequence.ts';

/** A message with `reply`, whose `seq` (the client's own parse) says it was asked. */
function message(reply: unknown, seq = -1): JsMsg {
  return { reply, seq } as unknown as JsMsg;
}

describe('streamSequence', () => {
  it('reads the stream sequence token of every $JS.ACK form the client parses', () => {
    // nats-server 2.9+: domain, account hash, stream, consumer, delivered, stream seq, …, token.
    expect(streamSequence(message('$JS.ACK._.AH.WFM_IN.c1.1.215120.77.1767600000000000000.9.tok'))).toBe(
      215120,
    );
    expect(streamSequence(message('$JS.ACK.hub.AH.WFM_IN.c1.2.42.7.1767600000000000000.0'))).toBe(42);
    // Older servers: stream, consumer, delivered, stream seq, delivery seq, timestamp, pending.
    expect(streamSequence(message('$JS.ACK.WFM_IN.c1.1.99.7.1767600000000000000.0'))).toBe(99);
  });

  it('leaves any other subject to the client (which throws for what is not a JetStream message)', () => {
    expect(streamSequence(message('_INBOX.abc', 5))).toBe(5);
    expect(streamSequence(message('$JS.ACK.a.b.c.d.e.f.g.h', 6))).toBe(6); // 10 tokens
    expect(streamSequence(message(undefined, 7))).toBe(7);
  });
});
