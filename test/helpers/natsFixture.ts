import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { type ConnectNatsOptions, connectNats, ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from './NatsServer.ts';

/** A test's own nats-server (JetStream, free port) and a client on it. */
export interface NatsFixture {
  server: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
}

/** Starts a server and connects to it (extra client options, e.g. a short reconnect wait). */
export async function openNats(options: Partial<ConnectNatsOptions> = {}): Promise<NatsFixture> {
  const server = await NatsServer.start();
  const nc = await connectNats({ servers: [server.url], ...options });
  return { server, nc, js: jetstream(nc), jsm: await jetstreamManager(nc) };
}

/** Closes the client, then stops the server (and removes its temp dirs). */
export async function closeNats(fixture: Pick<NatsFixture, 'server' | 'nc'>): Promise<void> {
  await fixture.nc.close();
  await fixture.server.stop();
}

/**
 * Gives the calling `describe` its own server and client: started before its tests, stopped
 * after. The returned object is filled in by `beforeAll`, so read its fields inside tests.
 * `freshStream`: deleted and made again (with the node's `ensureStreams`) before each test.
 */
export function useNats(
  options: { connect?: Partial<ConnectNatsOptions>; freshStream?: string } = {},
): NatsFixture {
  const fixture = {} as NatsFixture;
  beforeAll(async () => {
    Object.assign(fixture, await openNats(options.connect));
  });
  const fresh = options.freshStream;
  if (fresh !== undefined) {
    beforeEach(async () => {
      await fixture.jsm.streams.delete(fresh).catch(() => false);
      await ensureStreams(fixture.jsm);
    });
  }
  afterAll(async () => {
    await closeNats(fixture);
  });
  return fixture;
}
