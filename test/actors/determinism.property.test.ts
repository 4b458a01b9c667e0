import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type SiteResult, type SiteSnapshot, SiteSupervisor } from '../../src/actors/index.ts';
import {
  ACTIVITY_CATEGORIES,
  type Activity,
  type ActivityCategory,
  type ActualCategory,
  type AdherenceOutput,
  AGENT_STATUSES,
  type AgentOptions,
  type AgentStatus,
  CALL_TYPES,
  type CallType,
  type IntervalRecord,
  type Output,
  type Presence,
} from '../../src/domain/index.ts';
import {
  clockMsg,
  feed,
  MINUTE,
  reasonMsg,
  SITE,
  scheduleMsg,
  stateMsg,
  TENANT,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';

// ---------------------------------------------------------------------------------------------
// Generated input: one site, a few agents, states, reasons, schedules, clock ticks; ts mostly
// non-decreasing, with some late (older) messages and a few invalid ones.
// ---------------------------------------------------------------------------------------------

const AGENTS = ['A1', 'A2', 'B1'] as const;
type AgentId = (typeof AGENTS)[number];

type Step =
  | {
      kind: 'state';
      agent: AgentId;
      status: AgentStatus;
      callType: CallType | null;
      dt: number;
      back: number;
    }
  | { kind: 'reason'; agent: AgentId; reason: string | null; dt: number; back: number }
  | {
      kind: 'schedule';
      agent: AgentId;
      fromMin: number;
      lenMin: number;
      acts: { gap: number; len: number; category: ActivityCategory }[];
    }
  | { kind: 'clock'; dt: number; back: number }
  | { kind: 'invalid'; which: number };

const agent = fc.constantFrom(...AGENTS);
/** Time to the next message: whole seconds mostly, sometimes any millisecond, up to 15 minutes. */
const dt = fc.oneof(
  { weight: 3, arbitrary: fc.integer({ min: 0, max: 180 }).map((s) => s * 1000) },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 900_000 }) },
);
/** How much older than the running time a message is: usually 0, sometimes up to 10 minutes. */
const back = fc.oneof(
  { weight: 6, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 600_000 }) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant('state' as const),
      agent,
      status: fc.constantFrom(...AGENT_STATUSES),
      callType: fc.oneof(
        { weight: 3, arbitrary: fc.constant(null) },
        { weight: 1, arbitrary: fc.constantFrom(...CALL_TYPES) },
      ),
      dt,
      back,
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('reason' as const),
      agent,
      reason: fc.constantFrom('Break', 'Meal', 'Meeting', 'Training', 'Personal', 'break', '', null),
      dt,
      back,
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('schedule' as const),
      agent,
      fromMin: fc.integer({ min: -30, max: 90 }),
      lenMin: fc.integer({ min: 15, max: 180 }),
      acts: fc.array(
        fc.record({
          gap: fc.integer({ min: 0, max: 10 }),
          len: fc.integer({ min: 1, max: 45 }),
          category: fc.constantFrom(...ACTIVITY_CATEGORIES),
        }),
        { maxLength: 6 },
      ),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('clock' as const), dt, back }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('invalid' as const), which: fc.integer({ min: 0, max: 2 }) }),
  },
);

const siteOptions: fc.Arbitrary<Partial<AgentOptions>> = fc.record({
  adherenceExceptionThresholdSeconds: fc.constantFrom(0, 30, 60, 120),
  nonOnQueueActivitiesEquivalent: fc.boolean(),
  intervalMinutes: fc.constantFrom(15, 30),
  offsetMinutes: fc.constantFrom(0, 5),
  mappedReasons: fc.subarray(['Break', 'Meal', 'Meeting', 'Training']),
});

interface Scenario {
  messages: WireMessage[];
  /** What the test knows independently of the code under test, per message. */
  steps: (Step | { kind: 'final' })[];
  /** ts of each stat / clock message (null for schedules and invalid messages). */
  ts: (number | null)[];
}

const START = utc(9, 50);

