import WebSocket from 'ws';
import type { ActorRefLike, AnyEventObject, InspectionEvent } from 'xstate';
import type { Logger } from '../logging/index.ts';

/**
 * The `@statelyai/inspect` protocol version the messages follow (its package version; the
 * inspector reads `_version` to know the shapes below).
 */
export const STATELY_INSPECT_VERSION = '0.7.1';

/**
 * What an inspected actor looked like: the `InspectedSnapshot` of `@statelyai/inspect` (only
 * these fields; an xstate machine snapshot also holds its machine, children and history).
 */
export interface InspectedSnapshot {
  status: string;
  value?: unknown;
  context?: unknown;
  output?: unknown;
  error?: unknown;
}

/** Fields every message has (`StatelyBaseInspectionEvent`). */
interface StatelyMessageBase {
  /** The actor's xstate session id (`x:12`): the inspector's key for it. */
  sessionId: string;
  /** Session id of the actor system's root actor. */
  rootId: string | undefined;
  /** `Date.now()` as a decimal string. */
  createdAt: string;
  /** Unique per message of this bridge. */
  id: string;
  _version: string;
}

/** An actor was created (`StatelyActorEvent`). */
export interface StatelyActorMessage extends StatelyMessageBase {
  type: '@xstate.actor';
  /** The actor's inspection name (see {@link actorName}), e.g. `site:S1`, `agent:S1/A1`. */
  name: string;
  /** Session id of its parent, when the parent is streamed too. */
  parentId: string | undefined;
  /** The machine's config as JSON text (functions as `{ type: name }`); undefined for non-machines. */
  definition: string | undefined;
  snapshot: InspectedSnapshot;
}

/** An event was delivered to an actor (`StatelyEventEvent`); `sessionId` is the target. */
export interface StatelyEventMessage extends StatelyMessageBase {
  type: '@xstate.event';
  event: unknown;
  /** Session id of the sender; undefined when sent from outside any actor. */
  sourceId: string | undefined;
}

/** An actor's snapshot changed after `event` (`StatelySnapshotEvent`). */
export interface StatelySnapshotMessage extends StatelyMessageBase {
  type: '@xstate.snapshot';
  event: unknown;
  snapshot: InspectedSnapshot;
}

export type StatelyMessage = StatelyActorMessage | StatelyEventMessage | StatelySnapshotMessage;

/**
 * Actors streamed when no filter is given: every site's lifecycle actor (and the actors it
 * invokes) and every election actor. Agents only when named: a site may have 100k of them.
 */
export const DEFAULT_INSPECT_ACTORS: readonly string[] = ['site:*', 'election:*'];

/** How an {@link InspectBridge} streams. */
export interface InspectBridgeOptions {
  /** The inspector's WebSocket URL (`ws://` or `wss://`), e.g. `ws://localhost:8080`. */
  url: string;
  /**
   * Most messages kept unsent (inspector unreachable or slow); past it the oldest is dropped and
   * counted in `stats.dropped`. @defaultValue 1000
   */
  maxQueue: number;
  /**
   * Which actors to stream, by inspection name (see {@link actorName}): glob patterns where `*`
   * matches any characters (`site:*`, `election:S1`, `agent:S1/A1`, `agent:S1/*`), or a predicate.
   * @defaultValue {@link DEFAULT_INSPECT_ACTORS}
   */
  actors: readonly string[] | ((name: string) => boolean);
  /** Messages written to the socket and not yet flushed; the rest wait in the queue. @defaultValue 64 */
  maxInFlight: number;
  /** First wait before reconnecting; doubles per failure. @defaultValue 250 */
  minReconnectMs: number;
  /** Longest wait between reconnects. @defaultValue 10000 */
  maxReconnectMs: number;
  /** Where connection changes are logged (once per change, not per retry). @defaultValue undefined */
  logger: Logger | undefined;
}

export const defaultInspectBridgeOptions: Omit<InspectBridgeOptions, 'url'> = {
  maxQueue: 1000,
  actors: DEFAULT_INSPECT_ACTORS,
  maxInFlight: 64,
  minReconnectMs: 250,
  maxReconnectMs: 10_000,
  logger: undefined,
};

