/**
 * The clock of operational timing — leases, heartbeats, checkpoint cadence, retries — never of
 * processing (which runs on event time from the stream). Monotonic: it measures durations on this
 * process only, so a lease is judged by the watcher's own clock and never by another machine's.
 * xstate's `SimulatedClock` is one, so tests drive every timer by hand.
 */
export interface OperationalClock {
  setTimeout(fn: (...args: unknown[]) => void, timeout: number): unknown;
  clearTimeout(id: unknown): void;
  /** Milliseconds on a monotonic scale (only differences mean anything). */
  now(): number;
}

/** The process's monotonic clock (`performance.now()`) with the real timers. */
export const realClock: OperationalClock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as NodeJS.Timeout),
};
