import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from '../../src/domain/index.ts';

function drain(q: DeadlineQueue, now: number): { at: number; agentId: string }[] {
  const out: { at: number; agentId: string }[] = [];
  for (let d = q.popDue(now); d; d = q.popDue(now)) out.push(d);
  return out;
}

describe('DeadlineQueue', () => {
  it('pops in order of (at, agentId)', () => {
    const q = new DeadlineQueue();
    q.set('c', 30);
    q.set('b', 10);
    q.set('z', 20);
    q.set('a', 20);
    q.set('a2', 10);
    expect(q.size).toBe(5);
    expect(drain(q, 100)).toEqual([
      { at: 10, agentId: 'a2' },
      { at: 10, agentId: 'b' },
      { at: 20, agentId: 'a' },
      { at: 20, agentId: 'z' },
      { at: 30, agentId: 'c' },
    ]);
    expect(q.size).toBe(0);
  });

  it('pops only deadlines at or before now', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    q.set('b', 11);
    expect(q.popDue(9)).toBeUndefined();
    expect(q.popDue(10)).toEqual({ at: 10, agentId: 'a' });
    expect(q.popDue(10)).toBeUndefined();
    expect(q.size).toBe(1);
    expect(q.popDue(11)).toEqual({ at: 11, agentId: 'b' });
  });

  it('replacing a deadline keeps only the new one (earlier or later)', () => {
    const q = new DeadlineQueue();
    q.set('a', 50);
    q.set('a', 10);
    q.set('b', 20);
    q.set('b', 60);
    expect(q.size).toBe(2);
    expect(drain(q, 100)).toEqual([
      { at: 10, agentId: 'a' },
      { at: 60, agentId: 'b' },
    ]);
  });

  it('replacing back to an earlier value does not pop twice', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    q.set('a', 20);
    q.set('a', 10);
    expect(drain(q, 100)).toEqual([{ at: 10, agentId: 'a' }]);
  });

  it('setting the same deadline again is a no-op', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    q.set('a', 10);
    expect(q.size).toBe(1);
    expect(drain(q, 100)).toEqual([{ at: 10, agentId: 'a' }]);
  });

  it('null clears a deadline', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    q.set('b', 20);
    q.set('a', null);
    expect(q.size).toBe(1);
    expect(drain(q, 100)).toEqual([{ at: 20, agentId: 'b' }]);
    q.set('c', null);
    expect(q.size).toBe(0);
  });

  it('a cleared agent can get a deadline again', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    q.set('a', null);
    q.set('a', 10);
    expect(drain(q, 100)).toEqual([{ at: 10, agentId: 'a' }]);
  });

  it('a popped agent can be set again at the same time', () => {
    const q = new DeadlineQueue();
    q.set('a', 10);
    expect(q.popDue(10)).toEqual({ at: 10, agentId: 'a' });
    q.set('a', 10);
    expect(q.popDue(10)).toEqual({ at: 10, agentId: 'a' });
    expect(q.popDue(10)).toBeUndefined();
  });

  it('property: behaves like a sorted map of agent → deadline', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('set' as const),
        agent: fc.constantFrom('a', 'b', 'c', 'd', 'e'),
        at: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
      }),
      fc.record({ kind: fc.constant('pop' as const), now: fc.integer({ min: 0, max: 20 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const q = new DeadlineQueue();
        const model = new Map<string, number>();
        for (const o of ops) {
          if (o.kind === 'set') {
            q.set(o.agent, o.at);
            if (o.at === null) model.delete(o.agent);
            else model.set(o.agent, o.at);
          } else {
            const due = [...model]
              .filter(([, at]) => at <= o.now)
              .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : a > b ? 1 : 0));
            const first = due[0];
            const popped = q.popDue(o.now);
            if (first === undefined) expect(popped).toBeUndefined();
            else {
              expect(popped).toEqual({ at: first[1], agentId: first[0] });
              model.delete(first[0]);
            }
          }
          expect(q.size).toBe(model.size);
        }
      }),
      { numRuns: 500 },
    );
  });
});
