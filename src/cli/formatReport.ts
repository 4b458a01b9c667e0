/**
 * How `wfm-agg report` prints an `IntervalReport`:
 *
 * - `table` (for people): interval rows, a blank line, `totals per agent and local day`, then the
 *   totals. Columns padded to their widest cell, numbers right-aligned; `start` is the site's local
 *   time with its offset (`2026-01-05T10:00+01:00`); seconds as stored; percentages with two
 *   decimals, `-` when null. Presence columns only for presences with time in the report.
 * - `csv` (for spreadsheets): one header row, then every interval row, then every total row, told
 *   apart by the `row` column (`interval` / `total`). `intervalStart` is ISO 8601 UTC
 *   (`2026-01-05T09:00:00Z`), empty on total rows; `intervals` is empty on interval rows; null
 *   percentages are empty; every presence has its column (`secondsByPresence.P`, 0 when none), so
 *   the columns do not depend on the data. Lines end with CRLF and fields are quoted as RFC 4180
 *   says (a field with `,`, `"`, CR or LF is enclosed in quotes, quotes doubled).
 * - `json` (for programs): one object `{"intervals":[…],"totals":[…]}` on one line, the fields of
 *   `IntervalReportRow` / `IntervalReportTotal`; `intervalStart` stays epoch milliseconds, the unit
 *   of every timestamp of the wire contract (a `wfm.interval` payload's `intervalStart` is the same).
 */
import {
  type IntervalReport,
  type IntervalReportRow,
  type IntervalReportTotal,
  localIsoMinute,
  PRESENCES,
} from '../domain/index.ts';

/** The output formats of `wfm-agg report`. */
export const REPORT_FORMATS = ['table', 'csv', 'json'] as const;
/** One of `REPORT_FORMATS`. */
export type ReportFormat = (typeof REPORT_FORMATS)[number];

/**
 * The report as `format` prints it (see the module comment for each format); ends with a newline.
 * `timeZoneOf(site)` gives the IANA zone the table shows a site's interval starts in.
 */
export function formatReport(
  report: IntervalReport,
  format: ReportFormat,
  timeZoneOf: (site: string) => string,
): string {
  switch (format) {
    case 'table':
      return formatTable(report, timeZoneOf);
    case 'csv':
      return formatCsv(report);
    case 'json':
      return formatJson(report);
  }
}

/** `{"intervals":[…],"totals":[…]}` on one line, then a newline. */
export function formatJson(report: IntervalReport): string {
  return `${JSON.stringify({ intervals: report.intervals, totals: report.totals })}\n`;
}

/** The CSV header: the columns of every CSV row, in order. */
export const REPORT_CSV_COLUMNS: readonly string[] = [
  'row',
  'site',
  'agentId',
  'intervalStart',
  'intervalMinutes',
  'day',
  'intervals',
  'adherenceScheduleSecs',
  'exceptionDurationSecs',
  'adherencePercentage',
  'conformanceScheduleSecs',
  'conformanceActualSecs',
  'conformancePercentage',
  ...PRESENCES.map((p) => `secondsByPresence.${p}`),
];

type Cell = string | number | null;

/** A header row, interval rows, then total rows; CRLF line ends (RFC 4180). */
export function formatCsv(report: IntervalReport): string {
  const figures = (r: IntervalReportRow | IntervalReportTotal): Cell[] => [
    r.adherenceScheduleSecs,
    r.exceptionDurationSecs,
    r.adherencePercentage,
    r.conformanceScheduleSecs,
    r.conformanceActualSecs,
    r.conformancePercentage,
    ...PRESENCES.map((p) => r.secondsByPresence[p] ?? 0),
  ];
  const lines: Cell[][] = [
    [...REPORT_CSV_COLUMNS],
    ...report.intervals.map((r) => [
      'interval',
      r.site,
      r.agentId,
      isoUtc(r.intervalStart),
      r.intervalMinutes,
      r.day,
      null,
      ...figures(r),
    ]),
    ...report.totals.map((t) => ['total', t.site, t.agentId, null, null, t.day, t.intervals, ...figures(t)]),
  ];
  return lines.map((cells) => `${cells.map(csvField).join(',')}\r\n`).join('');
}

/** ISO 8601 UTC without the milliseconds interval starts never have. */
function isoUtc(ts: number): string {
  return new Date(ts).toISOString().replace('.000Z', 'Z');
}

/** One RFC 4180 field: quoted only when it must be (`,`, `"`, CR, LF); null is empty. */
function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = String(cell);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Interval rows, then the totals under a title line; a line saying so when there is nothing. */
export function formatTable(report: IntervalReport, timeZoneOf: (site: string) => string): string {
  if (report.intervals.length === 0) return 'no interval records\n';
  // Only presences with time somewhere: seven mostly-zero columns would push the figures off screen.
  const presences = PRESENCES.filter((p) => report.totals.some((t) => (t.secondsByPresence[p] ?? 0) > 0));
  const figures = (r: IntervalReportRow | IntervalReportTotal): Cell[] => [
    r.adherenceScheduleSecs,
    r.exceptionDurationSecs,
    percent(r.adherencePercentage),
    r.conformanceScheduleSecs,
    r.conformanceActualSecs,
    percent(r.conformancePercentage),
    ...presences.map((p) => r.secondsByPresence[p] ?? 0),
  ];
  const figureHeader = ['sched', 'exception', 'adherence%', 'confSched', 'confActual', 'conformance%'];
  const intervals = table(
    ['site', 'agent', 'start', 'min', ...figureHeader, ...presences],
    report.intervals.map((r) => [
      r.site,
      r.agentId,
      localIsoMinute(r.intervalStart, timeZoneOf(r.site)),
      r.intervalMinutes,
      ...figures(r),
    ]),
  );
  const totals = table(
    ['site', 'agent', 'day', 'intervals', ...figureHeader, ...presences],
    report.totals.map((t) => [t.site, t.agentId, t.day, t.intervals, ...figures(t)]),
  );
  return `${[...intervals, '', 'totals per agent and local day', ...totals].join('\n')}\n`;
}

/** Two decimals, so the column lines up on the point; null shows as `-`. */
function percent(p: number | null): Cell {
  return p === null ? '-' : p.toFixed(2);
}

/** Header and rows padded to the widest cell; text left-aligned, numbers and figures right-aligned. */
function table(header: string[], rows: Cell[][]): string[] {
  const text = (c: Cell) => (c === null ? '-' : String(c));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => text(r[i] ?? null).length)));
  // A column is numeric when every cell is a number, a percentage or `-`.
  const numeric = header.map((_, i) =>
    rows.every((r) => {
      const c = r[i] ?? null;
      return typeof c === 'number' || c === '-' || (typeof c === 'string' && /^\d+\.\d\d$/.test(c));
    }),
  );
  const render = (cells: Cell[]) =>
    cells
      .map((c, i) => (numeric[i] ? text(c).padStart(widths[i]!) : text(c).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)];
}
