import type { JsMsg } from '@nats-io/jetstream';

const ACK_PREFIX = '$JS.ACK.';

/**
 * The stream sequence of a JetStream message, read from its reply subject. `JsMsg.seq` parses
 * the whole subject into delivery info (an array, eleven strings and an object per message, ~2 %
 * of a node's time over a backlog); this reads the one token. The subject is
 * `$JS.ACK.<stream>.<consumer>.<delivered>.<streamSeq>.…` (9 tokens) or, since nats-server 2.9,
 * `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<streamSeq>.…` (11 or more): the
 * same token `JsMsg.seq` reads, parsed the same way. Anything else is left to `JsMsg.seq`.
 */
export function streamSequence(m: JsMsg): number {
  // The client's JsMsg has the reply subject it parses (not part of the interface).
  const reply = (m as JsMsg & { reply?: unknown }).reply;
  if (typeof reply !== 'string' || !reply.startsWith(ACK_PREFIX)) return m.seq;
  // Start of every token: dots[i] is the index of the dot before token i + 1.
  const dots: number[] = [];
  for (let at = reply.indexOf('.'); at !== -1 && dots.length < 12; at = reply.indexOf('.', at + 1))
    dots.push(at);
  const tokens = dots.length + 1;
  const index = tokens === 9 ? 5 : tokens >= 11 ? 7 : -1;
  if (index === -1) return m.seq;
  return Number.parseInt(reply.slice(dots[index - 1]! + 1, dots[index]), 10);
}
