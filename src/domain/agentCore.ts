import type { ResolvedAgentOptions } from './AgentOptions.ts';
import { type AdherenceValue, evaluateAdherence, sameAdherence } from './adherence.ts';
import { type GcState, mapGcState } from './gcMapping.ts';
import { emptyInterval, type IntervalAcc, isReportable, toIntervalRecord } from './intervalAccounting.ts';
import { categoryAt, nextScheduleBoundary, replaceSchedule, trimSchedule } from './schedule.ts';
import type {
  Activity,
  ActivityCategory,
  ActualCategory,
  AdherenceException,
  AdherenceOutput,
  AgentAuditEvent,
  AgentStatus,
  CallType,
  GcStateOutput,
  Impact,
  IntervalRecord,
  LoginSession,
  ReasonUpdate,
  Rejection,
  ScheduleUpdate,
  StateUpdate,
  TransferRecord,
} from './types.ts';

/** An out-of-adherence stretch in progress, with the adherence it started with. */
export interface Stretch {
  start: number;
  /** Lasted at least the threshold already: its time counts as exception time. */
  qualified: boolean;
  scheduledCategory: ActivityCategory | null;
  actualCategory: ActualCategory;
  impact: Impact;
}

/**
 * Most entries an agent keeps in each of its histories (login sessions, exceptions, audit
 * events): the oldest go first, so a context stays small at 100k agents.
 */
export const AGENT_HISTORY_MAX = 50;

/**
 * Everything one agent's processing needs to continue exactly: JSON-safe, so an actor's persisted
 * snapshot round-trips through a checkpoint. Times are event time (epoch ms from the stream).
 */
export interface AgentContext {
  agentId: string;
  status: AgentStatus | null;
  callType: CallType | null;
  /** Latest reason (by reasonCodeKeyName); cleared when the agent becomes Ready or logs off. */
  reason: string | null;
  /** Current GC state; null until the first CurrentState ("known" from then on). */
  gc: GcState | null;
  /** `ts` of the last accepted stat update (older ones are `late`); -1 before any. */
  lastTs: number;
  /** Time up to which the agent's time is accounted; -1 before the agent is known. */
  acctTs: number;
  schedule: Activity[];
  adherence: (AdherenceValue & { since: number }) | null;
  stretch: Stretch | null;
  /** Open intervals, oldest first. */
  intervals: IntervalAcc[];
  /**
   * Logged-in periods by start, oldest first; while logged in, one of them (usually the last) is
   * open (`end` null); at most AGENT_HISTORY_MAX.
   */
  sessions: LoginSession[];
  /** Adherence exceptions that ended, oldest first; at most AGENT_HISTORY_MAX. */
  exceptions: AdherenceException[];
  /** Audit events about the agent (transfers), oldest first; at most AGENT_HISTORY_MAX. */
  audit: AgentAuditEvent[];
}

/** An output of one agent, before the site stamps tenant, site and ordinal on it. */
export type AgentOutput =
  | { kind: 'gc'; payload: GcStateOutput }
  | { kind: 'adherence'; payload: AdherenceOutput }
  | { kind: 'interval'; payload: IntervalRecord }
  | { kind: 'transfer'; payload: TransferRecord };

/** Result of applying one input to an agent. */
export interface AgentStep {
  context: AgentContext;
  outputs: AgentOutput[];
  rejection: Rejection | null;
}

/** An agent never seen before. */
export function initialAgentContext(agentId: string): AgentContext {
  return {
    agentId,
    status: null,
    callType: null,
    reason: null,
    gc: null,
    lastTs: -1,
    acctTs: -1,
    schedule: [],
    adherence: null,
    stretch: null,
    intervals: [],
    sessions: [],
    exceptions: [],
    audit: [],
  };
}

