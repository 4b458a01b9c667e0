import type { ActivityCategory, AgentStatus, CallType } from '../domain/index.ts';
import { DAY, MINUTE, planShift, SECOND } from './planShift.ts';
import type { SeededRandom } from './SeededRandom.ts';
import type { SimulatedMessage } from './SimulatedMessage.ts';

/** Everything one simulated agent needs; `rng` is its own stream, so agents are independent. */
export interface AgentSpec {
  agentId: string;
  statSubject: string;
  scheduleSubject: string;
  rng: SeededRandom;
  reasonCodeKeyName: string;
  /** Event time the simulation starts at: the schedule and a `LoggedOff` state are sent then. */
  startTs: number;
  /** Start of the agent's first schedule day; day `d` is `[firstDay + d·24h, +24h)`. */
  firstDay: number;
  /** Usual shift start, as an offset from the start of the schedule day. */
  shiftOffset: number;
  /** Grid shift starts move on from one day to the next. */
  gridMs: number;
}

/** Reason codes sent for each off-queue category; `Email` is deliberately not a mapped reason. */
const REASON_BY_CATEGORY: Partial<Record<ActivityCategory, string>> = {
  Break: 'Break',
  Meal: 'Meal',
  Meeting: 'Meeting',
  Training: 'Training',
  OffQueueWork: 'Email',
};

const CALL_TYPES: readonly CallType[] = ['Inbound', 'Outbound', 'Internal', 'Consult'];
const CALL_WEIGHTS = [0.7, 0.85, 0.93, 1];

/** A stretch of the shift the agent spends one way: on queue (`reason` null) or away with a reason. */
interface Segment {
  end: number;
  reason: string | null;
  category: ActivityCategory;
}

/** Where the agent is: its time and the state last sent. */
interface Cursor {
  t: number;
  status: AgentStatus;
  callType: CallType | null;
  reason: string | null;
}

/**
 * One agent's endless message stream, in non-decreasing `ts`: each day a schedule, a login near
 * the shift start, calls with after-call work while on queue, NotReady with reason codes around
 * scheduled breaks (sometimes early, late or with the wrong reason), and a logout at the end.
 */
export function* agentMessages(a: AgentSpec): Generator<SimulatedMessage, never, undefined> {
  const { rng } = a;
  const c: Cursor = { t: a.startTs, status: 'LoggedOff', callType: null, reason: null };
  for (let day = 0; ; day++) {
    const dayStart = a.firstDay + day * DAY;
    // From the second day on, the shift may move by one grid step; the first day keeps the
    // start chosen so that every agent logs in within the first hour.
    const shift = day > 0 && rng.chance(0.3) ? rng.pick([-a.gridMs, a.gridMs]) : 0;
    const plan = planShift(rng, dayStart + a.shiftOffset + shift);
    c.t = Math.max(c.t, dayStart);
    yield {
      kind: 'schedule',
      subject: a.scheduleSubject,
      ts: c.t,
      payload: { agentId: a.agentId, from: dayStart, to: dayStart + DAY, activities: plan.activities },
    };
    if (day === 0) yield state(a, c, 'LoggedOff', null);
    if (plan.timeOff) continue;

    // Login: NotReady first, as a desk phone does, then into whatever the schedule says.
    c.t = Math.max(plan.start + deviate(rng, LOGIN), c.t + rng.int(SECOND, 90 * SECOND));
    yield state(a, c, 'NotReady', null);
    c.t += rng.int(5 * SECOND, 40 * SECOND);

    const segments = toSegments(plan.activities);
    for (let i = 0; i < segments.length; i++) {
      const segment = segments[i]!;
      const next = segments[i + 1];
      const end =
        segment.end +
        deviate(
          rng,
          next === undefined
            ? LOGOUT
            : segment.reason === null
              ? LEAVE_QUEUE
              : next.reason === null
                ? RETURN
                : SWITCH,
        );
      if (end <= c.t) continue;
      if (segment.reason === null) yield* workOnQueue(a, c, end);
      else yield* stayAway(a, c, end, segment);
    }

    if (c.status !== 'LoggedOff') yield state(a, c, 'LoggedOff', null);
    if (c.reason !== null) yield reason(a, c, null);
  }
}

/** Ready, idle, taking calls with after-call work, until `end` (a call in progress runs over). */
function* workOnQueue(a: AgentSpec, c: Cursor, end: number): Generator<SimulatedMessage, void, undefined> {
  const { rng } = a;
  if (c.status !== 'Ready' || c.callType !== null) yield state(a, c, 'Ready', null);
  if (c.reason !== null) yield reason(a, c, null);
  // Half the agents stop taking calls a little before leaving the queue, so not every break
  // starts late because of a call still running.
  const lastCall = end - (rng.chance(0.5) ? rng.int(0, 3 * MINUTE) : 0);
  for (;;) {
    const idle = rng.exp(45 * SECOND, 3 * SECOND, 6 * MINUTE);
    if (c.t + idle >= lastCall) {
      c.t = Math.max(c.t, end);
      return;
    }
    c.t += idle;
    if (rng.chance(0.03)) {
      // Unscheduled personal time: an adherence exception when it lasts past the threshold.
      yield state(a, c, 'NotReady', null);
      if (rng.chance(0.5)) yield reason(a, c, 'Personal');
      if (rng.chance(0.3)) {
        // Calling a supervisor or a colleague while off queue.
        c.t += rng.int(5 * SECOND, 30 * SECOND);
        yield state(a, c, 'NotReady', 'Internal');
      }
      c.t += rng.int(MINUTE, 6 * MINUTE);
      if (c.callType !== null) yield state(a, c, 'NotReady', null);
      if (c.t >= end) return;
      yield state(a, c, 'Ready', null);
      if (c.reason !== null) yield reason(a, c, null);
      continue;
    }
    yield state(a, c, 'Ready', pickCallType(rng));
    c.t += rng.exp(4 * MINUTE, 20 * SECOND, 25 * MINUTE);
    if (rng.chance(0.85)) {
      yield state(a, c, 'AfterCallWork', null);
      if (rng.chance(0.03)) {
        // A consult call placed from after-call work.
        c.t += rng.int(5 * SECOND, 30 * SECOND);
        yield state(a, c, 'AfterCallWork', 'Consult');
        c.t += rng.int(20 * SECOND, 2 * MINUTE);
        yield state(a, c, 'AfterCallWork', null);
      }
      c.t += rng.int(5 * SECOND, 90 * SECOND);
    }
    if (c.t >= end) return;
    yield state(a, c, 'Ready', null);
  }
}

