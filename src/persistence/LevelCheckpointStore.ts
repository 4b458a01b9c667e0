import { Level } from 'level';
import { CheckpointError } from '../errors.ts';
import {
  assertSeqNotBehind,
  assertSiteKey,
  type CheckpointCommit,
  type CheckpointStore,
  compareIds,
  formatSiteKey,
  type PreparedCommit,
  parseStoredJson,
  prepareCommit,
  type SiteCheckpoint,
  type SiteKey,
} from './CheckpointStore.ts';
import { KeyedQueue } from './KeyedQueue.ts';
import {
  AGENT,
  END,
  META,
  type MetaRecord,
  metaText,
  ROOT,
  readMeta,
  STAGED,
  STAGED_MARK,
  sitePrefix,
} from './levelCheckpointLayout.ts';
import { type BatchOp, writeChainedBatch } from './writeChainedBatch.ts';

/** Options of {@link LevelCheckpointStore}. */
export interface LevelCheckpointStoreOptions {
  /** Directory of the LevelDB database. Required; only one process may have it open at a time. */
  location: string;
  /**
   * fsync every commit before it resolves. With `false` a commit survives a SIGKILL of the
   * process (it is in the OS page cache) but the latest commits may be lost on power failure;
   * either way a commit is never half applied.
   * @defaultValue true
   */
  sync?: boolean;
  /**
   * Create an empty database when `location` holds none; with `false`, `open()` fails instead.
   * @defaultValue true
   */
  createIfMissing?: boolean;
  /**
   * A commit of more agents than this is staged (see {@link LevelCheckpointStore}): written in
   * batches of `stageBatch` agents, then made the checkpoint by one small batch, instead of in
   * one batch. A staged commit writes every agent twice and reads it back once: 2.2–2.4× the
   * CPU per agent of one batch (LevelDB's threads included), ~1.5 µs per input of a node whose
   * sites of 5000 agents were staged at every checkpoint (the throughput bench with 2000 here).
   * One batch of 10k agent snapshots is ~10–15 MB; `stageBatch` says why far bigger ones are
   * not written whole.
   * @defaultValue 10000
   */
  stageAbove?: number;
  /**
   * Agents per batch of a staged commit. LevelDB copies a batch whole into its log and memtable:
   * one of 100k agent snapshots (150 MB) left ~500 MB of native memory behind in the process;
   * batches of 2000 leave ~60 MB.
   * @defaultValue 2000
   */
  stageBatch?: number;
}

/** Defaults for every optional field of {@link LevelCheckpointStoreOptions}. */
export const defaultLevelCheckpointStoreOptions: Required<Omit<LevelCheckpointStoreOptions, 'location'>> = {
  sync: true,
  createIfMissing: true,
  stageAbove: 10_000,
  stageBatch: 2000,
};

/** Operations added to a write batch per event-loop turn (a slice stalls input meanwhile). */
const BATCH_SLICE = 250;

function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  // abstract-level reports a failed open as LEVEL_DATABASE_NOT_OPEN; the reason is its cause.
  return error.cause instanceof Error ? `${error.message}: ${error.cause.message}` : error.message;
}

function mergeOptions(options: LevelCheckpointStoreOptions): Required<LevelCheckpointStoreOptions> {
  if (options === null || typeof options !== 'object') {
    throw new CheckpointError('LevelCheckpointStore options: expected an object with a location');
  }
  const known = new Set(['location', ...Object.keys(defaultLevelCheckpointStoreOptions)]);
  for (const name of Object.keys(options)) {
    if (!known.has(name)) throw new CheckpointError(`LevelCheckpointStore options: unknown option ${name}`);
  }
  // An explicit `undefined` means "use the default", as if the field were absent.
  const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
  const merged = { ...defaultLevelCheckpointStoreOptions, ...given } as Required<LevelCheckpointStoreOptions>;
  if (typeof merged.location !== 'string' || merged.location.trim() === '') {
    throw new CheckpointError('LevelCheckpointStore options: location must be a non-empty path');
  }
  for (const name of ['sync', 'createIfMissing'] as const) {
    if (typeof merged[name] !== 'boolean') {
      throw new CheckpointError(`LevelCheckpointStore options: ${name} must be a boolean`);
    }
  }
  for (const name of ['stageAbove', 'stageBatch'] as const) {
    if (!Number.isSafeInteger(merged[name]) || merged[name] < 1) {
      throw new CheckpointError(`LevelCheckpointStore options: ${name} must be a positive integer`);
    }
  }
  return merged;
}

