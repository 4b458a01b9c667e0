import { Level } from 'level';
import type { IntervalRecord } from '../domain/index.ts';
import { DatabaseError, FencedWriteError } from '../errors.ts';
import type { IntervalBatch, IntervalQuery, IntervalSink, SiteWriteMark } from './IntervalSink.ts';
import {
  assertIntervalBatch,
  assertIntervalId,
  assertIntervalQuery,
  nextWriteMark,
  reasonOf,
  rowsToWrite,
} from './intervalSinkSupport.ts';

/** Options of {@link LevelIntervalSink}. */
export interface LevelIntervalSinkOptions {
  /** Directory of the LevelDB database. Required; only one process may have it open at a time. */
  location: string;
  /**
   * fsync every write before it resolves. With `false` a write survives a SIGKILL of the process
   * but the latest writes may be lost on power failure; a write is never half applied either way.
   * @defaultValue true
   */
  sync?: boolean;
}

/** Defaults for every optional field of {@link LevelIntervalSinkOptions}. */
export const defaultLevelIntervalSinkOptions: Required<Omit<LevelIntervalSinkOptions, 'location'>> = {
  sync: true,
};

// Key layout (ids match [A-Za-z0-9_-], so '!' never occurs inside one and sorts below every id
// character): `i!T!S!A!<intervalStart>` → record JSON, `w!T!S` → write mark JSON. A range scan
// of `i!T!S!` thus yields agent, then intervalStart order: the order query() promises.
const INTERVAL = 'i!';
const MARK = 'w!';
// Zero-padded to the digits of Number.MAX_SAFE_INTEGER so the string order is the number order.
const START_DIGITS = 16;
// Above every ASCII key byte under utf8 encoding, so `prefix + END` closes a prefix range.
const END = '\xff';

function padStart(ms: number): string {
  return String(ms).padStart(START_DIGITS, '0');
}

/**
 * Whether `error` (or an error in its `cause` chain) says the LevelDB directory is locked:
 * another process, a running node, has it open. LevelDB reports it as `LEVEL_LOCKED`, the cause
 * of `LEVEL_DATABASE_NOT_OPEN`, itself the cause of the `DatabaseError` that `open()` throws.
 */
export function isLockedError(error: unknown): boolean {
  for (let e = error, depth = 0; e instanceof Error && depth < 10; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === 'LEVEL_LOCKED') return true;
  }
  return false;
}

function mergeOptions(options: LevelIntervalSinkOptions): Required<LevelIntervalSinkOptions> {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([, value]) => value !== undefined));
  const merged = { ...defaultLevelIntervalSinkOptions, ...given } as Required<LevelIntervalSinkOptions>;
  const known = new Set(['location', ...Object.keys(defaultLevelIntervalSinkOptions)]);
  for (const name of Object.keys(merged)) {
    if (!known.has(name)) throw new DatabaseError(`LevelIntervalSink options: unknown option ${name}`);
  }
  if (typeof merged.location !== 'string' || merged.location.trim() === '') {
    throw new DatabaseError('LevelIntervalSink options: location must be a non-empty path');
  }
  if (typeof merged.sync !== 'boolean')
    throw new DatabaseError('LevelIntervalSink options: sync must be a boolean');
  return merged;
}

/**
 * {@link IntervalSink} embedded in the node (LevelDB via `level`), used when no database is
 * configured: each node keeps its own copy of the history of the sites it hosts. A write is one
 * LevelDB batch (rows and the site's mark together, all or nothing); the writes of one site are
 * queued in this process so reading the mark, checking it and advancing it cannot interleave.
 */
export class LevelIntervalSink implements IntervalSink {
  readonly kind = 'level';
  readonly shared = false;
  /** The validated options, defaults applied. */
  readonly options: Readonly<Required<LevelIntervalSinkOptions>>;
  #db: Level<string, string> | undefined;
  // Per-site tail of queued writes.
  readonly #tails = new Map<string, Promise<unknown>>();

  /** Validates `options` (throws `DatabaseError`); does no I/O until {@link open}. */
  constructor(options: LevelIntervalSinkOptions) {
    this.options = Object.freeze(mergeOptions(options));
  }

  /**
   * Opens (or reopens after {@link close}) the database.
   * @throws DatabaseError with the level error as `cause`; {@link isLockedError} tells whether
   *   another process has the directory open.
   */
  async open(): Promise<void> {
    this.#db ??= new Level<string, string>(this.options.location, { valueEncoding: 'utf8' });
    try {
      await this.#db.open();
    } catch (error) {
      throw new DatabaseError(`cannot open interval store at ${this.options.location}: ${reasonOf(error)}`, {
        cause: error,
      });
    }
  }

