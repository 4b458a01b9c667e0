import { CheckpointError } from '../errors.ts';
import {
  assertSeqNotBehind,
  assertSiteKey,
  type CheckpointCommit,
  type CheckpointStore,
  compareIds,
  compareSiteKeys,
  formatSiteKey,
  type PreparedCommit,
  parseStoredJson,
  prepareCommit,
  type SiteCheckpoint,
  type SiteKey,
} from './CheckpointStore.ts';
import { KeyedQueue } from './KeyedQueue.ts';

/** One site's checkpoint, held as JSON text exactly as LevelDB would hold it. */
interface StoredSite {
  key: SiteKey;
  seq: number;
  /** JSON text of the site state; `undefined` when it has none, like the Level meta record. */
  site: string | undefined;
  /** Agent snapshots as JSON text; a `JsonText` value's text, verbatim. */
  agents: Map<string, string>;
}

/**
 * {@link CheckpointStore} in process memory, for tests and runs without a data directory. It
 * keeps the Level store's semantics exactly: values go through JSON on the way in and out (so
 * callers can never share or mutate stored state), a `JsonText` is kept as its text and parsed by
 * `load()`, a commit is all-or-nothing, seq never goes backwards, and data survives `close()` +
 * `open()` of the same instance (not the process).
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly #sites = new Map<string, StoredSite>();
  // Per site: a streamed commit still reading its agents, and the commits called after it.
  readonly #queue = new KeyedQueue();
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
    const site = stored.site === undefined ? undefined : parseStoredJson(key, 'site state', stored.site);
    // Ascending agent id order, as LevelDB's key order yields them.
    const ids = [...stored.agents.keys()].sort(compareIds);
    const agents = new Map<string, unknown>(
      ids.map((id) => [id, parseStoredJson(key, `agent ${id}`, stored.agents.get(id) as string)]),
    );
    return { seq: stored.seq, site, agents };
  }

  async commit(key: SiteKey, commit: CheckpointCommit): Promise<void> {
    const prepared = prepareCommit(key, commit);
    this.#requireOpen();
    const where = formatSiteKey(key);
    const stream = prepared.agentStream;
    if (stream === undefined && !this.#queue.busy(where)) return this.#store(key, where, prepared);
    // Commits of a site are stored in call order, as the Level store's: a streamed one is read
    // whole first (nothing stored until then), and any called later waits for it.
    await this.#queue.run(where, async () => {
      if (stream !== undefined)
        for await (const [agentId, text] of stream) prepared.agents.set(agentId, text);
      this.#requireOpen();
      this.#store(key, where, prepared);
    });
  }

  #store(key: SiteKey, where: string, prepared: PreparedCommit): void {
    const existing = this.#sites.get(where);
    assertSeqNotBehind(key, existing?.seq, prepared.seq);
    // prepareCommit serialized everything and nothing below can throw, so updating the stored
    // map in place is still all-or-nothing.
    const agents = existing?.agents ?? new Map<string, string>();
    for (const [agentId, json] of prepared.agents) agents.set(agentId, json);
    for (const agentId of prepared.removedAgents) agents.delete(agentId);
    this.#sites.set(where, {
      key: { tenant: key.tenant, site: key.site },
      seq: prepared.seq,
      site: prepared.site,
      agents,
    });
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
