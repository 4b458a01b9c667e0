import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import {
  defaultLevelCheckpointStoreOptions,
  JsonText,
  LevelCheckpointStore,
  type LevelCheckpointStoreOptions,
} from '../../src/persistence/index.ts';
import { checkpointStoreContract } from './checkpointStoreContract.ts';

let root: string;
let counter = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wfm-level-checkpoint-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function freshLocation(): string {
  counter += 1;
  return join(root, `db-${counter}`);
}

async function rawEntries(location: string): Promise<Array<[string, unknown]>> {
  const db = new Level<string, unknown>(location, { valueEncoding: 'json' });
  try {
    return await db.iterator().all();
  } finally {
    await db.close();
  }
}

async function rawBytes(location: string): Promise<Array<[string, Buffer]>> {
  const db = new Level<string, Buffer>(location, { valueEncoding: 'buffer' });
  try {
    return await db.iterator().all();
  } finally {
    await db.close();
  }
}

/** Writes `value` as JSON, or a string as the very text given. */
async function rawPut(location: string, key: string, value: unknown): Promise<void> {
  const db = new Level<string, unknown>(location, {
    valueEncoding: typeof value === 'string' ? 'utf8' : 'json',
  });
  try {
    await db.put(key, value);
  } finally {
    await db.close();
  }
}

function construct(options: unknown): unknown {
  try {
    new LevelCheckpointStore(options as LevelCheckpointStoreOptions);
    return undefined;
  } catch (error) {
    return error;
  }
}

checkpointStoreContract(
  'LevelCheckpointStore',
  () => new LevelCheckpointStore({ location: freshLocation() }),
  {
    propertyRuns: 100,
  },
);

// Every commit of more than 3 agents staged 2 a batch, streamed ones staged as they are read.
checkpointStoreContract(
  'LevelCheckpointStore (stageAbove: 3, stageBatch: 2)',
  () => new LevelCheckpointStore({ location: freshLocation(), stageAbove: 3, stageBatch: 2 }),
  { propertyRuns: 30 },
);

checkpointStoreContract(
  'LevelCheckpointStore (sync: false)',
  () => new LevelCheckpointStore({ location: freshLocation(), sync: false }),
  { propertyRuns: 20 },
);

