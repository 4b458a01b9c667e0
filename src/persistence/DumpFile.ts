/**
 * The database dump file of DESIGN.md guarantee 4 ("Database loss"): interval records and
 * transfers the unreachable WFM database lacks, written before the node exits, written back and
 * deleted on start.
 *
 * Format: one UTF-8 JSON object
 * `{"format":"wfm-agg-dbdump","version":2,"tenant":T,"node":N,"sites":[DumpedSite…],"checksum":C}`,
 * `C` the SHA-256 (lower-case hex) of the canonical JSON of `{tenant, node, sites}` (no whitespace,
 * every object's keys sorted), computed from the parsed values: reformatting the file changes
 * nothing, any changed value (extra row fields included) is refused. A file that is not such a
 * dump, or another tenant's, is refused with a `DumpFileError` and never touched: it may be
 * someone's data. One process writes a path (the node configured with it); in it, writes and
 * removals of one path run one after the other.
 *
 * Versions: 2 (written) holds interval rows `{tenant, outSeq, record}` and transfers
 * `{tenant, outSeq, transfer}` in each site's `rows`; 1 (still read) holds interval rows only.
 */

import { createHash } from 'node:crypto';
import { type FileHandle, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { DumpFileError } from '../errors.ts';
import type { StoredHistoryItem } from './IntervalSink.ts';
import { transferProblem } from './intervalSinkSupport.ts';

/**
 * The interval rows and transfers of one site that had not reached the database when the dump
 * was made.
 */
export interface DumpedSite {
  site: string;
  /** The writer's lease epoch for the site (informational: dumped rows are written unfenced). */
  epoch: number;
  /** The site's write position when the dump was made: every row is above it. */
  from: number;
  /** The `WFM_OUT` position the rows reach (≥ the last row's `outSeq`). */
  upTo: number;
  /**
   * Interval rows and transfers, mixed, in ascending `outSeq`, each in `(from, upTo]`: written
   * back as one batch, so each transfer applies at its place among the rows.
   */
  rows: StoredHistoryItem[];
}

/** What a dump file holds: sites in file order (one site may appear in several entries). */
export interface DumpContents {
  tenant: string;
  /** The node that wrote the file last. */
  node: string;
  sites: DumpedSite[];
}

const FORMAT = 'wfm-agg-dbdump';
/** The version written; {@link READ_VERSIONS} are read. */
const VERSION = 2;
// Version 1 files (written before transfers existed) hold interval rows only: read as they are.
const READ_VERSIONS: readonly number[] = [1, 2];
// Characters of JSON text gathered before each write call: bounds memory for any dump size.
const CHUNK_CHARS = 1 << 20;
// IntervalRecord fields (besides agentId, site and secondsByPresence) and what they must hold.
const NUMBER_FIELDS = 'intervalStart intervalMinutes adherenceScheduleSecs exceptionDurationSecs'
  .concat(' conformanceScheduleSecs conformanceActualSecs sourceSeq')
  .split(' ');
const NULLABLE_FIELDS = ['adherencePercentage', 'conformancePercentage'];

/**
 * Writes `contents` to `path` atomically: `<path>.<pid>.tmp` in the same directory (created when
 * missing), fsynced, renamed over `path`, then the directory fsynced. A crash at any moment leaves
 * the previous file or the new one, never part of one. When `path` already holds a valid dump of
 * the same tenant, the new sites are appended to its sites (replay skips rows the database already
 * has, so overlap is harmless); leftover tmp files of an earlier crash are removed. `contents` is
 * checked at once but serialized later: it must not change until the promise settles.
 * @throws DumpFileError when `path` holds an invalid or foreign file (it is left untouched)
 * @throws TypeError when `contents` is not a valid dump (nothing is written)
 */
export async function writeDumpFile(path: string, contents: DumpContents): Promise<void> {
  const invalid = (why: string) => new TypeError(`${path}: ${why}`);
  const checked = shaped(() => checkContents(contents), invalid);
  return exclusive(path, async () => {
    // Refuses (and leaves alone) whatever is there that this node cannot read back as its own.
    const existing = await readDumpFile(path, checked.tenant);
    const merged = existing === null ? checked : { ...checked, sites: existing.sites.concat(checked.sites) };
    const dir = dirname(path);
    await mkdir(dir, { recursive: true });
    await removeLeftovers(path);
    const tmp = `${path}.${process.pid}.tmp`;
    try {
      await writeSynced(tmp, merged);
      await rename(tmp, path);
    } catch (error) {
      await unlink(tmp).catch(() => undefined);
      throw error;
    }
    // The rename is durable only once the directory entry is on disk.
    await syncDirectory(dir);
  });
}

/**
 * Reads and checks the dump at `path`; `null` when there is none. Leftover tmp files are ignored:
 * they are writes that never completed.
 * @throws DumpFileError when the file is unreadable, not complete JSON, of another format or
 *   version, fails its checksum, has a malformed site or row, or belongs to another tenant
 */
export async function readDumpFile(path: string, tenant: string): Promise<DumpContents | null> {
  const unreadable = (e: Error) => new DumpFileError(path, `cannot be read (${e.message})`, { cause: e });
  const text = await readFile(path, 'utf8').catch(whenMissing(null, unreadable));
  if (text === null) return null;
  const refused = (why: string) => new DumpFileError(path, why);
  const { contents, checksum } = shaped(() => parseDump(text), refused);
  if ((await serialize(contents)) !== checksum) {
    throw new DumpFileError(path, 'checksum mismatch: the file was changed or damaged after it was written');
  }
  if (contents.tenant !== tenant) {
    throw new DumpFileError(path, `tenant ${contents.tenant} is not this node's tenant ${tenant}`);
  }
  return contents;
}

/**
 * Deletes the dump at `path` and leftover tmp files of it, then fsyncs the directory; nothing
 * happens when there is none. Call it only after {@link readDumpFile} accepted the file and its
 * records are written: it does not check what it deletes.
 */
export function removeDumpFile(path: string): Promise<void> {
  return exclusive(path, async () => {
    await unlink(path).catch(whenMissing(undefined));
    await removeLeftovers(path);
    // Makes the removal durable; a missing directory holds nothing to remove.
    await syncDirectory(dirname(path)).catch(whenMissing(undefined));
  });
}

/** A dump's content that does not have the documented shape; the message says where. */
class ShapeError extends Error {}

const show = (v: unknown) => (v === undefined ? 'none' : (JSON.stringify(v) ?? String(v)).slice(0, 80));
function need(ok: boolean, at: string, expected: string, got: unknown): asserts ok {
  if (!ok) throw new ShapeError(`${at}: expected ${expected}, got ${show(got)}`);
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);
const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0;
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Runs `check`, turning a ShapeError into the caller's error. */
function shaped<T>(check: () => T, refuse: (problem: string) => Error): T {
  try {
    return check();
  } catch (error) {
    throw error instanceof ShapeError ? refuse(error.message) : error;
  }
}

function parseDump(text: string): { contents: DumpContents; checksum: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ShapeError(`not complete JSON, truncated or corrupt (${(error as Error).message})`);
  }
  need(isObject(value), 'top level', 'a JSON object', value);
  if (value.format !== FORMAT) throw new ShapeError(`format ${show(value.format)}, not a ${FORMAT} file`);
  if (!READ_VERSIONS.includes(value.version as number)) {
    throw new ShapeError(
      `version ${show(value.version)} is not supported; this build reads versions ${READ_VERSIONS.join(' and ')}`,
    );
  }
  const { checksum } = value;
  need(typeof checksum === 'string' && /^[0-9a-f]{64}$/.test(checksum), 'checksum', 'SHA-256 hex', checksum);
  return { contents: checkContents(value, value.version === 1 ? 1 : VERSION), checksum };
}