/** Turns steps into wire messages, plus a final clock tick 3 hours on that closes every interval. */
function build(steps: Step[]): Scenario {
  let cursor = START;
  const messages: WireMessage[] = [];
  const ts: (number | null)[] = [];
  for (const s of steps) {
    switch (s.kind) {
      case 'state':
      case 'reason':
      case 'clock': {
        cursor += s.dt;
        const t = Math.max(0, cursor - s.back);
        ts.push(t);
        messages.push(
          s.kind === 'state'
            ? stateMsg(s.agent, s.status, s.callType, t)
            : s.kind === 'reason'
              ? reasonMsg(s.agent, s.reason, t)
              : clockMsg(t),
        );
        break;
      }
      case 'schedule': {
        const from = Math.floor(cursor / MINUTE) * MINUTE + s.fromMin * MINUTE;
        const to = from + s.lenMin * MINUTE;
        const activities: Activity[] = [];
        let t = from;
        for (const a of s.acts) {
          const start = t + a.gap * MINUTE;
          const end = start + a.len * MINUTE;
          if (end > to) break;
          activities.push({ start, end, category: a.category });
          t = end;
        }
        ts.push(null);
        messages.push(scheduleMsg(s.agent, from, to, activities));
        break;
      }
      case 'invalid': {
        ts.push(null);
        messages.push(
          [
            { subject: `wfm.stat.${TENANT}.${SITE}.A1`, data: '{"statistic":' },
            { subject: `wfm.clock.${TENANT}.${SITE}`, data: '{"ts":-1}' },
            { subject: `wfm.stat.${TENANT}.${SITE}.A2`, data: stateMsg('B1', 'Ready', null, cursor).data },
          ][s.which]!,
        );
        break;
      }
    }
  }
  const last = cursor + 180 * MINUTE;
  ts.push(last);
  messages.push(clockMsg(last));
  return { messages, steps: [...steps, { kind: 'final' }], ts };
}

const scenario = fc.array(step, { minLength: 1, maxLength: 100, size: 'max' }).map(build);

function clone<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function supervisor(options: Partial<AgentOptions>, snapshot?: SiteSnapshot): SiteSupervisor {
  return new SiteSupervisor({ tenant: TENANT, site: SITE, ...options }, snapshot);
}

// ---------------------------------------------------------------------------------------------
// An interval model built from the adherence outputs
// ---------------------------------------------------------------------------------------------

const PRESENCE_OF: Record<ActualCategory, Presence> = {
  OnQueueWork: 'ON_QUEUE',
  OffQueueWork: 'BUSY',
  Break: 'BREAK',
  Meal: 'MEAL',
  Meeting: 'MEETING',
  Training: 'TRAINING',
  Offline: 'OFFLINE',
};

/** The record fields the model predicts (all but `sourceSeq`). */
type ModelRecord = Omit<IntervalRecord, 'sourceSeq'>;

const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * The interval records one agent must have, computed from its adherence outputs alone: they are
 * published at every change of presence (actual category), scheduled category and adherence state,
 * at the time the change takes effect, so they are a complete timeline of the agent from the
 * moment it became known. Presence, schedule and conformance seconds integrate it; an
 * out-of-adherence stretch is a run of OutOfAdherence, an exception when it lasts at least the
 * threshold (DESIGN.md). Every interval of the grid from the agent's first moment whose close
 * (end + threshold) the site time `final` reached, and that had scheduled or logged-in time, has
 * one record. A stretch still open at `final` and shorter than the threshold began after every
 * closed interval ended, so it does not matter how it ends.
 */
