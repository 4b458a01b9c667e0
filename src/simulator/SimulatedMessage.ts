import type { Activity, AgentStatus, CallType, RejectionReason } from '../domain/index.ts';

/** `wfm.stat.T.S.A` CurrentState statistic, exactly as DESIGN.md "Subjects and streams" has it. */
export interface CurrentStatePayload {
  statistic: 'CurrentState';
  agentId: string;
  status: AgentStatus;
  callType: CallType | null;
  ts: number;
}

/** `wfm.stat.T.S.A` CurrentStateReason statistic; `reasons: {}` means no reason any more. */
export interface CurrentStateReasonPayload {
  statistic: 'CurrentStateReason';
  agentId: string;
  reasons: Record<string, string>;
  ts: number;
}

/** `wfm.schedule.T.S.A`: the agent's schedule, replacing whatever was scheduled in `[from, to)`. */
export interface SchedulePayload {
  agentId: string;
  from: number;
  to: number;
  activities: Activity[];
}

/** `wfm.clock.T.S`: event-time tick for a site. */
export interface ClockPayload {
  ts: number;
}

/** Any payload the simulator publishes. */
export type SimulatedPayload =
  | CurrentStatePayload
  | CurrentStateReasonPayload
  | SchedulePayload
  | ClockPayload;

/** One message to publish on `WFM_IN`, in event-time order. */
export type SimulatedMessage =
  | { kind: 'stat'; subject: string; ts: number; payload: CurrentStatePayload | CurrentStateReasonPayload }
  | { kind: 'schedule'; subject: string; ts: number; payload: SchedulePayload }
  | { kind: 'clock'; subject: string; ts: number; payload: ClockPayload };

/**
 * The kinds of invalid input `TrafficGenerator` mixes in with `invalidEvery`, each named by the
 * DLQ reason the aggregator must give it (README "DLQ reasons").
 */
export const INVALID_INPUT_REASONS = [
  'invalid_json',
  'unknown_statistic',
  'bad_status',
  'late',
  'unknown_site',
] as const satisfies readonly RejectionReason[];
/** One of {@link INVALID_INPUT_REASONS}. */
export type InvalidInputReason = (typeof INVALID_INPUT_REASONS)[number];

/**
 * An input the aggregator must refuse, published as `text` exactly: it must land in `WFM_DLQ`
 * with `reason`, and change nothing else.
 */
export interface InvalidMessage {
  kind: 'invalid';
  subject: string;
  /** Event time of its place in the traffic (the payload's own `ts`, if any, may be older). */
  ts: number;
  /** The DLQ reason the aggregator must give it. */
  reason: InvalidInputReason;
  /** The payload as published (for `invalid_json`, not JSON). */
  text: string;
}

/** Any message of the traffic: valid input, or (with `invalidEvery`) input to refuse. */
export type TrafficMessage = SimulatedMessage | InvalidMessage;

/** What to publish for `message`: its payload as JSON, or an invalid message's text as it is. */
export function wireText(message: TrafficMessage): string {
  return message.kind === 'invalid' ? message.text : JSON.stringify(message.payload);
}
