import type { ConnectionOptions, NatsConnection } from '@nats-io/transport-node';
import { firstValueFrom, type Subscription } from 'rxjs';
import { filter, take, toArray } from 'rxjs/operators';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NatsError } from '../../src/errors.ts';
import { connectNats, type NatsStatusEvent, natsStatusEvents } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { TcpProxy } from '../helpers/TcpProxy.ts';

const PASSWORD = 's3cret-tenant-pw';

describe('connectNats', () => {
  let server: NatsServer;
  beforeAll(async () => {
    server = await NatsServer.start({ args: ['--user', 'T1', '--pass', PASSWORD] });
  });
  afterAll(async () => {
    await server.stop();
  });

  it('connects as the tenant with its password and names the client', async () => {
    const nc = await connectNats({
      servers: [server.url],
      user: 'T1',
      pass: PASSWORD,
      name: 'wfm-test-node',
    });
    expect(nc.isClosed()).toBe(false);
    // The connection's resolved options are on the implementation, not the interface.
    const resolved = (nc as unknown as { options: ConnectionOptions }).options;
    expect(resolved.name).toBe('wfm-test-node');
    expect(resolved.maxReconnectAttempts).toBe(-1);
    expect(resolved.user).toBe('T1');
    await nc.close();
  });

  it('throws NatsError naming server and user but never the password', async () => {
    const err = await connectNats({
      servers: [server.url],
      user: 'T1',
      pass: 'wrong-pw',
      connectTimeoutMs: 2000,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsError);
    const message = (err as NatsError).message;
    expect((err as NatsError).code).toBe('WFM_NATS_UNAVAILABLE');
    expect(message).toBe(`cannot connect to NATS ${server.url} as user T1: Authorization Violation`);
    // Wrong credentials do not pass by themselves.
    expect([(err as NatsError).kind, (err as NatsError).transient]).toEqual(['other', false]);
  });

  it('redacts a password embedded in a server URL', async () => {
    const url = `nats://T1:${PASSWORD}x@127.0.0.1:${server.port}`;
    const err = await connectNats({ servers: [url], connectTimeoutMs: 2000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsError);
    expect((err as NatsError).message).not.toContain(PASSWORD);
    expect((err as NatsError).message).toContain(`nats://T1:***@127.0.0.1:${server.port}`);
  });

  it('fails when no server answers, transiently', async () => {
    const dead = await NatsServer.start();
    const url = dead.url;
    await dead.stop();
    const err = await connectNats({ servers: [url], connectTimeoutMs: 1000 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(NatsError);
    const e = err as NatsError;
    expect(e.message).toBe(`cannot connect to NATS ${url}: connection refused`);
    expect([e.kind, e.transient]).toEqual(['connection_closed', true]);
  });

  it('reconnect: false closes on the first disconnect even when the server is back at once', async () => {
    // A publishing connection relies on this: one that silently came back would have lost
    // whatever was in flight and go on storing after the gap.
    const proxy = await TcpProxy.start(server.url);
    try {
      const options = { servers: [proxy.url], user: 'T1', pass: PASSWORD, reconnectTimeWaitMs: 50 };
      const once = await connectNats({ ...options, reconnect: false });
      const always = await connectNats(options);
      const onceEvents = firstValueFrom(natsStatusEvents(once).pipe(toArray()));
      const alwaysBack = firstValueFrom(
        natsStatusEvents(always).pipe(filter((e) => e.type === 'reconnected')),
      );
      proxy.cut();
      const events = await onceEvents;
      expect(events.map((e) => e.type).filter((t) => t !== 'error')).toEqual(['disconnected', 'closed']);
      expect(once.isClosed()).toBe(true);
      // The same blip with reconnecting on: the server was reachable all along.
      await alwaysBack;
      await always.close();
    } finally {
      await proxy.stop();
    }
  }, 10_000);

  describe('natsStatusEvents', () => {
    let nc: NatsConnection;
    beforeAll(async () => {
      nc = await connectNats({ servers: [server.url], user: 'T1', pass: PASSWORD, reconnectTimeWaitMs: 100 });
    });

    it('reports disconnected then reconnected across a server restart, keeping the connection', async () => {
      const seen: NatsStatusEvent[] = [];
      const sub: Subscription = natsStatusEvents(nc).subscribe((e) => seen.push(e));
      const reconnected = firstValueFrom(natsStatusEvents(nc).pipe(filter((e) => e.type === 'reconnected')));
      await server.restart(300);
      await reconnected;
      sub.unsubscribe();
      const types = seen.map((e) => e.type).filter((t) => t !== 'reconnecting');
      expect(types).toEqual(['disconnected', 'reconnected']);
      expect(seen[0]).toEqual({ type: 'disconnected', server: `127.0.0.1:${server.port}` });
      await nc.flush();
    });

    it('ends with closed and completes when the connection closes', async () => {
      const all = firstValueFrom(natsStatusEvents(nc).pipe(take(10), toArray()));
      await nc.close();
      expect(await all).toEqual([{ type: 'closed', error: undefined }]);
    });
  });
});
