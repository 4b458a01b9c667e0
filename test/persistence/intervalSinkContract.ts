import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type IntervalRecord,
  TRANSFER_POLICY,
  type TransferCount,
  type TransferDataType,
  type TransferRecord,
} from '../../src/domain/index.ts';
import { FencedWriteError } from '../../src/errors.ts';
import type {
  IntervalBatch,
  IntervalSink,
  StoredHistoryItem,
  StoredInterval,
  StoredTransfer,
  TransferAudit,
} from '../../src/persistence/index.ts';

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

/** A transfer audit record as a site publishes it; `refused` ones carry a reason and no counts. */
export function transferRecord(
  id: string,
  from: string,
  to: string,
  result: TransferRecord['result'] = 'applied',
): TransferRecord {
  const counts = Object.fromEntries(
    TRANSFER_POLICY.map(({ type, policy }, i) => [type, { policy, moved: i + 1, targetHad: i % 2 }]),
  ) as Record<TransferDataType, TransferCount>;
  return {
    id,
    from,
    to,
    requestedBy: 'ops@admin-host',
    requestedAt: T0 - 5_000,
    appliedAt: T0 + 1_000,
    result,
    reason: result === 'applied' ? null : `unknown agent ${to}: site S1 has had no input for it`,
    counts: result === 'applied' ? counts : null,
    sourceSeq: 4_242,
  };
}

function moved(outSeq: number, transfer: TransferRecord, tenant = 'T1'): StoredTransfer {
  return { tenant, outSeq, transfer };
}

/** The audit row the sink must return for `item` at `site`. */
function audit(site: string, item: StoredTransfer, rowsMoved: number, rowsDeleted: number): TransferAudit {
  return { ...item.transfer, tenant: item.tenant, site, outSeq: item.outSeq, rowsMoved, rowsDeleted };
}

/** One batch of `site` holding `items` as they are; `upTo` defaults to the last item's `outSeq`. */
function itemsBatch(
  site: string,
  epoch: number | null,
  items: StoredHistoryItem[],
  upTo?: number,
): IntervalBatch {
  return { tenant: 'T1', site, epoch, rows: items, upTo: upTo ?? items.at(-1)?.outSeq ?? 0 };
}

