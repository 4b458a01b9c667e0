import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/**
 * A TCP proxy on a free local port in front of `host:port`. `cut()` drops every connection
 * through it while it keeps accepting new ones: to a client that is exactly a network blip
 * after which the server is reachable again at once.
 */
export class TcpProxy {
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  #isolated = false;

  private constructor(server: Server) {
    this.#server = server;
  }

  /** Starts a proxy to `target` (`nats://host:port` or `host:port`). */
  static async start(target: string): Promise<TcpProxy> {
    const url = new URL(target.includes('://') ? target : `tcp://${target}`);
    const server = createServer((client) => {
      if (proxy.#isolated) {
        client.destroy();
        return;
      }
      const upstream = tcpConnect(Number(url.port), url.hostname);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        proxy.#sockets.add(a);
        a.pipe(b);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          proxy.#sockets.delete(a);
          b.destroy();
        });
      }
    });
    const proxy = new TcpProxy(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  /** `nats://127.0.0.1:<proxy port>`. */
  get url(): string {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('proxy not listening');
    return `nats://127.0.0.1:${address.port}`;
  }

  /** Drops every open connection through the proxy; new ones are still accepted. */
  cut(): void {
    for (const socket of this.#sockets) socket.destroy();
  }

  /** A partition: drops every connection and refuses new ones until {@link heal}. */
  isolate(): void {
    this.#isolated = true;
    this.cut();
  }

  /** Ends the partition: connections are accepted again. */
  heal(): void {
    this.#isolated = false;
  }

  /** Drops every connection and stops listening. */
  async stop(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}