/** `list` with `item` appended, the oldest dropped past AGENT_HISTORY_MAX (a new array). */
export function appendHistory<T>(list: readonly T[], item: T): T[] {
  const kept = list.length >= AGENT_HISTORY_MAX ? list.slice(list.length - AGENT_HISTORY_MAX + 1) : list;
  // concat allocates exactly the length it needs; a copy then push() leaves room for 16 more
  // (V8 grows by half plus 16): 128 bytes per one-entry history, kept by every agent.
  return kept.concat([item]);
}

/** Schedules of agents never seen logged in are capped so they cannot grow without bound. */
const MAX_UNKNOWN_ACTIVITIES = 1000;

// A step never changes the context it is given (nor anything it shares with it): when a step
// throws half-way, the agent keeps that context, and a snapshot being written keeps its values.
// So steps work copy-on-write. The working context is a shallow copy; its other fields are
// replaced, never changed in place, except the interval accumulators, which `ownAcc` and
// `ownIntervals` copy the first time a step changes them (usually one: the open interval).
// Copying every accumulator on every event doubled garbage-collection time with 100k agents.
// The copy is written out field by field, not spread: contexts come with several hidden classes
// (new, parsed from a checkpoint, made by XState's assign) and spreading them is a polymorphic
// clone; the literal is one hidden class with every field in the object.
function working(ctx: AgentContext): AgentContext {
  return {
    agentId: ctx.agentId,
    status: ctx.status,
    callType: ctx.callType,
    reason: ctx.reason,
    gc: ctx.gc,
    lastTs: ctx.lastTs,
    acctTs: ctx.acctTs,
    schedule: ctx.schedule,
    adherence: ctx.adherence,
    stretch: ctx.stretch,
    intervals: ctx.intervals,
    sessions: ctx.sessions,
    exceptions: ctx.exceptions,
    audit: ctx.audit,
  };
}

/**
 * Makes `into` — the context object an agent's actor holds — equal to `from`, a step's result,
 * field by field (what `Object.assign(into, from)` does, ~5 times faster on this one hidden
 * class: it runs for every step). Every field of AgentContext is here; a test compares it with
 * Object.assign on a context whose fields all differ.
 */
export function adoptContext(into: AgentContext, from: AgentContext): void {
  into.agentId = from.agentId;
  into.status = from.status;
  into.callType = from.callType;
  into.reason = from.reason;
  into.gc = from.gc;
  into.lastTs = from.lastTs;
  into.acctTs = from.acctTs;
  into.schedule = from.schedule;
  into.adherence = from.adherence;
  into.stretch = from.stretch;
  into.intervals = from.intervals;
  into.sessions = from.sessions;
  into.exceptions = from.exceptions;
  into.audit = from.audit;
}

/** `c.intervals` as an array of the step's own (a copy of `shared` until the step changes it). */
function ownIntervals(c: AgentContext, shared: readonly IntervalAcc[]): IntervalAcc[] {
  if (c.intervals === shared) c.intervals = shared.slice();
  return c.intervals;
}

/** The accumulator at `i` of `c.intervals`, copied first when it is still the pre-step one. */
function ownAcc(c: AgentContext, shared: readonly IntervalAcc[], i: number): IntervalAcc {
  const acc = c.intervals[i]!;
  if (!shared.includes(acc)) return acc;
  const copy: IntervalAcc = { ...acc, presenceMs: { ...acc.presenceMs } };
  ownIntervals(c, shared)[i] = copy;
  return copy;
}

function late(ctx: AgentContext, ts: number): AgentStep {
  return {
    context: ctx,
    outputs: [],
    rejection: {
      reason: 'late',
      detail: `ts ${ts} is older than the agent's last accepted ts ${ctx.lastTs}`,
    },
  };
}