/**
 * {@link CheckpointStore} on LevelDB (`level`, i.e. classic-level) with JSON values. A commit is
 * one LevelDB write batch holding the site's meta record (seq and site state) and every changed
 * agent, so a crash at any moment leaves the previous or the new checkpoint, never a mix.
 * A `JsonText` value is written as its exact UTF-8 bytes; every value is parsed on `load()`.
 *
 * A commit of more than `stageAbove` agents is staged instead, each step one batch: (1) the
 * agents go to staging keys (`s!<agent>`) in batches of `stageBatch`, which no load reads yet;
 * (2) one batch writes the meta record, the removed agents' deletions and the staged mark — the
 * moment it becomes the checkpoint; (3) the staged agents move to their own keys in batches (each
 * a put and a delete), then the mark is deleted. A load reads the staged agents over the others
 * while the mark is there. A crash before (2) leaves the previous checkpoint (the leftovers are
 * deleted by the next staged commit); after it, the new one — and the next commit first finishes
 * step (3), so an older staged agent never shadows a newer commit's.
 *
 * After a failed write (disk full, data directory made read-only, failing disk) LevelDB keeps the
 * database open and even accepts later writes, but its write-ahead log is left misaligned: writes
 * it acknowledges after the failure can be dropped as corrupt when the database is next opened
 * (and after a failed fsync it refuses every write). So after a failed write this store reopens
 * the database before its next write: the log is replayed up to the last good record and a new
 * log is started. Reads keep using the open database until then. While the disk stays
 * unwritable the reopen fails, and so does every call (with that reason) until one succeeds.
 */
export class LevelCheckpointStore implements CheckpointStore {
  /** The validated options, defaults applied. */
  readonly options: Readonly<Required<LevelCheckpointStoreOptions>>;
  // Values are JSON text, read and written as UTF-8: written verbatim, parsed here on load.
  #db: Level<string, string> | undefined;
  // Commit and clear calls one at a time per site: the seq check and the batch must not interleave.
  readonly #queue = new KeyedQueue();
  // Calls using the database right now; a reopen waits for them to settle.
  readonly #inFlight = new Set<Promise<unknown>>();
  // The error of a failed write since the database was last opened; cleared by a reopen.
  #writeFailure: { error: unknown } | undefined;
  // The reopen in progress after a failed write; new calls wait for it.
  #reopening: Promise<void> | undefined;

  /** Validates `options` (throws `CheckpointError`); does no I/O until {@link open}. */
  constructor(options: LevelCheckpointStoreOptions) {
    this.options = Object.freeze(mergeOptions(options));
  }

