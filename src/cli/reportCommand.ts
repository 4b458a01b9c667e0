import { existsSync } from 'node:fs';
import { createInbox } from '@nats-io/transport-node';
import {
  type ConfigOverrides,
  listSites,
  loadConfig,
  natsConnectOptions,
  type WfmConfig,
} from '../config/index.ts';
import { ID_PATTERN, type IntervalRecord, intervalReport, localDay } from '../domain/index.ts';
import { DatabaseError, NatsError, WfmError } from '../errors.ts';
import { createSecretScrubber } from '../logging/index.ts';
import { type ReportQuery, type ReportReply, reportSubject } from '../node/index.ts';
import {
  createIntervalSink,
  type IntervalQuery,
  type IntervalSink,
  isLockedError,
  levelIntervalLocation,
  type TransferAudit,
} from '../persistence/index.ts';
import { connectNats } from '../streams/index.ts';
import { formatReport, REPORT_FORMATS, type ReportFormat } from './formatReport.ts';
import { formatTransfers } from './formatTransfers.ts';

/** Flags of `wfm-agg report`. */
export interface ReportFlags {
  config: string;
  agent?: string;
  site?: string;
  businessUnit?: string;
  /** Required, except with `transfers`. */
  from?: string;
  to?: string;
  /** Print the transfer audit log instead of interval history. */
  transfers?: boolean;
  /** `table`, `csv` or `json`; default: `table` when stdout is a terminal, else `csv`. */
  format?: string;
  dataDir?: string;
  nats?: string;
  /** How long to collect running nodes' replies when the embedded store is locked. */
  waitMs: string;
}

/** What a report reads, once the flags are checked against the configuration. */
export interface ReportSelection {
  query: IntervalQuery;
  /** IANA time zone of every selected site. */
  timeZones: Map<string, string>;
}

/**
 * `--from` / `--to`: an ISO 8601 timestamp with `Z` or an offset (`2026-01-05T08:00:00Z`,
 * `2026-01-05T09:00+01:00`), or a bare date (`2026-01-05`), which means midnight UTC — one rule
 * whatever the sites' zones, so a range means the same for a business unit spread over several.
 * A timestamp without a zone is refused: it would mean whatever zone the machine running the CLI is in.
 * Returns epoch ms, or undefined when the text is not such a time or names no real date (02-30).
 */
export function parseReportTime(text: string): number | undefined {
  const m =
    /^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|([+-])(\d{2}):(\d{2})))?$/.exec(
      text,
    );
  if (m === null) return undefined;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((x) => Number(x ?? 0));
  const ms = Number((m[7] ?? '0').padEnd(3, '0'));
  const wall = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
  const back = new Date(wall);
  // Date.UTC rolls 2026-02-30 over to March; a date that does not come back unchanged is not real.
  if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d)
    return undefined;
  if (h > 23 || mi > 59 || s > 59) return undefined;
  const offsetMin = m[9] === undefined ? 0 : (m[9] === '-' ? -1 : 1) * (Number(m[10]) * 60 + Number(m[11]));
  if (Math.abs(offsetMin) > 18 * 60 || Number(m[11] ?? 0) > 59) return undefined;
  return wall - offsetMin * 60_000;
}

/**
 * The query and time zones the flags select in `config`, or why they select nothing: a site, a
 * business unit (every site of it) or, with only `--agent`, every site; a real `--from` before `--to`.
 */
export function resolveReport(
  config: WfmConfig,
  flags: Pick<ReportFlags, 'agent' | 'site' | 'businessUnit'> & { from: string; to: string },
): { ok: true; selection: ReportSelection } | { ok: false; error: string } {
  const { agent, site, businessUnit } = flags;
  if (site !== undefined && businessUnit !== undefined) {
    return { ok: false, error: 'name either --site or --business-unit, not both' };
  }
  if (agent === undefined && site === undefined && businessUnit === undefined) {
    return { ok: false, error: 'name an --agent, a --site or a --business-unit' };
  }
  if (agent !== undefined && !ID_PATTERN.test(agent)) {
    return { ok: false, error: `--agent ${agent} is not an agent id (${ID_PATTERN.source})` };
  }
  const all = listSites(config);
  let refs = all;
  if (site === '*') {
    refs = all;
  } else if (site !== undefined) {
    refs = all.filter((r) => r.site === site);
    if (refs.length === 0) return { ok: false, error: `unknown site ${site}: not in the configuration` };
  } else if (businessUnit !== undefined) {
    if (!config.businessUnits.some((u) => u.id === businessUnit)) {
      return { ok: false, error: `unknown business unit ${businessUnit}: not in the configuration` };
    }
    refs = all.filter((r) => r.businessUnit === businessUnit);
    if (refs.length === 0) return { ok: false, error: `business unit ${businessUnit} has no sites` };
  }
  for (const ref of refs) {
    try {
      localDay(0, ref.timeZone);
    } catch {
      return {
        ok: false,
        error: `site ${ref.site}: time zone ${ref.timeZone} is not a known IANA time zone`,
      };
    }
  }
  const from = parseReportTime(flags.from);
  const to = parseReportTime(flags.to);
  for (const [name, text, value] of [
    ['--from', flags.from, from] as const,
    ['--to', flags.to, to] as const,
  ]) {
    if (value === undefined) {
      return {
        ok: false,
        error: `${name} ${text} is not a time: give an ISO 8601 timestamp with Z or an offset (2026-01-05T08:00:00Z) or a date (2026-01-05, midnight UTC)`,
      };
    }
  }
  if (from! >= to!) return { ok: false, error: `--from ${flags.from} must be before --to ${flags.to}` };
  const query: IntervalQuery = {
    tenant: config.tenant.id,
    sites: refs.map((r) => r.site),
    from: from!,
    to: to!,
  };
  if (agent !== undefined) query.agentId = agent;
  return { ok: true, selection: { query, timeZones: new Map(refs.map((r) => [r.site, r.timeZone])) } };
}

