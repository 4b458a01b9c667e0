import { execFile, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { appendFile, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

/** How to launch a throwaway PostgreSQL for a test. */
export interface PostgresServerOptions {
  /**
   * Directory of `initdb`, `pg_ctl` and `postgres`.
   * @defaultValue `process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin'`
   */
  binDir: string;
  /**
   * Login role that owns the test database; it logs in over TCP with {@link password}.
   * @defaultValue `'wfm'`
   */
  user: string;
  /** @defaultValue `'secret'` */
  password: string;
  /** @defaultValue `'wfm'` */
  database: string;
  /**
   * How long `pg_ctl` waits for the server to accept connections (or to stop).
   * @defaultValue `30`
   */
  timeoutSeconds: number;
}

export const defaultPostgresServerOptions: PostgresServerOptions = {
  binDir: process.env.PG_BIN_DIR ?? '/usr/lib/postgresql/15/bin',
  user: 'wfm',
  password: 'secret',
  database: 'wfm',
  timeoutSeconds: 30,
};

/** A transaction holding `ACCESS EXCLUSIVE` on a table: every other use of it waits. */
export interface TableLock {
  /** Resolves when the lock is released (after `ms`, or by {@link release}). */
  readonly released: Promise<void>;
  /** Releases the lock now. */
  release(): Promise<void>;
}

// The machine's own PostgreSQL listens there: never start on it, never stop it.
const SYSTEM_PORT = 5432;
const SUPERUSER = 'postgres';
// Servers still running when the test process exits would keep ports and temp dirs.
const live = new Set<PostgresServer>();
process.once('exit', () => {
  for (const server of live) server.killSync();
});

/**
 * A PostgreSQL 15 cluster in its own temp dir on a free 127.0.0.1 port (its unix socket in the
 * temp dir), with a database and a password-authenticated owner, so parallel test files never
 * share a server and the machine's own PostgreSQL is never touched. Durability is turned off:
 * tests start several clusters and never survive a power cut. As root, `initdb` and `pg_ctl` run
 * as the `postgres` user (PostgreSQL refuses to run as root).
 */
export class PostgresServer {
  readonly options: PostgresServerOptions;
  /** The temp dir: data dir `data/`, unix socket, `server.log`. */
  readonly dir: string;
  readonly port: number;
  #running = false;

  private constructor(options: PostgresServerOptions, dir: string, port: number) {
    this.options = options;
    this.dir = dir;
    this.port = port;
  }

  /** Initializes a cluster, starts it and creates the role and database of the options. */
  static async start(options: Partial<PostgresServerOptions> = {}): Promise<PostgresServer> {
    const merged: PostgresServerOptions = { ...defaultPostgresServerOptions, ...options };
    const dir = await mkdtemp(join(tmpdir(), 'wfm-pg-'));
    const server = new PostgresServer(merged, dir, await freePort());
    try {
      await server.#init();
      await server.startAgain();
      const { user, password, database } = merged;
      const client = server.#admin('postgres');
      await client.connect();
      try {
        await client.query(
          `CREATE ROLE ${client.escapeIdentifier(user)} LOGIN PASSWORD ${client.escapeLiteral(password)}`,
        );
      } finally {
        await client.end();
      }
      await server.createDatabase(database);
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** `postgres://user:password@127.0.0.1:port/database` of the test database. */
  get url(): string {
    return this.urlFor(this.options.database);
  }

  /** The URL of another database of this server, or with another password. */
  urlFor(database: string, password = this.options.password): string {
    const user = encodeURIComponent(this.options.user);
    return `postgres://${user}:${encodeURIComponent(password)}@127.0.0.1:${this.port}/${encodeURIComponent(database)}`;
  }

  /** The postmaster's process id while it runs (from its `postmaster.pid`), else undefined. */
  get pid(): number | undefined {
    if (!this.#running) return undefined;
    try {
      const pid = Number(readFileSync(join(this.#dataDir, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return Number.isInteger(pid) && pid > 0 ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  /** True between a start and a stop. */
  get running(): boolean {
    return this.#running;
  }

  /** The server's log so far (for failure messages). */
  async readLog(): Promise<string> {
    return readFile(join(this.dir, 'server.log'), 'utf8').catch(() => '');
  }

  /** Creates an empty database owned by the test role (a fresh name when none given); returns its URL. */
  async createDatabase(
    name = `wfm_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`,
  ): Promise<string> {
    const client = this.#admin('postgres');
    await client.connect();
    try {
      const owner = client.escapeIdentifier(this.options.user);
      // FILE_COPY skips WAL-logging every block of the template: several times faster.
      await client.query(
        `CREATE DATABASE ${client.escapeIdentifier(name)} OWNER ${owner} STRATEGY = FILE_COPY`,
      );
    } finally {
      await client.end();
    }
    return this.urlFor(name);
  }

  /** Runs one statement as superuser over the unix socket (a client per call). */
  async query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    sql: string,
    params: unknown[] = [],
    database = this.options.database,
  ): Promise<R[]> {
    const client = this.#admin(database);
    await client.connect();
    try {
      return (await client.query<R>(sql, params)).rows;
    } finally {
      await client.end();
    }
  }

  /**
   * Takes `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` in an open transaction and resolves once it is
   * held; the lock is released after `ms`: a database that is slow, not down.
   */
  async holdTableLock(table: string, ms: number, database = this.options.database): Promise<TableLock> {
    const client = this.#admin(database);
    // A server stopped while the lock is held ends the connection: not a test failure.
    client.on('error', () => undefined);
    await client.connect();
    await client.query('BEGIN');
    await client.query(`LOCK TABLE ${client.escapeIdentifier(table)} IN ACCESS EXCLUSIVE MODE`);
    let release!: () => void;
    const due = new Promise<void>((resolve) => {
      release = resolve;
    });
    const timer = setTimeout(release, ms);
    const released = due.then(async () => {
      clearTimeout(timer);
      await client.query('COMMIT').catch(() => undefined);
      await client.end().catch(() => undefined);
    });
    return {
      released,
      release: async () => {
        release();
        await released;
      },
    };
  }

  /** Stops the server (`immediate`: no shutdown checkpoint, clients cut off); keeps the data dir. */
  async stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    if (!this.#running) return;
    await this.#run('pg_ctl', ['stop', '-D', this.#dataDir, '-m', mode, ...this.#wait]);
    this.#running = false;
    live.delete(this);
  }

  /** Starts the server on its data dir and port (after {@link stop}, or the first time). */
  async startAgain(): Promise<void> {
    if (this.#running) return;
    const logFile = join(this.dir, 'server.log');
    try {
      await this.#run('pg_ctl', ['start', '-D', this.#dataDir, '-l', logFile, ...this.#wait]);
    } catch (error) {
      throw new Error(`${(error as Error).message}\n${(await this.readLog()).slice(-4000)}`);
    }
    this.#running = true;
    live.add(this);
  }

  /** Stops the server (immediately) and removes its temp dir. Safe to call twice. */
  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => this.killSync());
    await rm(this.dir, { recursive: true, force: true });
  }

  /** Synchronous last resort for process exit: immediate stop, remove the temp dir. */
  killSync(): void {
    const [command, args] = this.#command('pg_ctl', ['stop', '-D', this.#dataDir, '-m', 'immediate', '-w']);
    spawnSync(command, args, { stdio: 'ignore' });
    rmSync(this.dir, { recursive: true, force: true });
    this.#running = false;
    live.delete(this);
  }

  get #dataDir(): string {
    return join(this.dir, 'data');
  }

  /** pg_ctl waits until the server accepts connections (or has stopped). */
  get #wait(): string[] {
    return ['-w', '-t', String(this.options.timeoutSeconds)];
  }

  async #init(): Promise<void> {
    if (isRoot()) {
      // initdb refuses root; the postgres user must own the temp dir (mkdtemp made it 0700).
      const entry = spawnSync('getent', ['passwd', SUPERUSER], { encoding: 'utf8' }).stdout ?? '';
      const [, , uid, gid] = entry.split(':');
      if (uid === undefined || gid === undefined)
        throw new Error(`running as root needs a ${SUPERUSER} user`);
      await chown(this.dir, Number(uid), Number(gid));
    }
    await this.#run('initdb', [
      ...['-D', this.#dataDir, '-U', SUPERUSER, '-E', 'UTF8', '--locale=C'],
      ...['--no-sync', '--no-instructions', '--auth-local=trust', '--auth-host=scram-sha-256'],
    ]);
    // postgresql.conf, not pg_ctl -o: startAgain() then needs nothing but the data dir.
    const settings = [
      `port = ${this.port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${this.dir}'`,
      'fsync = off',
      'full_page_writes = off',
      'shared_buffers = 16MB',
      'max_connections = 60',
    ];
    await appendFile(join(this.#dataDir, 'postgresql.conf'), `\n${settings.join('\n')}\n`);
  }

  #admin(database: string): pg.Client {
    // Trust over the unix socket: the admin needs no password, the test role does.
    return new pg.Client({ host: this.dir, port: this.port, user: SUPERUSER, database });
  }

  #command(tool: string, args: string[]): [string, string[]] {
    const path = join(this.options.binDir, tool);
    return isRoot() ? ['runuser', ['-u', SUPERUSER, '--', path, ...args]] : [path, args];
  }

  #run(tool: string, args: string[]): Promise<void> {
    const [command, fullArgs] = this.#command(tool, args);
    return new Promise((resolve, reject) => {
      execFile(command, fullArgs, { cwd: this.dir }, (error, stdout, stderr) => {
        if (error === null) resolve();
        else reject(new Error(`${tool} ${args[0] ?? ''} failed: ${error.message}\n${stdout}${stderr}`));
      });
    });
  }
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** A port nothing listens on right now (the OS picks it), never the system server's. */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once('error', reject);
      probe.listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
      });
    });
    if (port !== 0 && port !== SYSTEM_PORT) return port;
  }
}
