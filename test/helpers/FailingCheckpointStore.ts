/**
 * Fault injection for checkpoint commits (issue #7, B1): a {@link CheckpointStore} wrapper that
 * makes chosen commits fail as a full or failing disk would, and records every commit that was
 * stored. An injected failure happens before the inner store is touched, so that commit is not
 * stored at all: a commit either happens or it does not.
 */

import { CheckpointError } from '../../src/errors.ts';
import { formatSiteKey, prepareCommit } from '../../src/persistence/CheckpointStore.ts';
import {
  type CheckpointCommit,
  type CheckpointStore,
  JsonText,
  type SiteCheckpoint,
  type SiteKey,
} from '../../src/persistence/index.ts';

/** One valid commit, as `load()` would return its values (JSON round-tripped). */
export interface RecordedCommit {
  /** 1-based number of this commit among the valid commits the wrapper was given. */
  index: number;
  key: SiteKey;
  seq: number;
  /** The site state as stored (`undefined` when it had no JSON value). */
  site: unknown;
  /**
   * The written agents, as `load()` would return them; a repeated id keeps its last value. A
   * `JsonText` whose text is not JSON is kept as that `JsonText`.
   */
  agents: Map<string, unknown>;
  removedAgents: string[];
}

/** A commit refused by an injected failure; the inner store never saw it. */
export interface FailedCommit extends RecordedCommit {
  /** The error the commit rejected with. */
  error: CheckpointError;
}

/** Which commits fail: the next `n` valid commits, or every valid commit the predicate accepts. */
export type CommitFailureRule = number | ((commit: RecordedCommit) => boolean);

interface Rule {
  matches: (commit: RecordedCommit) => boolean;
  /** Failures left for a count rule; `undefined` for a predicate. */
  remaining: number | undefined;
  /** The injected error, or a function making a fresh one per failure. */
  cause: unknown;
}

/**
 * An error shaped like the one LevelDB (classic-level) rejects a write with when the disk is
 * full: code `LEVEL_IO_ERROR`, message `IO error: <file>: <reason>`.
 */
export function levelIoError(reason = 'No space left on device'): Error & { code: string } {
  return Object.assign(new Error(`IO error: /injected/000003.log: ${reason}`), { code: 'LEVEL_IO_ERROR' });
}

/** An error shaped like Node's for a write to a full disk (`code` ENOSPC, `errno` -28). */
export function enospcError(): NodeJS.ErrnoException {
  return Object.assign(new Error("ENOSPC: no space left on device, write '/injected/000003.log'"), {
    code: 'ENOSPC',
    errno: -28,
    syscall: 'write',
    path: '/injected/000003.log',
  });
}

/** Parsed text; a `JsonText` that is not JSON (the stores do not check) is recorded as it is. */
function parseOrKeep(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return new JsonText(text);
  }
}

/** The commit as stored, and its agents' JSON text to hand on to the inner store. */
function toRecord(
  index: number,
  key: SiteKey,
  commit: CheckpointCommit,
): { record: RecordedCommit; agentTexts: Map<string, string> } {
  // The stores' own validation, so an invalid commit is refused exactly as the inner store would.
  const prepared = prepareCommit(key, commit);
  const record: RecordedCommit = {
    index,
    key: { tenant: key.tenant, site: key.site },
    seq: prepared.seq,
    site: prepared.site === undefined ? undefined : JSON.parse(prepared.site),
    agents: new Map([...prepared.agents].map(([id, text]) => [id, parseOrKeep(text)])),
    removedAgents: [...prepared.removedAgents],
  };
  return { record, agentTexts: prepared.agents };
}

/**
 * Wraps any {@link CheckpointStore}; every call goes to `inner` unless a rule makes a commit fail.
 * A failing commit rejects with a `CheckpointError` whose `cause` is the injected error (by
 * default {@link levelIoError}), after the earlier commits of its site have settled, as a real
 * store's would. Invalid commits are refused as the stores refuse them and match no rule.
 *
 * @example
 * ```ts
 * const store = new FailingCheckpointStore(new LevelCheckpointStore({ location }));
 * store.failNext(2);                                   // the next two commits fail
 * store.failCommits((c) => c.key.site === 'S2' && c.seq > 100, enospcError);
 * ...
 * store.heal();                                        // nothing fails any more
 * expect(store.committed.map((c) => c.seq)).toEqual([...]);
 * ```
 */
export class FailingCheckpointStore implements CheckpointStore {
  /** Commits the inner store stored, in the order they resolved. */
  readonly committed: RecordedCommit[] = [];
  /** Commits refused by an injected failure, in call order. */
  readonly failed: FailedCommit[] = [];
  readonly #rules: Rule[] = [];
  // Per site: the last commit handed out, so an injected failure settles after earlier ones.
  readonly #tails = new Map<string, Promise<unknown>>();
  #index = 0;

