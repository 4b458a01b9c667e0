/**
 * How `wfm-agg replay --compare` prints an `IntervalComparison` (live history before, replay after):
 *
 * - `table`: one row per differing interval — site, agent, local start, minutes, what changed
 *   (`changed` / `added`: only the replay has it / `removed`: only the live history has it),
 *   adherence %, conformance % and exception seconds before and after, the fields that differ —
 *   then a `total` row: how many intervals differ of how many, and the figures of the sums before
 *   and after (percentages of the sums, as `report` totals). `-` where a side has no value.
 * - `csv`: the same rows with every figure before and after, RFC 4180, CRLF; `row` is
 *   `difference` or `total`.
 * - `json`: one `IntervalDifference` per line, then `{"total":{…}}`.
 */
import {
  type IntervalComparison,
  type IntervalDifference,
  type IntervalFigures,
  localIsoMinute,
} from '../domain/index.ts';
import type { ReportFormat } from './formatReport.ts';

type Cell = string | number | null;

/** The comparison as `format` prints it; ends with a newline. */
export function formatComparison(
  comparison: IntervalComparison,
  format: ReportFormat,
  timeZoneOf: (site: string) => string,
): string {
  switch (format) {
    case 'table':
      return formatTable(comparison, timeZoneOf);
    case 'csv':
      return formatCsv(comparison);
    case 'json':
      return `${[...comparison.differences, { total: comparison.total }].map((x) => JSON.stringify(x)).join('\n')}\n`;
  }
}

const FIGURES = [
  'adherenceScheduleSecs',
  'exceptionDurationSecs',
  'adherencePercentage',
  'conformanceScheduleSecs',
  'conformanceActualSecs',
  'conformancePercentage',
] as const satisfies readonly (keyof IntervalFigures)[];

/** The CSV header: the columns of every row, in order. */
export const COMPARISON_CSV_COLUMNS: readonly string[] = [
  'row',
  'site',
  'agentId',
  'intervalStart',
  'intervalMinutes',
  'change',
  'fields',
  'intervalsBefore',
  'intervalsAfter',
  'differing',
  ...FIGURES.flatMap((f) => [`${f}Before`, `${f}After`]),
];

function differing(c: IntervalComparison): number {
  return c.total.changed + c.total.added + c.total.removed;
}

function formatCsv(c: IntervalComparison): string {
  const pairs = (before: IntervalFigures | null, after: IntervalFigures | null): Cell[] =>
    FIGURES.flatMap((f) => [before?.[f] ?? null, after?.[f] ?? null]);
  const rows: Cell[][] = [
    [...COMPARISON_CSV_COLUMNS],
    ...c.differences.map((d) => [
      'difference',
      d.site,
      d.agentId,
      new Date(d.intervalStart).toISOString().replace('.000Z', 'Z'),
      d.intervalMinutes,
      d.change,
      d.fields.join(' '),
      null,
      null,
      null,
      ...pairs(d.before, d.after),
    ]),
    [
      'total',
      ...[null, null, null, null, null, null],
      c.total.beforeIntervals,
      c.total.afterIntervals,
      differing(c),
      ...pairs(c.total.before, c.total.after),
    ],
  ];
  const field = (cell: Cell) => {
    if (cell === null) return '';
    const text = String(cell);
    return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
  };
  return rows.map((cells) => `${cells.map(field).join(',')}\r\n`).join('');
}

const percent = (p: number | null | undefined): Cell => (p === null || p === undefined ? '-' : p.toFixed(2));

function formatTable(c: IntervalComparison, timeZoneOf: (site: string) => string): string {
  const figures = (before: IntervalFigures | null, after: IntervalFigures | null): Cell[] => [
    percent(before?.adherencePercentage),
    percent(after?.adherencePercentage),
    percent(before?.conformancePercentage),
    percent(after?.conformancePercentage),
    before?.exceptionDurationSecs ?? '-',
    after?.exceptionDurationSecs ?? '-',
  ];
  const row = (d: IntervalDifference): Cell[] => [
    d.site,
    d.agentId,
    localIsoMinute(d.intervalStart, timeZoneOf(d.site)),
    d.intervalMinutes,
    d.change,
    ...figures(d.before, d.after),
    d.fields.join(','),
  ];
  const of = `${differing(c)} of ${Math.max(c.total.beforeIntervals, c.total.afterIntervals)}`;
  const total: Cell[] = [
    'total',
    '',
    '',
    '',
    of,
    ...figures(c.total.before, c.total.after),
    `intervals: ${c.total.beforeIntervals} before, ${c.total.afterIntervals} after`,
  ];
  const header = [
    'site',
    'agent',
    'start',
    'min',
    'change',
    'adherence% before',
    'after',
    'conformance% before',
    'after',
    'exception s before',
    'after',
    'fields',
  ];
  return `${table(header, [...c.differences.map(row), total]).join('\n')}\n`;
}

/** Header and rows padded to the widest cell; numbers and figures right-aligned. */
function table(header: string[], rows: Cell[][]): string[] {
  const text = (c: Cell) => (c === null ? '-' : String(c));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i] ?? null).length)));
  const numeric = header.map((_, i) =>
    rows.every((r) => {
      const c = r[i] ?? null;
      return (
        typeof c === 'number' || c === '-' || c === '' || (typeof c === 'string' && /^\d+\.\d\d$/.test(c))
      );
    }),
  );
  const render = (cells: Cell[]) =>
    cells
      .map((c, i) => (numeric[i] ? text(c).padStart(widths[i]!) : text(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)];
}