/**
 * Checks the shape and order of everything in a dump of `version` (what is written: the current
 * one); returns it without fields it does not know.
 */
function checkContents(value: unknown, version = VERSION): DumpContents {
  need(isObject(value), 'contents', 'an object', value);
  const { tenant, node, sites } = value;
  need(isName(tenant), 'tenant', 'a non-empty string', tenant);
  need(isName(node), 'node', 'a non-empty string', node);
  need(Array.isArray(sites), 'sites', 'an array', sites);
  const checked = sites.map((entry: unknown, s) => checkSite(entry, tenant, `sites[${s}]`, version));
  return { tenant, node, sites: checked };
}

function checkSite(entry: unknown, tenant: string, at: string, version: number): DumpedSite {
  need(isObject(entry), at, 'an object', entry);
  const { site, epoch, from, upTo, rows } = entry;
  need(isName(site), `${at}.site`, 'a non-empty string', site);
  need(isCount(epoch), `${at}.epoch`, 'an integer ≥ 0', epoch);
  need(isCount(from), `${at}.from`, 'an integer ≥ 0', from);
  need(isCount(upTo) && upTo >= from, `${at}.upTo`, `an integer ≥ from (${from})`, upTo);
  need(Array.isArray(rows), `${at}.rows`, 'an array', rows);
  let after = from;
  for (let r = 0; r < rows.length; r++) {
    after = checkRow(rows[r], `${at}.rows[${r}]`, { tenant, site, after, upTo, version });
  }
  return { site, epoch, from, upTo, rows: rows as StoredHistoryItem[] };
}

/** Where a row is checked: its tenant and site, the `outSeq` it must exceed, the file's version. */
interface RowPlace {
  tenant: string;
  site: string;
  after: number;
  upTo: number;
  version: number;
}

