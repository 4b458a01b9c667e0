import { describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/simulator/index.ts';

describe('SeededRandom', () => {
  it('repeats its sequence for a seed', () => {
    const a = new SeededRandom(42);
    const b = new SeededRandom(42);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(Array.from({ length: 1000 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
  });

  it('is roughly uniform', () => {
    const rng = new SeededRandom(1);
    const buckets = new Array<number>(10).fill(0);
    for (let i = 0; i < 100_000; i++) buckets[Math.floor(rng.next() * 10)]! += 1;
    for (const count of buckets) expect(Math.abs(count - 10_000)).toBeLessThan(500);
  });

  it('keeps int() within bounds, both included', () => {
    const rng = new SeededRandom(3);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) seen.add(rng.int(-2, 2));
    expect([...seen].sort()).toEqual([-1, -2, 0, 1, 2]);
  });

  it('clamps exp() and keeps its mean', () => {
    const rng = new SeededRandom(5);
    const xs = Array.from({ length: 50_000 }, () => rng.exp(1000, 0, 1e9));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(Math.abs(mean - 1000)).toBeLessThan(30);
    expect(
      Array.from({ length: 1000 }, () => rng.exp(1000, 200, 3000)).every((x) => x >= 200 && x <= 3000),
    ).toBe(true);
  });

  it('derives different seeds from different parts, the same from the same', () => {
    expect(SeededRandom.derive(1, 'T1', 'london', 1)).toBe(SeededRandom.derive(1, 'T1', 'london', 1));
    const seeds = new Set([
      SeededRandom.derive(1, 'T1', 'london', 1),
      SeededRandom.derive(1, 'T1', 'london', 2),
      SeededRandom.derive(2, 'T1', 'london', 1),
      SeededRandom.derive(1, 'T1', 'londo', 'n1'),
      SeededRandom.derive(1, 'T1', 'paris', 1),
    ]);
    expect(seeds.size).toBe(5);
  });
});
