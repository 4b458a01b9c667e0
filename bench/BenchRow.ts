/** One line of the bench table that `npm run bench` prints. */
export interface BenchRow {
  bench: string;
  scenario: string;
  value: number;
  unit: string;
  /**
   * What an issue asks for, as `<op> <number>` with op one of ≥ ≤ > < (e.g. "≥ 100000", "≤ 20";
   * anything after the number, like "(goal 0.7)", is a remark): {@link judge} checks the value
   * against it.
   */
  target?: string;
  /** Whether the target is met, when a bench decides it itself (else {@link judge} does). */
  met?: boolean;
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

const startedAt = performance.now();

/** A progress line on stderr: `[+12.3 s latency] text` (the time since the bench process started). */
export function progress(bench: string, text: string): void {
  process.stderr.write(`[+${((performance.now() - startedAt) / 1000).toFixed(1)} s ${bench}] ${text}\n`);
}

/**
 * Whether `row` meets its target: true/false, or undefined when it has none (or one that is not
 * `<op> <number>`). A value that is not a number (a failed measurement) never meets one.
 */
export function judge(row: BenchRow): boolean | undefined {
  if (row.met !== undefined) return row.met;
  const m = row.target?.match(/^\s*(≥|≤|>|<|>=|<=)\s*(-?[\d_,]*\.?\d+)/);
  if (m === null || m === undefined) return undefined;
  const bound = Number(m[2]!.replace(/[_,]/g, ''));
  const v = row.value;
  if (!Number.isFinite(v)) return false;
  switch (m[1]) {
    case '≥':
    case '>=':
      return v >= bound;
    case '≤':
    case '<=':
      return v <= bound;
    case '>':
      return v > bound;
    default:
      return v < bound;
  }
}

function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value)) return value.toLocaleString('en-US');
  return Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(2);
}

/** The rows as one plain-text table (bench, scenario, value, unit, target, met). */
export function formatRows(rows: BenchRow[]): string {
  const header = ['bench', 'scenario', 'value', 'unit', 'target', 'met'];
  const cells = rows.map((r) => {
    const met = judge(r);
    return [
      r.bench,
      r.scenario,
      formatValue(r.value),
      r.unit,
      r.target ?? '',
      met === undefined ? '' : met ? 'yes' : 'NO',
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const right = new Set([2]);
  const line = (c: string[]) =>
    c
      .map((s, i) => (right.has(i) ? s.padStart(widths[i]!) : s.padEnd(widths[i]!)))
      .join(' | ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-|-'), ...cells.map(line)].join('\n');
}

/** Prints rows as one table on stdout. */
export function printRows(rows: BenchRow[]): void {
  process.stdout.write(`${formatRows(rows)}\n`);
}

/**
 * One ratio per round of runs that go in pairs, one of each kind per round (e.g. off then on,
 * then on then off): `ratio(a, b)` with `a` the run of the kind `isA` says, formatted to 2 places.
 */
export function perRound<T>(
  runs: readonly T[],
  isA: (run: T) => boolean,
  ratio: (a: T, b: T) => number,
): string[] {
  const ratios: string[] = [];
  for (let i = 1; i < runs.length; i += 2) {
    const [first, second] = [runs[i - 1]!, runs[i]!];
    const [a, b] = isA(first) ? [first, second] : [second, first];
    ratios.push(ratio(a, b).toFixed(2));
  }
  return ratios;
}