/**
 * Prints the interval history the flags select, with totals per agent and local day, read from the
 * configured database or the embedded LevelDB store — or, when a running node holds that store, from
 * the running nodes over NATS. Any failure is one line on stderr and exit code 2; the database URL
 * and passwords never appear.
 */
export async function reportCommand(flags: ReportFlags): Promise<void> {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
  const config = loadConfig({ file: flags.config, overrides });
  const scrub = createSecretScrubber(secretsOf(config));
  const fail = (message: string) => {
    process.stderr.write(`wfm-agg report: ${scrub(message)}\n`);
    process.exitCode = 2;
  };
  const format = (flags.format ?? (process.stdout.isTTY ? 'table' : 'csv')) as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) return fail(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
  const waitMs = Number(flags.waitMs);
  if (!Number.isFinite(waitMs) || waitMs < 0) return fail('--wait-ms must be a number of milliseconds');
  if (flags.transfers === true) {
    const selected = resolveReport(config, {
      ...flags,
      // The audit log: every site unless one is named, all of it unless a range is given.
      site: flags.site ?? (flags.businessUnit === undefined && flags.agent === undefined ? '*' : flags.site),
      from: flags.from ?? '2000-01-01',
      to: flags.to ?? '2100-01-01',
    });
    if (!selected.ok) return fail(selected.error);
    try {
      process.stdout.write(
        formatTransfers(await readTransfers(config, selected.selection.query, waitMs), format),
      );
    } catch (err) {
      if (err instanceof WfmError) return fail(err.message);
      throw err;
    }
    return;
  }
  if (flags.from === undefined || flags.to === undefined) return fail('--from and --to are required');
  const resolved = resolveReport(config, { ...flags, from: flags.from, to: flags.to });
  if (!resolved.ok) return fail(resolved.error);
  const { query, timeZones } = resolved.selection;
  let records: IntervalRecord[];
  try {
    records = await readRecords(config, query, waitMs);
  } catch (err) {
    if (err instanceof WfmError) return fail(err.message);
    throw err;
  }
  if (flags.agent !== undefined && flags.site === undefined) {
    // Agent ids are per site (wfm.stat.T.S.A): the same id at two sites may be two people.
    const sites = [...new Set(records.map((r) => r.site))];
    if (sites.length > 1) {
      return fail(
        `agent ${flags.agent} has interval records at sites ${sites.join(', ')}: name one with --site`,
      );
    }
  }
  const zoneOf = (site: string) => timeZones.get(site) ?? 'UTC';
  process.stdout.write(formatReport(intervalReport(records, zoneOf), format, zoneOf));
}

/** The database URL, its password and the tenant password: never printed. */
function secretsOf(config: WfmConfig): string[] {
  const secrets = [config.tenant.password ?? ''];
  if (config.database !== null) {
    secrets.push(config.database);
    try {
      secrets.push(decodeURIComponent(new URL(config.database).password));
    } catch {
      // Not a URL (a libpq key=value string): the whole string is already in the list.
    }
  }
  return secrets;
}

/**
 * `read` from the configured sink, or `fromNodes` (asking the running nodes) when one of them holds
 * the embedded store.
 */
