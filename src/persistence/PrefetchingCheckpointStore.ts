import {
  assertSiteKey,
  type CheckpointCommit,
  type CheckpointStore,
  formatSiteKey,
  type SiteCheckpoint,
  type SiteKey,
} from './CheckpointStore.ts';

/**
 * A checkpoint store whose reads of some sites can start before anyone asks for them: a node
 * starting reads its sites' checkpoints while it joins the cluster (half a second or more of
 * listening for other nodes before any site is placed), instead of after. The next `load()` of
 * a prefetched site is served from that read, once; everything else goes to the store inside.
 *
 * A prefetched read is never served stale: the store belongs to this process alone, and a
 * `commit()` or `clear()` of a site drops its prefetched read before it writes, so a read that
 * began before the write (and may not see it) is forgotten, and the next load reads again.
 */
export class PrefetchingCheckpointStore implements CheckpointStore {
  readonly #inner: CheckpointStore;
  // formatSiteKey(key) -> the read started by prefetch(), until load() takes it or a write drops it.
  readonly #prefetched = new Map<string, Promise<SiteCheckpoint | null>>();

  constructor(inner: CheckpointStore) {
    this.#inner = inner;
  }

  /** Reads prefetched and not yet taken (a metric of tests). */
  get prefetchedCount(): number {
    return this.#prefetched.size;
  }

  open(): Promise<void> {
    return this.#inner.open();
  }

  close(): Promise<void> {
    this.#prefetched.clear();
    return this.#inner.close();
  }

  /**
   * Starts reading each site's checkpoint now (a site read already is left as it is). A read that
   * fails fails the `load()` it is served to, as that load would have; one never taken is dropped
   * by {@link forget} and its failure ignored.
   */
  prefetch(keys: readonly SiteKey[]): void {
    for (const key of keys) {
      assertSiteKey(key);
      const where = formatSiteKey(key);
      if (this.#prefetched.has(where)) continue;
      const read = this.#inner.load(key);
      // Nobody may ever take it: never an unhandled rejection.
      read.catch(() => undefined);
      this.#prefetched.set(where, read);
    }
  }

  /** Drops every read nobody took (a site not placed on this node): its checkpoint is memory. */
  forget(): void {
    this.#prefetched.clear();
  }

  load(key: SiteKey): Promise<SiteCheckpoint | null> {
    const where = formatSiteKey(key);
    const read = this.#prefetched.get(where);
    if (read === undefined) return this.#inner.load(key);
    // Served once: the caller owns what it gets, as from any load.
    this.#prefetched.delete(where);
    return read;
  }

  commit(key: SiteKey, commit: CheckpointCommit): Promise<void> {
    this.#prefetched.delete(formatSiteKey(key));
    return this.#inner.commit(key, commit);
  }

  clear(key: SiteKey): Promise<void> {
    this.#prefetched.delete(formatSiteKey(key));
    return this.#inner.clear(key);
  }

  sites(): Promise<SiteKey[]> {
    return this.#inner.sites();
  }
}
