import type { NatsConnection, Status } from '@nats-io/transport-node';
import { connect } from '@nats-io/transport-node';
import { Observable } from 'rxjs';
import { natsErrorFrom } from './natsErrorFrom.ts';

/** How a node connects to NATS. */
export interface ConnectNatsOptions {
  /**
   * Server URLs, e.g. `['nats://127.0.0.1:4222']` (DESIGN.md `nats.servers`).
   * @defaultValue `['nats://127.0.0.1:4222']`
   */
  servers: string[];
  /**
   * Client name shown in the server's monitoring pages.
   * @defaultValue `'wfm-aggregator'`
   */
  name: string;
  /**
   * NATS user: the tenant id. Unset means no authentication.
   * @defaultValue `undefined`
   */
  user: string | undefined;
  /**
   * NATS password: the tenant password. Never logged or put in an error message.
   * @defaultValue `undefined`
   */
  pass: string | undefined;
  /**
   * Milliseconds between reconnect attempts (the client reconnects forever).
   * @defaultValue `1000`
   */
  reconnectTimeWaitMs: number;
  /**
   * Reconnect forever after a disconnection (true), or close for good (false). A connection
   * that publishes outputs must not reconnect: the client would send its buffered messages
   * after ones lost in flight, and the stream would store them after a gap.
   * @defaultValue true
   */
  reconnect: boolean;
  /**
   * Milliseconds to wait for the first connection before failing.
   * @defaultValue `5000`
   */
  connectTimeoutMs: number;
}

export const defaultConnectNatsOptions: ConnectNatsOptions = {
  servers: ['nats://127.0.0.1:4222'],
  name: 'wfm-aggregator',
  user: undefined,
  pass: undefined,
  reconnectTimeWaitMs: 1000,
  reconnect: true,
  connectTimeoutMs: 5000,
};

/**
 * Connects to NATS and keeps reconnecting forever after the first connection.
 * @throws NatsError when the first connection cannot be made (message never holds the password):
 *   kind `connection_closed` (transient) when no server could be reached, `other` (permanent) for
 *   an authorization failure.
 */
export async function connectNats(options: Partial<ConnectNatsOptions> = {}): Promise<NatsConnection> {
  const o: ConnectNatsOptions = { ...defaultConnectNatsOptions, ...options };
  const servers = o.servers.map(redactUrl);
  try {
    return await connect({
      servers: o.servers,
      name: o.name,
      ...(o.user !== undefined ? { user: o.user, pass: o.pass } : {}),
      // maxReconnectAttempts 0 alone still makes one immediate attempt, which succeeds when the
      // server is back at once (a network blip): only `reconnect: false` closes for good.
      reconnect: o.reconnect,
      maxReconnectAttempts: o.reconnect ? -1 : 0,
      reconnectTimeWait: o.reconnectTimeWaitMs,
      timeout: o.connectTimeoutMs,
    });
  } catch (err) {
    const who = o.user !== undefined ? ` as user ${o.user}` : '';
    // A server URL may carry credentials and the client may echo them: scrub before it reaches a log.
    throw natsErrorFrom(err, `cannot connect to NATS ${servers.join(', ')}${who}`, {
      redact: (text) => scrub(text, o.pass),
    });
  }
}

/** A change in the connection's state, as a node reports and counts it. */
export type NatsStatusEvent =
  | { type: 'disconnected'; server: string }
  | { type: 'reconnecting' }
  | { type: 'reconnected'; server: string }
  | { type: 'stale_connection' }
  | { type: 'slow_consumer'; subject: string; pending: number }
  | { type: 'lame_duck'; server: string }
  | { type: 'error'; error: Error }
  | { type: 'closed'; error: Error | undefined };

/**
 * The connection's status changes as a hot Observable: each subscriber sees the events that
 * happen after it subscribed. Ends with a `closed` event and completes when the connection closes.
 */
export function natsStatusEvents(nc: NatsConnection): Observable<NatsStatusEvent> {
  return new Observable<NatsStatusEvent>((subscriber) => {
    // Typed as a plain AsyncIterable, but it is the client's QueuedIterator: stop() ends it.
    const iter = nc.status() as AsyncIterable<Status> & { stop?: () => void };
    let active = true;
    void (async () => {
      for await (const s of iter) {
        const event = toStatusEvent(s);
        if (event !== undefined) subscriber.next(event);
      }
    })();
    void nc.closed().then((err) => {
      if (!active) return;
      subscriber.next({ type: 'closed', error: err instanceof Error ? err : undefined });
      subscriber.complete();
    });
    return () => {
      active = false;
      iter.stop?.();
    };
  });
}

function toStatusEvent(s: Status): NatsStatusEvent | undefined {
  switch (s.type) {
    case 'disconnect':
      return { type: 'disconnected', server: redactUrl(s.server) };
    case 'reconnecting':
      return { type: 'reconnecting' };
    case 'reconnect':
      return { type: 'reconnected', server: redactUrl(s.server) };
    case 'staleConnection':
      return { type: 'stale_connection' };
    case 'slowConsumer':
      return { type: 'slow_consumer', subject: s.sub.getSubject(), pending: s.pending };
    case 'ldm':
      return { type: 'lame_duck', server: redactUrl(s.server) };
    case 'error':
      return { type: 'error', error: s.error };
    // ping, cluster update, forceReconnect and close (reported from closed()) are not worth an event.
    default:
      return undefined;
  }
}

/** `nats://user:secret@host` → `nats://user:***@host`; anything unparsable is returned as is. */
function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}

function scrub(text: string, pass: string | undefined): string {
  return pass === undefined || pass === '' ? text : text.split(pass).join('***');
}