  /**
   * Opens (or reopens after {@link close}) the database; resolves when it is usable. On an open
   * store this does nothing.
   */
  async open(): Promise<void> {
    await this.#reopening?.catch(() => undefined);
    this.#db ??= new Level<string, string>(this.options.location, {
      valueEncoding: 'utf8',
      createIfMissing: this.options.createIfMissing,
    });
    const db = this.#db;
    const wasOpen = db.status === 'open';
    try {
      await db.open({ createIfMissing: this.options.createIfMissing });
    } catch (error) {
      throw new CheckpointError(
        `cannot open checkpoint store at ${this.options.location}: ${describe(error)}`,
        { cause: error },
      );
    }
    // Opening a closed database starts a new log: an earlier failed write no longer matters.
    if (!wasOpen) this.#writeFailure = undefined;
  }

  /** Waits for queued commits and running calls, then closes the database. Idempotent. */
  async close(): Promise<void> {
    const db = this.#db;
    if (db === undefined) return;
    await this.#queue.idle();
    await this.#reopening?.catch(() => undefined);
    await Promise.allSettled(this.#inFlight);
    try {
      await db.close();
    } catch (error) {
      throw new CheckpointError(`cannot close checkpoint store: ${describe(error)}`, { cause: error });
    }
    this.#writeFailure = undefined;
  }

  async load(key: SiteKey): Promise<SiteCheckpoint | null> {
    assertSiteKey(key);
    const where = formatSiteKey(key);
    const prefix = sitePrefix(key);
    // One iterator reads from one implicit snapshot: meta and agents come from the same commit.
    const read = await this.#use('read', (db) =>
      this.#io(`load ${where}`, () => readCheckpointEntries(db, key, where, prefix)),
    );
    if (read === null) return null;
    const { meta, marked, agents, staged } = read;
    if (meta === undefined) {
      // Only the leftovers of a first commit a crash cut before its meta record: no checkpoint.
      if (agents.size === 0 && !marked) return null;
      throw new CheckpointError(`corrupt checkpoint for ${where}: agent entries without meta`);
    }
    if (!marked || staged.length === 0) return { seq: meta.seq, site: meta.site, agents };
    // A staged commit not yet moved in whole: its agents over the others, in key order as the rest.
    for (const [agentId, text] of staged) agents.set(agentId, parseStoredJson(key, `agent ${agentId}`, text));
    const sorted = new Map([...agents].sort(([a], [b]) => compareIds(a, b)));
    return { seq: meta.seq, site: meta.site, agents: sorted };
  }

  async commit(key: SiteKey, commit: CheckpointCommit): Promise<void> {
    // Validates and serializes now, synchronously (a streamed commit's agents as they are read):
    // later changes to the values are not written.
    const prepared = prepareCommit(key, commit);
    this.#requireOpen();
    const where = formatSiteKey(key);
    const prefix = sitePrefix(key);
    await this.#queue.run(where, () =>
      this.#use('write', async (db) => {
        const stored = await this.#io(`read checkpoint of ${where}`, () => db.get(prefix + META));
        const storedSeq = stored === undefined ? undefined : readMeta(key, stored).seq;
        assertSeqNotBehind(key, storedSeq, prepared.seq);
        // A staged commit a crash left unmoved goes first: its agents would shadow these.
        await this.#moveStaged(where, db, prefix);
        const what = `commit ${where} seq ${prepared.seq}`;
        // A streamed commit is read up to one agent past stageAbove: a small one is written as
        // one batch like any other; a big one is staged as it is read, never held whole.
        const rest = prepared.agentStream?.[Symbol.asyncIterator]();
        try {
          let more = rest !== undefined;
          while (more && prepared.agents.size <= this.options.stageAbove) {
            const next = await rest!.next();
            if (next.done) more = false;
            else prepared.agents.set(next.value[0], next.value[1]);
          }
          const staging = prepared.agents.size > this.options.stageAbove;
          if (staging) await this.#stage(what, db, prefix, prepared.agents, more ? rest : undefined);
          await this.#writeCommit(what, where, db, prefix, prepared, staging);
        } finally {
          await rest?.return?.();
        }
      }),
    );
  }

  /** Step (2) of a staged commit then its step (3), or the whole of another commit: one batch. */
  async #writeCommit(
    what: string,
    where: string,
    db: Level<string, string>,
    prefix: string,
    prepared: PreparedCommit,
    staging: boolean,
  ): Promise<void> {
    const ops: BatchOp[] = [
      { type: 'put', key: prefix + META, value: metaText(prepared.seq, prepared.site) },
    ];
    if (staging) ops.push({ type: 'put', key: prefix + STAGED_MARK, value: `{"seq":${prepared.seq}}` });
    else {
      for (const [agentId, text] of prepared.agents) {
        ops.push({ type: 'put', key: prefix + AGENT + agentId, value: text });
      }
    }
    for (const agentId of prepared.removedAgents) {
      ops.push({ type: 'del', key: prefix + AGENT + agentId });
    }
    await this.#write(what, db, ops);
    if (staging) await this.#moveStaged(where, db, prefix);
  }

  async clear(key: SiteKey): Promise<void> {
    assertSiteKey(key);
    this.#requireOpen();
    const where = formatSiteKey(key);
    const prefix = sitePrefix(key);
    await this.#queue.run(where, () =>
      this.#use('write', async (db) => {
        // db.clear() deletes in several steps; one batch keeps "all or nothing" across a crash.
        const keys = await this.#io(`read checkpoint of ${where}`, () =>
          db.keys({ gte: prefix, lt: prefix + END }).all(),
        );
        if (keys.length === 0) return;
        const ops: BatchOp[] = keys.map((storedKey) => ({ type: 'del', key: storedKey }));
        await this.#write(`clear ${where}`, db, ops);
      }),
    );
  }

  async sites(): Promise<SiteKey[]> {
    return this.#use('read', (db) =>
      this.#io('list checkpointed sites', async () => {
        const found: SiteKey[] = [];
        const keys = db.keys({ gt: ROOT, lt: ROOT + END });
        try {
          // Visit one key per site, then skip the rest of that site's range.
          for (let storedKey = await keys.next(); storedKey !== undefined; storedKey = await keys.next()) {
            const [tenant = '', site = '', kind = ''] = storedKey.slice(ROOT.length).split('!');
            // A site holding only a staged commit's leftovers (cut before its meta) has none.
            if (`${kind}!` !== STAGED) found.push({ tenant, site });
            keys.seek(sitePrefix({ tenant, site }) + END);
          }
        } finally {
          await keys.close();
        }
        return found;
      }),
    );
  }

  #requireOpen(): Level<string, string> {
    const db = this.#db;
    // A database closed by a failed reopen is reopened by the next call (see #use).
    if (db === undefined || (db.status !== 'open' && this.#writeFailure === undefined)) {
      throw new CheckpointError(`checkpoint store at ${this.options.location} is not open`);
    }
    return db;
  }

  /**
   * Runs `body` on the open database, first reopening it when a write failed since it was opened
   * and `body` writes (or the database is closed by a failed reopen). Calls wait for a reopen in
   * progress, and a reopen waits for the calls already running.
   */
  async #use<T>(kind: 'read' | 'write', body: (db: Level<string, string>) => Promise<T>): Promise<T> {
    for (;;) {
      if (this.#reopening !== undefined) {
        await this.#reopening;
        continue;
      }
      const db = this.#requireOpen();
      if (this.#writeFailure !== undefined && (kind === 'write' || db.status !== 'open')) {
        this.#reopening = this.#reopen(db).finally(() => {
          this.#reopening = undefined;
        });
        continue;
      }
      // Registered synchronously after the checks above, so a reopen never misses it.
      const running = body(db);
      this.#inFlight.add(running);
      try {
        return await running;
      } finally {
        this.#inFlight.delete(running);
      }
    }
  }

  async #reopen(db: Level<string, string>): Promise<void> {
    const failed = describe(this.#writeFailure?.error);
    await Promise.allSettled(this.#inFlight);
    try {
      await db.close();
      await db.open({ createIfMissing: this.options.createIfMissing });
    } catch (error) {
      throw new CheckpointError(
        `cannot reopen checkpoint store at ${this.options.location} after a failed write (${failed}): ${describe(error)}`,
        { cause: error },
      );
    }
    this.#writeFailure = undefined;
  }

  /**
   * Writes one batch (all or nothing); a failure makes the next write reopen the database first.
   * The batch is filled in slices with the event loop free between them: encoding 100k agent
   * snapshots at once stalled it ~1.8 s, past a lease's silence (other work, lease renewals
   * included, must go on while a big checkpoint is written).
   */
  async #write(
    what: string,
    db: Level<string, string>,
    ops: BatchOp[],
    sync = this.options.sync,
  ): Promise<void> {
    try {
      await writeChainedBatch(db, ops, { sync, sliceEvery: BATCH_SLICE });
    } catch (error) {
      this.#writeFailure = { error };
      throw new CheckpointError(`${what} failed: ${describe(error)}`, { cause: error });
    }
  }

  /**
   * Step (1) of a staged commit: deletes what an earlier one a crash cut left staged, then writes
   * `agents` to staging keys, `stageBatch` per batch. Unsynced: LevelDB's log is written in order,
   * so the synced batch of step (2) makes these durable too.
   */
  async #stage(
    what: string,
    db: Level<string, string>,
    prefix: string,
    agents: ReadonlyMap<string, string>,
    rest: AsyncIterator<[string, string]> | undefined,
  ): Promise<void> {
    await this.#eachStagedSlice(db, prefix, async (entries) => {
      await this.#write(
        `${what}: drop staged leftovers`,
        db,
        entries.map(([k]) => ({ type: 'del', key: k })),
        false,
      );
    });
    let ops: BatchOp[] = [];
    const stage = async (agentId: string, text: string) => {
      ops.push({ type: 'put', key: prefix + STAGED + agentId, value: text });
      if (ops.length === this.options.stageBatch) {
        await this.#write(`${what}: stage agents`, db, ops, false);
        ops = [];
      }
    };
    for (const [agentId, text] of agents) await stage(agentId, text);
    // A repeated id of a stream is staged again: the later put wins, as in a Map.
    for (let next = await rest?.next(); next !== undefined && !next.done; next = await rest!.next())
      await stage(next.value[0], next.value[1]);
    if (ops.length > 0) await this.#write(`${what}: stage agents`, db, ops, false);
  }

  /**
   * Step (3) of a staged commit, when the staged mark is there: moves every staged agent to its
   * own key, `stageBatch` per batch, then deletes the mark (synced). Each batch is whole, and a
   * load reads staged agents over the others, so a crash anywhere in it changes nothing read.
   */
  async #moveStaged(where: string, db: Level<string, string>, prefix: string): Promise<void> {
    const mark = await this.#io(`read checkpoint of ${where}`, () => db.get(prefix + STAGED_MARK));
    if (mark === undefined) return;
    await this.#eachStagedSlice(db, prefix, async (entries) => {
      const ops: BatchOp[] = [];
      for (const [storedKey, text] of entries) {
        ops.push({
          type: 'put',
          key: prefix + AGENT + storedKey.slice(prefix.length + STAGED.length),
          value: text,
        });
        ops.push({ type: 'del', key: storedKey });
      }
      await this.#write(`move staged agents of ${where}`, db, ops, false);
    });
    await this.#write(`move staged agents of ${where}`, db, [{ type: 'del', key: prefix + STAGED_MARK }]);
  }

  /** Calls `each` with the staged entries, at most `stageBatch` at a time, until none is left. */
  async #eachStagedSlice(
    db: Level<string, string>,
    prefix: string,
    each: (entries: [string, string][]) => Promise<void>,
  ): Promise<void> {
    // One iterator over the whole range: it reads from the snapshot it was opened on, so what
    // `each` deletes does not disturb it, and it never walks back over those deletions (reading
    // the range from its start after each slice skipped every tombstone before it again:
    // quadratic, 2.5 s per checkpoint of 10k agents).
    const iterator = db.iterator({ gte: prefix + STAGED, lt: prefix + STAGED + END });
    try {
      for (;;) {
        const entries = await this.#io('read staged agents', () => iterator.nextv(this.options.stageBatch));
        if (entries.length === 0) return;
        await each(entries);
      }
    } finally {
      await iterator.close().catch(() => undefined);
    }
  }

  async #io<T>(what: string, run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      if (error instanceof CheckpointError) throw error;
      throw new CheckpointError(`${what} failed: ${describe(error)}`, { cause: error });
    }
  }
}

