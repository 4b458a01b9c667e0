/**
 * An HDR-style histogram of non-negative values (benches record latencies in microseconds): counts
 * in log-linear buckets, so memory stays small (a few thousand counters up to hours in µs) and
 * every recorded value is known to within a fixed relative error: values below 2^SUB_BITS exactly,
 * larger ones to 1 / 2^(SUB_BITS − 1) (0.8 % with 8 bits). Quantiles report the highest value
 * equivalent to the bucket they fall in (as HdrHistogram does), never more than the exact max,
 * so a percentile is never understated. Min, max and mean are exact.
 */

const SUB_BITS = 8;
const HALF = 1 << (SUB_BITS - 1);
/** Buckets for values up to 2^53 (shift 0…46 over `HALF` sub-buckets each, plus the exact range). */
const BUCKETS = (53 - SUB_BITS + 2) * HALF;

function bucketOf(value: number): number {
  if (value < 2 * HALF) return value;
  const magnitude = Math.floor(Math.log2(value));
  // log2 of a large integer can round up across a power of two: correct it.
  const m = 2 ** magnitude > value ? magnitude - 1 : magnitude;
  const shift = m - SUB_BITS + 1;
  const sub = Math.floor(value / 2 ** shift);
  return shift * HALF + sub;
}

/** The lowest value counted in bucket `index`. */
function lowestOf(index: number): number {
  if (index < 2 * HALF) return index;
  const shift = Math.floor(index / HALF) - 1;
  const sub = index - shift * HALF;
  return sub * 2 ** shift;
}

/** The highest value counted in bucket `index`. */
function highestOf(index: number): number {
  if (index < 2 * HALF) return index;
  const shift = Math.floor(index / HALF) - 1;
  return lowestOf(index) + 2 ** shift - 1;
}

export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #total = 0;
  #sum = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;

  /** Counts `value` (rounded to an integer; negatives count as 0) `count` times. */
  record(value: number, count = 1): void {
    const v = Math.max(0, Math.round(value));
    this.#counts[bucketOf(v)]! += count;
    this.#total += count;
    this.#sum += v * count;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every count of `other`. */
  add(other: Histogram): void {
    for (let i = 0; i < BUCKETS; i++) this.#counts[i]! += other.#counts[i]!;
    this.#total += other.#total;
    this.#sum += other.#sum;
    this.#min = Math.min(this.#min, other.#min);
    this.#max = Math.max(this.#max, other.#max);
  }

  get count(): number {
    return this.#total;
  }

  get max(): number {
    return this.#total === 0 ? Number.NaN : this.#max;
  }

  get min(): number {
    return this.#total === 0 ? Number.NaN : this.#min;
  }

  get mean(): number {
    return this.#total === 0 ? Number.NaN : this.#sum / this.#total;
  }

  /** The value at `percentile` (0–100]: the smallest bucket holding that share of the counts. */
  at(percentile: number): number {
    if (this.#total === 0) return Number.NaN;
    const wanted = Math.max(1, Math.ceil((percentile / 100) * this.#total));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i]!;
      if (seen >= wanted) return Math.min(highestOf(i), this.#max);
    }
    return this.#max;
  }

  /** Share (0–1) of the counts above `value` (bucket resolution: counts in `value`'s bucket are not above). */
  shareAbove(value: number): number {
    if (this.#total === 0) return Number.NaN;
    let above = 0;
    for (let i = bucketOf(Math.max(0, Math.round(value))) + 1; i < BUCKETS; i++) above += this.#counts[i]!;
    return above / this.#total;
  }
}

/**
 * Checks the buckets and quantiles against exact answers; throws on any mismatch. Cheap (a few
 * ms): the latency bench runs it before it measures anything.
 */
export function histogramSelfCheck(): void {
  const fail = (what: string) => {
    throw new Error(`Histogram self-check: ${what}`);
  };
  // Buckets tile the integers: contiguous, increasing, each value inside its own bucket.
  for (let i = 1; i < BUCKETS - HALF; i++) {
    if (lowestOf(i) !== highestOf(i - 1) + 1) fail(`bucket ${i} does not follow bucket ${i - 1}`);
  }
  for (const v of [0, 1, 255, 256, 257, 511, 512, 1000, 65_535, 65_536, 1e6, 3.6e9, 2 ** 40 + 17]) {
    const b = bucketOf(v);
    if (v < lowestOf(b) || v > highestOf(b)) fail(`${v} outside bucket ${b}`);
    if (v >= 256 && (highestOf(b) - lowestOf(b) + 1) / lowestOf(b) > 1 / HALF + 1e-12)
      fail(`bucket of ${v} wider than 1/${HALF}`);
  }
  // Quantiles of 1…100 000 (µs) within the relative error, never below the exact answer.
  const h = new Histogram();
  for (let v = 1; v <= 100_000; v++) h.record(v);
  for (const [p, exact] of [
    [50, 50_000],
    [99, 99_000],
    [99.9, 99_900],
    [100, 100_000],
  ] as const) {
    const got = h.at(p);
    if (got < exact || got > exact * (1 + 1 / HALF)) fail(`p${p} = ${got}, exact ${exact}`);
  }
  if (h.max !== 100_000 || h.min !== 1 || Math.abs(h.mean - 50_000.5) > 1e-9) fail('min/max/mean');
  const g = new Histogram();
  g.record(5, 99);
  g.record(1_000_000);
  if (g.at(99) !== 5 || g.at(99.9) !== 1_000_000 || g.at(100) !== 1_000_000) fail('outlier quantiles');
  if (g.shareAbove(5) !== 0.01) fail('shareAbove');
  const sum = new Histogram();
  sum.add(h);
  sum.add(g);
  if (sum.count !== 100_100 || sum.max !== 1_000_000 || sum.min !== 1) fail('add');
}