/** Applies a `CurrentState` update (GC mapping, adherence, accounting up to its time). */
export function applyStateUpdate(
  ctx: AgentContext,
  update: StateUpdate,
  seq: number,
  options: ResolvedAgentOptions,
): AgentStep {
  if (update.ts < ctx.lastTs) return late(ctx, update.ts);
  const c = working(ctx);
  const shared = ctx.intervals;
  const outputs: AgentOutput[] = [];
  const t = Math.max(update.ts, c.acctTs);
  if (c.gc !== null) advance(c, shared, t, seq, options, outputs);
  // A reason belongs to one Not Ready episode: becoming Ready or logging off ends it (a repeated
  // Ready, e.g. a call ending, does not: the reason may have come ahead of the next Not Ready).
  if ((update.status === 'Ready' || update.status === 'LoggedOff') && update.status !== c.status)
    c.reason = null;
  trackSession(c, update.status, t);
  c.status = update.status;
  c.callType = update.callType;
  const wasKnown = c.gc !== null;
  setGc(c, update.ts, seq, options, outputs);
  if (!wasKnown) {
    c.acctTs = t;
    c.schedule = trimSchedule(c.schedule, t);
    c.intervals = [emptyInterval(options.profile.intervalStart(t))];
  }
  updateAdherence(c, shared, t, seq, options, outputs);
  c.lastTs = update.ts;
  return { context: c, outputs, rejection: null };
}

/** Applies a `CurrentStateReason` update; it changes presence only while Not Ready with no call. */
export function applyReasonUpdate(
  ctx: AgentContext,
  update: ReasonUpdate,
  seq: number,
  options: ResolvedAgentOptions,
): AgentStep {
  if (update.ts < ctx.lastTs) return late(ctx, update.ts);
  const c = working(ctx);
  const shared = ctx.intervals;
  const outputs: AgentOutput[] = [];
  c.reason = update.reason;
  c.lastTs = update.ts;
  if (c.gc !== null) {
    const t = Math.max(update.ts, c.acctTs);
    advance(c, shared, t, seq, options, outputs);
    setGc(c, update.ts, seq, options, outputs);
    updateAdherence(c, shared, t, seq, options, outputs);
  }
  return { context: c, outputs, rejection: null };
}

/** Replaces the agent's schedule in `[from, to)`; time not yet accounted follows the new schedule. */
export function applyScheduleUpdate(
  ctx: AgentContext,
  update: ScheduleUpdate,
  seq: number,
  options: ResolvedAgentOptions,
): AgentStep {
  const c = working(ctx);
  const outputs: AgentOutput[] = [];
  c.schedule = replaceSchedule(c.schedule, update.from, update.to, update.activities);
  if (c.gc !== null) {
    c.schedule = trimSchedule(c.schedule, c.acctTs);
    updateAdherence(c, ctx.intervals, c.acctTs, seq, options, outputs);
  } else if (c.schedule.length > MAX_UNKNOWN_ACTIVITIES) {
    c.schedule = c.schedule.slice(c.schedule.length - MAX_UNKNOWN_ACTIVITIES);
  }
  return { context: c, outputs, rejection: null };
}

/** Advances a known agent to event time `at` with no input of its own (a site deadline). */
export function advanceAgent(
  ctx: AgentContext,
  at: number,
  seq: number,
  options: ResolvedAgentOptions,
): AgentStep {
  if (ctx.gc === null || at <= ctx.acctTs) return { context: ctx, outputs: [], rejection: null };
  const c = working(ctx);
  const outputs: AgentOutput[] = [];
  advance(c, ctx.intervals, at, seq, options, outputs);
  updateAdherence(c, ctx.intervals, at, seq, options, outputs);
  return { context: c, outputs, rejection: null };
}

/**
 * The next event time at which the site must advance this agent even if it sends nothing:
 * a schedule boundary (real-time adherence changes there) or the close of its oldest interval.
 */
export function nextDeadline(ctx: AgentContext, options: ResolvedAgentOptions): number | null {
  const oldest = ctx.intervals[0];
  if (ctx.gc === null || oldest === undefined) return null;
  const close = options.profile.endOf(oldest.start) + options.thresholdMs;
  const boundary = nextScheduleBoundary(ctx.schedule, ctx.acctTs);
  return boundary !== null && boundary < close ? boundary : close;
}