/** Entries read per `nextv()` when loading: big enough to keep LevelDB's thread busy, small enough to parse between reads. */
const LOAD_BATCH = 2000;

interface CheckpointEntries {
  meta: MetaRecord | undefined;
  marked: boolean;
  agents: Map<string, unknown>;
  staged: [string, string][];
}

/**
 * Reads every entry under `prefix` from one iterator (one implicit snapshot), parsing each batch
 * while LevelDB's thread reads the next. For 100k agents `iterator().all()` alone took 0.9 s and
 * reading in batches 0.3 s; the whole load went from 2.1–2.2 s to 1.5–2.1 s (the rest is parsing
 * and the garbage collector promoting what was parsed). Null when there is no entry at all.
 */
async function readCheckpointEntries(
  db: Level<string, string>,
  key: SiteKey,
  where: string,
  prefix: string,
): Promise<CheckpointEntries | null> {
  const out: CheckpointEntries = { meta: undefined, marked: false, agents: new Map(), staged: [] };
  const iterator = db.iterator({ gte: prefix, lt: prefix + END });
  let seen = 0;
  try {
    let next = iterator.nextv(LOAD_BATCH);
    for (;;) {
      const entries = await next;
      if (entries.length === 0) break;
      next = iterator.nextv(LOAD_BATCH);
      // The request above is in flight: never left unawaited should parsing throw.
      next.catch(() => undefined);
      seen += entries.length;
      for (const [storedKey, text] of entries) {
        const local = storedKey.slice(prefix.length);
        if (local === META) {
          out.meta = readMeta(key, text);
        } else if (local.startsWith(AGENT)) {
          const agentId = local.slice(AGENT.length);
          out.agents.set(agentId, parseStoredJson(key, `agent ${agentId}`, text));
        } else if (local.startsWith(STAGED)) {
          out.staged.push([local.slice(STAGED.length), text]);
        } else if (local === STAGED_MARK) {
          out.marked = true;
        } else {
          throw new CheckpointError(`corrupt checkpoint for ${where}: unexpected entry ${storedKey}`);
        }
      }
    }
  } finally {
    await iterator.close();
  }
  return seen === 0 ? null : out;
}
