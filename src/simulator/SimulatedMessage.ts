import type { Activity, AgentStatus, CallType } from '../domain/index.ts';

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
