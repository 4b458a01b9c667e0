/**
 * The checkpoint contract behind DESIGN.md guarantee 1 ("Restart"): a site pipeline persists its
 * actor snapshots together with the last applied `WFM_IN` sequence in one atomic write, and a
 * restarted node resumes from exactly that point.
 */

import { CheckpointError } from '../errors.ts';

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
  /** The complete site-level state; replaces the stored one. */
  site: unknown;
  /** Only the agents changed since the last commit; agents not listed keep their stored value. */
  agents: Iterable<[string, unknown]>;
  /** Agents whose snapshot is deleted; an agent may not be both written and removed in one commit. */
  removedAgents?: Iterable<string>;
}

/**
 * Durable store of one checkpoint per site. Values are stored as JSON (`JSON.stringify`
 * semantics), so `load()` returns fresh copies and never the objects given to `commit()`.
 * Every failure, including misuse such as a call before `open()`, is a `CheckpointError`.
 */
export interface CheckpointStore {
  open(): Promise<void>;
  close(): Promise<void>;
  /** The site's checkpoint, or `null` when it has none. */
  load(key: SiteKey): Promise<SiteCheckpoint | null>;
  /** One atomic batch: after a crash, load() returns either all of this commit or none of it. */
  commit(key: SiteKey, commit: CheckpointCommit): Promise<void>;
  /** Removes a site's checkpoint entirely (used by site reset / transfer later). */
  clear(key: SiteKey): Promise<void>;
  /** All sites that have a checkpoint, ordered by tenant then site. */
  sites(): Promise<SiteKey[]>;
}

/** Tenant, site and agent ids of the wire contract (DESIGN.md "Subjects and streams"). */
export const ID_PATTERN: RegExp = /^[A-Za-z0-9_-]{1,64}$/;

/** A commit after validation, with its iterables read exactly once. */
export interface PreparedCommit {
  seq: number;
  site: unknown;
  /** Written agents; a repeated id keeps its last value. */
  agents: Map<string, unknown>;
  removedAgents: Set<string>;
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
 * Validates a commit for `key` and reads its iterables once, so both stores enforce the same
 * rules before touching storage. Throws `CheckpointError`.
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
  const agents = new Map<string, unknown>();
  for (const entry of commit.agents) {
    const [agentId, value] = entry;
    assertId('agent', agentId);
    // JSON.stringify yields no text for these, so the stored snapshot would silently vanish.
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') {
      throw new CheckpointError(
        `commit for ${where}: agent ${agentId} has no JSON value (${typeof value}); use removedAgents to delete it`,
      );
    }
    agents.set(agentId, value);
  }
  const removedAgents = new Set<string>();
  for (const agentId of commit.removedAgents ?? []) {
    assertId('agent', agentId);
    if (agents.has(agentId)) {
      throw new CheckpointError(`commit for ${where}: agent ${agentId} is both written and removed`);
    }
    removedAgents.add(agentId);
  }
  return { seq, site: commit.site, agents, removedAgents };
}

/** `JSON.stringify(value)`, or a `CheckpointError` naming `what` when the value cannot be serialized. */
export function toJsonText(what: string, value: unknown): string {
  try {
    // Top-level undefined/function/symbol values were rejected by prepareCommit; nested ones are dropped.
    return JSON.stringify(value) as string;
  } catch (error) {
    throw new CheckpointError(`${what}: value is not JSON-serializable`, { cause: error });
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