  /** Waits for queued writes, then closes the database. Idempotent. */
  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    await Promise.allSettled(this.#tails.values());
    await this.#io('close interval store', () => db.close());
  }

  async mark(tenant: string, site: string): Promise<SiteWriteMark> {
    assertIntervalId('tenant', tenant);
    assertIntervalId('site', site);
    const db = this.#requireOpen();
    return this.#readMark(db, tenant, site);
  }

  async write(batch: IntervalBatch): Promise<SiteWriteMark> {
    assertIntervalBatch(batch);
    const db = this.#requireOpen();
    const { tenant, site } = batch;
    return this.#exclusive(`${tenant}!${site}`, async () => {
      const stored = await this.#readMark(db, tenant, site);
      const next = nextWriteMark(batch, stored);
      const fresh = rowsToWrite(batch.rows, stored.position);
      if (fresh.length === 0 && next.epoch === stored.epoch && next.position === stored.position) return next;
      const ops = fresh.map(({ record }) => ({
        type: 'put' as const,
        key: `${INTERVAL}${tenant}!${site}!${record.agentId}!${padStart(record.intervalStart)}`,
        value: JSON.stringify(record),
      }));
      ops.push({ type: 'put', key: `${MARK}${tenant}!${site}`, value: JSON.stringify(next) });
      await this.#io(`write site ${tenant}/${site}`, () => db.batch(ops, { sync: this.options.sync }));
      return next;
    });
  }

  async query(query: IntervalQuery): Promise<IntervalRecord[]> {
    assertIntervalQuery(query);
    const db = this.#requireOpen();
    const { tenant, agentId } = query;
    // intervalStart is an integer: start ≥ from ⟺ start ≥ ⌈from⌉, and likewise for `to`.
    const from = Math.max(0, Math.ceil(query.from));
    const to = Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(query.to));
    if (from >= to) return [];
    const sites =
      query.sites === undefined ? await this.#sites(db, tenant) : [...new Set(query.sites)].sort();
    const found: IntervalRecord[] = [];
    for (const site of sites) {
      const prefix = `${INTERVAL}${tenant}!${site}!${agentId === undefined ? '' : `${agentId}!`}`;
      // With an agent the key range is exactly [from, to); without, each agent's range is checked.
      const range =
        agentId === undefined
          ? { gte: prefix, lt: prefix + END }
          : { gte: prefix + padStart(from), lt: prefix + padStart(to) };
      const entries = await this.#io(`query site ${tenant}/${site}`, () => db.iterator(range).all());
      for (const [key, value] of entries) {
        const start = Number(key.slice(key.lastIndexOf('!') + 1));
        if (start >= from && start < to) found.push(parseStored(key, value) as IntervalRecord);
      }
    }
    return found;
  }

  /** The tenant's sites with a write mark, in byte order (every written site has one). */
  async #sites(db: Level<string, string>, tenant: string): Promise<string[]> {
    const prefix = `${MARK}${tenant}!`;
    const keys = await this.#io(`list sites of ${tenant}`, () =>
      db.keys({ gte: prefix, lt: prefix + END }).all(),
    );
    return keys.map((key) => key.slice(prefix.length));
  }

  async #readMark(db: Level<string, string>, tenant: string, site: string): Promise<SiteWriteMark> {
    const key = `${MARK}${tenant}!${site}`;
    const text = await this.#io(`read write mark of ${tenant}/${site}`, () => db.get(key));
    if (text === undefined) return { epoch: 0, position: 0 };
    const { epoch, position } = parseStored(key, text) as Partial<SiteWriteMark>;
    if (!Number.isSafeInteger(epoch) || !Number.isSafeInteger(position)) {
      throw new DatabaseError(`interval store at ${this.options.location}: corrupt write mark ${key}`);
    }
    return { epoch: epoch as number, position: position as number };
  }

  #requireOpen(): Level<string, string> {
    const db = this.#db;
    if (db === undefined || db.status !== 'open') {
      throw new DatabaseError(`interval store at ${this.options.location} is not open`);
    }
    return db;
  }

  async #io<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof DatabaseError || error instanceof FencedWriteError) throw error;
      throw new DatabaseError(
        `interval store at ${this.options.location}: ${what} failed: ${reasonOf(error)}`,
        {
          cause: error,
        },
      );
    }
  }

  #exclusive<T>(siteId: string, run: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(siteId) ?? Promise.resolve();
    const result = previous.then(run);
    const tail = result.catch(() => undefined);
    this.#tails.set(siteId, tail);
    void tail.then(() => {
      if (this.#tails.get(siteId) === tail) this.#tails.delete(siteId);
    });
    return result;
  }
}

function parseStored(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DatabaseError(`interval store: corrupt value under ${key}`, { cause: error });
  }
}