/** What an {@link InspectBridge} has done. */
export interface InspectBridgeStats {
  connected: boolean;
  /** Messages waiting to be written. */
  queued: number;
  /** Messages whose write completed. */
  sent: number;
  /** Messages lost: the oldest dropped from a full queue, or in flight when a connection broke. */
  dropped: number;
  /** Connections opened (the first one included). */
  connections: number;
  /** Inspection events whose conversion threw (the actor is never affected). */
  errors: number;
}

/**
 * Parses `--inspect-actors`: comma-separated patterns (`site:*,election:*,agent:S1/A1`);
 * blanks are ignored. Throws RangeError when none is left.
 */
export function parseInspectActors(text: string): string[] {
  const patterns = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (patterns.length === 0) throw new RangeError(`--inspect-actors: no pattern in ${JSON.stringify(text)}`);
  return patterns;
}

/** A predicate over inspection names from glob patterns (`*`: any characters, else exact). */
export function matchActors(patterns: readonly string[]): (name: string) => boolean {
  if (patterns.length === 0) return () => false;
  const glob = patterns.map((p) => p.split('*').map(escapeRegExp).join('.*')).join('|');
  const re = new RegExp(`^(?:${glob})$`);
  return (name) => re.test(name);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The xstate actor fields the bridge reads (public on `Actor`, not on `ActorRefLike`). */
interface InspectedRef {
  id: string;
  sessionId: string;
  _parent?: InspectedRef;
  logic?: { config?: unknown };
}

/**
 * An actor's inspection name, from the ids the node gives its actors: a root actor is its id
 * (`site:S1`, `election:S1`, `agents:S1`); an agent — a child of `agents:<site>` — is
 * `agent:<site>/<agentId>`; any other child is `<parent's name>/<id>` (`site:S1/checkpoint`).
 */
export function actorName(ref: ActorRefLike): string {
  const r = ref as unknown as InspectedRef;
  const parent = r._parent;
  if (parent === undefined) return r.id;
  const parentName = actorName(parent as unknown as ActorRefLike);
  return parentName.startsWith('agents:') ? `agent:${parentName.slice(7)}/${r.id}` : `${parentName}/${r.id}`;
}

const MAX_DEPTH = 10;

/**
 * A JSON-safe copy of `value`: plain objects and arrays are copied (to `MAX_DEPTH`), `toJSON` is
 * honoured (dates, actor refs), functions become `{ type: name }` (as `@statelyai/inspect` sends
 * them), errors their name and message, and other class instances (a site's services, its
 * clock) only their class name — never their internals.
 */
export function toInspectable(value: unknown, depth = 0): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'bigint') return value.toString();
  if (typeof value === 'function') return { type: value.name || 'anonymous' };
  if (typeof value !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return '[…]';
  if (Array.isArray(value)) return value.map((v) => toInspectable(v, depth + 1) ?? null);
  if (value instanceof Error) return { name: value.name, message: value.message };
  const withJson = value as { toJSON?: unknown };
  if (typeof withJson.toJSON === 'function') {
    return toInspectable((withJson.toJSON as () => unknown).call(value), depth + 1);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    return `[${(proto as { constructor?: { name?: string } }).constructor?.name || 'object'}]`;
  }
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    const copy = toInspectable(v, depth + 1);
    if (copy !== undefined) out[k] = copy;
  }
  return out;
}

function inspectedSnapshot(snapshot: unknown): InspectedSnapshot {
  const s = (snapshot ?? {}) as Partial<Record<keyof InspectedSnapshot, unknown>>;
  const out: InspectedSnapshot = { status: typeof s.status === 'string' ? s.status : 'active' };
  for (const key of ['value', 'context', 'output', 'error'] as const) {
    if (s[key] !== undefined) out[key] = toInspectable(s[key]);
  }
  return out;
}

/** A fixed-size FIFO of message texts that drops its oldest when full. */
class BoundedQueue {
  readonly #items: (string | undefined)[];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    this.#items = new Array<string | undefined>(capacity).fill(undefined);
  }

  get size(): number {
    return this.#size;
  }

  /** Adds `item`; returns whether the oldest was dropped to make room. */
  push(item: string): boolean {
    const capacity = this.#items.length;
    const full = this.#size === capacity;
    if (full) this.shift();
    this.#items[(this.#head + this.#size) % capacity] = item;
    this.#size++;
    return full;
  }

  shift(): string | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#items.length;
    this.#size--;
    return item;
  }
}

