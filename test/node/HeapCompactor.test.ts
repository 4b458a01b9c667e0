import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import {
  compactV8Heap,
  type HeapCompaction,
  HeapCompactor,
  type OldSpace,
  v8OldSpace,
} from '../../src/node/index.ts';

const MIB = 2 ** 20;

/** A compactor on a simulated clock whose heap and work the test sets. */
function rig(options: { quietMs?: number; minIntervalMs?: number } = {}) {
  const clock = new SimulatedClock();
  const t = {
    clock,
    activity: 0,
    settled: true,
    space: { committed: 800 * MIB, used: 300 * MIB } as OldSpace,
    compactions: [] as HeapCompaction[],
    compactCalls: 0,
  };
  const compactor = new HeapCompactor({
    clock,
    quietMs: options.quietMs ?? 4000,
    minIntervalMs: options.minIntervalMs ?? 60_000,
    activity: () => t.activity,
    settled: () => t.settled,
    oldSpace: () => t.space,
    compact: () => {
      t.compactCalls++;
      clock.increment(1500); // the pause
      t.space = { committed: t.space.used + 5 * MIB, used: t.space.used };
    },
    onCompacted: (c) => t.compactions.push(c),
  });
  return { ...t, t, compactor };
}

describe('HeapCompactor', () => {
  it('compacts once the activity has stood still for quietMs, and says what it did', () => {
    const { t, compactor } = rig();
    compactor.start();
    t.clock.increment(1000);
    t.activity = 10; // work: the quiet spell starts again
    t.clock.increment(1000);
    t.clock.increment(3000); // 3 s quiet
    expect(t.compactCalls).toBe(0);
    t.clock.increment(1000); // 4 s quiet
    expect(t.compactCalls).toBe(1);
    expect(t.compactions).toEqual([
      {
        before: { committed: 800 * MIB, used: 300 * MIB },
        after: { committed: 305 * MIB, used: 300 * MIB },
        durationMs: 1500,
      },
    ]);
    expect(compactor.compactions).toBe(1);
    compactor.stop();
  });

  it('does not count quiet time while work is in flight (not settled)', () => {
    const { t, compactor } = rig();
    compactor.start();
    t.settled = false;
    t.clock.increment(20_000);
    expect(t.compactCalls).toBe(0);
    t.settled = true;
    t.clock.increment(3000);
    expect(t.compactCalls).toBe(0);
    t.clock.increment(2000);
    expect(t.compactCalls).toBe(1);
    compactor.stop();
  });

  it('compacts once per quiet spell, and no sooner than minIntervalMs after the last', () => {
    const { t, compactor } = rig({ minIntervalMs: 30_000 });
    compactor.start();
    t.clock.increment(5000);
    expect(t.compactCalls).toBe(1);
    t.space = { committed: 900 * MIB, used: 300 * MIB };
    t.clock.increment(60_000); // still the same quiet spell: no work since
    expect(t.compactCalls).toBe(1);
    t.activity++;
    t.clock.increment(1000);
    t.clock.increment(5000); // a new spell, and 30 s passed
    expect(t.compactCalls).toBe(2);
    t.activity++;
    t.space = { committed: 900 * MIB, used: 300 * MIB };
    t.clock.increment(10_000); // quiet again, but within 30 s of the last one
    expect(t.compactCalls).toBe(2);
    t.clock.increment(25_000);
    expect(t.compactCalls).toBe(3);
    compactor.stop();
  });

  it('leaves a heap with less than minWasteBytes to spare alone', () => {
    const { t, compactor } = rig();
    t.space = { committed: 360 * MIB, used: 300 * MIB }; // 60 MiB beyond its objects
    compactor.start();
    t.clock.increment(30_000);
    expect(t.compactCalls).toBe(0);
    t.space = { committed: 370 * MIB, used: 300 * MIB };
    t.clock.increment(1000); // the same spell, checked again: now worth it
    expect(t.compactCalls).toBe(1);
    compactor.stop();
  });

  it('never runs after stop(), and quietMs 0 never starts', () => {
    const { t, compactor } = rig();
    compactor.start();
    compactor.stop();
    t.clock.increment(60_000);
    expect(t.compactCalls).toBe(0);
    const off = rig({ quietMs: 0 });
    off.compactor.start();
    off.clock.increment(60_000);
    expect(off.compactCalls).toBe(0);
  });

  it('goes on when the process cannot say what it is doing, counting that as not quiet', () => {
    const { t, compactor } = rig();
    let failing = true;
    const settled = () => {
      if (failing) throw new Error('stopping');
      return true;
    };
    const c = new HeapCompactor({
      clock: t.clock,
      quietMs: 4000,
      activity: () => 0,
      settled,
      oldSpace: () => t.space,
      compact: () => t.compactCalls++,
    });
    c.start();
    t.clock.increment(10_000);
    expect(t.compactCalls).toBe(0);
    failing = false;
    t.clock.increment(4000);
    expect(t.compactCalls).toBe(1);
    c.stop();
    compactor.stop();
  });

  it('refuses options that are not non-negative numbers, naming them', () => {
    const activity = () => 0;
    expect(() => new HeapCompactor({ activity, quietMs: -1 })).toThrow(/quietMs/);
    expect(() => new HeapCompactor({ activity, minWasteBytes: Number.NaN })).toThrow(/minWasteBytes/);
    expect(() => new HeapCompactor({ activity, minIntervalMs: Number.POSITIVE_INFINITY })).toThrow(
      /minIntervalMs/,
    );
  });
});

describe('compactV8Heap', () => {
  it('gives back the old space that regular full collections keep after a burst', () => {
    setFlagsFromString('--expose-gc');
    const regularGc = runInNewContext('gc') as () => void;
    // A burst: 1.5M objects promoted to the old generation, then 9 in 10 of them dropped, so
    // every page they filled keeps a few survivors.
    let burst: { a: number; b: string; c: number[] }[] = [];
    for (let i = 0; i < 1_500_000; i++) burst.push({ a: i, b: `x${i}`, c: [i] });
    regularGc();
    const survivors = burst.filter((_, i) => i % 10 === 0);
    burst = [];
    regularGc();
    regularGc();
    const before = v8OldSpace();
    compactV8Heap();
    const after = v8OldSpace();
    expect(survivors.length).toBe(150_000);
    expect(before.committed - before.used).toBeGreaterThan(60 * MIB);
    expect(after.committed - after.used).toBeLessThan(20 * MIB);
    expect(before.committed - after.committed).toBeGreaterThan(50 * MIB);
  });
});
