import { CheckpointError } from '../errors.ts';
import {
  assertSeqNotBehind,
  assertSiteKey,
  type CheckpointCommit,
  type CheckpointStore,
  compareIds,
  compareSiteKeys,
  formatSiteKey,
  prepareCommit,
  type SiteCheckpoint,
  type SiteKey,
  toJsonText,
} from './CheckpointStore.ts';

/** One site's checkpoint, held as JSON text exactly as LevelDB would hold it. */
interface StoredSite {
  key: SiteKey;
  seq: number;
  /** `JSON.stringify({ site })`, so an `undefined` site survives like the Level meta record. */
  meta: string;
  agents: Map<string, string>;
}

/**
 * {@link CheckpointStore} in process memory, for tests and runs without a data directory. It
 * keeps the Level store's semantics exactly: values go through JSON on the way in and out (so
 * callers can never share or mutate stored state), a commit is all-or-nothing, seq never goes
 * backwards, and data survives `close()` + `open()` of the same instance (not the process).
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly #sites = new Map<string, StoredSite>();
  #open = false;

  async open(): Promise<void> {
    this.#open = true;
  }

  async close(): Promise<void> {
    this.#open = false;
  }

  async load(key: SiteKey): Promise<SiteCheckpoint | null> {
    assertSiteKey(key);
    this.#requireOpen();
    const stored = this.#sites.get(formatSiteKey(key));
    if (stored === undefined) return null;
    const { site } = JSON.parse(stored.meta) as { site?: unknown };
    // Ascending agent id order, as LevelDB's key order yields them.
    const ids = [...stored.agents.keys()].sort(compareIds);
    const agents = new Map<string, unknown>(
      ids.map((id) => [id, JSON.parse(stored.agents.get(id) as string)]),
    );
    return { seq: stored.seq, site, agents };
  }

  async commit(key: SiteKey, commit: CheckpointCommit): Promise<void> {
    const prepared = prepareCommit(key, commit);
    this.#requireOpen();
    const where = formatSiteKey(key);
    const existing = this.#sites.get(where);
    assertSeqNotBehind(key, existing?.seq, prepared.seq);
    // Serialize everything before touching the stored site, so a bad value changes nothing.
    const meta = toJsonText(`commit for ${where}: site state`, { site: prepared.site });
    const written = [...prepared.agents].map(
      ([agentId, value]) => [agentId, toJsonText(`commit for ${where}: agent ${agentId}`, value)] as const,
    );
    // Nothing below can throw, so updating the stored map in place is still all-or-nothing.
    const agents = existing?.agents ?? new Map<string, string>();
    for (const [agentId, json] of written) agents.set(agentId, json);
    for (const agentId of prepared.removedAgents) agents.delete(agentId);
    this.#sites.set(where, { key: { tenant: key.tenant, site: key.site }, seq: prepared.seq, meta, agents });
  }

  async clear(key: SiteKey): Promise<void> {
    assertSiteKey(key);
    this.#requireOpen();
    this.#sites.delete(formatSiteKey(key));
  }

  async sites(): Promise<SiteKey[]> {
    this.#requireOpen();
    return [...this.#sites.values()]
      .map(({ key }) => ({ tenant: key.tenant, site: key.site }))
      .sort(compareSiteKeys);
  }

  #requireOpen(): void {
    if (!this.#open) throw new CheckpointError('memory checkpoint store is not open');
  }
}
