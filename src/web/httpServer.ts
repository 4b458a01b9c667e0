import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentQueryError, parseAgentQuery } from './agentQuery.ts';
import { EventStream, type EventStreamOptions } from './EventStream.ts';
import { machineDefinitions, NodeVisualizer, type VisualizedNode } from './VisualizerSource.ts';

/**
 * What the HTTP server serves; the node provides it. With `sites`, `processedSeq` and
 * `streamManager` too (a `WfmNode` has them), it serves the visualizer's API as well.
 */
export interface HttpSource extends Partial<Omit<VisualizedNode, 'status'>> {
  status(): unknown;
  metrics(): Promise<string>;
}

/** The visualizer's static files: `src/web/public/`. */
export const defaultPublicDir = fileURLToPath(new URL('./public/', import.meta.url));

/** Content types of the static files served; other files of the folder are not served. */
const STATIC_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

interface StaticFile {
  type: string;
  body: Buffer;
}

/**
 * The static files, read once: `index.html` (served at `/`) and every `<name>.js` / `<name>.css`
 * directly in `dir` (served at `/<name>.js`); a missing folder serves nothing.
 */
export function readStaticFiles(dir: string): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const ext = /^[A-Za-z0-9_.-]+(\.js|\.css)$/.exec(name)?.[1] ?? (name === 'index.html' ? '.html' : null);
    if (ext === null || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (!statSync(path).isFile()) continue;
    files.set(name === 'index.html' ? '/' : `/${name}`, {
      type: STATIC_TYPES[ext]!,
      body: readFileSync(path),
    });
  }
  return files;
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

function send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
  res.writeHead(status, {
    'content-type': type,
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

/** Everything a request may need, made once at server start. */
interface Served {
  source: HttpSource;
  files: Map<string, StaticFile>;
  visualizer: NodeVisualizer | null;
  events: EventStream | null;
}

function visualizedNode(source: HttpSource): VisualizedNode | null {
  return source.sites !== undefined && source.streamManager !== undefined && source.processedSeq !== undefined
    ? (source as VisualizedNode)
    : null;
}

/** `/api/agents/:site/:agentId` → its two segments, decoded (null: not that path). */
function agentPath(pathname: string): [string, string] | null {
  const parts = pathname.split('/');
  if (parts.length !== 5 || parts[1] !== 'api' || parts[2] !== 'agents') return null;
  try {
    const site = decodeURIComponent(parts[3]!);
    const agentId = decodeURIComponent(parts[4]!);
    return site === '' || agentId === '' ? null : [site, agentId];
  } catch {
    return null;
  }
}

async function handle(served: Served, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const { source, visualizer } = served;
  const url = new URL(req.url ?? '/', 'http://localhost');
  const path = url.pathname;
  if (req.method !== 'GET') return send(res, 405, 'text/plain', 'method not allowed\n');
  if (path === '/api/status') return sendJson(res, 200, source.status());
  if (path === '/metrics') return send(res, 200, 'text/plain; version=0.0.4', await source.metrics());
  const file = served.files.get(path);
  if (file !== undefined) return send(res, 200, file.type, file.body);
  if (!path.startsWith('/api/')) return send(res, 404, 'text/plain', 'not found\n');
  if (visualizer === null) return sendJson(res, 404, { error: 'this server has no visualizer data' });
  if (path === '/api/agents') {
    try {
      return sendJson(res, 200, visualizer.agents(parseAgentQuery(url.searchParams)));
    } catch (err) {
      if (err instanceof AgentQueryError) return sendJson(res, 400, { error: err.message });
      throw err;
    }
  }
  if (path === '/api/sites') return sendJson(res, 200, visualizer.sites());
  if (path === '/api/cluster') return sendJson(res, 200, await visualizer.cluster());
  if (path === '/api/machines') return sendJson(res, 200, machineDefinitions());
  if (path === '/api/events') return served.events!.add(req, res);
  const agent = agentPath(path);
  if (agent !== null) {
    const detail = await visualizer.agent(agent[0], agent[1]);
    if (detail === null)
      return sendJson(res, 404, { error: `no agent ${agent[1]} of a site ${agent[0]} hosted here` });
    return sendJson(res, 200, detail);
  }
  sendJson(res, 404, { error: 'not found' });
}

/** What {@link startHttpServer} takes beyond where to listen. */
export interface HttpServeOptions {
  /** The visualizer's static files. @defaultValue {@link defaultPublicDir} */
  publicDir: string;
  /** The event stream's tick and keep-alive. */
  events: Partial<EventStreamOptions>;
}

/**
 * Starts the node's HTTP server: `GET /api/status`, `GET /metrics`, and the visualizer — its
 * static files at `/`, `/<name>.js`, `/<name>.css`, and `GET /api/agents`,
 * `/api/agents/:site/:agentId`, `/api/sites`, `/api/cluster`, `/api/machines`, `/api/events` (SSE) when the
 * source is a node (see {@link HttpSource}). Resolves once listening.
 */
export async function startHttpServer(
  source: HttpSource,
  options: Partial<HttpServerOptions & HttpServeOptions> = {},
): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const o = { ...defaultHttpServerOptions, ...options };
  const node = visualizedNode(source);
  const visualizer = node === null ? null : new NodeVisualizer(node);
  const events =
    visualizer === null
      ? null
      : new EventStream(
          {
            status: () => visualizer.statusEvent(),
            agents: () => {
              const changed = visualizer.changedAgents();
              return changed.changed.length === 0 ? null : changed;
            },
            reset: () => visualizer.changedAgents(),
          },
          o.events,
        );
  const served: Served = {
    source,
    files: readStaticFiles(o.publicDir ?? defaultPublicDir),
    visualizer,
    events,
  };
  const server = createServer((req, res) => {
    handle(served, req, res).catch((err: unknown) => {
      if (res.headersSent) res.end();
      else send(res, 500, 'text/plain', `${(err as Error).message}\n`);
    });
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
    close: () => {
      events?.close();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
