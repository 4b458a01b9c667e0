import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { keepOutputTail, killOnExit } from './childProcesses.ts';

/** How to launch a throwaway nats-server for a test. */
export interface NatsServerOptions {
  /**
   * The nats-server executable: a path, or a name looked up on PATH (and in /usr/sbin,
   * /usr/local/bin, where Debian and release tarballs put it).
   * @defaultValue `process.env.NATS_SERVER_BIN ?? 'nats-server'`
   */
  binary: string;
  /**
   * Extra command-line arguments, e.g. `['--user', 'T1', '--pass', 'secret']`.
   * @defaultValue `[]`
   */
  args: string[];
  /**
   * How long to wait for the server to write its ports file.
   * @defaultValue `10_000`
   */
  startTimeoutMs: number;
  /**
   * How long `stop()` waits after SIGTERM before it sends SIGKILL.
   * @defaultValue `10_000`
   */
  stopTimeoutMs: number;
}

export const defaultNatsServerOptions: NatsServerOptions = {
  binary: process.env.NATS_SERVER_BIN ?? 'nats-server',
  args: [],
  startTimeoutMs: 10_000,
  stopTimeoutMs: 10_000,
};

/** What a missing nats-server binary says. */
export const NATS_SERVER_NOT_FOUND = 'nats-server not found: apt-get install -y nats-server';
const NOT_FOUND = NATS_SERVER_NOT_FOUND;
const OUTPUT_TAIL_LINES = 40;

/**
 * A nats-server with JetStream on 127.0.0.1, a random client port and its own temp dirs, so
 * parallel test files never share a server. `restart()` brings it back on the same port with
 * the same store dir, so JetStream data survives (for reconnect tests).
 */
export class NatsServer {
  readonly options: NatsServerOptions;
  private readonly binaryPath: string;
  private readonly rootDir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private output: string[] = [];
  private clientPort = 0;
  private removed = false;

  private constructor(options: NatsServerOptions, binaryPath: string, rootDir: string) {
    this.options = options;
    this.binaryPath = binaryPath;
    this.rootDir = rootDir;
  }

  /** Starts a server; rejects with a clear message when the binary is missing or it fails to start. */
  static async start(options: Partial<NatsServerOptions> = {}): Promise<NatsServer> {
    const merged: NatsServerOptions = { ...defaultNatsServerOptions, ...options };
    const binaryPath = resolveNatsServerBinary(merged.binary);
    const rootDir = await mkdtemp(join(tmpdir(), 'wfm-nats-'));
    const server = new NatsServer(merged, binaryPath, rootDir);
    try {
      await server.launch();
    } catch (err) {
      await rm(rootDir, { recursive: true, force: true });
      throw err;
    }
    return server;
  }

  /** Client port (stays the same across `restart()`). */
  get port(): number {
    return this.clientPort;
  }

  /** `nats://127.0.0.1:<port>`. */
  get url(): string {
    return `nats://127.0.0.1:${this.clientPort}`;
  }

  /** JetStream store directory (kept across `kill()` and `restart()`). */
  get storeDir(): string {
    return join(this.rootDir, 'store');
  }

  /** Process id of the running server, or undefined when it is down. */
  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** True while the server process is running. */
  get running(): boolean {
    return this.child !== undefined;
  }

  /** The last lines the server printed (for failure messages). */
  get log(): string {
    return this.output.join('\n');
  }

  /** SIGTERM, wait for exit, remove the temp dirs. Safe to call twice. */
  async stop(): Promise<void> {
    await this.terminate();
    if (!this.removed) {
      this.removed = true;
      await rm(this.rootDir, { recursive: true, force: true });
    }
  }

  /** SIGKILL and wait for exit; the store dir stays so `restart()` can bring the data back. */
  async kill(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGKILL');
    await this.exited;
  }

  /**
   * Starts the server again on the same port with the same store dir, stopping it first
   * (SIGTERM) if it is running. `downMs` keeps it down that long before starting.
   */
  async restart(downMs = 0): Promise<void> {
    if (this.removed) throw new Error('NatsServer.restart() after stop()');
    await this.terminate();
    if (downMs > 0) await sleep(downMs);
    await this.launch();
  }

  private async terminate(): Promise<void> {
    const child = this.child;
    if (child === undefined) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), this.options.stopTimeoutMs);
    await this.exited;
    clearTimeout(timer);
  }

  private async launch(): Promise<void> {
    const portsDir = await mkdtemp(join(this.rootDir, 'ports-'));
    // -p -1 picks a free port the first time; a restart reuses it so clients reconnect.
    const port = this.clientPort === 0 ? '-1' : String(this.clientPort);
    const args = [
      '-js',
      '-a',
      '127.0.0.1',
      '-p',
      port,
      '--ports_file_dir',
      portsDir,
      '-sd',
      this.storeDir,
      ...this.options.args,
    ];
    this.output = [];
    const child = spawn(this.binaryPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let exitInfo: string | undefined;
    this.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        exitInfo = `exit code ${code ?? 'none'}, signal ${signal ?? 'none'}`;
        if (this.child === child) this.child = undefined;
        resolve();
      });
    });
    let spawnError: Error | undefined;
    child.once('error', (err) => {
      spawnError = err;
    });
    keepOutputTail(child, this.output, OUTPUT_TAIL_LINES);
    this.child = child;
    killOnExit(child);

    const deadline = Date.now() + this.options.startTimeoutMs;
    for (;;) {
      if (spawnError !== undefined) {
        const enoent = (spawnError as NodeJS.ErrnoException).code === 'ENOENT';
        throw new Error(enoent ? NOT_FOUND : `nats-server failed to spawn: ${spawnError.message}`);
      }
      if (exitInfo !== undefined) {
        throw new Error(`nats-server exited during start (${exitInfo}):\n${this.log}`);
      }
      const found = await readClientPort(portsDir, child.pid);
      if (found !== undefined) {
        this.clientPort = found;
        await rm(portsDir, { recursive: true, force: true });
        return;
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await this.exited;
        throw new Error(`nats-server did not start within ${this.options.startTimeoutMs} ms:\n${this.log}`);
      }
      await sleep(20);
    }
  }
}

/**
 * The nats-server executable: `binary` itself when it is a path, else found on PATH or in
 * /usr/sbin, /usr/local/bin, /usr/bin (where Debian and release tarballs put it).
 * @throws Error naming the package to install when there is none.
 */
export function resolveNatsServerBinary(binary: string): string {
  if (binary.includes('/')) {
    if (!isExecutable(binary)) throw new Error(NOT_FOUND);
    return binary;
  }
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/bin', '/usr/bin'];
  for (const dir of dirs) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    if (isExecutable(candidate)) return candidate;
  }
  throw new Error(NOT_FOUND);
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The server writes `<exe>_<pid>.ports` as JSON `{"nats":["nats://127.0.0.1:PORT"],…}`. */
async function readClientPort(portsDir: string, pid: number | undefined): Promise<number | undefined> {
  if (pid === undefined || !existsSync(portsDir)) return undefined;
  const name = (await readdir(portsDir)).find((f) => f.endsWith(`_${pid}.ports`));
  if (name === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(join(portsDir, name), 'utf8');
  } catch {
    return undefined;
  }
  // The file may be caught half-written; try again on the next poll.
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const urls = (parsed as { nats?: unknown }).nats;
  if (!Array.isArray(urls) || typeof urls[0] !== 'string') return undefined;
  const port = Number(new URL(urls[0]).port);
  return Number.isInteger(port) && port > 0 ? port : undefined;
}
