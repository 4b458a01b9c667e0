import type { IncomingMessage, ServerResponse } from 'node:http';

/** What an {@link EventStream} sends on each tick. */
export interface EventStreamSource {
  /** The `status` event's data, sent every tick. */
  status(): Promise<unknown>;
  /** The `agents` event's data, or null: nothing changed (no event this tick). */
  agents(): unknown | null;
  /** Called when the first client connects: forget what changed while nobody watched. */
  reset?(): void;
}

export interface EventStreamOptions {
  /** @defaultValue 1000 */
  intervalMs: number;
  /** A comment line every this often keeps proxies from closing an idle stream. @defaultValue 15000 */
  keepAliveMs: number;
}

export const defaultEventStreamOptions: EventStreamOptions = { intervalMs: 1000, keepAliveMs: 15_000 };

/**
 * Server-Sent Events for the visualizer (`GET /api/events`): every `intervalMs` one `status`
 * event and, when agents changed, one `agents` event, the same to every client (each event
 * is built once per tick, whatever the number of clients). The timer runs only while a client
 * is connected; a closed client is dropped; a tick still running when the next is due skips it.
 */
export class EventStream {
  readonly #source: EventStreamSource;
  readonly #options: EventStreamOptions;
  readonly #clients = new Set<ServerResponse>();
  #timer: NodeJS.Timeout | null = null;
  #busy = false;
  #lastKeepAlive = 0;

  constructor(source: EventStreamSource, options: Partial<EventStreamOptions> = {}) {
    this.#source = source;
    this.#options = { ...defaultEventStreamOptions, ...options };
  }

  /** Connected clients. */
  get clients(): number {
    return this.#clients.size;
  }

  /** Whether the tick timer runs (only while a client is connected). */
  get running(): boolean {
    return this.#timer !== null;
  }

  /** Takes a `GET /api/events` request: answers with the event stream and keeps it open. */
  add(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-content-type-options': 'nosniff',
    });
    res.write(`retry: 2000\n: connected\n\n`);
    this.#clients.add(res);
    const drop = () => this.#drop(res);
    req.on('close', drop);
    res.on('close', drop);
    res.on('error', drop);
    if (this.#timer === null) {
      this.#source.reset?.();
      this.#lastKeepAlive = Date.now();
      this.#timer = setInterval(() => void this.#tick(), this.#options.intervalMs);
    }
  }

  /** Ends every client's stream and stops the timer (the server is closing). */
  close(): void {
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#stop();
  }

  #drop(res: ServerResponse): void {
    if (!this.#clients.delete(res)) return;
    if (this.#clients.size === 0) this.#stop();
  }

  #stop(): void {
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  async #tick(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      let text = '';
      const now = Date.now();
      if (now - this.#lastKeepAlive >= this.#options.keepAliveMs) {
        this.#lastKeepAlive = now;
        text += ': keep-alive\n\n';
      }
      text += frame('status', await this.#source.status());
      const agents = this.#source.agents();
      if (agents !== null) text += frame('agents', agents);
      for (const res of this.#clients) res.write(text);
    } catch {
      // A failed tick sends nothing; the next one tries again.
    } finally {
      this.#busy = false;
    }
  }
}

/** One SSE event; the data is one line of JSON (JSON.stringify never emits a newline). */
function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}
