/**
 * A wfm-aggregator node as a real child process (`node bin/wfm-agg.js node …`), for tests that
 * kill it for real. A {@link NodeHome} is the node's config file and data dir in a temp dir; it
 * outlives the processes started on it, so a node SIGKILLed and started again resumes from its
 * LevelDB checkpoint.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI_BIN, cliArgs, killOnExit } from '../../src/dev/index.ts';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOG_TAIL_LINES = 300;

/** One site of `GET /api/status`. */
export interface SiteStatusJson {
  tenant: string;
  site: string;
  role: 'primary' | 'backup';
  processedSeq: number;
  checkpointSeq: number;
  [key: string]: unknown;
}

/** `GET /api/status`. */
export interface NodeStatusJson {
  nodeId: string;
  sites: SiteStatusJson[];
  [key: string]: unknown;
}

/** What a {@link NodeHome} is made of. */
export interface NodeHomeOptions {
  /** NATS server URL(s) written to `nats.servers`. */
  natsUrl: string | string[];
  /**
   * Tenant id.
   * @defaultValue `'T1'`
   */
  tenant: string;
  /**
   * Site ids, all in one business unit `bu1`.
   * @defaultValue `['S1']`
   */
  sites: string[];
  /**
   * More top-level config keys merged over the generated ones.
   * @defaultValue `{}`
   */
  extraConfig: Record<string, unknown>;
}

/** A node's temp dir: `config.json` and `data/`. */
export class NodeHome {
  readonly root: string;
  readonly configFile: string;
  readonly dataDir: string;
  readonly config: Record<string, unknown>;
  private removed = false;

  private constructor(root: string, config: Record<string, unknown>) {
    this.root = root;
    this.configFile = join(root, 'config.json');
    this.dataDir = join(root, 'data');
    this.config = config;
  }

  /** Makes the temp dir and writes the config file. */
  static async create(
    options: Partial<NodeHomeOptions> & Pick<NodeHomeOptions, 'natsUrl'>,
  ): Promise<NodeHome> {
    const o: NodeHomeOptions = { tenant: 'T1', sites: ['S1'], extraConfig: {}, ...options };
    const root = await mkdtemp(join(tmpdir(), 'wfm-node-'));
    const dataDir = join(root, 'data');
    const config: Record<string, unknown> = {
      tenant: { id: o.tenant },
      nats: { servers: Array.isArray(o.natsUrl) ? o.natsUrl : [o.natsUrl] },
      dataDir,
      businessUnits: [
        {
          id: 'bu1',
          name: 'Business unit 1',
          sites: o.sites.map((id) => ({
            id,
            name: id,
            timeZone: 'UTC',
            intervalMinutes: 15,
            offsetMinutes: 0,
          })),
        },
      ],
      ...o.extraConfig,
    };
    const home = new NodeHome(root, config);
    await mkdir(dataDir, { recursive: true });
    await writeFile(home.configFile, `${JSON.stringify(config, null, 2)}\n`);
    return home;
  }

  /** Removes the temp dir (stop every node on it first). Safe to call twice. */
  async remove(): Promise<void> {
    if (this.removed) return;
    this.removed = true;
    await rm(this.root, { recursive: true, force: true });
  }
}

/** How a node process ended. */
export interface NodeExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Options of {@link NodeProcess.spawn}. */
export interface NodeProcessOptions {
  /**
   * `--node-id`.
   * @defaultValue `'n1'`
   */
  nodeId: string;
  /**
   * `--log-level`.
   * @defaultValue `'info'`
   */
  logLevel: 'trace' | 'debug' | 'info' | 'warn' | 'error';
  /**
   * How long {@link NodeProcess.ready} waits for the `http listening` line.
   * @defaultValue `30_000`
   */
  readyTimeoutMs: number;
  /**
   * How long `stop()` waits after SIGTERM before it gives up (SIGKILL, and reject).
   * @defaultValue `20_000`
   */
  stopTimeoutMs: number;
  /**
   * More `wfm-agg node` flags, after the others.
   * @defaultValue `[]`
   */
  extraArgs: readonly string[];
  /**
   * The CLI file run (e.g. `bin/wfm-agg.js` of an unpacked package).
   * @defaultValue `CLI_BIN`: this checkout's
   */
  bin: string;
}

const defaultNodeProcessOptions: NodeProcessOptions = {
  nodeId: 'n1',
  logLevel: 'info',
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 20_000,
  extraArgs: [],
  bin: CLI_BIN,
};

/**
 * One `wfm-agg node` child process on a {@link NodeHome}, serving HTTP on a free loopback port.
 * Its JSON log lines are kept (a tail, for failure messages; parsed, for assertions).
 */
export class NodeProcess {
  readonly home: NodeHome;
  readonly options: NodeProcessOptions;
  /** Resolves with the HTTP base URL once the node logged `http listening`; rejects if it exits first. */
  readonly ready: Promise<string>;
  /** Resolves when the process has exited. */
  readonly exited: Promise<NodeExit>;
  /** Parsed JSON log lines of this process, in order (every one, not just the tail). */
  readonly records: Record<string, unknown>[] = [];
  private readonly child: ChildProcess;
  private readonly tail: string[] = [];
  private exit: NodeExit | undefined;
  private httpUrl: string | undefined;

