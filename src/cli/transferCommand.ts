import { hostname, userInfo } from 'node:os';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { type ConfigOverrides, loadConfig, natsConnectOptions } from '../config/index.ts';
import { ID_PATTERN, type TransferRecord } from '../domain/index.ts';
import {
  adminSubject,
  type TransferAnswer,
  type TransferPlanRow,
  type TransferReply,
  type TransferRequest,
} from '../node/index.ts';
import { connectNats, gatherReplies, readStoredRange } from '../streams/index.ts';

/** Flags of `wfm-agg transfer`. */
export interface TransferFlags {
  config: string;
  nats?: string;
  from: string;
  to: string;
  dryRun?: boolean;
  json?: boolean;
  /** How long to collect the nodes' replies. */
  waitMs: string;
  /** How long to wait for the site to apply the command. */
  applyTimeoutMs: string;
}

/** Who asks, for the audit log: the OS user at this host. */
function whoAsks(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // No passwd entry (a container): the host still says where it came from.
  }
  return `${user}@${hostname()}`.slice(0, 256);
}

function fail(message: string, code = 1): void {
  process.stderr.write(`wfm-agg transfer: ${message}\n`);
  process.exitCode = code;
}

/**
 * `wfm-agg transfer --from A --to B [--dry-run]` (DESIGN "User data transfer"): asks the running
 * nodes; the one leading the site that knows both agents validates and publishes the command,
 * then this waits until the site has applied it and prints the audit record. Exit 0 when applied
 * (or planned, with `--dry-run`), 1 when refused or not applied in time, 2 for bad flags.
 */
export async function transferCommand(flags: TransferFlags): Promise<void> {
  for (const key of ['from', 'to'] as const)
    if (!ID_PATTERN.test(flags[key])) return fail(`--${key} must be an agent id ([A-Za-z0-9_-]{1,64})`, 2);
  if (flags.from === flags.to) return fail(`an agent cannot be transferred to itself (${flags.from})`, 2);
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  const config = loadConfig({ file: flags.config, overrides });
  const tenant = config.tenant.id;
  const request: TransferRequest = {
    from: flags.from,
    to: flags.to,
    dryRun: flags.dryRun === true,
    requestedBy: whoAsks(),
  };
  const nc = await connectNats(natsConnectOptions(config, 'wfm-agg transfer'));
  try {
    const replies = await ask(nc, adminSubject(tenant, 'transfer'), request, Number(flags.waitMs));
    const answer = replies.find((r) => r.answer !== null)?.answer ?? null;
    if (answer === null) return fail(explainNoAnswer(tenant, request, replies));
    if (!answer.ok) return fail(`refused: ${answer.error}`);
    if (answer.dryRun) {
      print(flags, {
        dryRun: true,
        site: answer.site,
        from: request.from,
        to: request.to,
        plan: answer.plan,
        rows: answer.rows,
      });
      return;
    }
    const record = await waitForRecord(nc, tenant, answer, Number(flags.applyTimeoutMs));
    if (record === null)
      return fail(
        `transfer ${answer.id} was published (WFM_IN seq ${answer.commandSeq}) but site ${answer.site} did not apply it within ${flags.applyTimeoutMs} ms; it will be applied in stream order — see wfm-agg report --transfers`,
      );
    print(flags, { dryRun: false, site: answer.site, record, plan: answer.plan, rows: answer.rows });
    if (record.result !== 'applied') fail(`refused by site ${answer.site}: ${record.reason}`);
  } finally {
    await nc.drain();
  }
}

/** Sends the request and collects replies: until one node answers, or for `waitMs`. */
function ask(nc: NatsConnection, subject: string, request: TransferRequest, waitMs: number) {
  return gatherReplies(nc, subject, JSON.stringify(request), {
    timeoutMs: waitMs,
    parse: (msg) => msg.json<TransferReply>(),
    enough: (replies) => replies.some((reply) => reply.answer !== null),
  });
}