/** Checks one row or transfer; returns its `outSeq`, which the next one must exceed. */
function checkRow(row: unknown, at: string, { tenant, site, after, upTo, version }: RowPlace): number {
  need(isObject(row), at, 'an object', row);
  need(row.tenant === tenant, `${at}.tenant`, `the dump's tenant ${tenant}`, row.tenant);
  const { outSeq, record } = row;
  const inOrder = isCount(outSeq) && outSeq > after && outSeq <= upTo;
  need(inOrder, `${at}.outSeq`, `an integer in (${after}, ${upTo}]: ascending, above from, ≤ upTo`, outSeq);
  if ('transfer' in row) {
    need(version >= 2, `${at}.transfer`, 'none: version 1 holds interval rows only', row.transfer);
    need(!('record' in row), at, 'an interval row or a transfer, not both', row);
    const problem = transferProblem(row.transfer);
    if (problem !== null) throw new ShapeError(`${at}.transfer: ${problem}`);
    return outSeq;
  }
  need(isObject(record), `${at}.record`, 'an object', record);
  need(record.site === site, `${at}.record.site`, `the entry's site ${site}`, record.site);
  need(isName(record.agentId), `${at}.record.agentId`, 'a non-empty string', record.agentId);
  for (const field of [...NUMBER_FIELDS, ...NULLABLE_FIELDS]) {
    const v = record[field];
    const nullable = NULLABLE_FIELDS.includes(field);
    need(isNumber(v) || (nullable && v === null), `${at}.record.${field}`, 'a finite number', v);
  }
  const seconds = record.secondsByPresence;
  need(isObject(seconds), `${at}.record.secondsByPresence`, 'an object', seconds);
  for (const [presence, secs] of Object.entries(seconds)) {
    need(isNumber(secs), `${at}.record.secondsByPresence.${presence}`, 'a finite number', secs);
  }
  return outSeq;
}

/** A `JSON.stringify` replacer sorting every object's keys: the same text for the same values. */
function sortKeys(_key: string, v: unknown): unknown {
  if (!isObject(v)) return v;
  const keys = Object.keys(v).sort();
  return Object.fromEntries(keys.map((k) => [k, v[k]]));
}

/**
 * Produces the canonical JSON of the sites array's elements, row by row, passing each piece to
 * `write` (in chunks) and to the hash; returns the checksum. One pass serves both writing and
 * checking, and no text larger than a chunk is ever built.
 */
async function serialize(contents: DumpContents, write = async (_text: string) => {}): Promise<string> {
  const hash = createHash('sha256').update(`{"node":${JSON.stringify(contents.node)},"sites":[`);
  let chunk = '';
  const emit = async (text: string): Promise<void> => {
    hash.update(text);
    chunk += text;
    if (chunk.length < CHUNK_CHARS) return;
    await write(chunk);
    chunk = '';
  };
  for (let s = 0; s < contents.sites.length; s++) {
    const { site, epoch, from, upTo, rows } = contents.sites[s]!;
    await emit(`${s === 0 ? '' : ','}{"epoch":${epoch},"from":${from},"rows":[`);
    for (let r = 0; r < rows.length; r++) {
      await emit((r === 0 ? '' : ',') + JSON.stringify(rows[r], sortKeys));
    }
    await emit(`],"site":${JSON.stringify(site)},"upTo":${upTo}}`);
  }
  if (chunk !== '') await write(chunk);
  return hash.update(`],"tenant":${JSON.stringify(contents.tenant)}}`).digest('hex');
}

async function writeSynced(file: string, contents: DumpContents): Promise<void> {
  const handle = await open(file, 'w');
  try {
    const { tenant, node } = contents;
    const head = JSON.stringify({ format: FORMAT, version: VERSION, tenant, node });
    await writeAll(handle, `${head.slice(0, -1)},"sites":[`);
    const checksum = await serialize(contents, (text) => writeAll(handle, text));
    await writeAll(handle, `],"checksum":"${checksum}"}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

async function writeAll(handle: FileHandle, text: string): Promise<void> {
  const bytes = Buffer.from(text, 'utf8');
  for (let done = 0; done < bytes.length; ) {
    done += (await handle.write(bytes, done, bytes.length - done)).bytesWritten;
  }
}

/** Removes `<path>.<digits>.tmp` files beside `path`: writes cut short by a crash. */
async function removeLeftovers(path: string): Promise<void> {
  const dir = dirname(path);
  const base = basename(path);
  const names = await readdir(dir).catch(whenMissing([] as string[]));
  const leftovers = names.filter((n) => n.startsWith(base) && /^\.\d+\.tmp$/.test(n.slice(base.length)));
  await Promise.all(leftovers.map((name) => unlink(join(dir, name)).catch(whenMissing(undefined))));
}

async function syncDirectory(dir: string): Promise<void> {
  // Windows cannot open a directory for fsync; its renames are durable by other means.
  if (process.platform === 'win32') return;
  const handle = await open(dir, 'r');
  await handle.sync().finally(() => handle.close());
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `run` once earlier writes or removals of the path have settled (entries stay: paths are few). */
function exclusive<T>(path: string, run: () => Promise<T>): Promise<T> {
  const key = resolve(path);
  const result = (queues.get(key) ?? Promise.resolve()).then(run);
  queues.set(
    key,
    result.catch(() => undefined),
  );
  return result;
}

/** A rejection handler: `ifMissing` for a file that does not exist, else throws (`otherwise`'s error). */
function whenMissing<T>(ifMissing: T, otherwise?: (error: Error) => Error): (error: unknown) => T {
  return (error) => {
    if ((error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') return ifMissing;
    throw otherwise === undefined ? error : otherwise(error as Error);
  };
}
