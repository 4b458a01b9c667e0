import type { AgentContext, AgentOutput } from './agentCore.ts';
import { AGENT_HISTORY_MAX, initialAgentContext } from './agentCore.ts';
import { isReportable } from './intervalAccounting.ts';
import type {
  AdherenceOutput,
  AgentAuditEvent,
  GcStateOutput,
  LoginSession,
  TransferCount,
  TransferDataType,
} from './types.ts';

/** One row of the transfer policy: a data type the product stores and what a transfer does with it. */
export interface TransferPolicyEntry {
  type: TransferDataType;
  /** What it is here. */
  description: string;
  /** Its name in seed `002_…` (Genesys "About user data transfer"). */
  seedName: string;
  /**
   * `combine`: the target keeps its own and gets the source's; `overwrite`: the target's own is
   * deleted and replaced by the source's. Either way the source owns none of it afterwards.
   */
  policy: 'combine' | 'overwrite';
}

/**
 * The transfer policy (DESIGN "User data transfer"), one table: every data type the product
 * stores, named as in the seed. The seed combines what can be combined and overwrites what an
 * agent can have only one of (one live state, one schedule, one interval row per interval).
 */
export const TRANSFER_POLICY: readonly TransferPolicyEntry[] = [
  {
    type: 'liveState',
    description: 'live agent state (actor context: GC state, adherence, open interval)',
    seedName: 'Agent Real Time States',
    policy: 'overwrite',
  },
  { type: 'schedule', description: 'schedule', seedName: 'Agent Schedules', policy: 'overwrite' },
  {
    type: 'intervalHistory',
    description: 'interval history (agent_interval rows)',
    seedName: 'Agent/Service Productivity Data (Interval)',
    policy: 'overwrite',
  },
  {
    type: 'exceptions',
    description: 'adherence exceptions history',
    seedName: 'Historical Activities by Agent',
    policy: 'overwrite',
  },
  {
    type: 'loginSessions',
    description: 'login sessions (logged-in periods)',
    seedName: 'Login State',
    policy: 'combine',
  },
  {
    type: 'auditEvents',
    description: 'audit events about the agent',
    seedName: 'Wfo Audit Events',
    policy: 'combine',
  },
];

/** The policy of one data type. */
export function transferPolicyOf(type: TransferDataType): 'combine' | 'overwrite' {
  return TRANSFER_POLICY.find((e) => e.type === type)!.policy;
}

/**
 * What the actors hold of each data type for one agent. Interval history counts the open
 * intervals with time in them (the closed ones are rows in the database, counted there).
 */
export function agentDataCounts(ctx: AgentContext): Record<TransferDataType, number> {
  return {
    liveState: ctx.gc === null ? 0 : 1,
    schedule: ctx.schedule.length,
    intervalHistory: ctx.intervals.filter(isReportable).length,
    exceptions: ctx.exceptions.length,
    loginSessions: ctx.sessions.length,
    auditEvents: ctx.audit.length,
  };
}

/** Per data type, its policy, what moves from the source and what the target had. */
export function transferCounts(
  source: AgentContext,
  target: AgentContext,
): Record<TransferDataType, TransferCount> {
  const moved = agentDataCounts(source);
  const had = agentDataCounts(target);
  const counts = {} as Record<TransferDataType, TransferCount>;
  for (const { type, policy } of TRANSFER_POLICY)
    counts[type] = { policy, moved: moved[type], targetHad: had[type] };
  return counts;
}

/** What {@link transferAgentData} made: both agents' new contexts and what they publish. */
export interface TransferOutcome {
  source: AgentContext;
  target: AgentContext;
  sourceOutputs: AgentOutput[];
  targetOutputs: AgentOutput[];
  counts: Record<TransferDataType, TransferCount>;
}

const NO_GC = { presence: 'OFFLINE', routingStatus: 'OFF_QUEUE' } as const;

