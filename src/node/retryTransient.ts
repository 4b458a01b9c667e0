import type { OperationalClock } from '../actors/index.ts';
import { NatsError } from '../errors.ts';

/** How {@link retryTransient} tries again. */
export interface RetryTransientOptions {
  /**
   * How long (from the first attempt) a transient failure is tried again; past it, the last
   * failure is thrown.
   * @defaultValue `30_000`
   */
  budgetMs: number;
  /**
   * The first wait between attempts, doubled after each up to 2 s.
   * @defaultValue `250`
   */
  firstDelayMs: number;
  /** The clock the waits and the budget run on. */
  clock: OperationalClock;
  /** Told before each wait (for a log line). */
  onRetry: (error: NatsError, attempt: number) => void;
}

export const defaultRetryTransientOptions: Omit<RetryTransientOptions, 'clock' | 'onRetry'> = {
  budgetMs: 30_000,
  firstDelayMs: 250,
};

const MAX_DELAY_MS = 2000;

/**
 * Runs `attempt` until it resolves, trying again after a *transient* NatsError (a timeout, no
 * responders, a closed connection, JetStream briefly without a leader) within the budget. A node
 * starting beside a NATS cluster that is itself starting, or electing a leader, answers slowly
 * for a few seconds; a permanent error (a refused config, a permission) is thrown at once.
 * @throws the last error when it is not transient or the budget is spent.
 */
export async function retryTransient<T>(
  attempt: () => Promise<T>,
  options: Pick<RetryTransientOptions, 'clock'> & Partial<RetryTransientOptions>,
): Promise<T> {
  const o = { ...defaultRetryTransientOptions, onRetry: () => undefined, ...options };
  if (!(o.budgetMs >= 0)) throw new RangeError(`budgetMs must be at least 0, got ${o.budgetMs}`);
  if (!(o.firstDelayMs > 0)) throw new RangeError(`firstDelayMs must be positive, got ${o.firstDelayMs}`);
  const until = o.clock.now() + o.budgetMs;
  let delay = o.firstDelayMs;
  for (let n = 1; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      if (!(err instanceof NatsError) || !err.transient || o.clock.now() + delay > until) throw err;
      o.onRetry(err, n);
      await new Promise<void>((resolve) => o.clock.setTimeout(() => resolve(), delay));
      delay = Math.min(delay * 2, MAX_DELAY_MS);
    }
  }
}
