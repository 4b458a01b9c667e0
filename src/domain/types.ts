/**
 * Plain value types of the wire contract (DESIGN.md "Subjects and streams" and "Semantics").
 * Everything here is JSON-safe so it can travel in actor snapshots and checkpoints.
 */

export const AGENT_STATUSES = ['LoggedOff', 'NotReady', 'Ready', 'AfterCallWork'] as const;
/** Stat Server `CurrentState` status. */
export type AgentStatus = (typeof AGENT_STATUSES)[number];

export const CALL_TYPES = ['Inbound', 'Outbound', 'Internal', 'Consult'] as const;
/** Stat Server call type; `null` means no call. */
export type CallType = (typeof CALL_TYPES)[number];

export const PRESENCES = ['OFFLINE', 'BUSY', 'BREAK', 'MEAL', 'MEETING', 'TRAINING', 'ON_QUEUE'] as const;
/** Genesys Cloud presence (never `AVAILABLE` for mapped users). */
export type Presence = (typeof PRESENCES)[number];

export const ROUTING_STATUSES = ['OFF_QUEUE', 'IDLE', 'INTERACTING', 'COMMUNICATING'] as const;
/** Genesys Cloud routing status. */
export type RoutingStatus = (typeof ROUTING_STATUSES)[number];

export const ACTIVITY_CATEGORIES = [
  'OnQueueWork',
  'Break',
  'Meal',
  'Meeting',
  'OffQueueWork',
  'TimeOff',
  'Training',
  'Unavailable',
] as const;
/** Genesys Cloud WFM activity category of a scheduled activity. */
export type ActivityCategory = (typeof ACTIVITY_CATEGORIES)[number];

/** What the agent is actually doing, derived from presence. */
export type ActualCategory =
  | 'OnQueueWork'
  | 'OffQueueWork'
  | 'Break'
  | 'Meal'
  | 'Meeting'
  | 'Training'
  | 'Offline';

export type AdherenceState = 'InAdherence' | 'OutOfAdherence' | 'Unscheduled';
export type Impact = 'Positive' | 'Negative' | 'Neutral';

/** One scheduled activity, `[start, end)` in epoch ms. */
export interface Activity {
  start: number;
  end: number;
  category: ActivityCategory;
  code?: string;
}

/** Where a message came from: tenant, site and (for agent subjects) agent. */
export interface SubjectAddress {
  kind: 'stat' | 'schedule' | 'clock' | 'command';
  tenant: string;
  site: string;
  /** Absent for clock and command subjects. */
  agentId?: string;
}

/** A decoded `CurrentState` statistic. */
export interface StateUpdate {
  type: 'state';
  agentId: string;
  status: AgentStatus;
  callType: CallType | null;
  ts: number;
}

/** A decoded `CurrentStateReason` statistic; `reason` is `reasons[reasonCodeKeyName]` or null. */
export interface ReasonUpdate {
  type: 'reason';
  agentId: string;
  reason: string | null;
  ts: number;
}

/**
 * A decoded schedule: replaces whatever was scheduled in `[from, to)`. Activities sorted, disjoint,
 * each covering some time.
 */
export interface ScheduleUpdate {
  type: 'schedule';
  agentId: string;
  from: number;
  to: number;
  activities: Activity[];
  /**
   * Activities of the message with `start` = `end`, dropped: they cover no time (DESIGN.md).
   * `decodeInput` always sets it; absent (an event built by hand) means none.
   */
  emptyActivitiesDropped?: number;
}

/** A decoded event-time tick for a site. */
export interface ClockTick {
  type: 'clock';
  ts: number;
}

/**
 * A decoded `wfm.command.T.S` transfer command (DESIGN "User data transfer"): move agent `from`'s
 * data to agent `to` of the same site. `ts` is when it was asked (the admin's clock): it is
 * recorded, never used as event time.
 */
export interface TransferCommand {
  type: 'transfer';
  /** Unique id of the transfer (the admin API makes it). */
  id: string;
  from: string;
  to: string;
  ts: number;
  /** Who asked (user@host as the CLI says it). */
  requestedBy: string;
}

/** Any decoded input payload. */
export type InputEvent = StateUpdate | ReasonUpdate | ScheduleUpdate | ClockTick | TransferCommand;

/** One logged-in period of an agent (seed: Login State): `end` is null while still logged in. */
export interface LoginSession {
  start: number;
  end: number | null;
}

/**
 * One adherence exception (seed: Historical Activities by Agent): an out-of-adherence stretch
 * that lasted at least the threshold, with the scheduled and actual category and the impact it
 * started with.
 */
