/**
 * The node's side of `wfm-agg transfer` (DESIGN "User data transfer"): the CLI sends a
 * {@link TransferRequest} on `wfm.admin.T.transfer`; every node answers for the sites it leads.
 * The node whose led site knows both agents validates the request against the site's live state
 * and, unless it is a dry run, publishes one command on `wfm.command.T.S`. The command — not this
 * handler — changes data: every replica applies it in stream order, so it is atomic and exactly
 * once across restarts and takeovers.
 */
import { randomUUID } from 'node:crypto';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { SiteSupervisor } from '../actors/index.ts';
import {
  commandSubject,
  ID_PATTERN,
  TRANSFER_POLICY,
  type TransferDataType,
  transferCounts,
} from '../domain/index.ts';
import type { IntervalSink } from '../persistence/index.ts';
import { readStoredRange } from '../streams/index.ts';

/** A `wfm.admin.T.transfer` request. */
export interface TransferRequest {
  from: string;
  to: string;
  /** Only say what would move; change nothing. */
  dryRun: boolean;
  /** Who asks (user@host), recorded in the audit log. */
  requestedBy: string;
}

/** One data type of a transfer plan: its policy and how much moves. */
export interface TransferPlanRow {
  type: TransferDataType;
  description: string;
  seedName: string;
  policy: 'combine' | 'overwrite';
  /** The source's items the target gets. */
  moved: number;
  /** The target's own items: deleted (overwrite) or kept (combine). */
  targetHad: number;
}

/** Why a transfer is refused (stable codes the CLI and tests can rely on). */
export type TransferRefusal =
  | 'bad_request'
  | 'same_agent'
  | 'unknown_agent'
  | 'other_site'
  | 'pending'
  | 'not_ready'
  | 'publish_failed';

/** What one node says about a transfer request. */
export interface TransferReply {
  nodeId: string;
  /** Sites this node leads (and so answers for). */
  led: string[];
  /** Per led site: which of the two agents it knows. */
  found: { site: string; from: boolean; to: boolean }[];
  /** Set by the node whose led site knows both agents (or when the request itself is bad). */
  answer: TransferAnswer | null;
}

/** The answer of the node that handles a transfer. */
export type TransferAnswer =
  | {
      ok: true;
      site: string;
      dryRun: boolean;
      /** The command's id (null for a dry run). */
      id: string | null;
      /** `WFM_IN` sequence of the published command (null for a dry run). */
      commandSeq: number | null;
      plan: TransferPlanRow[];
      /** Interval rows in the node's database: the source's (moved) and the target's (deleted). */
      rows: { source: number; target: number } | null;
    }
  | { ok: false; code: TransferRefusal; error: string };

/** One site this node leads, as the handler sees it. */
export interface LedSite {
  site: string;
  /** Last `WFM_IN` sequence the site applied. */
  processedSeq: number;
  /** Null while it restores. */
  supervisor: SiteSupervisor | null;
}

