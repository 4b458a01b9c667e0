import { describe, expect, it } from 'vitest';
import type { Output } from '../../src/domain/index.ts';
import { Outbox } from '../../src/node/Outbox.ts';

const out = (n: number): Output[] =>
  Array.from({ length: n }, (_, i) => ({ kind: 'gc', i }) as unknown as Output);

describe('Outbox', () => {
  it('keeps entries in input order, hands each once, and trims what a mark confirmed', () => {
    const box = new Outbox(100);
    box.push(1, out(2), []);
    box.push(2, [], []); // produced nothing: not kept
    box.push(3, out(1), []);
    expect(box.size).toBe(3);
    expect(box.takeUnsent().map((e) => e.seq)).toEqual([1, 3]);
    expect(box.takeUnsent()).toEqual([]);
    box.push(4, out(1), []);
    box.trim(3);
    expect(box.size).toBe(1);
    expect(box.takeUnsent().map((e) => e.seq)).toEqual([4]);
    expect(box.takeAll().map((e) => e.seq)).toEqual([4]);
    expect(box.complete).toBe(true);
  });

  it('takes back the tail of what was just taken and hands it again, in order; never more than was taken', () => {
    const box = new Outbox(100);
    for (let seq = 1; seq <= 4; seq++) box.push(seq, out(1), []);
    box.trim(1);
    expect(box.takeAll().map((e) => e.seq)).toEqual([2, 3, 4]);
    box.putBack(2);
    expect(box.unsentCount()).toBe(2);
    expect(box.takeUnsent().map((e) => e.seq)).toEqual([3, 4]);
    expect(() => box.putBack(4)).toThrow(RangeError);
    expect(() => box.putBack(-1)).toThrow(RangeError);
    box.putBack(3);
    expect(box.takeUnsent().map((e) => e.seq)).toEqual([2, 3, 4]);
  });

  it('is incomplete after it dropped entries no mark confirmed, complete again once a mark passes them', () => {
    const box = new Outbox(3);
    box.push(1, out(2), []);
    box.push(2, out(2), []); // 4 > 3: entry 1 dropped
    expect(box.complete).toBe(false);
    expect(box.takeAll().map((e) => e.seq)).toEqual([2]);
    box.trim(0);
    expect(box.complete).toBe(false);
    box.trim(1);
    expect(box.complete).toBe(true);
    expect(box.size).toBe(2);
  });

  it('stays correct across compaction of a long run', () => {
    const box = new Outbox(10_000);
    for (let seq = 1; seq <= 5000; seq++) {
      box.push(seq, out(1), []);
      if (seq % 7 === 0) box.trim(seq - 3);
      if (seq % 5 === 0) box.takeUnsent();
    }
    expect(box.takeAll().map((e) => e.seq)).toEqual([4996, 4997, 4998, 4999, 5000]); // last trim: 4998 - 3
    expect(box.size).toBe(5);
    box.clear();
    expect(box.size).toBe(0);
  });

  it('refuses a bound that is not a positive integer', () => {
    expect(() => new Outbox(0)).toThrow(RangeError);
  });
});