export interface AdherenceException {
  start: number;
  end: number;
  scheduledCategory: ActivityCategory | null;
  actualCategory: ActualCategory;
  impact: Impact;
}

/** An audit event about an agent (seed: Wfo Audit Events): a transfer it took part in. */
export interface AgentAuditEvent {
  type: 'transfer';
  /** The transfer's id. */
  id: string;
  from: string;
  to: string;
  /** Site event time it was applied at. */
  at: number;
  /** `WFM_IN` sequence of the command. */
  sourceSeq: number;
}

/** `wfm.gc.T.S.A` payload. */
export interface GcStateOutput {
  agentId: string;
  presence: Presence;
  routingStatus: RoutingStatus;
  ts: number;
  sourceSeq: number;
}

/** `wfm.adherence.T.S.A` payload. */
export interface AdherenceOutput {
  agentId: string;
  adherenceState: AdherenceState;
  scheduledCategory: ActivityCategory | null;
  actualCategory: ActualCategory;
  impact: Impact;
  since: number;
  ts: number;
  sourceSeq: number;
}

/** `wfm.interval.T.S.A` payload and `agent_interval` row. */
export interface IntervalRecord {
  agentId: string;
  site: string;
  intervalStart: number;
  intervalMinutes: number;
  secondsByPresence: Partial<Record<Presence, number>>;
  adherenceScheduleSecs: number;
  exceptionDurationSecs: number;
  adherencePercentage: number | null;
  conformanceScheduleSecs: number;
  conformanceActualSecs: number;
  conformancePercentage: number | null;
  sourceSeq: number;
}

/** The data types a transfer moves (DESIGN "User data transfer"); see `TRANSFER_POLICY`. */
export const TRANSFER_DATA_TYPES = [
  'liveState',
  'schedule',
  'intervalHistory',
  'exceptions',
  'loginSessions',
  'auditEvents',
] as const;
export type TransferDataType = (typeof TRANSFER_DATA_TYPES)[number];

/** How a transfer treats one data type: `moved` items of the source, `replaced` items of the target. */
export interface TransferCount {
  policy: 'combine' | 'overwrite';
  /** The source's items, now the target's. */
  moved: number;
  /** The target's own items: deleted (overwrite) or kept beside the moved ones (combine). */
  targetHad: number;
}

/**
 * `wfm.transfer.T.S` payload: the audit record of one transfer command as the site applied it
 * (or refused it, changing nothing). `counts.intervalHistory` counts the open intervals the
 * actor held; the database counts the rows it moved in its own audit table.
 */
export interface TransferRecord {
  id: string;
  from: string;
  to: string;
  requestedBy: string;
  /** When it was asked (the admin's clock). */
  requestedAt: number;
  /** The site's event time when it was applied. */
  appliedAt: number;
  result: 'applied' | 'refused';
  /** Why it was refused; null when applied. */
  reason: string | null;
  counts: Record<TransferDataType, TransferCount> | null;
  sourceSeq: number;
}

/**
 * One output of the processing core, in the order it was produced. `ordinal` is its position
 * (0-based) among every output the source message produced at its site, so
 * `(tenant, site, payload.sourceSeq, ordinal)` identifies an output deterministically.
 */
export type Output =
  | { kind: 'gc'; tenant: string; site: string; agentId: string; ordinal: number; payload: GcStateOutput }
  | {
      kind: 'adherence';
      tenant: string;
      site: string;
      agentId: string;
      ordinal: number;
      payload: AdherenceOutput;
    }
  | {
      kind: 'interval';
      tenant: string;
      site: string;
      agentId: string;
      ordinal: number;
      payload: IntervalRecord;
    }
  /** `agentId` is the transfer's target. */
  | {
      kind: 'transfer';
      tenant: string;
      site: string;
      agentId: string;
      ordinal: number;
      payload: TransferRecord;
    };

/** An input the core refused, with a stable reason code (DLQ `reason`). */
export interface Rejection {
  reason: RejectionReason;
  detail: string;
}

export const REJECTION_REASONS = [
  'bad_subject',
  'unknown_site',
  'too_large',
  'invalid_json',
  'not_object',
  'unknown_statistic',
  'bad_status',
  'bad_call_type',
  'bad_reasons',
  'agent_mismatch',
  'bad_ts',
  'bad_schedule',
  'bad_payload',
  'bad_command',
  'late',
  'internal_error',
  // The core threw while advancing an agent to a site deadline: the agent is left without a
  // deadline until its next own input (see SiteSupervisor).
  'agent_quarantined',
] as const;
/** Stable DLQ reason codes. */
export type RejectionReason = (typeof REJECTION_REASONS)[number];
