/**
 * gatherReplies against a real nats-server: one request answered by every responder, collected
 * until enough have answered or the wait is over; a reply that does not parse is left out, and a
 * closed connection gathers nothing instead of throwing.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectNats, gatherReplies } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';

let server: NatsServer;
let responders: NatsConnection;
let asker: NatsConnection;

beforeAll(async () => {
  server = await NatsServer.start();
  responders = await connectNats({ servers: [server.url] });
  asker = await connectNats({ servers: [server.url] });
  // Three answer at once, one after 600 ms, one with text that is not JSON.
  for (const id of ['a', 'b', 'c'])
    responders.subscribe('ask.all', {
      callback: (_e, m) => {
        m.respond(JSON.stringify({ id }));
      },
    });
  responders.subscribe('ask.all', {
    callback: (_e, m) => {
      setTimeout(() => m.respond(JSON.stringify({ id: 'slow' })), 600);
    },
  });
  responders.subscribe('ask.all', {
    callback: (_e, m) => {
      m.respond('not json');
    },
  });
  await responders.flush();
});

afterAll(async () => {
  await asker?.close();
  await responders?.close();
  await server?.stop();
});

const parse = (m: { json<T>(): T }) => m.json<{ id: string }>().id;

describe('gatherReplies', () => {
  it('collects every parsable reply until the wait is over', async () => {
    const ids = await gatherReplies(asker, 'ask.all', '', { timeoutMs: 2000, parse });
    expect(ids.sort()).toEqual(['a', 'b', 'c', 'slow']);
  });

  it('stops as soon as enough have answered', async () => {
    const ids = await gatherReplies(asker, 'ask.all', '', {
      timeoutMs: 5000,
      parse,
      enough: (got) => ['a', 'b', 'c'].every((id) => got.includes(id)),
    });
    // Not the slow one: it stopped on the third reply, not at the end of the 5-second wait.
    expect(ids.sort()).toEqual(['a', 'b', 'c']);
  });

  it('returns what came in time, and nothing when nobody answers', async () => {
    expect((await gatherReplies(asker, 'ask.all', '', { timeoutMs: 300, parse })).sort()).toEqual([
      'a',
      'b',
      'c',
    ]);
    expect(await gatherReplies(asker, 'ask.nobody', '', { timeoutMs: 50, parse })).toEqual([]);
  });

  it('gathers nothing on a closed connection', async () => {
    const closed = await connectNats({ servers: [server.url] });
    await closed.close();
    expect(await gatherReplies(closed, 'ask.all', '', { timeoutMs: 50, parse })).toEqual([]);
  });
});