/**
 * Streams xstate inspection events of chosen actors to an inspector over a WebSocket, as the
 * messages `@statelyai/inspect`'s `createWebSocketInspector` sends (`@xstate.actor` with the
 * machine's definition, `@xstate.event`, `@xstate.snapshot`; one JSON text per frame).
 *
 * Pass {@link observer} as xstate's `inspect` option. It never throws into an actor and never
 * waits: an event of an actor the filter refuses costs a lookup (the decision is kept per actor),
 * only accepted actors' snapshots and events are serialized — at once, as they are then — and
 * writing is fire-and-forget. At most `maxQueue` messages wait while the inspector is away or
 * slow (the oldest are dropped, counted), and go in order once it is back; the client reconnects
 * with a doubling backoff.
 */
export class InspectBridge {
  readonly #o: InspectBridgeOptions;
  readonly #accepts: (name: string) => boolean;
  readonly #queue: BoundedQueue;
  // Per actor: its name when streamed, null when not (decided once, at its first event).
  readonly #names = new WeakMap<object, string | null>();
  // Machine config JSON per logic, so a machine's definition is serialized once.
  readonly #definitions = new WeakMap<object, string | undefined>();
  #ws: WebSocket | null = null;
  #inFlight = 0;
  #delayMs: number;
  #timer: NodeJS.Timeout | null = null;
  #closed = false;
  #seq = 0;
  #warned = false;
  #lastError: string | undefined = undefined;
  #stats: Omit<InspectBridgeStats, 'connected' | 'queued'> = {
    sent: 0,
    dropped: 0,
    connections: 0,
    errors: 0,
  };

  constructor(options: Pick<InspectBridgeOptions, 'url'> & Partial<InspectBridgeOptions>) {
    this.#o = { ...defaultInspectBridgeOptions, ...options };
    const { url, maxQueue, maxInFlight, actors } = this.#o;
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      throw new RangeError(`inspect: not a URL: ${JSON.stringify(url)}`);
    }
    if (protocol !== 'ws:' && protocol !== 'wss:')
      throw new RangeError(`inspect: expected a ws:// or wss:// URL, got ${JSON.stringify(url)}`);
    if (!Number.isInteger(maxQueue) || maxQueue < 1)
      throw new RangeError(`inspect: maxQueue must be a positive integer, got ${maxQueue}`);
    if (!Number.isInteger(maxInFlight) || maxInFlight < 1)
      throw new RangeError(`inspect: maxInFlight must be a positive integer, got ${maxInFlight}`);
    this.#accepts = typeof actors === 'function' ? actors : matchActors(actors);
    this.#queue = new BoundedQueue(maxQueue);
    this.#delayMs = this.#o.minReconnectMs;
    this.#connect();
  }

  /** xstate's `inspect` option: `createActor(logic, { inspect: bridge.observer })`. */
  readonly observer = (event: InspectionEvent): void => {
    if (this.#closed) return;
    const type = event.type;
    if (type !== '@xstate.actor' && type !== '@xstate.event' && type !== '@xstate.snapshot') return;
    try {
      const name = this.#nameIfStreamed(event.actorRef);
      if (name === null) return;
      this.#enqueue(JSON.stringify(this.#message(event, name)));
    } catch {
      this.#stats.errors++;
    }
  };

  get stats(): InspectBridgeStats {
    return {
      connected: this.#ws?.readyState === WebSocket.OPEN,
      queued: this.#queue.size,
      ...this.#stats,
    };
  }

  /**
   * Stops: what is queued is written if connected, the socket closed (at most `timeoutMs`), and
   * inspection events are ignored from now on. Calling it again does nothing.
   */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== null) clearTimeout(this.#timer);
    const ws = this.#ws;
    if (ws === null) return;
    if (ws.readyState !== WebSocket.OPEN) {
      ws.terminate();
      return;
    }
    for (let m = this.#queue.shift(); m !== undefined; m = this.#queue.shift()) {
      this.#inFlight++;
      this.#write(ws, m);
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        ws.terminate();
        resolve();
      }, timeoutMs);
      ws.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      ws.close(1000, 'inspection stopped');
    });
  }

  #nameIfStreamed(ref: ActorRefLike): string | null {
    const known = this.#names.get(ref);
    if (known !== undefined) return known;
    const name = actorName(ref);
    const decided = this.#accepts(name) ? name : null;
    this.#names.set(ref, decided);
    return decided;
  }

  #message(event: InspectionEvent, name: string): StatelyMessage {
    const ref = event.actorRef as unknown as InspectedRef;
    const base = {
      sessionId: ref.sessionId,
      rootId: event.rootId,
      createdAt: Date.now().toString(),
      id: String(++this.#seq),
      _version: STATELY_INSPECT_VERSION,
    };
    switch (event.type) {
      case '@xstate.actor': {
        const parent = ref._parent;
        const parentStreamed =
          parent !== undefined && this.#nameIfStreamed(parent as unknown as ActorRefLike) !== null;
        return {
          type: '@xstate.actor',
          name,
          ...base,
          parentId: parentStreamed ? parent.sessionId : undefined,
          definition: this.#definition(ref),
          // Sent while the actor is being made, before it has a snapshot: its first
          // `@xstate.snapshot` follows when it starts.
          snapshot: { status: 'active' },
        };
      }
      case '@xstate.event':
        return {
          type: '@xstate.event',
          ...base,
          event: toInspectable(event.event as AnyEventObject),
          sourceId: event.sourceRef?.sessionId,
        };
      case '@xstate.snapshot':
        return {
          type: '@xstate.snapshot',
          ...base,
          event: toInspectable(event.event as AnyEventObject),
          snapshot: inspectedSnapshot(event.snapshot),
        };
      default:
        throw new Error(`not streamed: ${event.type}`);
    }
  }

  #definition(ref: InspectedRef): string | undefined {
    const logic = ref.logic;
    if (logic === undefined || typeof logic !== 'object') return undefined;
    if (this.#definitions.has(logic)) return this.#definitions.get(logic);
    const config = logic.config;
    const text =
      config !== undefined && typeof config === 'object' ? JSON.stringify(toInspectable(config)) : undefined;
    this.#definitions.set(logic, text);
    return text;
  }

  #enqueue(message: string): void {
    if (this.#queue.push(message)) this.#stats.dropped++;
    this.#pump();
  }

  #pump(): void {
    const ws = this.#ws;
    if (ws === null || ws.readyState !== WebSocket.OPEN) return;
    while (this.#inFlight < this.#o.maxInFlight) {
      const message = this.#queue.shift();
      if (message === undefined) return;
      this.#inFlight++;
      this.#write(ws, message);
    }
  }

  #write(ws: WebSocket, message: string): void {
    ws.send(message, (err) => {
      // A callback of a socket since replaced counts nothing against the new one.
      if (ws !== this.#ws) return;
      this.#inFlight = Math.max(0, this.#inFlight - 1);
      if (err) this.#stats.dropped++;
      else this.#stats.sent++;
      this.#pump();
    });
  }

  #connect(): void {
    this.#timer = null;
    if (this.#closed) return;
    const ws = new WebSocket(this.#o.url, { handshakeTimeout: 5000 });
    this.#ws = ws;
    this.#inFlight = 0;
    ws.on('open', () => {
      this.#stats.connections++;
      this.#delayMs = this.#o.minReconnectMs;
      this.#warned = false;
      this.#o.logger?.info({ url: this.#o.url }, 'inspector connected');
      this.#pump();
    });
    // Incoming messages are ignored; an error is followed by 'close', which reconnects.
    ws.on('error', (err) => {
      this.#lastError = err.message;
    });
    ws.on('close', () => {
      if (ws !== this.#ws) return;
      // Logged once per outage, not per retry.
      if (!this.#warned && !this.#closed)
        this.#o.logger?.warn({ url: this.#o.url, err: this.#lastError }, 'inspector unreachable; retrying');
      this.#warned = true;
      // What was in flight on this socket is lost (its callbacks report it) — count it now.
      this.#stats.dropped += this.#inFlight;
      this.#inFlight = 0;
      this.#ws = null;
      if (this.#closed) return;
      this.#timer = setTimeout(() => this.#connect(), this.#delayMs);
      this.#timer.unref();
      this.#delayMs = Math.min(this.#delayMs * 2, this.#o.maxReconnectMs);
    });
  }
}
