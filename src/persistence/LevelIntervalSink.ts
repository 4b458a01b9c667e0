import { Level } from 'level';
import type { IntervalRecord } from '../domain/index.ts';
import { DatabaseError, FencedWriteError } from '../errors.ts';
import type {
  IntervalBatch,
  IntervalQuery,
  IntervalSink,
  SiteWriteMark,
  StoredTransfer,
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
  transferAudit,
  transferMatches,
  writeSteps,
} from './intervalSinkSupport.ts';
import { KeyedQueue } from './KeyedQueue.ts';
import { type BatchOp, writeChainedBatch } from './writeChainedBatch.ts';

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
// character): `i!T!S!A!<intervalStart>` → record JSON, `w!T!S` → write mark JSON,
// `t!T!S!<transfer id>` → TransferAudit JSON. A range scan of `i!T!S!` thus yields agent, then
// intervalStart order: the order query() promises; `i!T!S!A!` is one agent's rows, what a
// transfer moves. Audit rows are keyed by id like PostgreSQL's `wfm_transfer` (so "insert if
// absent" is one get) and sorted by outSeq when read: a site has few transfers.
const INTERVAL = 'i!';
const MARK = 'w!';
const TRANSFER = 't!';
// Zero-padded to the digits of Number.MAX_SAFE_INTEGER so the string order is the number order.
const START_DIGITS = 16;
// Above every ASCII key byte under utf8 encoding, so `prefix + END` closes a prefix range.
const END = '\xff';

function padStart(ms: number): string {
  return String(ms).padStart(START_DIGITS, '0');
}

function intervalKey(tenant: string, site: string, agentId: string, intervalStart: number): string {
  return `${INTERVAL}${tenant}!${site}!${agentId}!${padStart(intervalStart)}`;
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
 * LevelDB batch (rows, the rows transfers move or delete, audit rows and the site's mark
 * together, all or nothing); the writes of one site are queued in this process so reading the
 * mark and the rows a transfer moves, and writing them, cannot interleave.
 */
export class LevelIntervalSink implements IntervalSink {
  readonly kind = 'level';
  readonly shared = false;
  /** The validated options, defaults applied. */
  readonly options: Readonly<Required<LevelIntervalSinkOptions>>;
  #db: Level<string, string> | undefined;
  // Writes one at a time per site.
  readonly #queue = new KeyedQueue();

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
    await this.#queue.idle();
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
    return this.#queue.run(`${tenant}!${site}`, async () => {
      const stored = await this.#readMark(db, tenant, site);
      const next = nextWriteMark(batch, stored);
      const steps = writeSteps(batch.rows, stored.position);
      if (steps.length === 0 && next.epoch === stored.epoch && next.position === stored.position) return next;
      // The batch's puts (value) and deletes (null) by key: a transfer sees the rows written before
      // it in this batch, and a later row of the same key replaces what came before.
      const changes = new Map<string, string | null>();
      for (const step of steps) {
        if ('transfer' in step) {
          await this.#applyTransfer(db, site, step.transfer, changes);
          continue;
        }
        for (const { record } of step.rows) {
          changes.set(
            intervalKey(tenant, site, record.agentId, record.intervalStart),
            JSON.stringify(record),
          );
        }
      }
      changes.set(`${MARK}${tenant}!${site}`, JSON.stringify(next));
      const ops = [...changes].map(
        ([key, value]): BatchOp => (value === null ? { type: 'del', key } : { type: 'put', key, value }),
      );
      await this.#io(`write site ${tenant}/${site}`, () =>
        writeChainedBatch(db, ops, { sync: this.options.sync }),
      );
      return next;
    });
  }

  /**
   * Adds one transfer to `changes`: when applied, deletes the target's rows and re-keys the
   * source's to the target (agentId rewritten); then its audit row. A transfer whose id is
   * recorded already changes nothing: a second copy of its audit record (stored again by a node
   * that did not see the first) would otherwise delete the rows the first one moved.
   */
  async #applyTransfer(
    db: Level<string, string>,
    site: string,
    item: StoredTransfer,
    changes: Map<string, string | null>,
  ): Promise<void> {
    const { tenant, transfer: t } = item;
    const key = `${TRANSFER}${tenant}!${site}!${t.id}`;
    if (changes.has(key) || (await this.#io(`read transfer ${key}`, () => db.get(key))) !== undefined) return;
    let moved = 0;
    let deleted = 0;
    if (t.result === 'applied') {
      const target = await this.#agentRows(db, tenant, site, t.to, changes);
      for (const key of target.keys()) changes.set(key, null);
      deleted = target.size;
      // After the deletes: a source row whose interval the target also had takes that key again.
      const source = await this.#agentRows(db, tenant, site, t.from, changes);
      for (const [key, value] of source) {
        const record = parseStored(key, value) as IntervalRecord;
        changes.set(key, null);
        changes.set(
          intervalKey(tenant, site, t.to, record.intervalStart),
          JSON.stringify({ ...record, agentId: t.to }),
        );
      }
      moved = source.size;
    }
    changes.set(key, JSON.stringify(transferAudit(site, item, moved, deleted)));
  }

  /** The agent's rows (key → record JSON) as the database holds them with `changes` applied. */
  async #agentRows(
    db: Level<string, string>,
    tenant: string,
    site: string,
    agentId: string,
    changes: ReadonlyMap<string, string | null>,
  ): Promise<Map<string, string>> {
    const prefix = `${INTERVAL}${tenant}!${site}!${agentId}!`;
    const rows = new Map(
      await this.#io(`read rows of ${tenant}/${site}/${agentId}`, () =>
        db.iterator({ gte: prefix, lt: prefix + END }).all(),
      ),
    );
    for (const [key, value] of changes) {
      if (!key.startsWith(prefix)) continue;
      if (value === null) rows.delete(key);
      else rows.set(key, value);
    }
    return rows;
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

  async transfers(query: TransferQuery): Promise<TransferAudit[]> {
    assertTransferQuery(query);
    const db = this.#requireOpen();
    const { tenant } = query;
    const sites =
      query.sites === undefined ? await this.#sites(db, tenant) : [...new Set(query.sites)].sort();
    const found: TransferAudit[] = [];
    for (const site of sites) {
      const prefix = `${TRANSFER}${tenant}!${site}!`;
      const entries = await this.#io(`read transfers of ${tenant}/${site}`, () =>
        db.iterator({ gte: prefix, lt: prefix + END }).all(),
      );
      const audits = entries
        .map(([key, value]) => parseStored(key, value) as TransferAudit)
        .filter((audit) => transferMatches(audit, query));
      found.push(...audits.sort((a, b) => a.outSeq - b.outSeq));
    }
    return found;
  }

  async countRows(tenant: string, site: string, agentId: string): Promise<number> {
    assertIntervalId('tenant', tenant);
    assertIntervalId('site', site);
    assertIntervalId('agent', agentId);
    const db = this.#requireOpen();
    const prefix = `${INTERVAL}${tenant}!${site}!${agentId}!`;
    const keys = await this.#io(`count rows of ${tenant}/${site}/${agentId}`, () =>
      db.keys({ gte: prefix, lt: prefix + END }).all(),
    );
    return keys.length;
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
}

function parseStored(key: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new DatabaseError(`interval store: corrupt value under ${key}`, { cause: error });
  }
}
