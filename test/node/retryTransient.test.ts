import { describe, expect, it } from 'vitest';
import { type OperationalClock, realClock } from '../../src/actors/index.ts';
import { NatsError } from '../../src/errors.ts';
import { retryTransient } from '../../src/node/index.ts';

const timeout = () => new NatsError('cannot open KV bucket WFM_LEADER: timeout', { kind: 'timeout' });

/** An attempt that fails with the given errors in turn, then resolves with 'ok'. */
function failing(...errors: unknown[]): { attempt: () => Promise<string>; calls: () => number } {
  let calls = 0;
  return {
    attempt: async () => {
      const error = errors[calls++];
      if (error !== undefined) throw error;
      return 'ok';
    },
    calls: () => calls,
  };
}

/**
 * A clock on which every wait ends at once, having moved time on by its length: the budget is
 * spent by the waits alone, never by a busy machine firing timers late.
 */
function jumpingClock(): OperationalClock {
  let now = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      now += ms;
      return setImmediate(fn);
    },
    clearTimeout: (id) => clearImmediate(id as NodeJS.Immediate),
  };
}

describe('retryTransient', () => {
  it('tries again after transient failures and resolves with the first success', async () => {
    const f = failing(timeout(), new NatsError('no responders', { kind: 'no_responders' }));
    const retries: [string, number][] = [];
    const result = await retryTransient(f.attempt, {
      clock: realClock,
      firstDelayMs: 1,
      onRetry: (err, n) => retries.push([err.kind, n]),
    });
    expect(result).toBe('ok');
    expect(f.calls()).toBe(3);
    expect(retries).toEqual([
      ['timeout', 1],
      ['no_responders', 2],
    ]);
  });

  it('throws a permanent NatsError at once, keeping it as it is', async () => {
    const refused = new NatsError('subjects overlap', { kind: 'api', apiCode: 400, errCode: 10065 });
    const f = failing(refused);
    await expect(retryTransient(f.attempt, { clock: realClock, firstDelayMs: 1 })).rejects.toBe(refused);
    expect(f.calls()).toBe(1);
  });

  it('throws any other error at once', async () => {
    const bug = new TypeError('not a function');
    const f = failing(bug);
    await expect(retryTransient(f.attempt, { clock: realClock, firstDelayMs: 1 })).rejects.toBe(bug);
    expect(f.calls()).toBe(1);
  });

  it('throws the last transient failure once the budget is spent', async () => {
    const errors = Array.from({ length: 50 }, timeout);
    const f = failing(...errors);
    const started = performance.now();
    // Waits of 10, 20, 40 ms fit the 100 ms budget (at 0, 10, 30, 70); the next, 80, would not.
    const thrown = await retryTransient(f.attempt, {
      clock: jumpingClock(),
      firstDelayMs: 10,
      budgetMs: 100,
    }).catch((e: unknown) => e);
    expect(thrown).toBe(errors[3]);
    expect(f.calls()).toBe(4);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('with a budget of 0 tries once', async () => {
    const f = failing(timeout());
    await expect(retryTransient(f.attempt, { clock: realClock, budgetMs: 0 })).rejects.toBeInstanceOf(
      NatsError,
    );
    expect(f.calls()).toBe(1);
  });

  it('refuses a negative budget or a delay that is not positive', async () => {
    const f = failing();
    await expect(retryTransient(f.attempt, { clock: realClock, budgetMs: -1 })).rejects.toThrow(
      /budgetMs must be at least 0/,
    );
    await expect(retryTransient(f.attempt, { clock: realClock, firstDelayMs: 0 })).rejects.toThrow(
      /firstDelayMs must be positive/,
    );
  });
});