/**
 * Moves agent `source`'s data to agent `target` per {@link TRANSFER_POLICY}, at site event time
 * `at`, as one step of the command `event` (pure: neither context is changed). The target takes
 * the source's live state, schedule, open intervals and exceptions (its own are gone), and keeps
 * its login sessions and audit events beside the source's (its open session, if any, ends at
 * `at`: the live state that follows is the source's). The source is left with nothing but the
 * `ts` watermark that keeps its late input out. Each agent publishes its GC state and adherence
 * where they change; an agent left with no state shows as OFFLINE / OFF_QUEUE, Unscheduled.
 */
export function transferAgentData(
  source: AgentContext,
  target: AgentContext,
  at: number,
  event: AgentAuditEvent,
): TransferOutcome {
  const counts = transferCounts(source, target);
  const sessions = mergeSessions(closeOpenSession(target.sessions, at), source.sessions);
  const audit = [...target.audit, ...source.audit, event]
    .sort((a, b) => a.sourceSeq - b.sourceSeq)
    .slice(-AGENT_HISTORY_MAX);
  const next: AgentContext = {
    ...source,
    agentId: target.agentId,
    lastTs: Math.max(source.lastTs, target.lastTs),
    sessions,
    audit,
  };
  const emptied: AgentContext = { ...initialAgentContext(source.agentId), lastTs: source.lastTs };
  return {
    source: emptied,
    target: next,
    sourceOutputs: changes(source, emptied, at, event.sourceSeq),
    targetOutputs: changes(target, next, at, event.sourceSeq),
    counts,
  };
}

/** `sessions` with the open one (wherever it is: see `trackSession`) ended at `at`. */
function closeOpenSession(sessions: readonly LoginSession[], at: number): LoginSession[] {
  return sessions.map((s) => (s.end === null ? { start: s.start, end: Math.max(at, s.start) } : s));
}

/**
 * Both lists of sessions in one, by start (the source's first on a tie); past AGENT_HISTORY_MAX
 * the oldest closed ones go, never the open one (the live state's: its log-off must close it).
 */
function mergeSessions(target: readonly LoginSession[], source: readonly LoginSession[]): LoginSession[] {
  const all = [...source, ...target].sort((a, b) => a.start - b.start);
  let excess = all.length - AGENT_HISTORY_MAX;
  return excess <= 0 ? all : all.filter((s) => s.end === null || excess-- <= 0);
}

/** The GC and adherence outputs that take an agent's consumers from `before` to `after`. */
function changes(before: AgentContext, after: AgentContext, at: number, seq: number): AgentOutput[] {
  const outputs: AgentOutput[] = [];
  const agentId = after.agentId;
  const gcBefore = before.gc;
  const gcAfter = after.gc ?? NO_GC;
  if (
    (before.gc !== null || after.gc !== null) &&
    (gcBefore === null ||
      gcBefore.presence !== gcAfter.presence ||
      gcBefore.routingStatus !== gcAfter.routingStatus)
  ) {
    const payload: GcStateOutput = { agentId, ...gcAfter, ts: at, sourceSeq: seq };
    outputs.push({ kind: 'gc', payload });
  }
  if (before.adherence === null && after.adherence === null) return outputs;
  const value = after.adherence ?? {
    adherenceState: 'Unscheduled' as const,
    scheduledCategory: null,
    actualCategory: 'Offline' as const,
    impact: 'Neutral' as const,
    since: at,
  };
  const b = before.adherence;
  if (
    b === null ||
    b.adherenceState !== value.adherenceState ||
    b.scheduledCategory !== value.scheduledCategory ||
    b.actualCategory !== value.actualCategory ||
    b.impact !== value.impact ||
    (after.adherence !== null && b.since !== value.since)
  ) {
    const payload: AdherenceOutput = { agentId, ...value, ts: at, sourceSeq: seq };
    outputs.push({ kind: 'adherence', payload });
  }
  return outputs;
}
