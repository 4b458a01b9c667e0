import { NatsError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import {
  type ConnectNatsOptions,
  closeNats,
  connectNats,
  Publisher,
  type PublisherOptions,
} from '../streams/index.ts';

/** What a {@link PublishingConnection} needs. */
export interface PublishingConnectionOptions {
  /** How to connect (the node's tenant credentials); `reconnect` is forced off. */
  connect: Partial<ConnectNatsOptions>;
  publisher: Partial<PublisherOptions>;
  logger: Logger;
  /** The connection was lost: everything in flight failed, every site must rebuild. */
  onLost: (error: Error) => void;
}

/**
 * The node's publishing connection and its {@link Publisher}. It never reconnects by itself:
 * a drop fails what was in flight at once (no silent gap), every site rebuilds from its
 * checkpoint and re-sends what is missing, and a new connection is opened with backoff.
 */
export class PublishingConnection {
  readonly #o: PublishingConnectionOptions;
  #publisher: Publisher | null = null;
  #closed = false;

  private constructor(options: PublishingConnectionOptions) {
    this.#o = options;
  }

  /** Opens the first connection (rejects when NATS cannot be reached). */
  static async open(options: PublishingConnectionOptions): Promise<PublishingConnection> {
    const connection = new PublishingConnection(options);
    await connection.#connect();
    return connection;
  }

  /** The publisher now, or null while a lost connection is being reopened. */
  get publisher(): Publisher | null {
    return this.#publisher;
  }

  /** The publisher now. @throws NatsError while the connection is being reopened. */
  current(): Publisher {
    if (this.#publisher === null)
      throw new NatsError('the publishing connection is being reopened', { kind: 'connection_closed' });
    return this.#publisher;
  }

  /** Drains and closes; it is not reopened. */
  async close(): Promise<void> {
    this.#closed = true;
    const publisher = this.#publisher;
    this.#publisher = null;
    if (publisher !== null) await closeNats(publisher.connection);
  }

  async #connect(): Promise<void> {
    const nc = await connectNats({ ...this.#o.connect, reconnect: false });
    const publisher = new Publisher(nc, this.#o.publisher);
    this.#publisher = publisher;
    void nc.closed().then((err) => this.#lost(publisher, err ?? undefined));
  }

  #lost(publisher: Publisher, err: Error | undefined): void {
    if (this.#closed || this.#publisher !== publisher) return;
    this.#publisher = null;
    const error = err ?? new NatsError('the publishing connection closed', { kind: 'connection_closed' });
    publisher.abort(error);
    this.#o.logger.warn(
      { err: error },
      'publishing connection lost; every site rebuilds from its checkpoint',
    );
    this.#o.onLost(error);
    void this.#reopen();
  }

  async #reopen(): Promise<void> {
    for (let delay = 250; !this.#closed; delay = Math.min(delay * 2, 5000)) {
      try {
        await this.#connect();
        return;
      } catch (err) {
        this.#o.logger.warn({ err }, 'reopening the publishing connection failed; trying again');
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }
}
