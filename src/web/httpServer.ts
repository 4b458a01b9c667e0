import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the HTTP server serves; the node provides it. */
export interface HttpSource {
  status(): unknown;
  metrics(): Promise<string>;
  /** The visualizer's data: nodes, sites, agents (optional until the web UI is wired). */
  agents?(site: string): unknown;
}

/** Where to listen. */
export interface HttpServerOptions {
  /**
   * Interface to bind; loopback unless told otherwise, so nothing is exposed by accident.
   * @defaultValue `'127.0.0.1'`
   */
  host: string;
  /**
   * Port; 0 picks a free one.
   * @defaultValue 8080
   */
  port: number;
}

export const defaultHttpServerOptions: HttpServerOptions = { host: '127.0.0.1', port: 8080 };

/** Parses `HOST:PORT` or `PORT` (the `--http` flag). */
export function parseHttpAddress(text: string): HttpServerOptions {
  const match = /^(?:(.+):)?(\d{1,5})$/.exec(text.trim());
  const port = match === null ? Number.NaN : Number(match[2]);
  if (match === null || port > 65_535) throw new RangeError(`--http wants HOST:PORT or PORT, got ${text}`);
  return { host: match[1] ?? defaultHttpServerOptions.host, port };
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' });
  res.end(body);
}

async function handle(source: HttpSource, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
  if (url.pathname === '/api/status')
    return send(res, 200, 'application/json', JSON.stringify(source.status()));
  if (url.pathname === '/metrics') return send(res, 200, 'text/plain; version=0.0.4', await source.metrics());
  send(res, 404, 'text/plain', 'not found\n');
}

/** Starts the node's HTTP server: `GET /api/status`, `GET /metrics`. Resolves once listening. */
export async function startHttpServer(
  source: HttpSource,
  options: Partial<HttpServerOptions> = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const o = { ...defaultHttpServerOptions, ...options };
  const server = createServer((req, res) => {
    handle(source, req, res).catch((err: unknown) =>
      send(res, 500, 'text/plain', `${(err as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