/**
 * Opens a login session when the agent logs in, closes the open one when it logs off. The open
 * one need not be the last: a transfer sorts the sessions it combines by start, so a target
 * logged in after the source's open session holds that session before its own closed ones.
 */
function trackSession(c: AgentContext, status: AgentStatus, t: number): void {
  const wasIn = c.status !== null && c.status !== 'LoggedOff';
  const isIn = status !== 'LoggedOff';
  if (!wasIn && isIn) c.sessions = appendHistory(c.sessions, { start: t, end: null });
  else if (wasIn && !isIn && c.sessions.some((s) => s.end === null))
    c.sessions = c.sessions.map((s) => (s.end === null ? { start: s.start, end: Math.max(t, s.start) } : s));
}

function setGc(
  c: AgentContext,
  ts: number,
  seq: number,
  options: ResolvedAgentOptions,
  out: AgentOutput[],
): void {
  const status = c.status;
  if (status === null) return;
  const gc = mapGcState(status, c.callType, c.reason, c.gc?.presence ?? null, options.mappedReasonSet);
  if (c.gc !== null && c.gc.presence === gc.presence && c.gc.routingStatus === gc.routingStatus) return;
  c.gc = gc;
  out.push({ kind: 'gc', payload: { agentId: c.agentId, ...gc, ts, sourceSeq: seq } });
}

/** Re-evaluates real-time adherence at `t`, publishing it and opening/closing stretches on change. */
function updateAdherence(
  c: AgentContext,
  shared: readonly IntervalAcc[],
  t: number,
  seq: number,
  options: ResolvedAgentOptions,
  out: AgentOutput[],
): void {
  if (c.gc === null) return;
  const value = evaluateAdherence(
    categoryAt(c.schedule, t),
    c.gc.presence,
    options.nonOnQueueActivitiesEquivalent,
  );
  const previous = c.adherence;
  if (previous !== null && sameAdherence(previous, value)) return;
  const since = previous !== null && previous.adherenceState === value.adherenceState ? previous.since : t;
  // Written out, not `{ ...value, since }`: V8 gives an object spread with a property added a
  // hidden class of its own, ~300 bytes an agent (30 MB at 100k agents) in a heap snapshot.
  c.adherence = {
    adherenceState: value.adherenceState,
    scheduledCategory: value.scheduledCategory,
    actualCategory: value.actualCategory,
    impact: value.impact,
    since,
  };
  out.push({ kind: 'adherence', payload: { agentId: c.agentId, ...value, since, ts: t, sourceSeq: seq } });
  const out_ = value.adherenceState === 'OutOfAdherence';
  if (out_ && c.stretch === null) {
    c.stretch = {
      start: t,
      qualified: options.thresholdMs === 0,
      scheduledCategory: value.scheduledCategory,
      actualCategory: value.actualCategory,
      impact: value.impact,
    };
  } else if (!out_ && c.stretch !== null) {
    const s = c.stretch;
    if (s.qualified) {
      c.exceptions = appendHistory(c.exceptions, {
        start: s.start,
        end: t,
        scheduledCategory: s.scheduledCategory,
        actualCategory: s.actualCategory,
        impact: s.impact,
      });
    } else {
      // A stretch that ends short of the threshold was never an exception: forget its time.
      for (let i = 0; i < c.intervals.length; i++)
        if (c.intervals[i]!.pendingMs !== 0) ownAcc(c, shared, i).pendingMs = 0;
    }
    c.stretch = null;
  }
}

function qualifyStretch(c: AgentContext, shared: readonly IntervalAcc[]): void {
  const s = c.stretch!;
  // Written out for one hidden class across agents (see updateAdherence).
  c.stretch = {
    start: s.start,
    qualified: true,
    scheduledCategory: s.scheduledCategory,
    actualCategory: s.actualCategory,
    impact: s.impact,
  };
  for (let i = 0; i < c.intervals.length; i++) {
    const pendingMs = c.intervals[i]!.pendingMs;
    if (pendingMs === 0) continue;
    const acc = ownAcc(c, shared, i);
    acc.excMs += pendingMs;
    acc.pendingMs = 0;
  }
}