  /** @param inner the store that does the real work. */
  constructor(readonly inner: CheckpointStore) {}

  /**
   * Makes commits fail: a number fails the next `rule` valid commits; a predicate fails every
   * valid commit it accepts until {@link heal}. Rules added earlier are checked first; the first
   * that matches decides (and a count rule uses up one failure). `cause` (an error, or a function
   * returning one per failure) becomes the `CheckpointError`'s cause; default {@link levelIoError}.
   */
  failCommits(rule: CommitFailureRule, cause: unknown = levelIoError): this {
    if (typeof rule === 'number') {
      if (!Number.isSafeInteger(rule) || rule < 0) {
        throw new RangeError(`failCommits: count must be a non-negative integer, got ${rule}`);
      }
      if (rule > 0) this.#rules.push({ matches: () => true, remaining: rule, cause });
    } else {
      this.#rules.push({ matches: rule, remaining: undefined, cause });
    }
    return this;
  }

  /** Fails the next `n` valid commits (`failCommits(n, cause)`). */
  failNext(n = 1, cause: unknown = levelIoError): this {
    return this.failCommits(n, cause);
  }

  /** Removes every rule: from now on every commit goes to the inner store. */
  heal(): this {
    this.#rules.length = 0;
    return this;
  }

  open(): Promise<void> {
    return this.inner.open();
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  load(key: SiteKey): Promise<SiteCheckpoint | null> {
    return this.inner.load(key);
  }

  clear(key: SiteKey): Promise<void> {
    return this.inner.clear(key);
  }

  sites(): Promise<SiteKey[]> {
    return this.inner.sites();
  }

  async commit(key: SiteKey, commit: CheckpointCommit): Promise<void> {
    if (Symbol.asyncIterator in commit.agents) return this.#commitStream(key, commit, commit.agents);
    // Validated and captured now, like the stores do; throws their CheckpointError when invalid.
    const { record, agentTexts } = toRecord(this.#index + 1, key, commit);
    this.#index += 1;
    const site = formatSiteKey(key);
    const failing = this.#failure(site, record);
    if (failing !== undefined) return failing;
    // Handed over synchronously, so the inner store sees commits in call order and captures the
    // site state at the same moment; the agents go as the text already made.
    const stored = this.inner.commit(key, {
      seq: record.seq,
      site: commit.site,
      agents: [...agentTexts].map(([id, text]) => [id, new JsonText(text)]),
      removedAgents: record.removedAgents,
    });
    this.#tails.set(site, stored);
    await stored;
    this.committed.push(record);
  }

  /**
   * A commit whose agents come as a stream goes to the inner store as one too, recorded as they
   * pass. Rules see it before its agents are read: its record's `agents` are empty then.
   */
  async #commitStream(
    key: SiteKey,
    commit: CheckpointCommit,
    agents: AsyncIterable<[string, unknown]>,
  ): Promise<void> {
    const { record } = toRecord(this.#index + 1, key, { ...commit, agents: [] });
    this.#index += 1;
    const site = formatSiteKey(key);
    const failing = this.#failure(site, record);
    if (failing !== undefined) return failing;
    async function* recorded(): AsyncGenerator<[string, unknown]> {
      for await (const [id, value] of agents) {
        const text = value instanceof JsonText ? value.text : JSON.stringify(value);
        if (text !== undefined) record.agents.set(id, parseOrKeep(text));
        yield [id, value];
      }
    }
    const stored = this.inner.commit(key, { ...commit, agents: recorded() });
    this.#tails.set(site, stored);
    await stored;
    this.committed.push(record);
  }

  /** The rejection of `record` when a rule fails it (after the site's earlier commits settle). */
  #failure(site: string, record: RecordedCommit): Promise<void> | undefined {
    const rule = this.#rules.find((candidate) => candidate.matches(record));
    if (rule === undefined) return undefined;
    if (rule.remaining !== undefined) {
      rule.remaining -= 1;
      if (rule.remaining === 0) this.#rules.splice(this.#rules.indexOf(rule), 1);
    }
    const cause = typeof rule.cause === 'function' ? (rule.cause as () => unknown)() : rule.cause;
    const reason = cause instanceof Error ? cause.message : String(cause);
    const error = new CheckpointError(`commit ${site} seq ${record.seq} failed: ${reason}`, { cause });
    this.failed.push({ ...record, error });
    const failing = (this.#tails.get(site) ?? Promise.resolve()).then(
      () => Promise.reject(error),
      () => Promise.reject(error),
    );
    this.#tails.set(site, failing);
    return failing;
  }
}
