/**
 * The node's side of `wfm-agg report` when the CLI cannot open the embedded interval store itself
 * (a running node holds the LevelDB lock): the CLI sends an `IntervalQuery` as JSON on
 * `wfm.admin.T.report`, the node reads its own sink and replies `{"ok":true,"records":[…]}` or
 * `{"ok":false,"error":"…"}`.
 *
 * With LevelDB every node keeps the history of the sites it hosts (primary or backup), so every
 * node of the tenant should answer (a plain subscription, no queue group): the CLI collects the
 * replies for a while and merges them.
 */
import { ID_PATTERN, type IntervalRecord } from '../domain/index.ts';
import { maskUrlPassword } from '../logging/index.ts';
import type { IntervalQuery, IntervalSink, TransferAudit } from '../persistence/index.ts';
import { adminSubject } from './adminSubjects.ts';

/** Subject of a report request: `wfm.admin.T.report`, beside the other admin subjects. */
export function reportSubject(tenant: string): string {
  return adminSubject(tenant, 'report');
}

/** A node's answer to a report request, as JSON: interval records, or the transfer audit log. */
export type ReportReply =
  | { ok: true; records: IntervalRecord[] }
  | { ok: true; transfers: TransferAudit[] }
  | { ok: false; error: string };

/**
 * A report request: an interval query, or with `transfers: true` the audit log of transfers (its
 * `from`/`to` then bound `appliedAt` and are optional).
 */
export type ReportQuery = IntervalQuery & { transfers?: boolean };

/** Options of `answerReport`. */
export interface AnswerReportOptions {
  /**
   * Largest reply, in bytes, the caller can publish (the server's `max_payload`): a bigger one is
   * replaced by an error asking for a narrower query, rather than failing to publish with no answer.
   * @defaultValue `Infinity`
   */
  maxBytes?: number;
}

const QUERY_KEYS = new Set(['tenant', 'sites', 'agentId', 'from', 'to', 'transfers']);
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * The `IntervalQuery` a request carries, or why it is refused: UTF-8 JSON object with exactly the
 * query's keys, `tenant` this node's, `from` < `to` integer epoch ms, `sites` a non-empty list of
 * ids when present, `agentId` an id when present.
 */
export function parseReportQuery(data: Uint8Array, tenant: string): ReportQuery | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return { error: 'the request is not UTF-8 JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return { error: 'the request is not a JSON object' };
  }
  const q = value as Record<string, unknown>;
  // A key this node does not know is a newer CLI's filter: ignoring it would answer another question.
  const unknown = Object.keys(q).filter((k) => !QUERY_KEYS.has(k));
  if (unknown.length > 0) return { error: `unknown field ${unknown[0]}` };
  if (q.tenant !== tenant) {
    return { error: `the request is for tenant ${String(q.tenant)}, this node serves tenant ${tenant}` };
  }
  const { sites, agentId } = q;
  if (q.transfers !== undefined && typeof q.transfers !== 'boolean')
    return { error: 'transfers must be a boolean' };
  const transfers = q.transfers === true;
  // The audit log is small: with no range it is all of it.
  const from = transfers && q.from === undefined ? 0 : q.from;
  const to = transfers && q.to === undefined ? Number.MAX_SAFE_INTEGER : q.to;
  if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to)) {
    return { error: 'from and to must be integers (epoch milliseconds)' };
  }
  if ((from as number) >= (to as number)) return { error: 'from must be before to' };
  const query: ReportQuery = { tenant, from: from as number, to: to as number };
  if (transfers) query.transfers = true;
  if (sites !== undefined) {
    // An empty list would mean "no site" to one sink and "every site" to a careless one.
    if (!Array.isArray(sites) || sites.length === 0 || !sites.every(isId)) {
      return { error: 'sites must be a non-empty list of site ids' };
    }
    query.sites = sites;
  }
  if (agentId !== undefined) {
    if (!isId(agentId)) return { error: 'agentId must be an agent id' };
    query.agentId = agentId;
  }
  return query;
}

function isId(value: unknown): value is string {
  return typeof value === 'string' && ID_PATTERN.test(value);
}

/**
 * Answers one report request from `sink`: the JSON text of a `ReportReply`. Never throws — a bad
 * request or a failing sink is an `ok: false` reply, so the CLI gets an answer rather than a
 * timeout.
 */
export async function answerReport(
  sink: IntervalSink,
  data: Uint8Array,
  tenant: string,
  options: AnswerReportOptions = {},
): Promise<string> {
  const query = parseReportQuery(data, tenant);
  if ('error' in query) return refuse(`bad report request: ${query.error}`);
  let reply: string;
  let count: string;
  try {
    if (query.transfers === true) {
      const transfers = (await sink.transfers(query)).filter(
        (t) => t.appliedAt >= query.from && t.appliedAt < query.to,
      );
      reply = JSON.stringify({ ok: true, transfers } satisfies ReportReply);
      count = `${transfers.length} transfers`;
    } else {
      const records = await sink.query(query);
      reply = JSON.stringify({ ok: true, records } satisfies ReportReply);
      count = `${records.length} interval records`;
    }
  } catch (err) {
    // A driver's message can quote its connection string; the reply leaves the node.
    const message = err instanceof Error ? err.message : String(err);
    return refuse(`reading the interval history failed: ${maskUrlPassword(message)}`);
  }
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const bytes = Buffer.byteLength(reply);
  if (bytes > maxBytes) {
    return refuse(
      `${count} (${bytes} bytes) do not fit in one reply of at most ${maxBytes} bytes: ask for a shorter range, one site or one agent`,
    );
  }
  return reply;
}

function refuse(error: string): string {
  return JSON.stringify({ ok: false, error } satisfies ReportReply);
}