/** Why no node took the request: nobody answered, an agent is unknown, or they are on two sites. */
export function explainNoAnswer(tenant: string, request: TransferRequest, replies: TransferReply[]): string {
  if (replies.length === 0) return `no node of tenant ${tenant} answered (is a node running?)`;
  const found = replies.flatMap((r) => r.found);
  const fromSites = found.filter((f) => f.from).map((f) => f.site);
  const toSites = found.filter((f) => f.to).map((f) => f.site);
  const led = replies.flatMap((r) => r.led);
  const where =
    led.length === 0 ? 'no site is led right now' : `sites led now: ${[...new Set(led)].sort().join(', ')}`;
  if (fromSites.length === 0) return `unknown agent ${request.from}: no site has had input for it (${where})`;
  if (toSites.length === 0) return `unknown agent ${request.to}: no site has had input for it (${where})`;
  return `${request.from} is on site ${fromSites.join(', ')} and ${request.to} on site ${toSites.join(', ')}: a transfer stays within one site`;
}

/** Waits for the site's audit record of this transfer on `wfm.transfer.T.S`. */
async function waitForRecord(
  nc: NatsConnection,
  tenant: string,
  answer: Extract<TransferAnswer, { ok: true }>,
  timeoutMs: number,
): Promise<TransferRecord | null> {
  const jsm = await jetstreamManager(nc);
  const subject = `wfm.transfer.${tenant}.${answer.site}`;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const last = await jsm.streams.getMessage('WFM_OUT', { last_by_subj: subject }).catch(() => null);
    if (last !== null) {
      const record = last.json<TransferRecord>();
      if (record.id === answer.id) return record;
      // A later transfer of the site came after ours: ours is stored before it.
      if (record.sourceSeq > (answer.commandSeq ?? 0)) return findRecord(nc, subject, answer.id!);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}

/** The audit record with id `id` among the site's stored ones. */
async function findRecord(nc: NatsConnection, subject: string, id: string): Promise<TransferRecord | null> {
  let found: TransferRecord | null = null;
  await readStoredRange(
    jetstream(nc),
    await jetstreamManager(nc),
    { stream: 'WFM_OUT', subject, afterSeq: 0, headersOnly: false },
    (m) => {
      const record = m.json<TransferRecord>();
      if (record.id === id) found = record;
    },
  );
  return found;
}

type Printed =
  | {
      dryRun: true;
      site: string;
      from: string;
      to: string;
      plan: TransferPlanRow[];
      rows: { source: number; target: number } | null;
    }
  | {
      dryRun: false;
      site: string;
      record: TransferRecord;
      plan: TransferPlanRow[];
      rows: { source: number; target: number } | null;
    };

function print(flags: TransferFlags, what: Printed): void {
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(what)}\n`);
    return;
  }
  const from = what.dryRun ? what.from : what.record.from;
  const to = what.dryRun ? what.to : what.record.to;
  const head = what.dryRun
    ? `dry run: transfer ${from} → ${to} on site ${what.site} would do (nothing changed):`
    : `transfer ${what.record.id}: ${from} → ${to} on site ${what.site} ${what.record.result} at ${new Date(what.record.appliedAt).toISOString()} (WFM_IN seq ${what.record.sourceSeq})`;
  process.stdout.write(
    `${head}\n${formatPlan(what.dryRun ? what.plan : planOf(what.record, what.plan), from, to, what.rows)}`,
  );
}

/** The plan as the site applied it (its counts), falling back on the handler's. */
function planOf(record: TransferRecord, plan: TransferPlanRow[]): TransferPlanRow[] {
  if (record.counts === null) return plan;
  return plan.map((p) => ({
    ...p,
    moved: record.counts![p.type].moved,
    targetHad: record.counts![p.type].targetHad,
  }));
}

/** The per-data-type table `transfer` prints. */
export function formatPlan(
  plan: TransferPlanRow[],
  from: string,
  to: string,
  rows: { source: number; target: number } | null,
): string {
  const header = ['data type', 'seed name', 'policy', `from ${from}`, `${to} had`, `${to} keeps`];
  const body = plan.map((p) => [
    p.description,
    p.seedName,
    p.policy,
    String(p.moved),
    String(p.targetHad),
    p.policy === 'combine' ? 'yes' : 'no (deleted)',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i]!.length)));
  const line = (cells: string[]) =>
    `${cells
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd()}\n`;
  let text = line(header) + body.map(line).join('');
  if (rows !== null)
    text += `interval history in the database: ${rows.source} rows of ${from} move to ${to}; ${to}'s ${rows.target} rows are deleted\n`;
  return text;
}