/** `record` as the target's: what a transfer makes of a source row. */
function as(agentId: string, record: IntervalRecord): IntervalRecord {
  return { ...record, agentId };
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
      expect(await sink.query(ALL)).toEqual(
        ordered(batch.rows.flatMap((row) => ('record' in row ? [row.record] : []))),
      );
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

    describe('transfers', () => {
      // Source A: three intervals; target B: two, one of them at an interval A also has; C and the
      // other site's A and B are bystanders.
      const a = [0, 1, 2].map((k) => intervalRecord('S1', 'A', T0 + k * MIN15, 10 + k));
      const b = [1, 5].map((k) => intervalRecord('S1', 'B', T0 + k * MIN15, 20 + k));
      const c = [intervalRecord('S1', 'C', T0, 30)];
      const other = [intervalRecord('S2', 'A', T0, 40), intervalRecord('S2', 'B', T0, 41)];

      async function seed(): Promise<void> {
        await sink.write(batchOf('S1', 1, [...a, ...b, ...c], 1));
        await sink.write(batchOf('S2', 1, other, 1));
      }

      it("an applied transfer deletes the target's rows and re-keys exactly the source's to it", async () => {
        await seed();
        const t = moved(10, transferRecord('x1', 'A', 'B'));
        expect(await sink.write(itemsBatch('S1', 1, [t]))).toEqual({ epoch: 1, position: 10 });
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'A' })).toEqual([]);
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'B' })).toEqual(a.map((r) => as('B', r)));
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'C' })).toEqual(c);
        expect(await sink.query({ ...ALL, sites: ['S2'] })).toEqual(other);
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', t, 3, 2)]);
        // Durable like the rows.
        await sink.close();
        await sink.open();
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', t, 3, 2)]);
        expect(await sink.query({ ...ALL, sites: ['S1'] })).toEqual(
          ordered([...a.map((r) => as('B', r)), ...c]),
        );
      });

      it('applies at its place in the batch: rows before it move, rows after it stay whose they are', async () => {
        await seed();
        const before = intervalRecord('S1', 'A', T0 + 3 * MIN15, 50);
        const after = intervalRecord('S1', 'A', T0 + 4 * MIN15, 51);
        const targetAfter = intervalRecord('S1', 'B', T0 + 6 * MIN15, 52);
        // The source's interval 2 again, after the transfer: the source's, beside the moved one.
        const againAfter = intervalRecord('S1', 'A', T0 + 2 * MIN15, 53);
        const t = moved(11, transferRecord('x2', 'A', 'B'));
        const items = [
          stored(10, before),
          t,
          stored(12, after),
          stored(13, targetAfter),
          stored(14, againAfter),
        ];
        expect(await sink.write(itemsBatch('S1', 1, items, 20))).toEqual({ epoch: 1, position: 20 });
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'A' })).toEqual([againAfter, after]);
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'B' })).toEqual([
          ...[...a, before].map((r) => as('B', r)),
          targetAfter,
        ]);
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', t, 4, 2)]);
      });

      it("moves rows written earlier in the same batch, overwriting the target's of the same batch", async () => {
        const first = intervalRecord('S1', 'A', T0, 1);
        const targetOwn = intervalRecord('S1', 'B', T0, 2);
        const t = moved(3, transferRecord('x3', 'A', 'B'));
        await sink.write(itemsBatch('S1', null, [stored(1, first), stored(2, targetOwn), t]));
        expect(await sink.query(ALL)).toEqual([as('B', first)]);
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', t, 1, 1)]);
      });

      it('a refused transfer changes no row and is recorded with 0 and 0', async () => {
        await seed();
        const t = moved(10, transferRecord('x4', 'A', 'Z', 'refused'));
        expect(await sink.write(itemsBatch('S1', 1, [t]))).toEqual({ epoch: 1, position: 10 });
        expect(await sink.query({ ...ALL, sites: ['S1'] })).toEqual(ordered([...a, ...b, ...c]));
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', t, 0, 0)]);
      });

      it('replaying a batch, whole or from below the position, changes nothing', async () => {
        await seed();
        const t = moved(11, transferRecord('x5', 'A', 'B'));
        const batch = itemsBatch('S1', 1, [stored(10, intervalRecord('S1', 'A', T0 + 3 * MIN15, 60)), t]);
        const mark = await sink.write(batch);
        const rows = await sink.query(ALL);
        const audits = await sink.transfers({ tenant: 'T1' });
        expect(await sink.write(batch)).toEqual(mark);
        // The transfer again with a newer row of the source after it: only the row is new.
        const later = intervalRecord('S1', 'A', T0 + 9 * MIN15, 61);
        expect(await sink.write(itemsBatch('S1', 1, [t, stored(12, later)]))).toEqual({
          epoch: 1,
          position: 12,
        });
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'A' })).toEqual([later]);
        expect(await sink.query({ ...ALL, agentId: 'B' })).toEqual(rows.filter((r) => r.agentId === 'B'));
        expect(await sink.transfers({ tenant: 'T1' })).toEqual(audits);
        expect(audits).toEqual([audit('S1', t, 4, 2)]);
      });

      it('a batch failing midway leaves neither its moves nor its audit nor the mark', async () => {
        await seed();
        const mark = await sink.mark('T1', 'S1');
        // After the transfer, a row that cannot be serialized: the write fails once the moves are made.
        const broken = { ...intervalRecord('S1', 'C', T0 + MIN15), secondsByPresence: { ON_QUEUE: 1n } };
        const items = [
          stored(10, intervalRecord('S1', 'A', T0 + 7 * MIN15)),
          moved(11, transferRecord('x6', 'A', 'B')),
          stored(12, broken as unknown as IntervalRecord),
        ];
        await expect(sink.write(itemsBatch('S1', 1, items))).rejects.toThrow();
        expect(await sink.mark('T1', 'S1')).toEqual(mark);
        expect(await sink.query(ALL)).toEqual(ordered([...a, ...b, ...c, ...other]));
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([]);
        // The sink is fine afterwards: the same batch without the bad row goes through.
        await sink.write(itemsBatch('S1', 1, items.slice(0, 2)));
        expect(await sink.countRows('T1', 'S1', 'B')).toBe(4);
      });

      it('a transfer whose id is recorded already changes nothing (a second copy of its audit record)', async () => {
        await seed();
        const first = moved(10, transferRecord('same', 'A', 'B'));
        const second = moved(12, { ...transferRecord('same', 'C', 'B'), requestedBy: 'someone-else' });
        await sink.write(itemsBatch('S1', 1, [first, stored(11, intervalRecord('S1', 'A', T0, 70)), second]));
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([audit('S1', first, 3, 2)]);
        // Without the check the copy would delete the rows the first one moved to B.
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'B' })).toEqual(a.map((r) => as('B', r)));
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'A' })).toEqual([
          intervalRecord('S1', 'A', T0, 70),
        ]);
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'C' })).toEqual(c);
        // In a later batch too.
        await sink.write(itemsBatch('S1', 1, [moved(13, transferRecord('same', 'A', 'B'))]));
        expect(await sink.query({ ...ALL, sites: ['S1'], agentId: 'A' })).toEqual([
          intervalRecord('S1', 'A', T0, 70),
        ]);
      });

      it('finds transfers by tenant, sites and agent (from or to), ordered by site then outSeq', async () => {
        const t1 = moved(7, transferRecord('t1', 'A', 'B'));
        const t2 = moved(3, transferRecord('t2', 'C', 'D', 'refused'));
        const t3 = moved(9, transferRecord('t3', 'B', 'E'));
        const t4 = moved(2, transferRecord('t4', 'A', 'C'));
        await sink.write(itemsBatch('Sb', 1, [t2, t1]));
        await sink.write(itemsBatch('S1', 1, [t3]));
        await sink.write(itemsBatch('S-a', null, [t4]));
        await sink.write({
          ...itemsBatch('S1', 1, [moved(10, transferRecord('t5', 'A', 'B'), 'T2')]),
          tenant: 'T2',
        });
        const all = [
          audit('S-a', t4, 0, 0),
          audit('S1', t3, 0, 0),
          audit('Sb', t2, 0, 0),
          audit('Sb', t1, 0, 0),
        ];
        expect(await sink.transfers({ tenant: 'T1' })).toEqual(all);
        expect(await sink.transfers({ tenant: 'T1', sites: ['Sb', 'S1'] })).toEqual(all.slice(1));
        expect(await sink.transfers({ tenant: 'T1', sites: [] })).toEqual([]);
        expect((await sink.transfers({ tenant: 'T1', agentId: 'A' })).map((x) => x.id)).toEqual(['t4', 't1']);
        expect((await sink.transfers({ tenant: 'T1', agentId: 'B' })).map((x) => x.id)).toEqual(['t3', 't1']);
        expect((await sink.transfers({ tenant: 'T1', agentId: 'D' })).map((x) => x.id)).toEqual(['t2']);
        expect(await sink.transfers({ tenant: 'T1', sites: ['S1'], agentId: 'A' })).toEqual([]);
        expect(await sink.transfers({ tenant: 'T9' })).toEqual([]);
        expect((await sink.transfers({ tenant: 'T2' })).map((x) => [x.tenant, x.site, x.id])).toEqual([
          ['T2', 'S1', 't5'],
        ]);
      });

      it("counts an agent's rows at a site (what a dry run shows)", async () => {
        expect(await sink.countRows('T1', 'S1', 'A')).toBe(0);
        await seed();
        expect(await sink.countRows('T1', 'S1', 'A')).toBe(3);
        expect(await sink.countRows('T1', 'S1', 'B')).toBe(2);
        expect(await sink.countRows('T1', 'S2', 'B')).toBe(1);
        expect(await sink.countRows('T1', 'S1', 'A1')).toBe(0);
        expect(await sink.countRows('T2', 'S1', 'A')).toBe(0);
        await expect(sink.countRows('T1', 'S1', 'bad id')).rejects.toThrow(TypeError);
      });

      it('refuses malformed transfers before writing anything', async () => {
        const bad: TransferRecord[] = [
          transferRecord('self', 'A', 'A'),
          transferRecord('bad id', 'A', 'B'),
          { ...transferRecord('x', 'A', 'B'), result: 'maybe' as never },
          { ...transferRecord('x', 'A', 'B'), appliedAt: 'now' as never },
        ];
        for (const transfer of bad) {
          await expect(sink.write(itemsBatch('S1', 1, [moved(1, transfer)]))).rejects.toThrow(TypeError);
        }
        await expect(
          sink.write(itemsBatch('S1', 1, [moved(1, transferRecord('x', 'A', 'B'), 'T2')])),
        ).rejects.toThrow(TypeError);
        const outOfOrder = [
          moved(5, transferRecord('x', 'A', 'B')),
          stored(4, intervalRecord('S1', 'A', T0)),
        ];
        await expect(sink.write(itemsBatch('S1', 1, outOfOrder))).rejects.toThrow(/ascending outSeq/);
        await expect(sink.transfers({ tenant: 'T 1' })).rejects.toThrow(TypeError);
        expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 0, position: 0 });
        // A refused transfer naming one agent twice is fine: it changes nothing.
        await sink.write(itemsBatch('S1', 1, [moved(1, transferRecord('x', 'A', 'A', 'refused'))]));
        expect(await sink.transfers({ tenant: 'T1' })).toHaveLength(1);
      });

      it('fences a transfer like rows: a lower epoch moves nothing', async () => {
        await seed();
        await sink.write(batchOf('S1', 3, [], 0, 9));
        await expect(
          sink.write(itemsBatch('S1', 2, [moved(10, transferRecord('f', 'A', 'B'))])),
        ).rejects.toBeInstanceOf(FencedWriteError);
        expect(await sink.countRows('T1', 'S1', 'A')).toBe(3);
        expect(await sink.transfers({ tenant: 'T1' })).toEqual([]);
      });
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