/** What the handler works with. */
export interface TransferContext {
  nodeId: string;
  tenant: string;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** The sites this node leads now. */
  led: LedSite[];
  /** The node's interval sink (for the rows a dry run counts); null when it has none open. */
  sink: IntervalSink | null;
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** The request a message carries, or why it is refused. */
export function parseTransferRequest(data: Uint8Array): TransferRequest | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(data));
  } catch {
    return { error: 'the request is not UTF-8 JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { error: 'the request is not a JSON object' };
  const r = value as Record<string, unknown>;
  for (const key of ['from', 'to'] as const)
    if (typeof r[key] !== 'string' || !ID_PATTERN.test(r[key] as string))
      return { error: `${key} must be an agent id ([A-Za-z0-9_-]{1,64})` };
  if (typeof r.dryRun !== 'boolean') return { error: 'dryRun must be true or false' };
  if (typeof r.requestedBy !== 'string' || r.requestedBy.length === 0 || r.requestedBy.length > 256)
    return { error: 'requestedBy must be a non-empty string of at most 256 characters' };
  return { from: r.from as string, to: r.to as string, dryRun: r.dryRun, requestedBy: r.requestedBy };
}

/** A refusal from the node itself (the request is bad, or names one agent twice). */
function refusedReply(ctx: TransferContext, code: TransferRefusal, error: string): TransferReply {
  return {
    nodeId: ctx.nodeId,
    led: ctx.led.map((s) => s.site),
    found: [],
    answer: { ok: false, code, error },
  };
}

/**
 * Answers one transfer request. Never throws: a failure is an `ok: false` answer, so the CLI
 * gets a reply rather than a timeout.
 */
export async function answerTransfer(ctx: TransferContext, data: Uint8Array): Promise<TransferReply> {
  const request = parseTransferRequest(data);
  if ('error' in request) return refusedReply(ctx, 'bad_request', `bad transfer request: ${request.error}`);
  const { from, to } = request;
  if (from === to)
    return refusedReply(ctx, 'same_agent', `an agent cannot be transferred to itself (${from})`);
  const found = ctx.led.map(({ site, supervisor }) => ({
    site,
    from: supervisor?.agentContext(from) !== undefined,
    to: supervisor?.agentContext(to) !== undefined,
  }));
  const reply: TransferReply = { nodeId: ctx.nodeId, led: ctx.led.map((s) => s.site), found, answer: null };
  const led = ctx.led.find((_s, i) => found[i]!.from && found[i]!.to);
  if (led === undefined) return reply;
  try {
    reply.answer = await handle(ctx, led, request);
  } catch (err) {
    reply.answer = {
      ok: false,
      code: 'publish_failed',
      error: err instanceof Error ? err.message : String(err),
    };
  }
  return reply;
}

async function handle(ctx: TransferContext, led: LedSite, request: TransferRequest): Promise<TransferAnswer> {
  const { from, to } = request;
  const supervisor = led.supervisor;
  const source = supervisor?.agentContext(from);
  const target = supervisor?.agentContext(to);
  if (source === undefined || target === undefined)
    return { ok: false, code: 'not_ready', error: `site ${led.site} is restoring; try again` };
  const counts = transferCounts(source, target);
  const plan = TRANSFER_POLICY.map((p) => ({
    ...p,
    moved: counts[p.type].moved,
    targetHad: counts[p.type].targetHad,
  }));
  const rows =
    ctx.sink === null
      ? null
      : {
          source: await ctx.sink.countRows(ctx.tenant, led.site, from),
          target: await ctx.sink.countRows(ctx.tenant, led.site, to),
        };
  const subject = commandSubject(ctx.tenant, led.site);
  const { lastSeq, pending } = await pendingCommands(ctx, subject, led.processedSeq);
  const overlapping = pending.find((c) => [c.from, c.to].some((a) => a === from || a === to));
  if (overlapping !== undefined)
    return {
      ok: false,
      code: 'pending',
      error: `transfer ${overlapping.id} (${overlapping.from} → ${overlapping.to}) is not applied yet; try again when it is`,
    };
  if (request.dryRun)
    return { ok: true, site: led.site, dryRun: true, id: null, commandSeq: null, plan, rows };
  const id = randomUUID();
  const command = { command: 'transfer', id, from, to, ts: Date.now(), requestedBy: request.requestedBy };
  try {
    // Compare-and-set on the subject's last sequence: a command published by anyone since we
    // looked (another node leading the site for a moment, another CLI) makes this one fail
    // rather than slip past the pending check.
    const ack = await ctx.js.publish(subject, JSON.stringify(command), {
      expect: { lastSubjectSequence: lastSeq },
      msgID: `transfer:${id}`,
    });
    return { ok: true, site: led.site, dryRun: false, id, commandSeq: ack.seq, plan, rows };
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return {
      ok: false,
      code: 'pending',
      error: `another command for site ${led.site} was published at the same moment; try again (${message})`,
    };
  }
}

interface PendingCommand {
  id: string;
  from: string;
  to: string;
}

/** The site's commands stored after what it applied, and the subject's last sequence (0: none). */
async function pendingCommands(
  ctx: TransferContext,
  subject: string,
  processedSeq: number,
): Promise<{ lastSeq: number; pending: PendingCommand[] }> {
  const pending: PendingCommand[] = [];
  const lastSeq = await lastSubjectSeq(ctx, subject);
  if (lastSeq <= processedSeq) return { lastSeq, pending };
  await readStoredRange(
    ctx.js,
    ctx.jsm,
    { stream: 'WFM_IN', subject, afterSeq: processedSeq, headersOnly: false },
    (m) => {
      try {
        const c = JSON.parse(decoder.decode(m.data)) as Partial<PendingCommand>;
        if (typeof c.id === 'string' && typeof c.from === 'string' && typeof c.to === 'string')
          pending.push({ id: c.id, from: c.from, to: c.to });
      } catch {
        // Not a command this handler published: the site sends it to the DLQ.
      }
    },
  );
  return { lastSeq, pending };
}

async function lastSubjectSeq(ctx: TransferContext, subject: string): Promise<number> {
  const last = await ctx.jsm.streams.getMessage('WFM_IN', { last_by_subj: subject });
  return last?.seq ?? 0;
}
