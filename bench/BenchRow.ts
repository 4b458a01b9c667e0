/** One line of the bench table that `npm run bench` prints. */
export interface BenchRow {
  bench: string;
  scenario: string;
  value: number;
  unit: string;
  /** What the issue asks for, e.g. "≥ 100000". */
  target?: string;
}

/** Wall-clock seconds of `fn`. Benches only: never in tests or on the processing path. */
export function timeIt(fn: () => void): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e9;
}

/** Heap in use after a full collection (needs `node --expose-gc`); NaN without it. */
export function settledHeap(): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return Number.NaN;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** Prints rows as one table. */
export function printRows(rows: BenchRow[]): void {
  console.table(
    rows.map((r) => ({
      bench: r.bench,
      scenario: r.scenario,
      value: Number.isInteger(r.value) ? r.value.toLocaleString('en-US') : r.value.toFixed(2),
      unit: r.unit,
      target: r.target ?? '',
    })),
  );
}