function modelRecords(
  agentId: string,
  timeline: readonly AdherenceOutput[],
  options: { lengthMs: number; offsetMs: number; thresholdMs: number; intervalMinutes: number },
  final: number,
): ModelRecord[] {
  const { lengthMs, offsetMs, thresholdMs, intervalMinutes } = options;
  const segments = timeline.map((a, i) => ({
    start: a.ts,
    end: timeline[i + 1]?.ts ?? final,
    presence: PRESENCE_OF[a.actualCategory],
    scheduled: a.scheduledCategory,
    out: a.adherenceState === 'OutOfAdherence',
  }));
  const exceptions: { start: number; end: number }[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (!segments[i]!.out || (i > 0 && segments[i - 1]!.out)) continue;
    let j = i;
    while (j + 1 < segments.length && segments[j + 1]!.out) j++;
    const stretch = { start: segments[i]!.start, end: segments[j]!.end };
    if (stretch.end - stretch.start >= thresholdMs) exceptions.push(stretch);
  }
  const overlap = (a0: number, a1: number, b0: number, b1: number) =>
    Math.max(0, Math.min(a1, b1) - Math.max(a0, b0));
  const records: ModelRecord[] = [];
  const first = timeline[0]!.ts;
  for (
    let start = Math.floor((first - offsetMs) / lengthMs) * lengthMs + offsetMs;
    start + lengthMs + thresholdMs <= final;
    start += lengthMs
  ) {
    const end = start + lengthMs;
    const presenceMs: Partial<Record<Presence, number>> = {};
    let schedMs = 0;
    let confSchedMs = 0;
    for (const seg of segments) {
      const ms = overlap(start, end, seg.start, seg.end);
      if (ms === 0) continue;
      presenceMs[seg.presence] = (presenceMs[seg.presence] ?? 0) + ms;
      if (seg.scheduled !== null) schedMs += ms;
      if (seg.scheduled === 'OnQueueWork') confSchedMs += ms;
    }
    const excMs = exceptions.reduce((sum, x) => sum + overlap(start, end, x.start, x.end), 0);
    const loggedIn = Object.entries(presenceMs).some(([p, ms]) => p !== 'OFFLINE' && ms > 0);
    if (schedMs === 0 && !loggedIn) continue;
    const secondsByPresence: Partial<Record<Presence, number>> = {};
    for (const [p, ms] of Object.entries(presenceMs) as [Presence, number][])
      secondsByPresence[p] = ms / 1000;
    const onQueueMs = presenceMs.ON_QUEUE ?? 0;
    records.push({
      agentId,
      site: SITE,
      intervalStart: start,
      intervalMinutes,
      secondsByPresence,
      adherenceScheduleSecs: schedMs / 1000,
      exceptionDurationSecs: excMs / 1000,
      adherencePercentage: schedMs === 0 ? null : round2(Math.max(0, (1 - excMs / schedMs) * 100)),
      conformanceScheduleSecs: confSchedMs / 1000,
      conformanceActualSecs: onQueueMs / 1000,
      conformancePercentage: confSchedMs === 0 ? null : round2((onQueueMs / confSchedMs) * 100),
    });
  }
  return records;
}

// ---------------------------------------------------------------------------------------------
// Properties
// ---------------------------------------------------------------------------------------------

