import { describe, expect, it, vi } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import {
  type CheckpointStore,
  MemoryCheckpointStore,
  PrefetchingCheckpointStore,
} from '../../src/persistence/index.ts';
import { checkpointStoreContract } from './checkpointStoreContract.ts';

checkpointStoreContract(
  'PrefetchingCheckpointStore',
  () => new PrefetchingCheckpointStore(new MemoryCheckpointStore()),
);

const S1 = { tenant: 'T1', site: 'S1' };
const S2 = { tenant: 'T1', site: 'S2' };

async function opened(inner: CheckpointStore = new MemoryCheckpointStore()) {
  const store = new PrefetchingCheckpointStore(inner);
  await store.open();
  return { store, inner, loads: vi.spyOn(inner, 'load') };
}

describe('PrefetchingCheckpointStore', () => {
  it('serves the next load of a prefetched site from the read started earlier, once', async () => {
    const { store, loads } = await opened();
    await store.commit(S1, { seq: 3, site: 'a', agents: [['x', 1]] });
    store.prefetch([S1, S2]);
    expect(loads).toHaveBeenCalledTimes(2);
    expect(await store.load(S1)).toStrictEqual({ seq: 3, site: 'a', agents: new Map([['x', 1]]) });
    expect(await store.load(S2)).toBeNull();
    expect(loads).toHaveBeenCalledTimes(2);
    // Taken: the next load reads again.
    expect(await store.load(S1)).toStrictEqual({ seq: 3, site: 'a', agents: new Map([['x', 1]]) });
    expect(loads).toHaveBeenCalledTimes(3);
  });

  it('a prefetch of a site read already does not read it again', async () => {
    const { store, loads } = await opened();
    store.prefetch([S1]);
    store.prefetch([S1]);
    expect(loads).toHaveBeenCalledTimes(1);
    expect(store.prefetchedCount).toBe(1);
  });

  it('never serves a read a later commit or clear of the site made stale', async () => {
    const { store, loads } = await opened();
    await store.commit(S1, { seq: 1, site: 'old', agents: [['x', 1]] });
    store.prefetch([S1, S2]);
    // The prefetched read may have begun before this commit: it must not be served.
    await store.commit(S1, { seq: 2, site: 'new', agents: [['x', 2]] });
    expect(await store.load(S1)).toStrictEqual({ seq: 2, site: 'new', agents: new Map([['x', 2]]) });
    await store.commit(S2, { seq: 5, site: 'b', agents: [] });
    store.prefetch([S2]);
    await store.clear(S2);
    expect(await store.load(S2)).toBeNull();
    expect(loads).toHaveBeenCalledTimes(5);
  });

  it('forget() drops reads nobody took; the next load reads the store', async () => {
    const { store, loads } = await opened();
    store.prefetch([S1, S2]);
    store.forget();
    expect(store.prefetchedCount).toBe(0);
    await store.commit(S1, { seq: 1, site: null, agents: [] });
    expect(await store.load(S1)).toStrictEqual({ seq: 1, site: null, agents: new Map() });
    expect(loads).toHaveBeenCalledTimes(3);
  });

  it('a failed prefetch fails the load it is served to with the store error; one never taken is no unhandled rejection', async () => {
    const inner = new MemoryCheckpointStore();
    const failure = new CheckpointError('load T1/S1 failed: disk');
    const { store } = await opened(inner);
    vi.spyOn(inner, 'load').mockRejectedValue(failure);
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      store.prefetch([S1, S2]);
      await expect(store.load(S1)).rejects.toBe(failure);
      store.forget();
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('refuses an invalid site key at prefetch, naming it', async () => {
    const { store } = await opened();
    expect(() => store.prefetch([{ tenant: 'T1', site: 'no spaces' }])).toThrow(CheckpointError);
  });
});
