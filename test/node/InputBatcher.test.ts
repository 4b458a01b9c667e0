import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InputBatcher } from '../../src/node/index.ts';

describe('InputBatcher', () => {
  it('applies everything pushed in one turn as one batch, in order, then runs afterBatch', async () => {
    const log: string[] = [];
    const batcher = new InputBatcher<number>({
      apply: (n) => log.push(`apply ${n}`),
      afterBatch: () => log.push('after'),
    });
    batcher.push(1);
    batcher.push(2);
    batcher.push(3);
    expect(log).toEqual([]);
    expect(batcher.size).toBe(3);
    await nextTurn();
    expect(log).toEqual(['apply 1', 'apply 2', 'apply 3', 'after']);
    expect(batcher.size).toBe(0);
  });

  it('asks the reader to wait while full and lets it go after the batch', async () => {
    const batcher = new InputBatcher<number>({ apply: () => undefined, maxBatch: 2 });
    batcher.push(1);
    expect(batcher.whenRoom()).toBeUndefined();
    batcher.push(2);
    const room = batcher.whenRoom();
    expect(room).toBeInstanceOf(Promise);
    let released = false;
    void room?.then(() => {
      released = true;
    });
    await nextTurn();
    await Promise.resolve();
    expect(released).toBe(true);
  });

  it('applies nothing while blocked, then the whole batch once unblocked', async () => {
    const applied: number[] = [];
    let unblock!: () => void;
    let blocked: Promise<void> | null = new Promise<void>((resolve) => {
      unblock = resolve;
    });
    const batcher = new InputBatcher<number>({ apply: (n) => applied.push(n), blocked: () => blocked });
    batcher.push(1);
    batcher.push(2);
    await nextTurn();
    batcher.drainNow();
    expect(applied).toEqual([]);
    blocked = null;
    unblock();
    await nextTurn();
    expect(applied).toEqual([1, 2]);
  });

  it('clear() forgets waiting input; drainNow() applies synchronously', () => {
    const applied: number[] = [];
    const batcher = new InputBatcher<number>({ apply: (n) => applied.push(n) });
    batcher.push(1);
    batcher.clear();
    batcher.push(2);
    batcher.drainNow();
    expect(applied).toEqual([2]);
    expect(() => new InputBatcher<number>({ apply: () => undefined, maxBatch: 0 })).toThrow(
      'maxBatch must be a positive integer, got 0',
    );
  });
});