describe('LevelCheckpointStore options', () => {
  it('applies defaults, treating an explicit undefined as absent', () => {
    expect(defaultLevelCheckpointStoreOptions).toEqual({
      sync: true,
      createIfMissing: true,
      stageAbove: 10_000,
      stageBatch: 2000,
    });
    expect(new LevelCheckpointStore({ location: '/x' }).options).toEqual({
      location: '/x',
      sync: true,
      createIfMissing: true,
      stageAbove: 10_000,
      stageBatch: 2000,
    });
    expect(
      new LevelCheckpointStore({ location: '/x', sync: undefined, createIfMissing: false }).options,
    ).toEqual({
      location: '/x',
      sync: true,
      createIfMissing: false,
      stageAbove: 10_000,
      stageBatch: 2000,
    });
  });

  it.each([
    [undefined, /expected an object/],
    [{}, /location must be a non-empty path/],
    [{ location: '  ' }, /location must be a non-empty path/],
    [{ location: 42 }, /location must be a non-empty path/],
    [{ location: '/x', sync: 'yes' }, /sync must be a boolean/],
    [{ location: '/x', createIfMissing: 1 }, /createIfMissing must be a boolean/],
    [{ location: '/x', synch: true }, /unknown option synch/],
    [{ location: '/x', stageAbove: 0 }, /stageAbove must be a positive integer/],
    [{ location: '/x', stageAbove: 1.5 }, /stageAbove must be a positive integer/],
    [{ location: '/x', stageBatch: 0 }, /stageBatch must be a positive integer/],
    [{ location: '/x', stageBatch: '2' }, /stageBatch must be a positive integer/],
  ])('rejects %j at construction', (options, message) => {
    const error = construct(options);
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('LevelCheckpointStore on disk', () => {
  let location: string;
  let store: LevelCheckpointStore;

  beforeEach(async () => {
    location = freshLocation();
    store = new LevelCheckpointStore({ location });
    await store.open();
  });

  afterEach(async () => {
    await store.close();
  });

  it('writes a commit of more agents than the default stageAbove (staged), and a later one over it', async () => {
    const key = { tenant: 'T1', site: 'S1' };
    const many = (n: number, v: number): [string, number][] =>
      Array.from({ length: n }, (_, i): [string, number] => [`a${i}`, v]);
    await store.commit(key, { seq: 1, site: { t: 1 }, agents: many(12_500, 1) });
    let loaded = await store.load(key);
    expect(loaded?.agents.size).toBe(12_500);
    expect(loaded?.agents.get('a12499')).toBe(1);
    const removed = Array.from({ length: 10_500 }, (_, i) => `a${i + 2000}`);
    await store.commit(key, { seq: 2, site: { t: 2 }, agents: many(2000, 2), removedAgents: removed });
    loaded = await store.load(key);
    expect(loaded?.seq).toBe(2);
    expect(loaded?.agents.size).toBe(2000);
    expect([...new Set(loaded?.agents.values())]).toEqual([2]);
  });

  it('keeps everything across close and a new instance on the same location', async () => {
    await store.commit(
      { tenant: 'T1', site: 'S1' },
      {
        seq: 1,
        site: { t: 1 },
        agents: [
          ['a', 1],
          ['b', 1],
          ['c', 1],
        ],
      },
    );
    await store.commit(
      { tenant: 'T1', site: 'S1' },
      { seq: 4, site: { t: 4 }, agents: [['b', 4]], removedAgents: ['c'] },
    );
    await store.commit({ tenant: 'T1', site: 'S2' }, { seq: 2, site: null, agents: [['x', { deep: [1] }]] });
    await store.commit({ tenant: 'T2', site: 'S1' }, { seq: 3, site: null, agents: [] });
    await store.clear({ tenant: 'T2', site: 'S1' });
    const before = {
      s1: await store.load({ tenant: 'T1', site: 'S1' }),
      s2: await store.load({ tenant: 'T1', site: 'S2' }),
      sites: await store.sites(),
    };
    await store.close();

    const reopened = new LevelCheckpointStore({ location, createIfMissing: false });
    await reopened.open();
    try {
      const after = {
        s1: await reopened.load({ tenant: 'T1', site: 'S1' }),
        s2: await reopened.load({ tenant: 'T1', site: 'S2' }),
        sites: await reopened.sites(),
      };
      expect(after).toStrictEqual(before);
      expect(after.s1).toStrictEqual({
        seq: 4,
        site: { t: 4 },
        agents: new Map<string, unknown>([
          ['a', 1],
          ['b', 4],
        ]),
      });
      expect(after.sites).toEqual([
        { tenant: 'T1', site: 'S1' },
        { tenant: 'T1', site: 'S2' },
      ]);
      expect(await reopened.load({ tenant: 'T2', site: 'S1' })).toBeNull();
      // The stored seq survives too: a reopened store still refuses to go backwards.
      await expect(
        reopened.commit({ tenant: 'T1', site: 'S1' }, { seq: 3, site: null, agents: [] }),
      ).rejects.toThrow(/behind the stored checkpoint seq 4/);
    } finally {
      await reopened.close();
    }
  });

  it('lays one site out as a contiguous key range: agents under a!, then meta', async () => {
    await store.commit(
      { tenant: 'T1', site: 'S1' },
      {
        seq: 5,
        site: { t: 5 },
        agents: [
          ['meta', 1],
          ['a-1', 2],
        ],
      },
    );
    await store.commit({ tenant: 'T1', site: 'S10' }, { seq: 6, site: null, agents: [['z', 3]] });
    await store.close();
    expect(await rawEntries(location)).toStrictEqual([
      ['cp!T1!S1!a!a-1', 2],
      ['cp!T1!S1!a!meta', 1],
      ['cp!T1!S1!meta', { v: 1, seq: 5, site: { t: 5 } }],
      ['cp!T1!S10!a!z', 3],
      ['cp!T1!S10!meta', { v: 1, seq: 6, site: null }],
    ]);
  });

  it('writes a JsonText agent value as its exact UTF-8 bytes', async () => {
    const text = '{ "name" : "Zoë 😀", "n": 1.50, "raw": "\\u00e9" }';
    await store.commit(
      { tenant: 'T1', site: 'S1' },
      { seq: 7, site: { t: 'é' }, agents: [['a', new JsonText(text)]] },
    );
    expect(await store.load({ tenant: 'T1', site: 'S1' })).toStrictEqual({
      seq: 7,
      site: { t: 'é' },
      agents: new Map([['a', { name: 'Zoë 😀', n: 1.5, raw: 'é' }]]),
    });
    await store.close();
    expect(await rawBytes(location)).toStrictEqual([
      ['cp!T1!S1!a!a', Buffer.from(text, 'utf8')],
      ['cp!T1!S1!meta', Buffer.from('{"v":1,"seq":7,"site":{"t":"é"}}', 'utf8')],
    ]);
  });

  it('refuses a meta record of another format version, on load and on commit, and changes nothing', async () => {
    await store.close();
    await rawPut(location, 'cp!T1!S1!a!a', { future: true });
    await rawPut(location, 'cp!T1!S1!meta', { v: 2, seq: 5, site: { t: 5 } });
    await rawPut(location, 'cp!T1!S2!meta', { v: '1', seq: 5 });
    await rawPut(location, 'cp!T1!S3!meta', { seq: 5 });
    const before = await rawEntries(location);
    await store.open();
    const refused =
      /^checkpoint for T1\/S1 has format version 2, but this version of wfm-aggregator reads only version 1; refusing to read or overwrite it/;
    const load = await store.load({ tenant: 'T1', site: 'S1' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(load).toBeInstanceOf(CheckpointError);
    expect((load as CheckpointError).message).toMatch(refused);
    await expect(
      store.commit({ tenant: 'T1', site: 'S1' }, { seq: 6, site: null, agents: [['a', 1]] }),
    ).rejects.toThrow(refused);
    await expect(store.load({ tenant: 'T1', site: 'S2' })).rejects.toThrow(
      /^checkpoint for T1\/S2 has format version "1", but this version of wfm-aggregator reads only version 1/,
    );
    await expect(store.load({ tenant: 'T1', site: 'S3' })).rejects.toThrow(
      /^corrupt checkpoint for T1\/S3: unreadable meta record \(no format version\)$/,
    );
    await store.close();
    expect(await rawEntries(location)).toStrictEqual(before);
  });

  it('reports corrupt checkpoints as CheckpointError instead of loading a partial state', async () => {
    await store.close();
    await rawPut(location, 'cp!T1!S1!a!a', 1);
    await rawPut(location, 'cp!T1!S2!meta', { v: 1, seq: 1 });
    await rawPut(location, 'cp!T1!S2!junk', 1);
    await rawPut(location, 'cp!T1!S3!meta', { seq: 'x' });
    await rawPut(location, 'cp!T1!S4!meta', { v: 1, seq: 'x' });
    await rawPut(location, 'cp!T1!S5!meta', '{"v":1,');
    await store.open();
    await expect(store.load({ tenant: 'T1', site: 'S1' })).rejects.toThrow(/agent entries without meta/);
    await expect(store.load({ tenant: 'T1', site: 'S2' })).rejects.toThrow(/unexpected entry cp!T1!S2!junk/);
    await expect(store.load({ tenant: 'T1', site: 'S3' })).rejects.toThrow(/unreadable meta record/);
    await expect(
      store.commit({ tenant: 'T1', site: 'S3' }, { seq: 1, site: null, agents: [] }),
    ).rejects.toThrow(/unreadable meta record/);
    await expect(store.load({ tenant: 'T1', site: 'S4' })).rejects.toThrow(
      /^corrupt checkpoint for T1\/S4: unreadable meta record \(seq "x"\)$/,
    );
    await expect(store.load({ tenant: 'T1', site: 'S5' })).rejects.toThrow(
      /^corrupt checkpoint for T1\/S5: meta record is not valid JSON$/,
    );
  });

  it('wraps a failed open in CheckpointError with the LevelDB error as cause', async () => {
    const second = new LevelCheckpointStore({ location });
    const locked = await second.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(locked).toBeInstanceOf(CheckpointError);
    expect((locked as CheckpointError).message).toMatch(/cannot open checkpoint store at .*lock/i);
    expect((locked as CheckpointError).cause).toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    await second.close();

    const missing = new LevelCheckpointStore({
      location: join(root, 'does-not-exist'),
      createIfMissing: false,
    });
    await expect(missing.open()).rejects.toThrow(/does not exist/);
    await expect(missing.load({ tenant: 'T1', site: 'S1' })).rejects.toThrow(/not open/);
    await missing.close();
  });
});

describe('LevelCheckpointStore: a commit of more agents than stageAbove is staged', () => {
  const key = { tenant: 'T1', site: 'S1' };
  const agents = (ids: string[], v: number): [string, { v: number }][] => ids.map((id) => [id, { v }]);
  const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => `a${from + i}`);
  let location: string;

  beforeEach(() => {
    location = freshLocation();
  });

  async function withStore<T>(run: (store: LevelCheckpointStore) => Promise<T>): Promise<T> {
    const store = new LevelCheckpointStore({ location, stageAbove: 3, stageBatch: 3 });
    await store.open();
    try {
      return await run(store);
    } finally {
      await store.close();
    }
  }

  const load = () => withStore((store) => store.load(key));

  it('stages a streamed commit as it reads it: its agents are written before the stream ends', async () => {
    let read = 0;
    const readAtBatch: number[] = [];
    const original = Level.prototype.batch;
    const batch = vi.spyOn(Level.prototype, 'batch').mockImplementation(function (
      this: Level<string, string>,
      ...args: unknown[]
    ) {
      readAtBatch.push(read);
      return Reflect.apply(original, this, args) as never;
    });
    async function* stream(): AsyncGenerator<[string, unknown]> {
      for (const id of ids(0, 10)) {
        read++;
        yield [id, { v: 1 }];
      }
    }
    try {
      await withStore((store) => store.commit(key, { seq: 1, site: null, agents: stream() }));
    } finally {
      batch.mockRestore();
    }
    // Batches of 3 staged agents while it is read: once 4 are read (one past stageAbove decides
    // that it is staged), then at 6 and 9; the rest (1 staged, the commit, the move) at its end.
    expect(readAtBatch.slice(0, 3)).toEqual([4, 6, 9]);
    expect(readAtBatch.slice(3).every((n) => n === 10)).toBe(true);
    expect(await load()).toStrictEqual({ seq: 1, site: null, agents: new Map(agents(ids(0, 10), 1)) });
  });

  it('loads as one commit and leaves only agents and meta, whatever it removed', async () => {
    await withStore(async (store) => {
      await store.commit(key, { seq: 1, site: { t: 1 }, agents: agents(ids(0, 10), 1) });
      await store.commit(key, {
        seq: 2,
        site: { t: 2 },
        agents: agents(ids(3, 8), 2),
        removedAgents: ['a0', 'a9'],
      });
    });
    const loaded = await load();
    expect(loaded?.seq).toBe(2);
    expect(loaded?.site).toEqual({ t: 2 });
    expect([...loaded!.agents]).toEqual([
      ['a1', { v: 1 }],
      ['a2', { v: 1 }],
      ...agents(ids(3, 8), 2),
      ['a8', { v: 1 }],
    ]);
    expect((await rawEntries(location)).map(([k]) => k)).toEqual([
      ...['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'a7', 'a8'].map((id) => `cp!T1!S1!a!${id}`),
      'cp!T1!S1!meta',
    ]);
  });

  it('cut before its meta (staged agents, no mark): the previous checkpoint; the next commit drops them', async () => {
    await withStore((store) => store.commit(key, { seq: 1, site: { t: 1 }, agents: agents(ids(0, 4), 1) }));
    // What a crash in step (1) leaves: some agents staged, nothing else of that commit.
    await rawPut(location, 'cp!T1!S1!s!a0', { v: 9 });
    await rawPut(location, 'cp!T1!S1!s!a7', { v: 9 });
    expect(await load()).toEqual({ seq: 1, site: { t: 1 }, agents: new Map(agents(ids(0, 4), 1)) });
    await withStore((store) => store.commit(key, { seq: 2, site: { t: 2 }, agents: agents(ids(1, 5), 2) }));
    expect([...(await load())!.agents]).toEqual([['a0', { v: 1 }], ...agents(ids(1, 5), 2)]);
    expect((await rawEntries(location)).some(([k]) => k.includes('!s!'))).toBe(false);
  });

  it('cut before its first commit had meta: no checkpoint, and no site listed', async () => {
    await rawPut(location, 'cp!T1!S1!s!a0', { v: 9 });
    expect(await load()).toBeNull();
    expect(await withStore((store) => store.sites())).toEqual([]);
  });

  it('cut while moving (mark, some agents still staged): the new checkpoint, staged agents read over the rest', async () => {
    await withStore((store) => store.commit(key, { seq: 1, site: { t: 1 }, agents: agents(ids(0, 6), 1) }));
    // Step (2) done, step (3) moved a0 and a1 only: a2, a3 and a new a9 are still staged.
    await rawPut(location, 'cp!T1!S1!meta', { v: 1, seq: 2, site: { t: 2 } });
    await rawPut(location, 'cp!T1!S1!staged', { seq: 2 });
    await rawPut(location, 'cp!T1!S1!a!a0', { v: 2 });
    await rawPut(location, 'cp!T1!S1!a!a1', { v: 2 });
    for (const id of ['a2', 'a3', 'a9']) await rawPut(location, `cp!T1!S1!s!${id}`, { v: 2 });
    const expected = [...agents(ids(0, 4), 2), ['a4', { v: 1 }], ['a5', { v: 1 }], ['a9', { v: 2 }]];
    expect([...(await load())!.agents]).toEqual(expected);
    // A commit of few agents (one batch) first finishes the move, so a2 staged at seq 2 never
    // shadows the a2 written at seq 3.
    await withStore((store) => store.commit(key, { seq: 3, site: { t: 3 }, agents: agents(['a2'], 3) }));
    const after = await load();
    expect(after?.seq).toBe(3);
    expect(after?.agents.get('a2')).toEqual({ v: 3 });
    expect(after?.agents.get('a3')).toEqual({ v: 2 });
    expect((await rawEntries(location)).map(([k]) => k).filter((k) => !k.includes('!a!'))).toEqual([
      'cp!T1!S1!meta',
    ]);
  });
});