  private constructor(home: NodeHome, options: NodeProcessOptions) {
    this.home = home;
    this.options = options;
    const env = { ...process.env };
    // The config file is the whole truth: no overrides from the developer's shell.
    for (const name of ['WFM_NATS_URL', 'WFM_DATA_DIR', 'WFM_DATABASE_URL', 'WFM_TENANT_PASSWORD']) {
      delete env[name];
    }
    const args = cliArgs(
      [
        'node',
        '--config',
        home.configFile,
        '--node-id',
        options.nodeId,
        '--data-dir',
        home.dataDir,
        '--http',
        '127.0.0.1:0',
        '--log-level',
        options.logLevel,
        ...options.extraArgs,
      ],
      options.bin,
    );
    // process.execPath runs bin/wfm-agg.js itself, with the V8 flags its shebang names (no npx/tsx
    // wrapper), so SIGKILL hits the node.
    const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    killOnExit(child);
    this.exited = new Promise<NodeExit>((resolve) => {
      child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    let readyResolve!: (url: string) => void;
    let readyReject!: (err: Error) => void;
    this.ready = new Promise<string>((resolve, reject) => {
      readyResolve = resolve;
      readyReject = reject;
    });
    // Nobody may await `ready` (a node killed before it listens): never an unhandled rejection.
    this.ready.catch(() => undefined);
    const timer = setTimeout(() => {
      readyReject(
        new Error(`node did not log "http listening" within ${options.readyTimeoutMs} ms\n${this.log}`),
      );
    }, options.readyTimeoutMs);
    void this.exited.then((exit) => {
      clearTimeout(timer);
      const why = spawnError !== undefined ? `failed to spawn: ${spawnError.message}` : describeExit(exit);
      readyReject(new Error(`node exited before "http listening" (${why})\n${this.log}`));
    });

    let stdoutRest = '';
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (chunk: string) => {
      stdoutRest += chunk;
      const lines = stdoutRest.split('\n');
      stdoutRest = lines.pop() ?? '';
      for (const line of lines) {
        if (line === '') continue;
        this.keep(line);
        let record: Record<string, unknown> | undefined;
        try {
          const parsed: unknown = JSON.parse(line);
          if (typeof parsed === 'object' && parsed !== null) record = parsed as Record<string, unknown>;
        } catch {
          // Not a log line (a stray print): kept in the tail only.
        }
        if (record === undefined) continue;
        this.records.push(record);
        if (record.msg === 'http listening' && typeof record.url === 'string') {
          this.httpUrl = record.url;
          clearTimeout(timer);
          readyResolve(record.url);
        }
      }
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      for (const line of chunk.split('\n')) if (line !== '') this.keep(`[stderr] ${line}`);
    });
  }

  /** Spawns a node on `home` and returns at once; await {@link ready} for its URL. */
  static spawn(home: NodeHome, options: Partial<NodeProcessOptions> = {}): NodeProcess {
    return new NodeProcess(home, { ...defaultNodeProcessOptions, ...options });
  }

  /** Spawns a node on `home` and waits until it serves HTTP. */
  static async start(home: NodeHome, options: Partial<NodeProcessOptions> = {}): Promise<NodeProcess> {
    const node = NodeProcess.spawn(home, options);
    try {
      await node.ready;
    } catch (err) {
      await node.kill();
      throw err;
    }
    return node;
  }

  /** Process id. */
  get pid(): number | undefined {
    return this.child.pid;
  }

  /** HTTP base URL, once known. */
  get url(): string | undefined {
    return this.httpUrl;
  }

  /** True until the process has exited. */
  get running(): boolean {
    return this.exit === undefined;
  }

  /** The last lines the node printed, stdout and stderr (for failure messages). */
  get log(): string {
    return this.tail.join('\n');
  }

  /** Log records whose `msg` is `msg`, in order. */
  logged(msg: string): Record<string, unknown>[] {
    return this.records.filter((r) => r.msg === msg);
  }

  /** `GET /api/status`. Rejects when the node is not serving (yet, or any more). */
  async status(): Promise<NodeStatusJson> {
    const url = this.httpUrl;
    if (url === undefined) throw new Error('node is not serving HTTP yet');
    const res = await fetch(`${url}/api/status`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`GET /api/status: HTTP ${res.status}`);
    return (await res.json()) as NodeStatusJson;
  }

  /** Sends `signal` (e.g. SIGSTOP / SIGCONT to pause and resume the process). */
  signal(signal: NodeJS.Signals): void {
    if (this.exit === undefined) this.child.kill(signal);
  }

  /** SIGKILL, for real, and wait for the exit. */
  async kill(): Promise<NodeExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /**
   * SIGTERM (the node drains: flushes outputs, writes a final checkpoint) and wait for the exit.
   * @throws Error (after a SIGKILL) when it has not exited within `stopTimeoutMs`.
   */
  async stop(): Promise<NodeExit> {
    if (this.exit !== undefined) return this.exit;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.options.stopTimeoutMs);
    });
    const result = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (result === 'timeout') {
      await this.kill();
      throw new Error(`node did not exit within ${this.options.stopTimeoutMs} ms of SIGTERM\n${this.log}`);
    }
    return result;
  }

  private keep(line: string): void {
    this.tail.push(line);
    if (this.tail.length > LOG_TAIL_LINES) this.tail.splice(0, this.tail.length - LOG_TAIL_LINES);
  }
}

function describeExit(exit: NodeExit): string {
  return `exit code ${exit.code ?? 'none'}, signal ${exit.signal ?? 'none'}`;
}

/**
 * Polls `check` every `intervalMs` until it returns a value other than undefined, and returns
 * it; rejects with `describe()` (the last state, logs…) after `timeoutMs`.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined> | T | undefined,
  options: { timeoutMs: number; intervalMs?: number; describe: () => string },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    let value: T | undefined;
    let error: unknown;
    try {
      value = await check();
    } catch (err) {
      error = err;
    }
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const last =
        error === undefined ? '' : ` (last error: ${error instanceof Error ? error.message : String(error)})`;
      throw new Error(`timed out after ${options.timeoutMs} ms${last}: ${options.describe()}`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 50));
  }
}