async function withSink<T>(
  config: WfmConfig,
  read: (sink: IntervalSink) => Promise<T>,
  fromNodes: (store: string) => Promise<T>,
): Promise<T> {
  const store = levelIntervalLocation(config.dataDir);
  // Opening LevelDB creates a missing store: a mistyped --data-dir would print an empty report.
  if (config.database === null && !existsSync(store)) {
    throw new DatabaseError(
      `no interval store at ${store}: is --data-dir (or dataDir) the node's data directory?`,
    );
  }
  const sink = createIntervalSink(config);
  try {
    await sink.open();
  } catch (err) {
    await sink.close();
    if (sink.kind === 'level' && isLockedError(err)) return fromNodes(store);
    throw err;
  }
  try {
    return await read(sink);
  } finally {
    await sink.close();
  }
}

/** Interval records from the configured sink, or from the running nodes when one holds the embedded store. */
function readRecords(config: WfmConfig, query: IntervalQuery, waitMs: number): Promise<IntervalRecord[]> {
  return withSink(
    config,
    (sink) => sink.query(query),
    async (store) => {
      const byKey = new Map<string, IntervalRecord>();
      for (const reply of await askRunningNodes(config, query, store, waitMs)) {
        for (const record of 'records' in reply ? reply.records : []) {
          const key = `${record.site}\u0000${record.agentId}\u0000${record.intervalStart}`;
          const seen = byKey.get(key);
          // A lagging replica may hold an older version of a record: the later write wins.
          if (seen === undefined || record.sourceSeq > seen.sourceSeq) byKey.set(key, record);
        }
      }
      return [...byKey.values()];
    },
  );
}

/** The transfer audit log the query selects (`appliedAt` in [from, to)), by site and `WFM_OUT` order. */
export function readTransfers(
  config: WfmConfig,
  query: IntervalQuery,
  waitMs: number,
): Promise<TransferAudit[]> {
  const inRange = (t: TransferAudit) => t.appliedAt >= query.from && t.appliedAt < query.to;
  return withSink(
    config,
    async (sink) => (await sink.transfers(query)).filter(inRange),
    async (store) => {
      // Every replica of a site records the same transfers: one per site and id.
      const byKey = new Map<string, TransferAudit>();
      for (const reply of await askRunningNodes(config, { ...query, transfers: true }, store, waitMs))
        for (const t of 'transfers' in reply ? reply.transfers : []) byKey.set(`${t.site}\u0000${t.id}`, t);
      return [...byKey.values()]
        .filter(inRange)
        .sort((a, b) => a.site.localeCompare(b.site) || a.outSeq - b.outSeq);
    },
  );
}

/**
 * Asks every running node of the tenant on `wfm.admin.T.report` and merges their replies: with
 * LevelDB each node holds the history of the sites it hosts, replicas of a site hold the same records
 * (outputs are deterministic), so the union keyed by site, agent and start is the history.
 */
async function askRunningNodes(
  config: WfmConfig,
  query: ReportQuery,
  store: string,
  waitMs: number,
): Promise<Extract<ReportReply, { ok: true }>[]> {
  const subject = reportSubject(config.tenant.id);
  const held = `the interval store ${store} is held by a running node`;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats({ ...natsConnectOptions(config, 'wfm-agg report'), reconnect: false });
  } catch (err) {
    throw new NatsError(`${held}, and NATS cannot be reached to ask it: ${(err as Error).message}`, {
      cause: err,
      kind: err instanceof NatsError ? err.kind : 'other',
    });
  }
  const replies: ReportReply[] = [];
  let noResponders = false;
  let wake = () => {};
  const inbox = createInbox();
  const sub = nc.subscribe(inbox, {
    callback: (_err, msg) => {
      // The server's 503 status: nobody subscribes to the subject, so there is nothing to wait for.
      if (msg.headers?.hasError) {
        noResponders = msg.headers.code === 503;
        wake();
        return;
      }
      try {
        replies.push(msg.json<ReportReply>());
      } catch {
        replies.push({ ok: false, error: 'a node sent a reply that is not JSON' });
      }
    },
  });
  nc.publish(subject, JSON.stringify(query), { reply: inbox });
  let timer: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    wake = resolve;
    timer = setTimeout(resolve, waitMs);
  });
  clearTimeout(timer);
  sub.unsubscribe();
  await nc.drain();
  if (replies.length === 0) {
    const within = noResponders ? '' : ` within ${waitMs} ms`;
    throw new NatsError(
      `${held}, and no node of tenant ${config.tenant.id} answered on ${subject}${within}`,
      {
        kind: noResponders ? 'no_responders' : 'timeout',
      },
    );
  }
  // One node's part missing would print a report that looks whole: any refusal fails it all.
  const refused = replies.find((r) => !r.ok);
  if (refused !== undefined && !refused.ok) {
    throw new DatabaseError(`a running node refused: ${refused.error}`);
  }
  return replies as Extract<ReportReply, { ok: true }>[];
}
