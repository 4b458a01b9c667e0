import { TRANSFER_DATA_TYPES } from '../domain/index.ts';
import type { TransferAudit } from '../persistence/index.ts';
import type { ReportFormat } from './formatReport.ts';

/** The columns of the transfer audit log (`wfm-agg report --transfers`), table and CSV alike. */
export const TRANSFER_LOG_COLUMNS = [
  'site',
  'id',
  'appliedAt',
  'from',
  'to',
  'result',
  'requestedBy',
  'requestedAt',
  'rowsMoved',
  'rowsDeleted',
  ...TRANSFER_DATA_TYPES.map((t) => `moved.${t}`),
  'reason',
] as const;

function cells(t: TransferAudit): string[] {
  return [
    t.site,
    t.id,
    new Date(t.appliedAt).toISOString(),
    t.from,
    t.to,
    t.result,
    t.requestedBy,
    new Date(t.requestedAt).toISOString(),
    String(t.rowsMoved),
    String(t.rowsDeleted),
    ...TRANSFER_DATA_TYPES.map((type) => (t.counts === null ? '' : String(t.counts[type].moved))),
    t.reason ?? '',
  ];
}

function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * The audit log of transfers as `format` prints it, oldest first per site: `json` is
 * `{"transfers":[…]}` on one line (the audit records with `rowsMoved` / `rowsDeleted`), `csv` has
 * {@link TRANSFER_LOG_COLUMNS} (CRLF, RFC 4180 quoting), `table` the same columns aligned.
 */
export function formatTransfers(transfers: readonly TransferAudit[], format: ReportFormat): string {
  if (format === 'json') return `${JSON.stringify({ transfers })}\n`;
  const rows = transfers.map(cells);
  if (format === 'csv')
    return [TRANSFER_LOG_COLUMNS as readonly string[], ...rows]
      .map((r) => `${r.map(csvField).join(',')}\r\n`)
      .join('');
  if (rows.length === 0) return 'no transfers\n';
  const header = [...TRANSFER_LOG_COLUMNS];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows]
    .map(
      (r) =>
        `${r
          .map((c, i) => c.padEnd(widths[i]!))
          .join('  ')
          .trimEnd()}\n`,
    )
    .join('');
}
