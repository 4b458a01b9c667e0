import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { IntervalRecord } from '../../src/domain/index.ts';
import { FencedWriteError } from '../../src/errors.ts';
import type { IntervalBatch, IntervalSink, StoredInterval } from '../../src/persistence/index.ts';

const T0 = 1_700_000_000_000;
const MIN15 = 15 * 60_000;

/** A record with every field set; `seed` varies the values. */
export function intervalRecord(
  site: string,
  agentId: string,
  intervalStart: number,
  seed = 1,
): IntervalRecord {
  return {
    agentId,
    site,
    intervalStart,
    intervalMinutes: 15,
    secondsByPresence: seed % 2 === 0 ? {} : { ON_QUEUE: 600.5 * seed, BREAK: 299.5, OFFLINE: 0 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 12.25 * seed,
    adherencePercentage: seed % 3 === 0 ? null : 100 / 3 + seed,
    conformanceScheduleSecs: 840,
    conformanceActualSecs: 0.1 + seed,
    conformancePercentage: seed % 3 === 1 ? null : 98.765,
    sourceSeq: 1_000 + seed,
  };
}

function stored(outSeq: number, record: IntervalRecord, tenant = 'T1'): StoredInterval {
  return { tenant, outSeq, record };
}

/** One batch of `site`; rows get `outSeq` from `firstSeq` on, `upTo` defaults to the last. */
function batchOf(
  site: string,
  epoch: number | null,
  records: IntervalRecord[],
  firstSeq: number,
  upTo?: number,
): IntervalBatch {
  const rows = records.map((record, i) => stored(firstSeq + i, record));
  return { tenant: 'T1', site, epoch, rows, upTo: upTo ?? firstSeq + Math.max(0, records.length - 1) };
}

/** Byte (code unit) order of site, agent, then intervalStart: what query() returns. */
function ordered(records: IntervalRecord[]): IntervalRecord[] {
  const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  return [...records].sort(
    (a, b) => cmp(a.site, b.site) || cmp(a.agentId, b.agentId) || a.intervalStart - b.intervalStart,
  );
}

const ALL = { tenant: 'T1', from: 0, to: Number.MAX_SAFE_INTEGER };

/**
 * The behaviour every {@link IntervalSink} must have. `factory` returns a new, empty, unopened
 * sink on every call.
 */
export function intervalSinkContract(
  name: string,
  factory: () => IntervalSink | Promise<IntervalSink>,
): void {
  describe(`${name}: IntervalSink contract`, () => {
    let sink: IntervalSink;

    beforeEach(async () => {
      sink = await factory();
      await sink.open();
    });

    afterEach(async () => {
      await sink.close();
      await sink.close();
    });

    it('has the mark {0, 0} and no records for a site never written', async () => {
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 0, position: 0 });
      expect(await sink.query(ALL)).toEqual([]);
    });

    it('reads back exactly the records written, with the mark the write returned', async () => {
      const records = [1, 2, 3, 4].map((seed) => intervalRecord('S1', `A${seed}`, T0 + seed * MIN15, seed));
      const mark = await sink.write(batchOf('S1', 1, records, 10));
      expect(mark).toEqual({ epoch: 1, position: 13 });
      expect(await sink.mark('T1', 'S1')).toEqual(mark);
      expect(await sink.query(ALL)).toEqual(records);
    });

    it('is idempotent: the same batch twice gives the same rows and mark', async () => {
      const batch = batchOf('S1', 3, [intervalRecord('S1', 'A', T0), intervalRecord('S1', 'B', T0, 2)], 5, 9);
      const first = await sink.write(batch);
      expect(await sink.write(batch)).toEqual(first);
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 3, position: 9 });
      expect(await sink.query(ALL)).toEqual(ordered(batch.rows.map((row) => row.record)));
    });

    it('skips rows at or below the stored position and upserts the rest', async () => {
      await sink.write(batchOf('S1', 1, [intervalRecord('S1', 'A', T0)], 10));
      const late = intervalRecord('S1', 'A', T0, 7);
      const fresh = intervalRecord('S1', 'B', T0, 8);
      const mark = await sink.write({
        ...batchOf('S1', 1, [], 0),
        rows: [stored(10, late), stored(12, fresh)],
        upTo: 12,
      });
      expect(mark).toEqual({ epoch: 1, position: 12 });
      expect(await sink.query(ALL)).toEqual([intervalRecord('S1', 'A', T0), fresh]);
    });

    it('advances the position to upTo beyond the last row, and never back', async () => {
      expect(await sink.write(batchOf('S1', 1, [intervalRecord('S1', 'A', T0)], 3, 50))).toEqual({
        epoch: 1,
        position: 50,
      });
      expect(await sink.write(batchOf('S1', 1, [], 0, 60))).toEqual({ epoch: 1, position: 60 });
      expect(await sink.write(batchOf('S1', 1, [], 0, 40))).toEqual({ epoch: 1, position: 60 });
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 1, position: 60 });
    });

    it('fences: a lower epoch is refused and changes nothing, equal is fine, higher raises', async () => {
      await sink.write(batchOf('S1', 2, [intervalRecord('S1', 'A', T0)], 1));
      const refused = await sink
        .write(batchOf('S1', 1, [intervalRecord('S1', 'A', T0, 5), intervalRecord('S1', 'B', T0)], 2, 30))
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(FencedWriteError);
      expect(refused).toMatchObject({ code: 'WFM_WRITE_FENCED', epoch: 1, storedEpoch: 2, site: 'S1' });
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 2, position: 1 });
      expect(await sink.query(ALL)).toEqual([intervalRecord('S1', 'A', T0)]);
      expect(await sink.write(batchOf('S1', 2, [intervalRecord('S1', 'B', T0)], 2))).toEqual({
        epoch: 2,
        position: 2,
      });
      expect(await sink.write(batchOf('S1', 5, [], 0, 3))).toEqual({ epoch: 5, position: 3 });
      await expect(sink.write(batchOf('S1', 4, [], 0, 9))).rejects.toBeInstanceOf(FencedWriteError);
    });

    it('writes a batch of epoch null without a check and without changing the epoch', async () => {
      expect(await sink.write(batchOf('S2', null, [intervalRecord('S2', 'A', T0)], 4))).toEqual({
        epoch: 0,
        position: 4,
      });
      await sink.write(batchOf('S1', 7, [intervalRecord('S1', 'A', T0)], 1));
      expect(await sink.write(batchOf('S1', null, [intervalRecord('S1', 'B', T0)], 2, 8))).toEqual({
        epoch: 7,
        position: 8,
      });
      expect(await sink.query({ ...ALL, sites: ['S1'] })).toEqual([
        intervalRecord('S1', 'A', T0),
        intervalRecord('S1', 'B', T0),
      ]);
    });

    it('overwrites the row of the same agent and intervalStart (later batch, and within a batch)', async () => {
      await sink.write(batchOf('S1', 1, [intervalRecord('S1', 'A', T0, 1)], 1));
      await sink.write(batchOf('S1', 1, [intervalRecord('S1', 'A', T0, 2)], 2));
      expect(await sink.query(ALL)).toEqual([intervalRecord('S1', 'A', T0, 2)]);
      const twice = [intervalRecord('S1', 'A', T0, 3), intervalRecord('S1', 'A', T0, 4)];
      expect(await sink.write(batchOf('S1', 1, twice, 3))).toEqual({ epoch: 1, position: 4 });
      expect(await sink.query(ALL)).toEqual([intervalRecord('S1', 'A', T0, 4)]);
    });

    it('queries by sites, agent and [from, to), ordered by site, agent, intervalStart (byte order)', async () => {
      const sites = ['S10', 'Sa', 'S-b', 'S1', 'S_a'];
      const agents = ['a', 'A10', '_x', 'B', 'A1', '9'];
      const all: IntervalRecord[] = [];
      let seq = 1;
      for (const site of sites) {
        const records = agents.flatMap((agent, i) =>
          [2, 0, 1].map((k) => intervalRecord(site, agent, T0 + k * MIN15, i + k)),
        );
        await sink.write(batchOf(site, 1, records, seq));
        seq += records.length;
        all.push(...records);
      }
      await sink.write({ ...batchOf('S1', 1, [], 0, 1), tenant: 'T2', rows: [] });
      expect(await sink.query(ALL)).toEqual(ordered(all));
      expect(await sink.query({ ...ALL, sites: ['Sa', 'S1'] })).toEqual(
        ordered(all.filter((r) => r.site === 'Sa' || r.site === 'S1')),
      );
      expect(await sink.query({ ...ALL, sites: [] })).toEqual([]);
      expect(await sink.query({ ...ALL, agentId: 'A1' })).toEqual(
        ordered(all.filter((r) => r.agentId === 'A1')),
      );
      const window = { ...ALL, from: T0 + MIN15, to: T0 + 2 * MIN15 };
      expect(await sink.query(window)).toEqual(ordered(all.filter((r) => r.intervalStart === T0 + MIN15)));
      expect(await sink.query({ ...window, sites: ['S_a'], agentId: '_x' })).toEqual([
        intervalRecord('S_a', '_x', T0 + MIN15, 3),
      ]);
      expect(await sink.query({ ...ALL, from: T0, to: T0 })).toEqual([]);
      expect(await sink.query({ ...ALL, tenant: 'T2' })).toEqual([]);
    });

    it('keeps two sites independent', async () => {
      await sink.write(batchOf('S1', 9, [intervalRecord('S1', 'A', T0)], 100));
      expect(await sink.write(batchOf('S2', 1, [intervalRecord('S2', 'A', T0)], 5))).toEqual({
        epoch: 1,
        position: 5,
      });
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 9, position: 100 });
      expect(await sink.query({ ...ALL, sites: ['S2'] })).toEqual([intervalRecord('S2', 'A', T0)]);
    });

    it('serializes concurrent writes of one site: the highest epoch ends stored, no row doubled', async () => {
      const records = [intervalRecord('S1', 'A', T0), intervalRecord('S1', 'B', T0)];
      const results = await Promise.allSettled([
        sink.write(batchOf('S1', 1, records, 1)),
        sink.write(batchOf('S1', 2, records, 1)),
      ]);
      expect(results[1]).toEqual({ status: 'fulfilled', value: { epoch: 2, position: 2 } });
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 2, position: 2 });
      expect(await sink.query(ALL)).toEqual(records);
    });

    it('writes a batch of 5000 rows in one go', async () => {
      const records = Array.from({ length: 5000 }, (_, i) =>
        intervalRecord('S1', `A${String(Math.floor(i / 100)).padStart(3, '0')}`, T0 + (i % 100) * MIN15, i),
      );
      expect(await sink.write(batchOf('S1', 1, records, 1))).toEqual({ epoch: 1, position: 5000 });
      const back = await sink.query(ALL);
      expect(back).toHaveLength(5000);
      expect(back).toEqual(records);
    });

    it('keeps marks and records across close and open', async () => {
      await sink.write(batchOf('S1', 4, [intervalRecord('S1', 'A', T0)], 7, 11));
      await sink.close();
      await sink.open();
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 4, position: 11 });
      expect(await sink.query(ALL)).toEqual([intervalRecord('S1', 'A', T0)]);
    });

    it('refuses a malformed batch before writing anything', async () => {
      const bad = batchOf('S1', 1, [intervalRecord('S1', 'A', T0)], 5, 4);
      await expect(sink.write(bad)).rejects.toThrow(TypeError);
      await expect(sink.write(batchOf('S1', 1, [intervalRecord('S2', 'A', T0)], 1))).rejects.toThrow(
        TypeError,
      );
      expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 0, position: 0 });
    });
  });
}
