import type { NatsConnection } from '@nats-io/transport-node';

/**
 * Drains `nc` (its subscriptions flushed, then the connection closed) and resolves once it is
 * closed, whatever its server does meanwhile; never rejects.
 *
 * nats.js's `drain()` waits for the server's PONG to its PING, and rejects a pending PONG only
 * when it dials again. On a connection that does not reconnect (the node's publishing
 * connection), a server gone while that PING is unanswered leaves the drain pending for ever: a
 * node's stop hung so when Ctrl-C reached the demo's nats-server as it reached the nodes. Here
 * the drain races the connection's own closing; a connection the drain left open (its PING
 * failed on a reconnect attempt) is closed.
 */
export async function closeNats(nc: NatsConnection): Promise<void> {
  if (nc.isClosed()) return;
  await Promise.race([nc.drain().catch(() => undefined), nc.closed()]);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
