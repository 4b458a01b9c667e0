/**
 * The WFM database as chaos tests compare it: the interval records an undisturbed run wrote to
 * `WFM_OUT` are exactly the rows `agent_interval` must hold — 0 lost, 0 doubled, 0 different.
 */
import type { IntervalRecord } from '../../src/domain/index.ts';
import type { IntervalSink } from '../../src/persistence/index.ts';
import type { StreamRecord } from './outputs.ts';

const key = (r: IntervalRecord) =>
  `${r.site}\u0000${r.agentId}\u0000${String(r.intervalStart).padStart(16, '0')}`;

/** The interval records among a run's `WFM_OUT` messages, ordered as a sink's query returns them. */
export function intervalRecordsOf(out: readonly StreamRecord[]): IntervalRecord[] {
  return out
    .filter((m) => m.subject.startsWith('wfm.interval.'))
    .map((m) => m.data as IntervalRecord)
    .sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
}

/** Every row of the tenant's sites in the sink. */
export function allRows(sink: IntervalSink, tenant = 'T1'): Promise<IntervalRecord[]> {
  return sink.query({ tenant, from: 0, to: Number.MAX_SAFE_INTEGER });
}

/** JSON with every object's keys sorted (PostgreSQL's jsonb keeps its own key order). */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** Lost, doubled and different rows, one line each (empty: equal). */
export function rowDifferences(
  expected: readonly IntervalRecord[],
  actual: readonly IntervalRecord[],
): string[] {
  const want = new Map(expected.map((r) => [key(r), canonical(r)]));
  const seen = new Map<string, number>();
  const out: string[] = [];
  for (const r of actual) {
    const k = key(r);
    seen.set(k, (seen.get(k) ?? 0) + 1);
    const w = want.get(k);
    if (w === undefined) out.push(`unexpected ${k.replaceAll('\u0000', '/')}`);
    else if (w !== canonical(r))
      out.push(`different ${k.replaceAll('\u0000', '/')}: want ${w} got ${canonical(r)}`);
  }
  for (const [k, n] of seen) if (n > 1) out.push(`doubled ${k.replaceAll('\u0000', '/')} x${n}`);
  for (const k of want.keys()) if (!seen.has(k)) out.push(`lost ${k.replaceAll('\u0000', '/')}`);
  return out;
}

/** Waits until the sink holds at least `count` rows of the tenant; returns them. */
export async function waitForRows(
  sink: IntervalSink,
  count: number,
  options: { timeoutMs: number; describe: () => string },
): Promise<IntervalRecord[]> {
  let rows: IntervalRecord[] = [];
  const deadline = Date.now() + options.timeoutMs;
  for (;;) {
    rows = await allRows(sink);
    if (rows.length >= count) return rows;
    if (Date.now() > deadline)
      throw new Error(
        `${rows.length} of ${count} interval rows after ${options.timeoutMs} ms\n${options.describe()}`,
      );
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
