/**
 * closeNats: a connection is closed in the end, whether its server answers, is gone before, dies
 * while the drain waits for it (SIGSTOP holds the drain's PING unanswered, then SIGKILL), or hangs.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeNats, connectNats } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';

/** Far past what closing takes with its server gone (a reconnect wait or two); a hang never ends. */
const LIMIT_MS = 10_000;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** 'closed' when `closing` resolved within LIMIT_MS, 'still closing' when it did not. */
function outcome(closing: Promise<void>): Promise<string> {
  return Promise.race([closing.then(() => 'closed'), sleep(LIMIT_MS).then(() => 'still closing')]);
}

describe('closeNats', () => {
  const servers: NatsServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) {
      if (s.pid !== undefined) process.kill(s.pid, 'SIGCONT');
      await s.stop();
    }
  });
  async function server(): Promise<NatsServer> {
    const s = await NatsServer.start();
    servers.push(s);
    return s;
  }

  it('drains a healthy connection: what it published before reaches a subscriber, then it is closed', async () => {
    const s = await server();
    const reader = await connectNats({ servers: [s.url] });
    const got: string[] = [];
    const sub = reader.subscribe('t.>', {
      callback: (_e, m) => {
        got.push(m.string());
      },
    });
    await reader.flush();
    const nc = await connectNats({ servers: [s.url], reconnect: false });
    nc.subscribe('u.>', { callback: () => undefined });
    nc.publish('t.1', 'one');
    nc.publish('t.2', 'two');
    expect(await outcome(closeNats(nc))).toBe('closed');
    expect(nc.isClosed()).toBe(true);
    await reader.flush();
    expect(got).toEqual(['one', 'two']);
    sub.unsubscribe();
    await reader.close();
  });

  for (const reconnect of [false, true]) {
    it(`${reconnect ? 'a reconnecting' : 'a non-reconnecting'} connection whose server dies while the drain waits for it: closed`, async () => {
      const s = await server();
      const nc = await connectNats({ servers: [s.url], reconnect, reconnectTimeWaitMs: 100 });
      nc.subscribe('u.>', { callback: () => undefined });
      await nc.flush();
      // The server takes the drain's UNSUB and PING and never answers; then it is gone.
      process.kill(s.pid!, 'SIGSTOP');
      // A drain timeout past the limit: only the server's death may end the wait.
      const closing = closeNats(nc, { drainTimeoutMs: 60_000 });
      await sleep(300);
      await s.kill();
      expect(await outcome(closing)).toBe('closed');
      expect(nc.isClosed()).toBe(true);
    });
  }

  it('a connection whose server hangs (SIGSTOP, never resumed): closed once drainTimeoutMs ran out', async () => {
    const s = await server();
    const nc = await connectNats({ servers: [s.url], reconnect: false });
    nc.subscribe('u.>', { callback: () => undefined });
    await nc.flush();
    process.kill(s.pid!, 'SIGSTOP');
    const closing = closeNats(nc, { drainTimeoutMs: 300 });
    expect(await outcome(closing)).toBe('closed');
    expect(nc.isClosed()).toBe(true);
  });

  it('refuses a negative drainTimeoutMs', async () => {
    const s = await server();
    const nc = await connectNats({ servers: [s.url] });
    await expect(closeNats(nc, { drainTimeoutMs: -1 })).rejects.toThrow(RangeError);
    await nc.close();
  });

  it('a connection whose server is already gone: closed (it does not wait to reconnect)', async () => {
    const s = await server();
    const nc = await connectNats({ servers: [s.url], reconnectTimeWaitMs: 100 });
    nc.subscribe('u.>', { callback: () => undefined });
    await nc.flush();
    await s.kill();
    expect(await outcome(closeNats(nc, { drainTimeoutMs: 60_000 }))).toBe('closed');
    expect(nc.isClosed()).toBe(true);
  });

  it('a closed connection: resolves at once', async () => {
    const s = await server();
    const nc = await connectNats({ servers: [s.url] });
    await nc.close();
    await expect(closeNats(nc)).resolves.toBeUndefined();
  });
});
