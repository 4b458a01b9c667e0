/**
 * The checkpoint contract behind DESIGN.md guarantee 1 ("Restart"): a site pipeline persists its
 * actor snapshots together with the last applied `WFM_IN` sequence in one atomic write, and a
 * restarted node resumes from exactly that point.
 */

import { ID_PATTERN } from '../domain/index.ts';
import { CheckpointError } from '../errors.ts';
import { JsonText } from './JsonText.ts';

/** Identifies one site's checkpoint. Both ids match {@link ID_PATTERN}. */
export interface SiteKey {
  tenant: string;
  site: string;
}

/** What a site pipeline persists: everything needed to continue exactly, never needing WFM_IN messages at or below seq. */
export interface SiteCheckpoint {
  /** Last applied `WFM_IN` stream sequence. */
  seq: number;
  /** JSON-safe site-level state (event time, etc.). */
  site: unknown;
  /** agentId -> JSON-safe persisted actor snapshot, in ascending agent id order. */
  agents: Map<string, unknown>;
}

/** One incremental checkpoint write. */
export interface CheckpointCommit {
  /** Last applied `WFM_IN` sequence; never lower than the stored one (equal is allowed). */
  seq: number;
  /**
   * The complete site-level state, a JSON-safe value; replaces the stored one. (A {@link JsonText}
   * here is parsed and serialized again, not written verbatim: the site state is small.)
   */
  site: unknown;
  /**
   * Only the agents changed since the last commit; agents not listed keep their stored value.
   * Each value is a JSON-safe value or a {@link JsonText} (pre-serialized, written verbatim).
   * An async iterable is read while the commit writes (a store never holds all of a big commit
   * at once): its values are taken as they are read, so they must not change until it settles.
   */
  agents: Iterable<[string, unknown]> | AsyncIterable<[string, unknown]>;
  /** Agents whose snapshot is deleted; an agent may not be both written and removed in one commit. */
  removedAgents?: Iterable<string>;
}

/**
 * Durable store of one checkpoint per site. Values are stored as JSON (`JSON.stringify`
 * semantics), so `load()` returns fresh copies and never the objects given to `commit()`.
 * `commit()` captures its values when it is called, before it returns its promise: changing them
 * afterwards changes nothing stored (agents given as an async iterable are captured as they are
 * read). An agent value given as {@link JsonText} is stored as its text, unparsed; `load()`
 * returns the parsed value either way. Every failure, including misuse such as a call before
 * `open()`, is a `CheckpointError`; a library's error is kept as its `cause`.
 */
export interface CheckpointStore {
  open(): Promise<void>;
  close(): Promise<void>;
  /** The site's checkpoint, or `null` when it has none. */
  load(key: SiteKey): Promise<SiteCheckpoint | null>;
  /**
   * One atomic batch: after a crash, load() returns either all of this commit or none of it.
   * A commit rejected by an I/O error (disk full, read-only, failing disk) may or may not be in
   * the store after a restart, but is never half in it: treat its agents as not stored.
   */
  commit(key: SiteKey, commit: CheckpointCommit): Promise<void>;
  /** Removes a site's checkpoint entirely (used by site reset / transfer later). */
  clear(key: SiteKey): Promise<void>;
  /** All sites that have a checkpoint, ordered by tenant then site. */
  sites(): Promise<SiteKey[]>;
}

/** Tenant, site and agent ids of the wire contract (DESIGN.md "Subjects and streams"). */
export { ID_PATTERN };

/** A commit after validation, its iterables read exactly once and its values serialized. */
export interface PreparedCommit {
  seq: number;
  /** JSON text of the site state; `undefined` when it has none (an `undefined` site state). */
  site: string | undefined;
  /** Written agents as JSON text; a repeated id keeps its last value. */
  agents: Map<string, string>;
  removedAgents: Set<string>;
  /**
   * A commit's async `agents`, validated and serialized as they are read (then `agents` is
   * empty); read it once, before the commit is stored.
   */
  agentStream: AsyncIterable<[string, string]> | undefined;
}

function assertId(kind: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id)) {
    throw new CheckpointError(`invalid ${kind} id ${JSON.stringify(id)}: must match ${ID_PATTERN.source}`);
  }
}

/** Throws a `CheckpointError` unless both ids of `key` match {@link ID_PATTERN}. */
export function assertSiteKey(key: SiteKey): void {
  assertId('tenant', key?.tenant);
  assertId('site', key?.site);
}

