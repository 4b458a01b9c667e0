import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CheckpointError } from '../../src/errors.ts';
import {
  type CheckpointStore,
  JsonText,
  type SiteCheckpoint,
  type SiteKey,
} from '../../src/persistence/index.ts';

/** How the shared suite runs against one implementation. */
export interface CheckpointStoreContractOptions {
  /** fast-check runs of the model property; each run gets a fresh store. */
  propertyRuns: number;
  /**
   * Whether to count the JSON.parse / JSON.stringify calls of a commit. A test wrapper that
   * reads the values it hands on (to record them) sets `false`.
   */
  countsSerialization: boolean;
}

const defaultContractOptions: CheckpointStoreContractOptions = {
  propertyRuns: 100,
  countsSerialization: true,
};

const T1S1: SiteKey = { tenant: 'T1', site: 'S1' };

/** What `load()` must return after JSON round-tripping `value`. */
function json<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function checkpoint(seq: number, site: unknown, agents: Record<string, unknown>): SiteCheckpoint {
  return { seq, site, agents: new Map(Object.entries(agents)) };
}

async function expectCheckpointError(promise: Promise<unknown>, message: RegExp): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CheckpointError);
  expect((error as CheckpointError).code).toBe('WFM_CHECKPOINT_FAILED');
  expect((error as CheckpointError).message).toMatch(message);
}

/**
 * The behaviour every {@link CheckpointStore} must have (in the spirit of abstract-level's
 * shared test suite). `factory` returns a new, empty, unopened store on every call.
 */