describe('SiteSupervisor properties over generated input', () => {
  it('two supervisors fed the same messages produce identical outputs and DLQ entries', () => {
    fc.assert(
      fc.property(siteOptions, scenario, (options, sc) => {
        const a = supervisor(options);
        const b = supervisor(options);
        const ra = feed(a, sc.messages);
        const rb = feed(b, sc.messages);
        expect(rb).toEqual(ra);
        a.stop();
        b.stop();
      }),
      { numRuns: 100 },
    );
  });

  it('feeding actors only the steps that move their statechart equals feeding them every step', () => {
    fc.assert(
      fc.property(siteOptions, scenario, fc.array(fc.nat(), { maxLength: 6 }), (options, sc, cuts) => {
        const fast = supervisor(options);
        const every = new SiteSupervisor({ tenant: TENANT, site: SITE, ...options }, undefined, {
          feedEveryStep: true,
        });
        // Compare outputs, statechart values, contexts and persisted snapshots at a few points.
        const points = [...new Set(cuts.map((c) => c % (sc.messages.length + 1))), sc.messages.length].sort(
          (x, y) => x - y,
        );
        let from = 0;
        for (const to of points) {
          const part = sc.messages.slice(from, to);
          expect(feed(fast, part, from + 1)).toEqual(feed(every, part, from + 1));
          expect([...fast.agents()]).toEqual([...every.agents()]);
          expect(fast.capture()).toEqual(every.capture());
          from = to;
        }
        fast.stop();
        every.stop();
      }),
      { numRuns: 100 },
    );
  });

  it('restoring from a snapshot taken after any message k gives the same outputs as running whole', () => {
    fc.assert(
      fc.property(
        siteOptions,
        scenario,
        fc.nat(),
        fc.array(fc.nat(), { maxLength: 6 }),
        (options, sc, kSeed, checkpointSeeds) => {
          const n = sc.messages.length;
          const k = kSeed % (n + 1);
          // Earlier checkpoints (captures) at arbitrary points before k.
          const checkpoints = new Set(checkpointSeeds.map((c) => c % (k + 1)));
          const whole = supervisor(options);
          const results: SiteResult[] = [];
          const persisted = new Map<string, string>();
          let snapshot: SiteSnapshot | undefined;
          const takeInto = () => {
            const dirty = whole.capture();
            for (const [agentId, json] of dirty.agents) persisted.set(agentId, json);
            return dirty;
          };
          if (checkpoints.has(0)) takeInto();
          for (let i = 0; i < n; i++) {
            if (i === k) {
              const dirty = takeInto();
              snapshot = { seq: dirty.seq, site: clone(dirty.site), agents: new Map(persisted) };
            }
            const m = sc.messages[i]!;
            results.push(feed(whole, [m], i + 1)[0]!);
            if (i + 1 < k && checkpoints.has(i + 1)) takeInto();
          }
          if (k === n) {
            const dirty = takeInto();
            snapshot = { seq: dirty.seq, site: clone(dirty.site), agents: new Map(persisted) };
          }
          expect(snapshot!.seq).toBe(k);
          const restored = supervisor(options, snapshot);
          // A restarted node may see already-applied messages again: they produce nothing.
          const replayed = feed(restored, sc.messages.slice(0, k), 1);
          expect(replayed.every((r) => r.outputs.length === 0 && r.dlq.length === 0)).toBe(true);
          const rest = feed(restored, sc.messages.slice(k), k + 1);
          expect(rest).toEqual(results.slice(k));
          whole.stop();
          restored.stop();
        },
      ),
      { numRuns: 150 },
    );
  });

  it('DLQ entries are exactly the invalid messages and the late stat messages', () => {
    fc.assert(
      fc.property(siteOptions, scenario, (options, sc) => {
        const sup = supervisor(options);
        const results = feed(sup, sc.messages);
        const lastTs = new Map<string, number>();
        sc.steps.forEach((s, i) => {
          const reasons = results[i]!.dlq.map((d) => d.reason);
          if (s.kind === 'invalid') {
            expect(reasons).toEqual([['invalid_json', 'bad_ts', 'agent_mismatch'][s.which]]);
          } else if (s.kind === 'state' || s.kind === 'reason') {
            const t = sc.ts[i]!;
            const last = lastTs.get(s.agent) ?? -1;
            if (t < last) expect(reasons).toEqual(['late']);
            else {
              expect(reasons).toEqual([]);
              lastTs.set(s.agent, t);
            }
          } else {
            expect(reasons).toEqual([]);
          }
          for (const d of results[i]!.dlq) {
            expect(d.seq).toBe(i + 1);
            expect(d.tenant).toBe(TENANT);
            expect(d.subject).toBe(sc.messages[i]!.subject);
          }
        });
        sup.stop();
      }),
      { numRuns: 100 },
    );
  });

  it('interval records: presence seconds cover the known time; percentages and bounds hold', () => {
    fc.assert(
      fc.property(siteOptions, scenario, (options, sc) => {
        const sup = supervisor(options);
        const results = feed(sup, sc.messages);
        const lengthMs = (options.intervalMinutes ?? 15) * MINUTE;
        // Independently: when each agent became known (its first accepted CurrentState).
        const lastTs = new Map<string, number>();
        const knownFrom = new Map<string, number>();
        sc.steps.forEach((s, i) => {
          if (s.kind !== 'state' && s.kind !== 'reason') return;
          const t = sc.ts[i]!;
          if (t < (lastTs.get(s.agent) ?? -1)) return;
          lastTs.set(s.agent, t);
          if (s.kind === 'state' && !knownFrom.has(s.agent)) knownFrom.set(s.agent, t);
        });
        const records = results.flatMap((r) => r.outputs).filter((o) => o.kind === 'interval');
        const byAgent = new Map<string, IntervalRecord[]>();
        for (const o of records) {
          const rec = o.payload as IntervalRecord;
          byAgent.set(o.agentId, [...(byAgent.get(o.agentId) ?? []), rec]);
          const known = knownFrom.get(o.agentId);
          expect(known).toBeDefined();
          const start = rec.intervalStart;
          expect(known!).toBeLessThan(start + lengthMs);
          const expectedMs = start + lengthMs - Math.max(known!, start);
          const presenceMs = Object.values(rec.secondsByPresence).reduce(
            (sum, s) => sum + Math.round(s * 1000),
            0,
          );
          expect(presenceMs).toBe(expectedMs);
          for (const s of Object.values(rec.secondsByPresence)) expect(s).toBeGreaterThan(0);
          // (c) bounds
          const lengthSecs = lengthMs / 1000;
          if (rec.adherencePercentage !== null) {
            expect(rec.adherencePercentage).toBeGreaterThanOrEqual(0);
            expect(rec.adherencePercentage).toBeLessThanOrEqual(100);
          }
          expect(rec.adherencePercentage === null).toBe(rec.adherenceScheduleSecs === 0);
          expect(rec.conformancePercentage === null).toBe(rec.conformanceScheduleSecs === 0);
          expect(rec.exceptionDurationSecs).toBeLessThanOrEqual(rec.adherenceScheduleSecs);
          expect(rec.exceptionDurationSecs).toBeGreaterThanOrEqual(0);
          expect(rec.adherenceScheduleSecs).toBeLessThanOrEqual(lengthSecs);
          expect(rec.conformanceScheduleSecs).toBeLessThanOrEqual(rec.adherenceScheduleSecs);
          expect(rec.conformanceActualSecs).toBeLessThanOrEqual(lengthSecs);
          expect(rec.conformanceActualSecs).toBe(rec.secondsByPresence.ON_QUEUE ?? 0);
          expect(rec.intervalMinutes).toBe(options.intervalMinutes);
          expect(rec.site).toBe(SITE);
          expect((start - (options.offsetMinutes ?? 0) * MINUTE) % lengthMs).toBe(0);
        }
        // Each agent's records come out oldest first, one per interval.
        for (const recs of byAgent.values()) {
          for (let i = 1; i < recs.length; i++) {
            expect(recs[i]!.intervalStart).toBeGreaterThan(recs[i - 1]!.intervalStart);
          }
        }
        sup.stop();
      }),
      { numRuns: 150 },
    );
  });

  it('interval records: exactly one per interval with scheduled or logged-in time, with the seconds (exceptions included) the adherence timeline implies', () => {
    fc.assert(
      fc.property(siteOptions, scenario, (options, sc) => {
        const sup = supervisor(options);
        const results = feed(sup, sc.messages);
        const timelines = new Map<string, AdherenceOutput[]>();
        const records = new Map<string, ModelRecord[]>();
        for (const o of results.flatMap((r) => r.outputs)) {
          if (o.kind === 'adherence')
            timelines.set(o.agentId, [...(timelines.get(o.agentId) ?? []), o.payload]);
          if (o.kind === 'interval') {
            const { sourceSeq: _, ...record } = o.payload;
            records.set(o.agentId, [...(records.get(o.agentId) ?? []), record]);
          }
        }
        // Only agents known (with a timeline) have records.
        for (const agentId of records.keys()) expect(timelines.has(agentId)).toBe(true);
        const intervalMinutes = options.intervalMinutes ?? 15;
        const grid = {
          lengthMs: intervalMinutes * MINUTE,
          offsetMs: (options.offsetMinutes ?? 0) * MINUTE,
          thresholdMs: (options.adherenceExceptionThresholdSeconds ?? 60) * 1000,
          intervalMinutes,
        };
        const final = sc.ts[sc.ts.length - 1]!;
        for (const [agentId, timeline] of timelines) {
          expect(records.get(agentId) ?? []).toEqual(modelRecords(agentId, timeline, grid, final));
        }
        sup.stop();
      }),
      { numRuns: 150 },
    );
  });

  it('GC and adherence outputs are published only on change; ordinals number the outputs of each message', () => {
    fc.assert(
      fc.property(siteOptions, scenario, (options, sc) => {
        const sup = supervisor(options);
        const results = feed(sup, sc.messages);
        const lastGc = new Map<string, string>();
        const lastAdh = new Map<string, { key: string; state: string; since: number }>();
        results.forEach((r, i) => {
          expect(r.outputs.map((o) => o.ordinal)).toEqual(r.outputs.map((_, k) => k));
          expect(r.dlq.map((d) => d.ordinal)).toEqual(r.dlq.map((_, k) => k));
          for (const o of r.outputs as Output[]) {
            expect(o.payload.sourceSeq).toBe(i + 1);
            expect(o.tenant).toBe(TENANT);
            expect(o.site).toBe(SITE);
            if (o.kind === 'gc') {
              expect(o.payload.presence).not.toBe('AVAILABLE');
              const v = `${o.payload.presence}/${o.payload.routingStatus}`;
              expect(v).not.toBe(lastGc.get(o.agentId));
              lastGc.set(o.agentId, v);
            } else if (o.kind === 'adherence') {
              const p = o.payload;
              const v = `${p.adherenceState}/${p.scheduledCategory}/${p.actualCategory}/${p.impact}`;
              const prev = lastAdh.get(o.agentId);
              expect(v).not.toBe(prev?.key);
              if (prev !== undefined && prev.state === p.adherenceState) expect(p.since).toBe(prev.since);
              else expect(p.since).toBe(p.ts);
              lastAdh.set(o.agentId, { key: v, state: p.adherenceState, since: p.since });
            }
          }
        });
        sup.stop();
      }),
      { numRuns: 100 },
    );
  });
});