/** `tenant/site`, for messages and in-memory maps. */
export function formatSiteKey(key: SiteKey): string {
  return `${key.tenant}/${key.site}`;
}

/** Orders site keys by tenant, then site (the order {@link CheckpointStore.sites} returns). */
export function compareSiteKeys(a: SiteKey, b: SiteKey): number {
  return compareIds(a.tenant, b.tenant) || compareIds(a.site, b.site);
}

/** Code-unit order, which is byte order for ids matching {@link ID_PATTERN} (all ASCII). */
export function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Validates a commit for `key`, reads its iterables once and serializes its values (an agent's
 * {@link JsonText} as its text, unparsed), so both stores enforce the same rules and capture the
 * values synchronously, when `commit()` is called, before touching storage. Throws `CheckpointError`.
 */
export function prepareCommit(key: SiteKey, commit: CheckpointCommit): PreparedCommit {
  assertSiteKey(key);
  const where = formatSiteKey(key);
  if (commit === null || typeof commit !== 'object') {
    throw new CheckpointError(`commit for ${where}: expected an object`);
  }
  const { seq } = commit;
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new CheckpointError(`commit for ${where}: seq must be a non-negative safe integer, got ${seq}`);
  }
  const removedAgents = new Set<string>();
  for (const agentId of commit.removedAgents ?? []) {
    assertId('agent', agentId);
    removedAgents.add(agentId);
  }
  const agents = new Map<string, string>();
  let agentStream: AsyncIterable<[string, string]> | undefined;
  if (isAsyncIterable(commit.agents)) agentStream = streamedAgents(where, commit.agents, removedAgents);
  else
    for (const [agentId, value] of commit.agents)
      agents.set(agentId, agentText(where, agentId, value, removedAgents));
  // The site state is small: a JsonText there is read through its toJSON(), so a broken text fails
  // here and the meta record (which holds the seq every commit checks) is always valid JSON.
  const site = toJsonText(`commit for ${where}: site state`, commit.site);
  return { seq, site, agents, removedAgents, agentStream };
}

function isAsyncIterable<T>(value: Iterable<T> | AsyncIterable<T>): value is AsyncIterable<T> {
  return typeof (value as Partial<AsyncIterable<T>>)[Symbol.asyncIterator] === 'function';
}

/** An agent's checked id and JSON text (a {@link JsonText} as its text, unparsed). */
function agentText(where: string, agentId: unknown, value: unknown, removed: ReadonlySet<string>): string {
  assertId('agent', agentId);
  if (removed.has(agentId)) {
    throw new CheckpointError(`commit for ${where}: agent ${agentId} is both written and removed`);
  }
  const text =
    value instanceof JsonText ? value.text : toJsonText(`commit for ${where}: agent ${agentId}`, value);
  // JSON.stringify yields no text for undefined, a function or a symbol (or a toJSON() giving
  // one of them), so the stored snapshot would silently vanish.
  if (text === undefined) {
    throw new CheckpointError(
      `commit for ${where}: agent ${agentId} has no JSON value (${typeof value}); use removedAgents to delete it`,
    );
  }
  return text;
}

async function* streamedAgents(
  where: string,
  agents: AsyncIterable<[string, unknown]>,
  removed: ReadonlySet<string>,
): AsyncGenerator<[string, string]> {
  try {
    for await (const [agentId, value] of agents) yield [agentId, agentText(where, agentId, value, removed)];
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    throw new CheckpointError(`commit for ${where}: reading its agents failed`, { cause: error });
  }
}

/**
 * `JSON.stringify(value)`, or a `CheckpointError` naming `what` when the value cannot be
 * serialized. `undefined` for a value with no JSON text (`undefined`, a function, a symbol).
 */
export function toJsonText(what: string, value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (error) {
    throw new CheckpointError(`${what}: value is not JSON-serializable`, { cause: error });
  }
}

/** `JSON.parse(text)`, or a `CheckpointError` saying which stored value of which site is corrupt. */
export function parseStoredJson(key: SiteKey, what: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`corrupt checkpoint for ${formatSiteKey(key)}: ${what} is not valid JSON`, {
      cause: error,
    });
  }
}

/** Throws the "checkpoint never goes backwards" error when `next` is below `stored`. */
export function assertSeqNotBehind(key: SiteKey, stored: number | undefined, next: number): void {
  if (stored !== undefined && next < stored) {
    throw new CheckpointError(
      `commit for ${formatSiteKey(key)}: seq ${next} is behind the stored checkpoint seq ${stored}; a checkpoint never goes backwards`,
    );
  }
}
