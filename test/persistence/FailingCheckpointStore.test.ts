import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import {
  JsonText,
  LevelCheckpointStore,
  MemoryCheckpointStore,
  type SiteKey,
} from '../../src/persistence/index.ts';
import {
  enospcError,
  FailingCheckpointStore,
  levelIoError,
  type RecordedCommit,
} from '../helpers/FailingCheckpointStore.ts';
import { checkpointStoreContract } from './checkpointStoreContract.ts';

const S1: SiteKey = { tenant: 'T1', site: 'S1' };
const S2: SiteKey = { tenant: 'T1', site: 'S2' };

async function rejection(promise: Promise<unknown>): Promise<CheckpointError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  return error as CheckpointError;
}

function record(index: number, key: SiteKey, seq: number, agents: Record<string, unknown>): RecordedCommit {
  return { index, key, seq, site: { seq }, agents: new Map(Object.entries(agents)), removedAgents: [] };
}

checkpointStoreContract(
  'FailingCheckpointStore with no failures, over MemoryCheckpointStore',
  () => new FailingCheckpointStore(new MemoryCheckpointStore()),
  { propertyRuns: 30, countsSerialization: false },
);

describe('FailingCheckpointStore', () => {
  let inner: MemoryCheckpointStore;
  let store: FailingCheckpointStore;

  beforeEach(async () => {
    inner = new MemoryCheckpointStore();
    store = new FailingCheckpointStore(inner);
    await store.open();
  });

  it('fails the next n commits like a full disk, before the inner store sees them', async () => {
    const innerCommit = vi.spyOn(inner, 'commit');
    await store.commit(S1, { seq: 1, site: { seq: 1 }, agents: [['a', 1]] });
    expect(store.failNext(2)).toBe(store);
    const first = await rejection(store.commit(S1, { seq: 2, site: { seq: 2 }, agents: [['a', 2]] }));
    expect(first.message).toBe(
      'commit T1/S1 seq 2 failed: IO error: /injected/000003.log: No space left on device',
    );
    expect(first.code).toBe('WFM_CHECKPOINT_FAILED');
    expect(first.cause).toBeInstanceOf(Error);
    expect(first.cause).toMatchObject({ code: 'LEVEL_IO_ERROR' });
    const second = await rejection(store.commit(S2, { seq: 3, site: { seq: 3 }, agents: [['b', 3]] }));
    expect(second.cause).not.toBe(first.cause);
    await store.commit(S1, { seq: 4, site: { seq: 4 }, agents: [['c', 4]] });

    expect(innerCommit).toHaveBeenCalledTimes(2);
    expect(await inner.load(S1)).toStrictEqual({
      seq: 4,
      site: { seq: 4 },
      agents: new Map<string, unknown>([
        ['a', 1],
        ['c', 4],
      ]),
    });
    expect(await inner.load(S2)).toBeNull();
    expect(store.committed).toStrictEqual([record(1, S1, 1, { a: 1 }), record(4, S1, 4, { c: 4 })]);
    expect(store.failed).toStrictEqual([
      { ...record(2, S1, 2, { a: 2 }), error: first },
      { ...record(3, S2, 3, { b: 3 }), error: second },
    ]);
  });

  it('fails every commit a predicate accepts until heal(), checking rules in the order added', async () => {
    const seen: number[] = [];
    store
      .failCommits((commit) => {
        seen.push(commit.index);
        return commit.key.site === 'S2' && commit.seq >= 2;
      }, enospcError)
      .failCommits((commit) => commit.agents.has('poison'));
    await store.commit(S2, { seq: 1, site: null, agents: [['a', 1]] });
    const enospc = await rejection(store.commit(S2, { seq: 2, site: null, agents: [['a', 2]] }));
    expect(enospc.message).toBe(
      "commit T1/S2 seq 2 failed: ENOSPC: no space left on device, write '/injected/000003.log'",
    );
    expect(enospc.cause).toMatchObject({ code: 'ENOSPC', errno: -28, syscall: 'write' });
    await store.commit(S1, { seq: 5, site: null, agents: [['a', 5]] });
    const poisoned = await rejection(store.commit(S1, { seq: 6, site: null, agents: [['poison', 6]] }));
    expect(poisoned.cause).toMatchObject({ code: 'LEVEL_IO_ERROR' });
    await rejection(store.commit(S2, { seq: 3, site: null, agents: [['a', 3]] }));
    expect(seen).toEqual([1, 2, 3, 4, 5]);

    expect(store.heal()).toBe(store);
    await store.commit(S2, { seq: 3, site: null, agents: [['a', 3]] });
    await store.commit(S1, { seq: 7, site: null, agents: [['poison', 7]] });
    expect(store.committed.map((c) => [c.key.site, c.seq])).toEqual([
      ['S2', 1],
      ['S1', 5],
      ['S2', 3],
      ['S1', 7],
    ]);
    expect(store.failed.map((c) => [c.key.site, c.seq])).toEqual([
      ['S2', 2],
      ['S1', 6],
      ['S2', 3],
    ]);
    expect(seen).toEqual([1, 2, 3, 4, 5]);
  });

  it('keeps a given cause as it is; a function makes a fresh one per failure', async () => {
    const disk = Object.assign(new Error('IO error: /data/000005.log: Input/output error'), {
      code: 'LEVEL_IO_ERROR',
    });
    store.failNext(1, disk).failNext(2, () => levelIoError('Read-only file system'));
    const given = await rejection(store.commit(S1, { seq: 1, site: null, agents: [] }));
    expect(given.cause).toBe(disk);
    expect(given.message).toBe('commit T1/S1 seq 1 failed: IO error: /data/000005.log: Input/output error');
    const made = await rejection(store.commit(S1, { seq: 1, site: null, agents: [] }));
    const again = await rejection(store.commit(S1, { seq: 1, site: null, agents: [] }));
    expect(made.message).toBe(
      'commit T1/S1 seq 1 failed: IO error: /injected/000003.log: Read-only file system',
    );
    expect(made.cause).not.toBe(again.cause);
    await store.commit(S1, { seq: 1, site: null, agents: [] });
    expect(store.failed).toHaveLength(3);
  });

  it('refuses invalid commits as the stores do, without using up a failure or a number', async () => {
    store.failNext(1);
    await expect(store.commit(S1, { seq: -1, site: null, agents: [] })).rejects.toThrow(
      /seq must be a non-negative safe integer/,
    );
    await expect(
      store.commit({ tenant: 'T!', site: 'S' }, { seq: 1, site: null, agents: [] }),
    ).rejects.toThrow(/invalid tenant id/);
    const injected = await rejection(store.commit(S1, { seq: 1, site: null, agents: [] }));
    expect(injected.cause).toMatchObject({ code: 'LEVEL_IO_ERROR' });
    expect(store.failed.map((c) => c.index)).toEqual([1]);
    // A commit the inner store refuses is neither committed nor an injected failure.
    await store.commit(S1, { seq: 5, site: null, agents: [] });
    await expect(store.commit(S1, { seq: 4, site: null, agents: [] })).rejects.toThrow(/behind/);
    expect(store.committed.map((c) => c.index)).toEqual([2]);
    expect(store.failed.map((c) => c.index)).toEqual([1]);
  });

  it('validates the count', () => {
    expect(() => store.failCommits(-1)).toThrow(RangeError);
    expect(() => store.failNext(1.5)).toThrow(/non-negative integer, got 1.5/);
    store.failCommits(0);
    return store.commit(S1, { seq: 1, site: null, agents: [] });
  });

  it('records values as stored, captured at the call', async () => {
    const agent = { state: 'Ready' };
    const committing = store.commit(S1, {
      seq: 1,
      site: { when: new Date(0) },
      agents: [
        ['a', agent],
        ['b', new JsonText('{ "x" : [1] }')],
      ],
      removedAgents: ['c'],
    });
    agent.state = 'changed';
    await committing;
    expect(store.committed).toStrictEqual([
      {
        index: 1,
        key: S1,
        seq: 1,
        site: { when: '1970-01-01T00:00:00.000Z' },
        agents: new Map<string, unknown>([
          ['a', { state: 'Ready' }],
          ['b', { x: [1] }],
        ]),
        removedAgents: ['c'],
      },
    ]);
    expect(await store.load(S1)).toStrictEqual({
      seq: 1,
      site: { when: '1970-01-01T00:00:00.000Z' },
      agents: new Map<string, unknown>([
        ['a', { state: 'Ready' }],
        ['b', { x: [1] }],
      ]),
    });
  });
});

