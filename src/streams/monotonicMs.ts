/**
 * Milliseconds on the process's monotonic clock (CLOCK_MONOTONIC via `process.hrtime`): the same
 * scale in every thread of the process, unlike `performance.now()`, whose origin is per thread.
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint() / 1000n) / 1000;
}
