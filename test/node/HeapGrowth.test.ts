import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { HeapGrowth, type HeapGrowthChange, observeFullGc, v8KeptBytes } from '../../src/node/index.ts';

const MIB = 2 ** 20;

/** A HeapGrowth whose full collections and kept bytes the test drives. */
function rig(aboveBytes: number) {
  const t = {
    kept: 0,
    percents: [] as number[],
    changes: [] as HeapGrowthChange[],
    fullGc: undefined as (() => void) | undefined,
    unsubscribed: 0,
  };
  const growth = new HeapGrowth({
    percent: 50,
    aboveBytes,
    keptBytes: () => t.kept,
    setPercent: (p) => t.percents.push(p),
    onFullGc: (listener) => {
      t.fullGc = listener;
      return () => t.unsubscribed++;
    },
    onChange: (c) => t.changes.push(c),
  });
  const collect = (keptMiB: number) => {
    t.kept = keptMiB * MIB;
    t.fullGc?.();
  };
  return { t, growth, collect };
}

describe('HeapGrowth', () => {
  it('leaves the heap to V8 until a full collection keeps more than aboveBytes, then caps it', () => {
    const { t, growth, collect } = rig(128 * MIB);
    expect(growth.capped).toBe(false);
    expect(t.percents).toEqual([]);
    collect(60);
    collect(128); // at the line: not above it
    expect(t.percents).toEqual([]);
    collect(129);
    expect(growth.capped).toBe(true);
    expect(t.percents).toEqual([50]);
    expect(t.changes).toEqual([{ capped: true, keptBytes: 129 * MIB }]);
    collect(300);
    expect(t.percents).toEqual([50]);
  });

  it('lifts the cap only below three quarters of aboveBytes, so a heap near the line does not flap', () => {
    const { t, growth, collect } = rig(128 * MIB);
    collect(200);
    collect(120);
    collect(96); // exactly 3/4: still capped
    expect(growth.capped).toBe(true);
    collect(95);
    expect(growth.capped).toBe(false);
    collect(127);
    collect(129);
    expect(t.percents).toEqual([50, 0, 50]);
    expect(t.changes.map((c) => [c.capped, c.keptBytes / MIB])).toEqual([
      [true, 200],
      [false, 95],
      [true, 129],
    ]);
  });

  it('with aboveBytes 0 caps from the start and watches nothing', () => {
    const { t, growth } = rig(0);
    expect(growth.capped).toBe(true);
    expect(t.percents).toEqual([50]);
    expect(t.fullGc).toBeUndefined();
  });

  it('a failing onChange does not stop the sizing', () => {
    const percents: number[] = [];
    let listener: (() => void) | undefined;
    let kept = 0;
    const growth = new HeapGrowth({
      percent: 20,
      aboveBytes: MIB,
      keptBytes: () => kept,
      setPercent: (p) => percents.push(p),
      onFullGc: (l) => {
        listener = l;
        return () => undefined;
      },
      onChange: () => {
        throw new Error('logger down');
      },
    });
    kept = 2 * MIB;
    listener?.();
    expect(growth.capped).toBe(true);
    expect(percents).toEqual([20]);
  });

  it('stop() unsubscribes from the collections', () => {
    const { t, growth } = rig(MIB);
    growth.stop();
    growth.stop();
    expect(t.unsubscribed).toBe(1);
  });

  it('refuses a percent that is not a positive integer and a negative aboveBytes', () => {
    expect(() => new HeapGrowth({ percent: 0 })).toThrow('percent must be a positive integer, got 0');
    expect(() => new HeapGrowth({ percent: 2.5 })).toThrow('percent must be a positive integer, got 2.5');
    expect(() => new HeapGrowth({ percent: 50, aboveBytes: -1 })).toThrow('aboveBytes must be ≥ 0, got -1');
  });

  it('on V8 itself: caps after a full collection that keeps a large heap, lifts it once that is gone', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    gc();
    const base = v8KeptBytes();
    const changes: HeapGrowthChange[] = [];
    // The real defaults: V8's major collections, its old-generation bytes, its flag.
    const growth = new HeapGrowth({
      percent: 50,
      aboveBytes: base + 32 * MIB,
      onChange: (c) => changes.push(c),
    });
    try {
      // ~64 MiB of small live objects, promoted to the old generation by the full collection.
      let held: { n: number; s: string }[] | null = Array.from({ length: 1_000_000 }, (_, n) => ({
        n,
        s: `row-${n}`,
      }));
      gc();
      await expect.poll(() => changes.length, { timeout: 5000 }).toBe(1);
      expect(changes[0]?.capped).toBe(true);
      expect(changes[0]?.keptBytes).toBeGreaterThan(base + 32 * MIB);
      expect(held.length).toBe(1_000_000);
      held = null;
      gc();
      await expect.poll(() => changes.length, { timeout: 5000 }).toBe(2);
      expect(changes[1]?.capped).toBe(false);
      expect(changes[1]?.keptBytes).toBeLessThan(((base + 32 * MIB) * 3) / 4);
    } finally {
      growth.stop();
    }
  });

  it('observeFullGc tells of major collections only, until unsubscribed', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    let told = 0;
    const unsubscribe = observeFullGc(() => told++);
    gc();
    await expect.poll(() => told, { timeout: 5000 }).toBeGreaterThan(0);
    unsubscribe();
    const after = told;
    gc();
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(told).toBe(after);
  });
});
