import type pg from 'pg';
import type { IntervalRecord } from '../domain/index.ts';
import { DatabaseError, FencedWriteError } from '../errors.ts';
import type {
  IntervalBatch,
  IntervalQuery,
  IntervalSink,
  SiteWriteMark,
  TransferAudit,
  TransferQuery,
} from './IntervalSink.ts';
import {
  assertIntervalBatch,
  assertIntervalId,
  assertIntervalQuery,
  assertTransferQuery,
  nextWriteMark,
  reasonOf,
  writeSteps,
} from './intervalSinkSupport.ts';
import {
  applyTransfer,
  countAgentRows,
  migrateSchema,
  selectIntervals,
  selectMark,
  selectTransfers,
  upsertIntervals,
} from './postgresIntervalSchema.ts';

/** Options of {@link PostgresIntervalSink}. */
export interface PostgresIntervalSinkOptions {
  /** `postgres://user:password@host:port/database`. Required; never logged nor put in an error. */
  url: string;
  /**
   * Connections kept at most; further calls wait for one (however long a slow database takes).
   * @defaultValue 4
   */
  poolSize?: number;
  /**
   * How long making a connection may take before the call fails with a `DatabaseError`: an
   * unreachable database fails instead of hanging. Statements themselves have no timeout: a slow
   * database (a lock held elsewhere) is waited for.
   * @defaultValue 5000
   */
  connectTimeoutMs?: number;
  /**
   * An idle connection is closed after this long.
   * @defaultValue 30000
   */
  idleTimeoutMs?: number;
}

/** Defaults for every optional field of {@link PostgresIntervalSinkOptions}. */
export const defaultPostgresIntervalSinkOptions: Required<Omit<PostgresIntervalSinkOptions, 'url'>> = {
  poolSize: 4,
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
};

/**
 * {@link IntervalSink} on PostgreSQL (DESIGN guarantee 3, table `agent_interval`; the transfer
 * audit log in `wfm_transfer`), shared by every node: a site's write mark lives in `wfm_site_writer`, locked by each write, so a deposed primary
 * (lower epoch) is refused whichever node it runs on. Every failure is a `DatabaseError` whose
 * message names the database by {@link PostgresIntervalSink.describe} only: no URL, no password.
 */
export class PostgresIntervalSink implements IntervalSink {
  readonly kind = 'postgres';
  readonly shared = true;
  /** The validated options, defaults applied. */
  readonly options: Readonly<Required<PostgresIntervalSinkOptions>>;
  /** `host:port/database`, for logs and messages. */
  readonly label: string;
  #pool: pg.Pool | undefined;
  // Calls waiting for a connection slot: the pool's own wait would fail after connectTimeoutMs.
  readonly #waiting: Array<() => void> = [];
  #busy = 0;

  /** Validates `options` (throws `DatabaseError`); connects only in {@link open}. */
  constructor(options: PostgresIntervalSinkOptions) {
    this.options = Object.freeze(mergeOptions(options));
    this.label = PostgresIntervalSink.describe(this.options.url);
  }

  /** A label safe for logs, `host:port/database`, of a database URL (its credentials left out). */
  static describe(url: string): string {
    try {
      const parsed = new URL(url);
      const database = decodeURIComponent(parsed.pathname.slice(1)) || '(default database)';
      return `${parsed.hostname || 'localhost'}:${parsed.port || '5432'}/${database}`;
    } catch {
      return '(unparsable database URL)';
    }
  }