/** NotReady with the segment's reason code until `end`, now and then with an internal call. */
function* stayAway(
  a: AgentSpec,
  c: Cursor,
  end: number,
  segment: Segment,
): Generator<SimulatedMessage, void, undefined> {
  const { rng } = a;
  if (c.status !== 'NotReady' || c.callType !== null) yield state(a, c, 'NotReady', null);
  // Now and then the agent picks the wrong code: out of adherence though away as planned.
  const code = rng.chance(0.05) ? 'Personal' : segment.reason;
  if (c.reason !== code) yield reason(a, c, code);
  if ((segment.category === 'Meeting' || segment.category === 'OffQueueWork') && rng.chance(0.4)) {
    const callStart = c.t + rng.int(MINUTE, Math.max(MINUTE, Math.floor((end - c.t) / 2)));
    const callEnd = Math.min(callStart + rng.int(MINUTE, 5 * MINUTE), end - SECOND);
    if (callEnd > callStart) {
      c.t = callStart;
      yield state(a, c, 'NotReady', rng.chance(0.7) ? 'Internal' : 'Consult');
      c.t = callEnd;
      yield state(a, c, 'NotReady', null);
    }
  }
  c.t = Math.max(c.t, end);
}

/** Merges consecutive on-queue activities; off-queue ones keep their own reason. */
function toSegments(activities: ReadonlyArray<{ end: number; category: ActivityCategory }>): Segment[] {
  const segments: Segment[] = [];
  for (const activity of activities) {
    const reason = REASON_BY_CATEGORY[activity.category] ?? null;
    const last = segments[segments.length - 1];
    if (last !== undefined && reason === null && last.reason === null) last.end = activity.end;
    else segments.push({ end: activity.end, reason, category: activity.category });
  }
  return segments;
}

function state(a: AgentSpec, c: Cursor, status: AgentStatus, callType: CallType | null): SimulatedMessage {
  c.status = status;
  c.callType = callType;
  return {
    kind: 'stat',
    subject: a.statSubject,
    ts: c.t,
    payload: { statistic: 'CurrentState', agentId: a.agentId, status, callType, ts: c.t },
  };
}

function reason(a: AgentSpec, c: Cursor, code: string | null): SimulatedMessage {
  c.reason = code;
  const reasons: Record<string, string> = {};
  if (code !== null) {
    reasons[a.reasonCodeKeyName] = code;
    // Soft phones add keys of their own; the aggregator must read only reasonCodeKeyName.
    if (a.rng.chance(0.1) && a.reasonCodeKeyName !== 'Source') reasons.Source = 'Softphone';
  }
  return {
    kind: 'stat',
    subject: a.statSubject,
    ts: c.t,
    payload: { statistic: 'CurrentStateReason', agentId: a.agentId, reasons, ts: c.t },
  };
}

function pickCallType(rng: SeededRandom): CallType {
  const u = rng.next();
  let i = 0;
  while (u >= CALL_WEIGHTS[i]!) i++;
  return CALL_TYPES[i]!;
}

/** A deviation from a scheduled moment: `[weight, minMs, maxMs]` bands, weights summing to 1. */
type Deviation = ReadonlyArray<readonly [number, number, number]>;

const LOGIN: Deviation = [
  [0.7, -5 * MINUTE, MINUTE],
  [0.2, MINUTE, 4 * MINUTE],
  [0.1, 4 * MINUTE, 12 * MINUTE],
];
const LEAVE_QUEUE: Deviation = [
  [0.65, -30 * SECOND, 30 * SECOND],
  [0.2, -3 * MINUTE, -30 * SECOND],
  [0.15, 30 * SECOND, 5 * MINUTE],
];
const RETURN: Deviation = [
  [0.6, -MINUTE, 30 * SECOND],
  [0.3, 30 * SECOND, 4 * MINUTE],
  [0.1, -3 * MINUTE, -MINUTE],
];
const SWITCH: Deviation = [[1, -30 * SECOND, MINUTE]];
const LOGOUT: Deviation = [
  [0.7, -2 * MINUTE, 2 * MINUTE],
  [0.2, 2 * MINUTE, 10 * MINUTE],
  [0.1, -10 * MINUTE, -2 * MINUTE],
];

function deviate(rng: SeededRandom, bands: Deviation): number {
  let u = rng.next();
  for (const [weight, min, max] of bands) {
    if (u < weight) return rng.int(min, max);
    u -= weight;
  }
  const [, min, max] = bands[bands.length - 1]!;
  return rng.int(min, max);
}
