import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import { LevelCheckpointStore, type SiteCheckpoint, type SiteKey } from '../../src/persistence/index.ts';
import {
  makeStoreDirUnwritable,
  type UnwritableDir,
  unwritableDirSupport,
} from '../helpers/makeStoreDirUnwritable.ts';

const S1: SiteKey = { tenant: 'T1', site: 'S1' };
const S2: SiteKey = { tenant: 'T1', site: 'S2' };

const unsupported = await unwritableDirSupport();

async function rejection(promise: Promise<unknown>): Promise<CheckpointError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}

/** Commit `seq` writes agent `a<seq % 40>` (about 1 KiB) and site state `{ seq }`. */
function commitOf(seq: number): { seq: number; site: unknown; agents: Array<[string, unknown]> } {
  return { seq, site: { seq }, agents: [[`a${seq % 40}`, { seq, pad: 'x'.repeat(1000) }]] };
}

/** The checkpoint after commits 1..seq of {@link commitOf}. */
function expectedAfter(seq: number): SiteCheckpoint {
  const agents = new Map<string, unknown>();
  for (let k = Math.max(1, seq - 39); k <= seq; k += 1) {
    agents.set(`a${k % 40}`, { seq: k, pad: 'x'.repeat(1000) });
  }
  return { seq, site: { seq }, agents: new Map([...agents].sort(([a], [b]) => (a < b ? -1 : 1))) };
}

describe.skipIf(unsupported !== null)(
  `LevelCheckpointStore when its data directory becomes unwritable${unsupported === null ? '' : ` (cannot here: ${unsupported})`}`,
  () => {
    let root: string;
    let location: string;
    let store: LevelCheckpointStore;
    let unwritable: UnwritableDir | undefined;

    beforeAll(async () => {
      root = await mkdtemp(join(tmpdir(), 'wfm-checkpoint-disk-'));
    });

    afterAll(async () => {
      await rm(root, { recursive: true, force: true });
    });

    beforeEach(async () => {
      location = await mkdtemp(join(root, 'db-'));
      store = new LevelCheckpointStore({ location });
      await store.open();
      unwritable = undefined;
    });

    afterEach(async () => {
      await unwritable?.restore();
      await store.close();
    });

    it('rejects the commit with LevelDB’s error as cause and serves the last good checkpoint; commits again once writable', async () => {
      for (let seq = 1; seq <= 3; seq += 1) await store.commit(S1, commitOf(seq));
      await store.commit(S2, commitOf(1));

      unwritable = await makeStoreDirUnwritable(location);
      const failed = await rejection(store.commit(S1, commitOf(4)));
      expect(failed.message).toMatch(
        /^commit T1\/S1 seq 4 failed: IO error: .*\.log: Operation not permitted$/,
      );
      expect(failed.code).toBe('WFM_CHECKPOINT_FAILED');
      expect(failed.cause).toMatchObject({ code: 'LEVEL_IO_ERROR' });
      // Reads still come from the open database: the failed commit is not in it.
      expect(await store.load(S1)).toStrictEqual(expectedAfter(3));
      expect(await store.sites()).toEqual([S1, S2]);

      // The next write first reopens the database, which cannot work while the disk refuses writes;
      // until a reopen succeeds every call says so, keeping LevelDB's error reachable.
      const reopen = await rejection(store.commit(S2, commitOf(2)));
      expect(reopen.message).toMatch(
        /^cannot reopen checkpoint store at .* after a failed write \(IO error: .*Operation not permitted\): /,
      );
      expect(reopen.message).toMatch(/: Database failed to open: IO error: .*LOCK: Operation not permitted$/);
      expect(reopen.cause).toMatchObject({
        code: 'LEVEL_DATABASE_NOT_OPEN',
        cause: { code: 'LEVEL_IO_ERROR' },
      });
      const read = await rejection(store.load(S1));
      expect(read.message).toMatch(/^cannot reopen checkpoint store at .* after a failed write/);

      await unwritable.restore();
      expect(await store.load(S1)).toStrictEqual(expectedAfter(3));
      expect(await store.load(S2)).toStrictEqual(expectedAfter(1));
      await store.commit(S1, commitOf(4));
      await store.commit(S2, commitOf(2));
      expect(await store.load(S1)).toStrictEqual(expectedAfter(4));
      expect(await store.load(S2)).toStrictEqual(expectedAfter(2));
    });

    it('reopens LevelDB before the next write, so commits acknowledged after a failed write survive a restart', async () => {
      await store.commit(S1, commitOf(1));
      unwritable = await makeStoreDirUnwritable(location);
      await rejection(store.commit(S1, commitOf(2)));
      await unwritable.restore();
      // Written on the same LevelDB handle, these would misalign its log after the failed write:
      // acknowledged now, mostly dropped as corrupt at the next open. ~250 KiB spans many 32 KiB
      // log blocks.
      const last = 250;
      for (let seq = 2; seq <= last; seq += 1) await store.commit(S1, commitOf(seq));
      expect(await store.load(S1)).toStrictEqual(expectedAfter(last));
      await store.close();

      const restarted = new LevelCheckpointStore({ location, createIfMissing: false });
      await restarted.open();
      try {
        expect(await restarted.load(S1)).toStrictEqual(expectedAfter(last));
      } finally {
        await restarted.close();
      }
    });

    it('finishes the calls running on the old handle, and holds new calls until the reopen is done', async () => {
      // Many sites, so listing them takes many iterator steps.
      const others = Array.from({ length: 40 }, (_, i): SiteKey => ({ tenant: 'T2', site: `S${i}` }));
      for (const key of [S1, S2, ...others]) await store.commit(key, commitOf(1));
      const allSites = [S1, S2, ...others.sort((a, b) => (a.site < b.site ? -1 : 1))];
      unwritable = await makeStoreDirUnwritable(location);
      await rejection(store.commit(S1, commitOf(2)));
      await unwritable.restore();
      // Reads already running when the reopen starts finish on the old handle first.
      const running = [store.load(S2), store.sites()] as const;
      const reopening = store.commit(S1, commitOf(2));
      // Closing and opening LevelDB happen on the thread pool: these arrive while it is under way.
      await new Promise((resolve) => setImmediate(resolve));
      const arriving = [store.load(S2), store.sites(), store.commit(S2, commitOf(2))] as const;
      expect(await Promise.all(running)).toStrictEqual([expectedAfter(1), allSites]);
      await reopening;
      const [loaded, sites] = await Promise.all(arriving);
      // The load was called before S2's commit and runs before it once the reopen is done.
      expect(loaded).toStrictEqual(expectedAfter(1));
      expect(sites).toEqual(allSites);
      expect(await store.load(S1)).toStrictEqual(expectedAfter(2));
      expect(await store.load(S2)).toStrictEqual(expectedAfter(2));
    });
  },
);