export function checkpointStoreContract(
  name: string,
  factory: () => CheckpointStore | Promise<CheckpointStore>,
  options: Partial<CheckpointStoreContractOptions> = {},
): void {
  const { propertyRuns, countsSerialization } = { ...defaultContractOptions, ...options };

  describe(`${name}: CheckpointStore contract`, () => {
    let store: CheckpointStore;

    beforeEach(async () => {
      store = await factory();
      await store.open();
    });

    afterEach(async () => {
      await store.close();
    });

    it('loads null for a site with no checkpoint', async () => {
      expect(await store.load(T1S1)).toBeNull();
      await store.commit({ tenant: 'T1', site: 'S2' }, { seq: 1, site: null, agents: [] });
      expect(await store.load(T1S1)).toBeNull();
      expect(await store.sites()).toEqual([{ tenant: 'T1', site: 'S2' }]);
    });

    it('round-trips a commit exactly, agents in ascending id order', async () => {
      const site = { eventTime: 1_700_000_000_000, nested: { list: [1, 'two', null, true, { x: -1.5 }] } };
      const agents: Array<[string, unknown]> = [
        ['b-2', { state: 'Ready', since: 17 }],
        ['a_1', [1, 2, 3]],
        ['C3', 'text'],
        ['meta', 0],
        ['z', null],
        ['y', false],
        ['x', ''],
        ['w', 0],
      ];
      await store.commit(T1S1, { seq: 42, site, agents });
      const loaded = await store.load(T1S1);
      expect(loaded).toStrictEqual({ seq: 42, site, agents: new Map(agents) });
      expect([...(loaded?.agents.keys() ?? [])]).toEqual(['C3', 'a_1', 'b-2', 'meta', 'w', 'x', 'y', 'z']);
    });

    it('loads a site of many agents whole and in order (more than one read batch)', async () => {
      const agents = Array.from({ length: 4501 }, (_, i): [string, unknown] => [
        `a${String(i).padStart(5, '0')}`,
        { n: i },
      ]);
      await store.commit(T1S1, { seq: 9, site: { s: 1 }, agents: agents.slice(0, 3000) });
      await store.commit(T1S1, { seq: 10, site: { s: 2 }, agents: agents.slice(2000) });
      const loaded = await store.load(T1S1);
      expect(loaded?.seq).toBe(10);
      expect(loaded?.site).toEqual({ s: 2 });
      expect([...(loaded?.agents ?? [])]).toEqual(agents);
    });

    it('stores values with JSON semantics', async () => {
      const site = { when: new Date(0), gone: undefined, n: Number.NaN };
      await store.commit(T1S1, { seq: 0, site, agents: [['a', { list: [undefined], d: new Date(1) }]] });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(
          0,
          { when: '1970-01-01T00:00:00.000Z', n: null },
          { a: { list: [null], d: '1970-01-01T00:00:00.001Z' } },
        ),
      );
      await store.commit(T1S1, { seq: 1, site: undefined, agents: [] });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(1, undefined, { a: { list: [null], d: '1970-01-01T00:00:00.001Z' } }),
      );
    });

    it('merges later commits: written agents replace, untouched agents stay, site state is replaced', async () => {
      await store.commit(T1S1, {
        seq: 1,
        site: { t: 1 },
        agents: [
          ['a', 1],
          ['b', { v: 1 }],
          ['c', 1],
        ],
      });
      await store.commit(T1S1, {
        seq: 5,
        site: { t: 5 },
        agents: [
          ['b', { v: 5 }],
          ['d', 5],
        ],
      });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(5, { t: 5 }, { a: 1, b: { v: 5 }, c: 1, d: 5 }),
      );
    });

    it('removes removedAgents, ignores unknown ones, and lets an agent come back later', async () => {
      await store.commit(T1S1, {
        seq: 1,
        site: null,
        agents: [
          ['a', 1],
          ['b', 1],
          ['c', 1],
        ],
      });
      await store.commit(T1S1, { seq: 2, site: null, agents: [['c', 2]], removedAgents: ['a', 'nobody'] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(2, null, { b: 1, c: 2 }));
      await store.commit(T1S1, { seq: 3, site: null, agents: [['a', 3]], removedAgents: ['b', 'c'] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(3, null, { a: 3 }));
    });

    it('reads agents and removedAgents from one-shot iterables, last duplicate winning', async () => {
      function* agents(): Generator<[string, unknown]> {
        yield ['a', 1];
        yield ['b', 1];
        yield ['a', 2];
      }
      await store.commit(T1S1, { seq: 1, site: null, agents: agents(), removedAgents: new Set(['x']) });
      await store.commit(T1S1, { seq: 1, site: null, agents: new Map(), removedAgents: ['b', 'b'] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, null, { a: 2 }));
    });

    it('reads async agents while it writes: short and long streams store what a plain commit would', async () => {
      async function* stream(n: number, seq: number): AsyncGenerator<[string, unknown]> {
        for (let i = 0; i < n; i++) {
          await Promise.resolve();
          yield [
            `a${String(i).padStart(2, '0')}`,
            i % 2 === 0 ? { seq, i } : new JsonText(`{"seq":${seq},"i":${i}}`),
          ];
        }
        yield ['a00', 'last wins'];
      }
      await store.commit(T1S1, { seq: 1, site: 'one', agents: stream(2, 1) });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(1, 'one', { a00: 'last wins', a01: { seq: 1, i: 1 } }),
      );
      await store.commit(T1S1, { seq: 2, site: 'two', agents: stream(12, 2), removedAgents: ['zz'] });
      const expected: Record<string, unknown> = { a00: 'last wins' };
      for (let i = 1; i < 12; i++) expected[`a${String(i).padStart(2, '0')}`] = { seq: 2, i };
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(2, 'two', expected));
    });

    it('stores nothing of a commit whose agent stream fails or holds a bad agent; the next is whole', async () => {
      await store.commit(T1S1, { seq: 1, site: 'before', agents: [['keep', 1]] });
      async function* failing(
        after: number,
        fail: () => [string, unknown],
      ): AsyncGenerator<[string, unknown]> {
        for (let i = 0; i < after; i++) yield [`s${i}`, i];
        yield fail();
      }
      const broken = new Error('serializer broke');
      const cases: [AsyncGenerator<[string, unknown]>, RegExp][] = [
        [
          failing(9, () => {
            throw broken;
          }),
          /reading its agents failed/,
        ],
        [failing(9, () => ['bad id!', 1]), /invalid agent id/],
        [failing(2, () => ['keep', 2]), /agent keep is both written and removed/],
      ];
      for (const [agents, message] of cases) {
        await expectCheckpointError(
          store.commit(T1S1, { seq: 2, site: 'lost', agents, removedAgents: ['keep'] }),
          message,
        );
        expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, 'before', { keep: 1 }));
      }
      const cause = await store
        .commit(T1S1, {
          seq: 2,
          site: 'lost',
          agents: failing(9, () => {
            throw broken;
          }),
        })
        .then(
          () => undefined,
          (e: unknown) => (e as CheckpointError).cause,
        );
      expect(cause).toBe(broken);
      // What a failed stream left behind is never read, and goes with the next commit.
      async function* five(): AsyncGenerator<[string, unknown]> {
        for (let i = 0; i < 5; i++) yield [`n${i}`, i];
      }
      await store.commit(T1S1, { seq: 3, site: 'after', agents: five() });
      await store.commit(T1S1, { seq: 4, site: 'last', agents: [['keep', 4]] });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(4, 'last', { keep: 4, n0: 0, n1: 1, n2: 2, n3: 3, n4: 4 }),
      );
      expect(await store.sites()).toStrictEqual([T1S1]);
    });

    it('stores a commit called after a streamed one after it, in call order', async () => {
      let release!: () => void;
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      async function* slow(): AsyncGenerator<[string, unknown]> {
        for (let i = 0; i < 8; i++) {
          if (i === 4) await gate;
          yield [`a${i}`, 'streamed'];
        }
      }
      const streamed = store.commit(T1S1, { seq: 5, site: 'streamed', agents: slow() });
      const after = store.commit(T1S1, { seq: 6, site: 'after', agents: [['a0', 'after']] });
      const behind = store.commit(T1S1, { seq: 4, site: 'behind', agents: [] });
      await new Promise((resolve) => setTimeout(resolve, 20));
      release();
      await streamed;
      await after;
      await expectCheckpointError(behind, /seq 4 is behind the stored checkpoint seq 6/);
      const expected: Record<string, unknown> = { a0: 'after' };
      for (let i = 1; i < 8; i++) expected[`a${i}`] = 'streamed';
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(6, 'after', expected));
    });

    it('keeps tenants and sites isolated, including ids that prefix each other', async () => {
      const keys: SiteKey[] = [
        { tenant: 'T', site: 'S' },
        { tenant: 'T', site: 'S1' },
        { tenant: 'T', site: 'S-' },
        { tenant: 'T1', site: 'S' },
        { tenant: 'T-', site: 'S' },
      ];
      for (const [i, key] of keys.entries()) {
        await store.commit(key, {
          seq: 10 + i,
          site: i,
          agents: [
            ['a', i],
            [`only${i}`, i],
          ],
        });
      }
      await store.commit(
        { tenant: 'T', site: 'S' },
        { seq: 20, site: 'x', agents: [], removedAgents: ['a'] },
      );
      expect(await store.load({ tenant: 'T', site: 'S' })).toStrictEqual(checkpoint(20, 'x', { only0: 0 }));
      for (const [i, key] of keys.entries()) {
        if (i === 0) continue;
        expect(await store.load(key)).toStrictEqual(checkpoint(10 + i, i, { a: i, [`only${i}`]: i }));
      }
      await store.clear({ tenant: 'T', site: 'S1' });
      expect(await store.load({ tenant: 'T', site: 'S1' })).toBeNull();
      expect(await store.load({ tenant: 'T', site: 'S-' })).toStrictEqual(
        checkpoint(12, 2, { a: 2, only2: 2 }),
      );
    });

    it('never lets seq go backwards; an equal seq is accepted', async () => {
      await store.commit(T1S1, { seq: 7, site: 'seven', agents: [['a', 7]] });
      await expectCheckpointError(
        store.commit(T1S1, {
          seq: 6,
          site: 'six',
          agents: [
            ['a', 6],
            ['b', 6],
          ],
          removedAgents: [],
        }),
        /seq 6 is behind the stored checkpoint seq 7/,
      );
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(7, 'seven', { a: 7 }));
      await store.commit(T1S1, { seq: 7, site: 'again', agents: [['b', 7]] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(7, 'again', { a: 7, b: 7 }));
      // Other sites keep their own sequence.
      await store.commit({ tenant: 'T1', site: 'S2' }, { seq: 1, site: null, agents: [] });
      expect((await store.load({ tenant: 'T1', site: 'S2' }))?.seq).toBe(1);
    });

    it('applies concurrent commits of one site in call order', async () => {
      const commits = Array.from({ length: 20 }, (_, i) =>
        store.commit(T1S1, { seq: i + 1, site: i + 1, agents: [[`a${i % 5}`, i + 1]] }),
      );
      const late = store.commit(T1S1, { seq: 3, site: 'late', agents: [['a0', 'late']] });
      await Promise.all(commits);
      await expectCheckpointError(late, /seq 3 is behind the stored checkpoint seq 20/);
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(20, 20, { a0: 16, a1: 17, a2: 18, a3: 19, a4: 20 }),
      );
    });

    it('clear removes the whole checkpoint, after which any seq may start again', async () => {
      await store.commit(T1S1, {
        seq: 9,
        site: 1,
        agents: [
          ['a', 1],
          ['b', 1],
        ],
      });
      await store.clear(T1S1);
      expect(await store.load(T1S1)).toBeNull();
      expect(await store.sites()).toEqual([]);
      await store.clear(T1S1);
      await store.commit(T1S1, { seq: 2, site: 2, agents: [['c', 2]] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(2, 2, { c: 2 }));
    });

    it('lists every checkpointed site once, ordered by tenant then site', async () => {
      expect(await store.sites()).toEqual([]);
      const keys: SiteKey[] = [
        { tenant: 'b', site: 'x' },
        { tenant: 'a', site: 'z' },
        { tenant: 'a-1', site: 'a' },
        { tenant: 'a', site: 'y' },
        { tenant: 'A', site: 'q' },
      ];
      for (const key of keys) {
        await store.commit(key, {
          seq: 1,
          site: null,
          agents: [
            ['one', 1],
            ['two', 2],
            ['three', 3],
          ],
        });
      }
      await store.commit(
        { tenant: 'a', site: 'y' },
        { seq: 1, site: null, agents: [], removedAgents: ['one'] },
      );
      await store.commit({ tenant: 'c', site: 'empty' }, { seq: 0, site: null, agents: [] });
      expect(await store.sites()).toEqual([
        { tenant: 'A', site: 'q' },
        { tenant: 'a', site: 'y' },
        { tenant: 'a', site: 'z' },
        { tenant: 'a-1', site: 'a' },
        { tenant: 'b', site: 'x' },
        { tenant: 'c', site: 'empty' },
      ]);
    });

    it('hands out copies: neither committed nor loaded objects share state with the store', async () => {
      const site = { clock: { ts: 1 } };
      const agent = { state: { name: 'Ready' }, list: [1] };
      await store.commit(T1S1, { seq: 1, site, agents: [['a', agent]] });
      site.clock.ts = 99;
      agent.state.name = 'mutated';
      agent.list.push(2);
      const first = await store.load(T1S1);
      expect(first).toStrictEqual(
        checkpoint(1, { clock: { ts: 1 } }, { a: { state: { name: 'Ready' }, list: [1] } }),
      );
      if (first === null) throw new Error('checkpoint missing');
      (first.site as { clock: { ts: number } }).clock.ts = 5;
      (first.agents.get('a') as { list: number[] }).list.push(3);
      first.agents.set('b', 1);
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(1, { clock: { ts: 1 } }, { a: { state: { name: 'Ready' }, list: [1] } }),
      );
    });

    it('captures values when commit() is called: later changes are not written', async () => {
      const site = { clock: { ts: 1 } };
      const agent = { state: 'Ready', list: [1] };
      const written = store.commit(T1S1, { seq: 1, site, agents: [['a', agent]] });
      // The live actor moves on while the commit is still being written.
      site.clock.ts = 2;
      agent.state = 'NotReady';
      agent.list.push(2);
      await written;
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(1, { clock: { ts: 1 } }, { a: { state: 'Ready', list: [1] } }),
      );
    });

    it('writes JsonText values as given and loads them parsed, mixed freely with plain values', async () => {
      await store.commit(T1S1, {
        seq: 1,
        site: new JsonText('{"eventTime":1700000000000,"fingerprint":"abc"}'),
        agents: [
          ['a', new JsonText('{ "state" : "Ready", "since": 17, "list": [1, "two", null] }')],
          ['b', { state: 'plain' }],
          ['c', new JsonText('null')],
          ['d', new JsonText('"Zo\u00eb \ud83d\ude00"')],
          ['e', new JsonText('-1.5e3')],
        ],
      });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(
          1,
          { eventTime: 1_700_000_000_000, fingerprint: 'abc' },
          {
            a: { state: 'Ready', since: 17, list: [1, 'two', null] },
            b: { state: 'plain' },
            c: null,
            d: 'Zoë 😀',
            e: -1500,
          },
        ),
      );
      // Either kind replaces the other.
      await store.commit(T1S1, {
        seq: 2,
        site: { eventTime: 2 },
        agents: [
          ['a', 'now plain'],
          ['b', JsonText.stringify({ state: 'text' })],
        ],
        removedAgents: ['c', 'd', 'e'],
      });
      expect(await store.load(T1S1)).toStrictEqual(
        checkpoint(2, { eventTime: 2 }, { a: 'now plain', b: { state: 'text' } }),
      );
    });

    // Only for a store that writes what it is given: a wrapper that records commits copies them.
    if (countsSerialization)
      it('neither parses nor serializes a JsonText agent value on commit', async () => {
        const site = { t: 1 };
        const parse = vi.spyOn(JSON, 'parse');
        const stringify = vi.spyOn(JSON, 'stringify');
        try {
          await store.commit(T1S1, {
            seq: 1,
            site,
            agents: [
              ['a', new JsonText('{"x":1}')],
              ['b', new JsonText('[2]')],
            ],
          });
          // Serializing a JsonText would go through its toJSON(), i.e. JSON.parse.
          expect(parse).not.toHaveBeenCalled();
          expect(stringify.mock.calls).toEqual([[site]]);
        } finally {
          parse.mockRestore();
          stringify.mockRestore();
        }
        expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, { t: 1 }, { a: { x: 1 }, b: [2] }));
      });

    it('stores a JsonText nested in a plain value as the value it holds', async () => {
      await store.commit(T1S1, {
        seq: 1,
        site: { inner: new JsonText('{"t":1}') },
        agents: [['a', [new JsonText('{"x":1}'), 2]]],
      });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, { inner: { t: 1 } }, { a: [{ x: 1 }, 2] }));
    });

    it('refuses on load, never misreads, a JsonText whose text is not JSON (commit does not parse it)', async () => {
      await store.commit(T1S1, { seq: 1, site: null, agents: [['a', 1]] });
      await store.commit(T1S1, { seq: 2, site: null, agents: [['b', new JsonText('{"broken":')]] });
      const error = await store.load(T1S1).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).message).toBe(
        'corrupt checkpoint for T1/S1: agent b is not valid JSON',
      );
      expect((error as CheckpointError).cause).toBeInstanceOf(SyntaxError);
      // Writing a good value over it repairs the site.
      await store.commit(T1S1, { seq: 3, site: 'ok', agents: [['b', 2]] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(3, 'ok', { a: 1, b: 2 }));
    });

    it('parses a JsonText given as site state, so a broken one is refused by commit', async () => {
      await store.commit(T1S1, { seq: 1, site: new JsonText(' {"t" : 1} '), agents: [] });
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, { t: 1 }, {}));
      const error = await store.commit(T1S1, { seq: 2, site: new JsonText('}'), agents: [['a', 2]] }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(CheckpointError);
      expect((error as CheckpointError).message).toBe(
        'commit for T1/S1: site state: value is not JSON-serializable',
      );
      expect((error as CheckpointError).cause).toBeInstanceOf(SyntaxError);
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, { t: 1 }, {}));
    });

    it('rejects invalid input with CheckpointError and stores nothing of it', async () => {
      await store.commit(T1S1, { seq: 1, site: 'ok', agents: [['a', 1]] });
      const bad: Array<[Promise<unknown>, RegExp]> = [
        [store.load({ tenant: 'T!1', site: 'S1' }), /invalid tenant id/],
        [store.load({ tenant: 'T1', site: '' }), /invalid site id/],
        [store.clear({ tenant: 'T1', site: 'x'.repeat(65) }), /invalid site id/],
        [
          store.commit(T1S1, {
            seq: 2,
            site: 'bad',
            agents: [
              ['a', 2],
              ['b/c', 2],
            ],
          }),
          /invalid agent id/,
        ],
        [
          store.commit(T1S1, { seq: 2, site: 'bad', agents: [['a', 2]], removedAgents: ['ü'] }),
          /invalid agent id/,
        ],
        [store.commit(T1S1, { seq: -1, site: 'bad', agents: [] }), /non-negative safe integer/],
        [store.commit(T1S1, { seq: 2.5, site: 'bad', agents: [] }), /non-negative safe integer/],
        [store.commit(T1S1, { seq: Number.NaN, site: 'bad', agents: [] }), /non-negative safe integer/],
        [store.commit(T1S1, { seq: 2, site: 'bad', agents: [['a', undefined]] }), /use removedAgents/],
        [
          store.commit(T1S1, { seq: 2, site: 'bad', agents: [['a', 2]], removedAgents: ['a'] }),
          /both written and removed/,
        ],
        [
          store.commit(T1S1, {
            seq: 2,
            site: 'bad',
            agents: [
              ['a', 2],
              ['b', 10n],
            ],
          }),
          /agent b: value is not JSON-serializable/,
        ],
      ];
      for (const [promise, message] of bad) await expectCheckpointError(promise, message);
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(1, 'ok', { a: 1 }));
      expect(await store.sites()).toEqual([T1S1]);
    });

    it('fails with CheckpointError when not open, and keeps its data across close() and open()', async () => {
      await store.commit(T1S1, { seq: 3, site: { t: 3 }, agents: [['a', { x: 1 }]] });
      await store.close();
      await store.close();
      await expectCheckpointError(store.load(T1S1), /not open/);
      await expectCheckpointError(store.commit(T1S1, { seq: 4, site: null, agents: [] }), /not open/);
      await expectCheckpointError(store.clear(T1S1), /not open/);
      await expectCheckpointError(store.sites(), /not open/);
      await store.open();
      await store.open();
      expect(await store.load(T1S1)).toStrictEqual(checkpoint(3, { t: 3 }, { a: { x: 1 } }));
    });

    it('fails with CheckpointError before open()', async () => {
      const fresh = await factory();
      await expectCheckpointError(fresh.load(T1S1), /not open/);
      await expectCheckpointError(fresh.sites(), /not open/);
      await fresh.close();
    });

    it('loads what a model of merged commits predicts, for any sequence of operations', async () => {
      const siteKeys: SiteKey[] = [T1S1, { tenant: 'T1', site: 'S2' }, { tenant: 'T2', site: 'S1' }];
      const agentIds = ['a', 'b', 'c', 'd', 'meta'];
      const siteIndex = fc.integer({ min: 0, max: siteKeys.length - 1 });
      const agentId = fc.constantFrom(...agentIds);
      const plain = fc.jsonValue({ maxDepth: 2 });
      // Plain values and pre-serialized ones (json() below reads a JsonText through its toJSON).
      const value = fc.oneof(
        plain,
        plain.map((v) => JsonText.stringify(v)),
      );
      const operation = fc.oneof(
        {
          weight: 8,
          arbitrary: fc.record({
            kind: fc.constant('commit' as const),
            site: siteIndex,
            seqStep: fc.integer({ min: -2, max: 3 }),
            state: value,
            agents: fc.array(fc.tuple(agentId, value), { maxLength: 6 }),
            removed: fc.array(agentId, { maxLength: 3 }),
          }),
        },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('clear' as const), site: siteIndex }) },
        { weight: 1, arbitrary: fc.record({ kind: fc.constant('reopen' as const) }) },
      );

      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 25 }), async (operations) => {
          const subject = await factory();
          await subject.open();
          const model = new Map<number, SiteCheckpoint>();
          try {
            for (const op of operations) {
              if (op.kind === 'reopen') {
                await subject.close();
                await subject.open();
              } else if (op.kind === 'clear') {
                await subject.clear(siteKeys[op.site]!);
                model.delete(op.site);
              } else {
                const before = model.get(op.site);
                const seq = Math.max(0, (before?.seq ?? 0) + op.seqStep);
                const written = new Map(op.agents);
                const removed = op.removed.filter((id) => !written.has(id));
                const commit = subject.commit(siteKeys[op.site]!, {
                  seq,
                  site: op.state,
                  agents: op.agents,
                  removedAgents: removed,
                });
                if (before !== undefined && seq < before.seq) {
                  await expectCheckpointError(commit, /behind/);
                  continue;
                }
                await commit;
                const agents = new Map(before?.agents);
                for (const [id, v] of written) agents.set(id, json(v));
                for (const id of removed) agents.delete(id);
                model.set(op.site, { seq, site: json(op.state), agents });
              }
            }
            for (const [i, key] of siteKeys.entries()) {
              const expected = model.get(i);
              const sorted = expected && {
                ...expected,
                agents: new Map([...expected.agents].sort(([a], [b]) => (a < b ? -1 : 1))),
              };
              const loaded = await subject.load(key);
              expect(loaded).toStrictEqual(sorted ?? null);
              expect([...(loaded?.agents.keys() ?? [])]).toEqual([...(sorted?.agents.keys() ?? [])]);
            }
            expect(await subject.sites()).toEqual([...model.keys()].sort().map((i) => siteKeys[i]));
          } finally {
            await subject.close();
          }
        }),
        { numRuns: propertyRuns },
      );
    });
  });
}