  async open(): Promise<void> {
    if (this.#pool !== undefined) return;
    const { url, poolSize, connectTimeoutMs, idleTimeoutMs } = this.options;
    // Loaded here, not at the top: a node with the embedded sink never needs pg (~40 ms of every
    // start, undici included).
    const { default: postgres } = await import('pg');
    if (this.#pool !== undefined) return;
    const pool = new postgres.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      idleTimeoutMillis: idleTimeoutMs,
      // Notices a peer that vanished without closing (a dead host) instead of waiting forever.
      keepAlive: true,
      application_name: 'wfm-aggregator',
    });
    // An idle connection that dies (server restarted) is dropped by the pool and the next call
    // connects anew; unhandled, the event would end the process.
    pool.on('error', () => undefined);
    this.#pool = pool;
    try {
      await this.#transaction('create schema', (client) => migrateSchema(client, this.label));
    } catch (error) {
      this.#pool = undefined;
      await pool.end().catch(() => undefined);
      throw error;
    }
  }

  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.end().catch(() => undefined);
  }

  async mark(tenant: string, site: string): Promise<SiteWriteMark> {
    assertIntervalId('tenant', tenant);
    assertIntervalId('site', site);
    return this.#withClient(`read write mark of ${tenant}/${site}`, (client) =>
      selectMark(client, tenant, site, false),
    );
  }

  async write(batch: IntervalBatch): Promise<SiteWriteMark> {
    assertIntervalBatch(batch);
    const { tenant, site } = batch;
    return this.#transaction(`write site ${tenant}/${site}`, async (client) => {
      await client.query(
        'INSERT INTO wfm_site_writer (tenant, site, epoch, position) VALUES ($1, $2, 0, 0) ON CONFLICT DO NOTHING',
        [tenant, site],
      );
      // Locked to the end of the transaction: writers of the site (on any node) take turns.
      const stored = await selectMark(client, tenant, site, true);
      const next = nextWriteMark(batch, stored);
      const steps = writeSteps(batch.rows, stored.position);
      // In outSeq order: a transfer moves the rows upserted before it, not those after it.
      for (const step of steps) {
        if ('rows' in step) await upsertIntervals(client, step.rows);
        else await applyTransfer(client, site, step.transfer);
      }
      if (next.epoch !== stored.epoch || next.position !== stored.position || steps.length > 0) {
        await client.query(
          'UPDATE wfm_site_writer SET epoch = $3, position = $4, updated_at = now() WHERE tenant = $1 AND site = $2',
          [tenant, site, next.epoch, next.position],
        );
      }
      return next;
    });
  }

  async query(query: IntervalQuery): Promise<IntervalRecord[]> {
    assertIntervalQuery(query);
    return this.#withClient(`query intervals of tenant ${query.tenant}`, (client) =>
      selectIntervals(client, query),
    );
  }

  async transfers(query: TransferQuery): Promise<TransferAudit[]> {
    assertTransferQuery(query);
    return this.#withClient(`query transfers of tenant ${query.tenant}`, (client) =>
      selectTransfers(client, query),
    );
  }

  async countRows(tenant: string, site: string, agentId: string): Promise<number> {
    assertIntervalId('tenant', tenant);
    assertIntervalId('site', site);
    assertIntervalId('agent', agentId);
    return this.#withClient(`count rows of ${tenant}/${site}/${agentId}`, (client) =>
      countAgentRows(client, tenant, site, agentId),
    );
  }

  /** Runs `body` in one transaction: committed when it resolves, rolled back when it throws. */
  #transaction<T>(what: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#withClient(what, async (client) => {
      await client.query('BEGIN');
      let result: T;
      try {
        result = await body(client);
      } catch (error) {
        if (error instanceof FencedWriteError) await client.query('ROLLBACK');
        throw error;
      }
      await client.query('COMMIT');
      return result;
    });
  }

  /** Runs `body` on a pooled connection; any failure but a fence discards the connection. */
  async #withClient<T>(what: string, body: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    const pool = this.#pool;
    if (pool === undefined) {
      throw new DatabaseError(`PostgreSQL ${this.label}: ${what}: the sink is not open`);
    }
    await this.#slot();
    let client: pg.PoolClient | undefined;
    let failure: unknown;
    // A connection lost while checked out emits 'error' besides failing the query: not a crash.
    const ignore = (): void => undefined;
    try {
      client = await pool.connect();
      client.on('error', ignore);
      return await body(client);
    } catch (error) {
      failure = error;
      if (error instanceof FencedWriteError || error instanceof DatabaseError) throw error;
      throw this.#fail(what, error);
    } finally {
      client?.off('error', ignore);
      // A connection in an unknown state (aborted transaction, broken socket) is not reused.
      client?.release(failure !== undefined && !(failure instanceof FencedWriteError));
      this.#freeSlot();
    }
  }

  /** Waits for one of `poolSize` slots, so the pool never queues (its queue times out). */
  async #slot(): Promise<void> {
    if (this.#busy < this.options.poolSize) {
      this.#busy++;
      return;
    }
    // The slot is handed over by #freeSlot, still counted as busy.
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
  }

  #freeSlot(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#busy--;
    else next();
  }

  #fail(what: string, error: unknown): DatabaseError {
    // pg-pool hangs the client on some errors; its connection parameters hold the password.
    if (error !== null && typeof error === 'object' && 'client' in error) delete error.client;
    const code = (error as { code?: unknown } | null)?.code;
    const text = `PostgreSQL ${this.label}: ${what} failed: ${reasonOf(error)}${typeof code === 'string' ? ` (${code})` : ''}`;
    return new DatabaseError(redact(text, this.options.url), { cause: error });
  }
}

function mergeOptions(options: PostgresIntervalSinkOptions): Required<PostgresIntervalSinkOptions> {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
  const merged = { ...defaultPostgresIntervalSinkOptions, ...given } as Required<PostgresIntervalSinkOptions>;
  const known = new Set(['url', ...Object.keys(defaultPostgresIntervalSinkOptions)]);
  for (const name of Object.keys(merged)) {
    if (!known.has(name)) throw new DatabaseError(`PostgresIntervalSink options: unknown option ${name}`);
  }
  let protocol: string | undefined;
  try {
    protocol = new URL(merged.url).protocol;
  } catch {
    // Not kept as the cause: URL's TypeError carries the whole input, password included.
  }
  if (protocol !== 'postgres:' && protocol !== 'postgresql:') {
    throw new DatabaseError('PostgresIntervalSink options: url must be a postgres:// URL');
  }
  for (const name of ['poolSize', 'connectTimeoutMs', 'idleTimeoutMs'] as const) {
    if (!Number.isSafeInteger(merged[name]) || merged[name] < 1) {
      throw new DatabaseError(`PostgresIntervalSink options: ${name} must be a positive integer`);
    }
  }
  return merged;
}

/** `text` with the URL, and its password wherever it appears, replaced by `***`. */
function redact(text: string, url: string): string {
  let password = '';
  try {
    password = new URL(url).password;
  } catch {
    // Validated at construction; nothing more to hide if it cannot be parsed.
  }
  const secrets = [url, password, safeDecode(password)].filter((secret) => secret.length > 0);
  return secrets.reduce((done, secret) => done.split(secret).join('***'), text);
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