describe('FailingCheckpointStore over LevelCheckpointStore', () => {
  let root: string;

  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'wfm-failing-checkpoint-'));
  });

  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('settles an injected failure after the earlier commits of its site, and writes nothing of it', async () => {
    const location = join(root, 'db');
    const store = new FailingCheckpointStore(new LevelCheckpointStore({ location }));
    await store.open();
    const settled: string[] = [];
    const track = (name: string, promise: Promise<void>): Promise<void> =>
      promise.then(
        () => void settled.push(`${name} ok`),
        () => void settled.push(`${name} failed`),
      );
    const big = Array.from({ length: 200 }, (_, i): [string, unknown] => [
      `a${i}`,
      { i, pad: 'x'.repeat(200) },
    ]);
    const first = track('S1 seq 1', store.commit(S1, { seq: 1, site: null, agents: big }));
    store.failNext(1);
    const second = track('S1 seq 2', store.commit(S1, { seq: 2, site: null, agents: [['a0', 'lost']] }));
    await Promise.all([first, second]);
    expect(settled).toEqual(['S1 seq 1 ok', 'S1 seq 2 failed']);
    await store.close();

    const reopened = new LevelCheckpointStore({ location, createIfMissing: false });
    await reopened.open();
    try {
      const loaded = await reopened.load(S1);
      expect(loaded?.seq).toBe(1);
      expect(loaded?.agents.get('a0')).toEqual({ i: 0, pad: 'x'.repeat(200) });
    } finally {
      await reopened.close();
    }
  });
});
