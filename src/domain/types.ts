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
  kind: 'stat' | 'schedule' | 'clock';
  tenant: string;
  site: string;
  /** Absent for clock subjects. */
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

/** Any decoded input payload. */
export type InputEvent = StateUpdate | ReasonUpdate | ScheduleUpdate | ClockTick;

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
  'late',
  'internal_error',
  // The core threw while advancing an agent to a site deadline: the agent is left without a
  // deadline until its next own input (see SiteSupervisor).
  'agent_quarantined',
] as const;
/** Stable DLQ reason codes. */
export type RejectionReason = (typeof REJECTION_REASONS)[number];
