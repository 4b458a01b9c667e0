import { existsSync } from 'node:fs';
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterEach, describe, expect, it } from 'vitest';
import { NatsServer } from '../helpers/NatsServer.ts';

describe('NatsServer (test launcher)', () => {
  const servers: NatsServer[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.stop()));
  });

  it('starts on a random 127.0.0.1 port with JetStream, each instance its own', async () => {
    const a = await NatsServer.start();
    const b = await NatsServer.start();
    servers.push(a, b);
    expect(a.port).toBeGreaterThan(0);
    expect(a.port).not.toBe(b.port);
    expect(a.port).not.toBe(4222);
    expect(a.url).toBe(`nats://127.0.0.1:${a.port}`);
    expect(a.storeDir).not.toBe(b.storeDir);
    const nc = await connect({ servers: a.url });
    const jsm = await jetstreamManager(nc);
    const info = await jsm.getAccountInfo();
    expect(info.streams).toBe(0);
    await nc.close();
  });

  it('restart() after kill() comes back on the same port with the JetStream data', async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const port = server.port;
    const firstPid = server.pid;
    let nc = await connect({ servers: server.url });
    let jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'KEEP', subjects: ['keep.>'] });
    await jsm.jetstream().publish('keep.a', 'one');
    await nc.close();

    await server.kill();
    expect(server.running).toBe(false);
    await expect(connect({ servers: server.url, reconnect: false, timeout: 500 })).rejects.toThrow();

    await server.restart();
    expect(server.running).toBe(true);
    expect(server.port).toBe(port);
    expect(server.pid).not.toBe(firstPid);
    nc = await connect({ servers: server.url });
    jsm = await jetstreamManager(nc);
    const info = await jsm.streams.info('KEEP');
    expect(info.state.messages).toBe(1);
    await nc.close();
  });

  it('restart() of a running server stops it first (SIGTERM) and keeps the port', async () => {
    const server = await NatsServer.start();
    servers.push(server);
    const port = server.port;
    await server.restart();
    expect(server.port).toBe(port);
    const nc = await connect({ servers: server.url });
    await nc.flush();
    await nc.close();
  });

  it('stop() removes the temp dirs and is safe to call twice', async () => {
    const server = await NatsServer.start();
    const dir = server.storeDir;
    expect(existsSync(dir)).toBe(true);
    await server.stop();
    await server.stop();
    expect(server.running).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await expect(server.restart()).rejects.toThrow('NatsServer.restart() after stop()');
  });

  it('fails fast with install advice when the binary is missing', async () => {
    const advice = 'nats-server not found: apt-get install -y nats-server';
    await expect(NatsServer.start({ binary: 'no-such-nats-server-binary' })).rejects.toThrow(advice);
    await expect(NatsServer.start({ binary: '/nonexistent/nats-server' })).rejects.toThrow(advice);
  });

  it('reports the server output when it cannot start', async () => {
    await expect(NatsServer.start({ args: ['--no-such-flag'] })).rejects.toThrow(/exited during start/);
  });
});