/** The step's own accumulator of the interval starting at `start` (the last one, or a new one). */
function accFor(c: AgentContext, shared: readonly IntervalAcc[], start: number): IntervalAcc {
  const n = c.intervals.length;
  if (n > 0 && c.intervals[n - 1]!.start === start) return ownAcc(c, shared, n - 1);
  const acc = emptyInterval(start);
  ownIntervals(c, shared).push(acc);
  return acc;
}

/**
 * Attributes the time from `acctTs` to `to` (presence held constant) to the intervals it passed
 * in, splitting at interval and schedule boundaries and at the moment a stretch reaches the
 * threshold; then closes every interval whose end plus the threshold has been reached.
 */
function advance(
  c: AgentContext,
  shared: readonly IntervalAcc[],
  to: number,
  seq: number,
  options: ResolvedAgentOptions,
  out: AgentOutput[],
): void {
  const presence = c.gc!.presence;
  const { profile, thresholdMs } = options;
  let t = c.acctTs;
  while (t < to) {
    const ivStart = profile.intervalStart(t);
    const boundary = nextScheduleBoundary(c.schedule, t);
    // Whole intervals offline, unscheduled and outside any stretch produce no record: jump over
    // them instead of walking (a long gap in event time would otherwise cost one step each).
    if (
      t === ivStart &&
      presence === 'OFFLINE' &&
      c.stretch === null &&
      (boundary === null || boundary >= to) &&
      categoryAt(c.schedule, t) === null
    ) {
      const last = profile.intervalStart(to);
      if (last > t) {
        t = last;
        continue;
      }
    }
    let end = Math.min(to, profile.endOf(ivStart));
    if (boundary !== null && boundary < end) end = boundary;
    if (c.stretch !== null && !c.stretch.qualified) {
      const q = c.stretch.start + thresholdMs;
      if (q > t && q < end) end = q;
    }
    const len = end - t;
    const scheduled = categoryAt(c.schedule, t);
    const acc = accFor(c, shared, ivStart);
    acc.presenceMs[presence] = (acc.presenceMs[presence] ?? 0) + len;
    if (scheduled !== null) {
      acc.schedMs += len;
      if (scheduled === 'OnQueueWork') acc.confSchedMs += len;
    }
    if (c.stretch !== null) {
      if (c.stretch.qualified) acc.excMs += len;
      else acc.pendingMs += len;
    }
    t = end;
    if (c.stretch !== null && !c.stretch.qualified && t - c.stretch.start >= thresholdMs)
      qualifyStretch(c, shared);
    // Interior schedule boundaries change adherence; the caller evaluates the final moment.
    if (t < to && boundary === t) updateAdherence(c, shared, t, seq, options, out);
  }
  c.acctTs = to;
  c.schedule = trimSchedule(c.schedule, to);
  closeIntervals(c, to, seq, options, out);
}

function closeIntervals(
  c: AgentContext,
  now: number,
  seq: number,
  options: ResolvedAgentOptions,
  out: AgentOutput[],
): void {
  const { profile, thresholdMs } = options;
  let closed = 0;
  for (const acc of c.intervals) {
    if (profile.endOf(acc.start) + thresholdMs > now) break;
    closed++;
    if (isReportable(acc))
      out.push({ kind: 'interval', payload: toIntervalRecord(c.agentId, acc, seq, options) });
  }
  // New arrays: the pre-step context's array stays as it was.
  if (closed > 0) c.intervals = c.intervals.slice(closed);
  if (c.intervals.length === 0) c.intervals = [emptyInterval(options.profile.intervalStart(now))];
}
