import { describe, expect, it } from 'vitest';
import { KeyedQueue } from '../../src/persistence/KeyedQueue.ts';

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyedQueue', () => {
  it('runs the tasks of one key one at a time in call order; a failure does not stop the next', async () => {
    const queue = new KeyedQueue();
    const log: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await tick();
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const a = queue.run('s1', task('a', true));
    const b = queue.run('s1', task('b'));
    const other = queue.run('s2', task('x'));
    expect(queue.busy('s1')).toBe(true);
    await expect(a).rejects.toThrow('a');
    await expect(b).resolves.toBe('b');
    await expect(other).resolves.toBe('x');
    // s1's tasks never overlap; s2's ran beside them.
    expect(log.filter((l) => !l.startsWith('x'))).toEqual(['a start', 'a end', 'b start', 'b end']);
    expect(log.indexOf('x start')).toBeLessThan(log.indexOf('a end'));
    await queue.idle();
    await tick();
    expect(queue.busy('s1')).toBe(false);
    expect(queue.busy('s2')).toBe(false);
  });

  it('idle() waits for every task queued so far, failed ones included', async () => {
    const queue = new KeyedQueue();
    let done = 0;
    void queue.run('s1', async () => {
      await tick();
      done++;
    });
    queue
      .run('s2', async () => {
        await tick();
        done++;
        throw new Error('no');
      })
      .catch(() => undefined);
    await queue.idle();
    expect(done).toBe(2);
  });
});
