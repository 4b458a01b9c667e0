import type { NatsConnection } from '@nats-io/transport-node';
// Type only: the beacon worker uses closeNats and must not load the actors (xstate).
import type { OperationalClock } from '../actors/index.ts';

/** How {@link closeNats} waits. */
export interface CloseNatsOptions {
  /**
   * Longest wait for the drain; then the connection is closed without it (a server that is alive
   * but does not answer would otherwise hold the drain until the client's ping check, minutes).
   * @defaultValue 5000
   */
  drainTimeoutMs: number;
  /** Timers of that wait (a node passes its operational clock). @defaultValue the real ones */
  timers: Pick<OperationalClock, 'setTimeout' | 'clearTimeout'>;
}

export const defaultCloseNatsOptions: CloseNatsOptions = {
  drainTimeoutMs: 5000,
  timers: {
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
  },
};

/**
 * Drains `nc` (its subscriptions flushed, then the connection closed) and resolves once it is
 * closed, whatever its server does meanwhile; never rejects.
 *
 * nats.js's `drain()` waits for the server's PONG to its PING, and rejects a pending PONG only
 * when it dials again. On a connection that does not reconnect (the node's publishing
 * connection), a server gone while that PING is unanswered leaves the drain pending for ever: a
 * node's stop hung so when Ctrl-C reached the demo's nats-server as it reached the nodes. Here
 * the drain races the connection's own closing and `drainTimeoutMs`; a connection the drain left
 * open (its PING failed on a reconnect attempt, or the wait ran out) is closed.
 * @throws RangeError when `drainTimeoutMs` is not a non-negative number.
 */
export async function closeNats(nc: NatsConnection, options: Partial<CloseNatsOptions> = {}): Promise<void> {
  const o: CloseNatsOptions = { ...defaultCloseNatsOptions, ...options };
  if (!(o.drainTimeoutMs >= 0)) throw new RangeError(`drainTimeoutMs must be >= 0, got ${o.drainTimeoutMs}`);
  if (nc.isClosed()) return;
  let timer: unknown;
  const waited = new Promise<void>((resolve) => {
    timer = o.timers.setTimeout(() => resolve(), o.drainTimeoutMs);
  });
  await Promise.race([nc.drain().catch(() => undefined), nc.closed(), waited]);
  o.timers.clearTimeout(timer);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}
