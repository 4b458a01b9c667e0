import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { describe, expect, it } from 'vitest';
import { ACTIVITY_CATEGORIES, AGENT_STATUSES, CALL_TYPES } from '../../src/domain/types.ts';
import { ConfigError } from '../../src/errors.ts';
import {
  type CurrentStatePayload,
  type CurrentStateReasonPayload,
  type SchedulePayload,
  type SimulatedMessage,
  TrafficGenerator,
  type TrafficGeneratorOptions,
} from '../../src/simulator/index.ts';

const HOUR = 3_600_000;
const START = Date.UTC(2025, 2, 3, 8, 7, 13);

function generator(overrides: Partial<TrafficGeneratorOptions> = {}): TrafficGenerator {
  return new TrafficGenerator({
    tenant: 'T1',
    sites: ['london', 'paris'],
    agentsPerSite: 20,
    seed: 7,
    startTs: START,
    ...overrides,
  });
}

function collect(g: TrafficGenerator, untilTs: number): SimulatedMessage[] {
  return [...g.messages(untilTs)];
}

function take(g: TrafficGenerator, n: number): SimulatedMessage[] {
  return Array.from({ length: n }, () => g.next());
}

// The wire contract of DESIGN.md "Subjects and streams", closed: no extra keys allowed.
const Ts = Type.Integer({ minimum: 0 });
const Id = Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' });
const strict = { additionalProperties: false } as const;
const CurrentState = Compile(
  Type.Object(
    {
      statistic: Type.Literal('CurrentState'),
      agentId: Id,
      status: Type.Union(AGENT_STATUSES.map((s) => Type.Literal(s))),
      callType: Type.Union([Type.Null(), ...CALL_TYPES.map((c) => Type.Literal(c))]),
      ts: Ts,
    },
    strict,
  ),
);
const CurrentStateReason = Compile(
  Type.Object(
    {
      statistic: Type.Literal('CurrentStateReason'),
      agentId: Id,
      reasons: Type.Record(Type.String(), Type.String()),
      ts: Ts,
    },
    strict,
  ),
);
const Schedule = Compile(
  Type.Object(
    {
      agentId: Id,
      from: Ts,
      to: Ts,
      activities: Type.Array(
        Type.Object(
          {
            start: Ts,
            end: Ts,
            category: Type.Union(ACTIVITY_CATEGORIES.map((c) => Type.Literal(c))),
            code: Type.Optional(Type.String({ minLength: 1 })),
          },
          strict,
        ),
      ),
    },
    strict,
  ),
);
const Clock = Compile(Type.Object({ ts: Ts }, strict));

const SUBJECT =
  /^wfm\.(stat|schedule|clock)\.([A-Za-z0-9_-]{1,64})\.([A-Za-z0-9_-]{1,64})(?:\.([A-Za-z0-9_-]{1,64}))?$/;

/** What is wrong with `m` under the wire contract, or null. Plain checks: run on ~100k messages. */
function problem(m: SimulatedMessage): string | null {
  const match = SUBJECT.exec(m.subject);
  if (match === null) return `bad subject ${m.subject}`;
  const [, kind, tenant, , agent] = match;
  if (kind !== m.kind || tenant !== 'T1') return `subject ${m.subject} does not match kind ${m.kind}`;
  if (!Number.isInteger(m.ts)) return `ts ${m.ts} is not an integer`;
  const text = JSON.stringify(m.payload);
  // What goes on the wire is JSON: it must survive a round trip unchanged.
  if (JSON.stringify(JSON.parse(text)) !== text) return `not JSON-safe: ${text}`;
  if (m.kind === 'clock') {
    if (agent !== undefined || !Clock.Check(m.payload)) return `bad clock ${m.subject} ${text}`;
    return m.payload.ts === m.ts ? null : `clock ts ${text} differs from ${m.ts}`;
  }
  if (agent !== m.payload.agentId) return `agentId of ${text} is not the subject's ${agent}`;
  if (m.kind === 'schedule') {
    if (!Schedule.Check(m.payload)) return `bad schedule ${JSON.stringify([...Schedule.Errors(m.payload)])}`;
    const { from, to, activities } = m.payload;
    let previousEnd = from;
    for (const a of activities) {
      if (a.start < previousEnd || a.end <= a.start) return `overlapping or empty activity in ${text}`;
      previousEnd = a.end;
    }
    return from < to && previousEnd <= to ? null : `activities outside [from, to) in ${text}`;
  }
  const validator = m.payload.statistic === 'CurrentState' ? CurrentState : CurrentStateReason;
  if (!validator.Check(m.payload)) return `bad statistic ${JSON.stringify([...validator.Errors(m.payload)])}`;
  return m.payload.ts === m.ts ? null : `statistic ts ${text} differs from ${m.ts}`;
}

function checkMessage(m: SimulatedMessage): void {
  expect(problem(m)).toBeNull();
}

describe('TrafficGenerator: determinism', () => {
  it('gives the same sequence for the same seed', () => {
    const a = take(generator(), 20_000);
    const b = take(generator(), 20_000);
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
  });

  it('gives a different sequence for a different seed', () => {
    const stats = (seed: number) =>
      JSON.stringify(take(generator({ seed }), 20_000).filter((m) => m.kind === 'stat'));
    expect(stats(8)).not.toBe(stats(7));
  });

  it('gives each site the same traffic whatever the other sites are', () => {
    const london = (sites: string[]) =>
      JSON.stringify(
        collect(generator({ sites }), START + 2 * HOUR).filter((m) => m.subject.includes('.london.')),
      );
    expect(london(['london'])).toBe(london(['paris', 'london', 'rome']));
  });

  it('continues messages() where next() left off', () => {
    const g = generator();
    const first = take(g, 1000);
    const rest = collect(g, START + HOUR);
    expect(JSON.stringify([...first, ...rest])).toBe(JSON.stringify(collect(generator(), START + HOUR)));
    expect(rest.every((m) => m.ts < START + HOUR)).toBe(true);
    expect(g.peekTs()).toBeGreaterThanOrEqual(START + HOUR);
  });
});

describe('TrafficGenerator: the wire contract', () => {
  const messages = collect(generator(), START + 10 * HOUR);

  it('produces only valid payloads on valid subjects', () => {
    expect(messages.length).toBeGreaterThan(70_000);
    const kinds = new Set<string>();
    const problems: string[] = [];
    for (const m of messages) {
      const p = problem(m);
      if (p !== null) problems.push(p);
      kinds.add(m.kind === 'stat' ? m.payload.statistic : m.kind);
    }
    expect(problems.slice(0, 5)).toEqual([]);
    expect([...kinds].sort()).toEqual(['CurrentState', 'CurrentStateReason', 'clock', 'schedule']);
  });

  it('uses every status, every call type, and the mapped and unmapped reasons', () => {
    const states = messages.flatMap((m) =>
      m.kind === 'stat' && m.payload.statistic === 'CurrentState' ? [m.payload] : [],
    );
    expect(new Set(states.map((s) => s.status))).toEqual(new Set(AGENT_STATUSES));
    expect(new Set(states.map((s) => s.callType))).toEqual(new Set([null, ...CALL_TYPES]));
    expect(states.some((s) => s.status === 'AfterCallWork' && s.callType !== null)).toBe(true);
    expect(states.some((s) => s.status === 'NotReady' && s.callType === 'Internal')).toBe(true);
    const reasons = new Set(
      messages.flatMap((m) =>
        m.kind === 'stat' && m.payload.statistic === 'CurrentStateReason'
          ? [m.payload.reasons.ReasonCode ?? '(none)']
          : [],
      ),
    );
    for (const r of ['Break', 'Meal', 'Personal', '(none)']) expect(reasons).toContain(r);
  });

  it('is in non-decreasing event time, overall and per agent', () => {
    const decreasing = messages.filter((m, i) => i > 0 && m.ts < messages[i - 1]!.ts);
    expect(decreasing).toEqual([]);
    expect(messages[0]!.ts).toBe(START);
  });

  it('never splits one agent’s messages of the same ts', () => {
    const lastIndex = new Map<string, { ts: number; index: number }>();
    messages.forEach((m, index) => {
      if (m.kind !== 'stat') return;
      const previous = lastIndex.get(m.subject);
      if (previous !== undefined && previous.ts === m.ts) expect(index).toBe(previous.index + 1);
      lastIndex.set(m.subject, { ts: m.ts, index });
    });
  });

  it('ticks every site’s clock every tickMs from startTs', () => {
    for (const site of ['london', 'paris']) {
      const ticks = messages.filter((m) => m.subject === `wfm.clock.T1.${site}`).map((m) => m.ts);
      expect(ticks).toHaveLength(10 * 3600);
      expect(ticks.filter((ts, i) => ts !== START + i * 1000)).toEqual([]);
    }
  });

  it('honours tickMs, and tickMs 0 sends no ticks', () => {
    const ticks = collect(generator({ tickMs: 250, agentsPerSite: 1 }), START + 10_000).filter(
      (m) => m.kind === 'clock',
    );
    expect(ticks).toHaveLength(80);
    expect(collect(generator({ tickMs: 0 }), START + HOUR).some((m) => m.kind === 'clock')).toBe(false);
  });

  it('puts the reason under reasonCodeKeyName', () => {
    const reasons = collect(generator({ reasonCodeKeyName: 'RC' }), START + 6 * HOUR).flatMap((m) =>
      m.kind === 'stat' && m.payload.statistic === 'CurrentStateReason' ? [m.payload.reasons] : [],
    );
    expect(reasons.some((r) => r.RC === 'Break')).toBe(true);
    expect(reasons.every((r) => r.ReasonCode === undefined)).toBe(true);
  });
});

describe('TrafficGenerator: agent behaviour', () => {
  const g = generator({ agentsPerSite: 50, tickMs: 0 });
  const messages = collect(g, START + 30 * HOUR);
  const byAgent = new Map<string, SimulatedMessage[]>();
  for (const m of messages) {
    if (m.kind === 'clock') continue;
    const list = byAgent.get(m.payload.agentId) ?? [];
    list.push(m);
    byAgent.set(m.payload.agentId, list);
  }
  const stateOf = (m: SimulatedMessage): CurrentStatePayload | undefined =>
    m.kind === 'stat' && m.payload.statistic === 'CurrentState' ? m.payload : undefined;
  const firstSchedule = (list: SimulatedMessage[]): SchedulePayload => list[0]!.payload as SchedulePayload;

  it('starts every agent with its schedule and LoggedOff at startTs', () => {
    expect(byAgent.size).toBe(100);
    expect(g.agents).toHaveLength(100);
    expect(g.agents[0]).toEqual({ site: 'london', agentId: 'london-0001' });
    for (const list of byAgent.values()) {
      expect(list[0]!.kind).toBe('schedule');
      expect(list[0]!.ts).toBe(START);
      expect(stateOf(list[1]!)).toMatchObject({ status: 'LoggedOff', callType: null, ts: START });
    }
  });

  it('logs in every agent not on time off within the first hour', () => {
    let timeOff = 0;
    for (const list of byAgent.values()) {
      const schedule = firstSchedule(list);
      const login = list.find((m) => stateOf(m) !== undefined && stateOf(m)!.status !== 'LoggedOff');
      if (schedule.activities.length === 1 && schedule.activities[0]!.category === 'TimeOff') {
        timeOff++;
        expect(login === undefined || login.ts >= schedule.to).toBe(true);
        continue;
      }
      expect(stateOf(login!)).toMatchObject({ status: 'NotReady', callType: null });
      expect(login!.ts).toBeGreaterThan(START);
      expect(login!.ts).toBeLessThan(START + HOUR);
    }
    expect(timeOff).toBeLessThan(20);
  });

  it('schedules a realistic 8-hour day: two 15-minute breaks, a 30-minute meal, on-queue work', () => {
    for (const list of byAgent.values()) {
      const { from, to, activities } = firstSchedule(list);
      expect(to - from).toBe(24 * HOUR);
      if (activities[0]!.category === 'TimeOff') continue;
      expect(activities[activities.length - 1]!.end - activities[0]!.start).toBe(8 * HOUR);
      const minutes = (c: string) =>
        activities.filter((a) => a.category === c).map((a) => (a.end - a.start) / 60_000);
      expect(minutes('Break')).toEqual([15, 15]);
      expect(minutes('Meal')).toEqual([30]);
      expect(minutes('OnQueueWork').reduce((x, y) => x + y, 0)).toBeGreaterThanOrEqual(240);
      expect(activities.filter((a, i) => i > 0 && a.start !== activities[i - 1]!.end)).toEqual([]);
      expect(activities.every((a) => (a.category === 'OnQueueWork') === (a.code === undefined))).toBe(true);
    }
  });

  it('keeps calls, after-call work and logout in a sensible order', () => {
    for (const list of byAgent.values()) {
      let previous: CurrentStatePayload | undefined;
      for (const m of list) {
        const s = stateOf(m);
        if (s === undefined) continue;
        if (s.status === 'AfterCallWork' && s.callType === null && previous?.status !== 'AfterCallWork') {
          // ACW only ever follows a call.
          expect(previous?.callType).not.toBeNull();
        }
        expect(s).not.toEqual(previous && { ...previous, ts: s.ts });
        previous = s;
      }
    }
  });

  it('logs every working agent out after its shift and sends the next day’s schedule', () => {
    for (const list of byAgent.values()) {
      const schedules = list.filter((m) => m.kind === 'schedule').map((m) => m.payload as SchedulePayload);
      expect(schedules.length).toBe(2);
      expect(schedules[1]!.from).toBe(schedules[0]!.to);
      const day0 = schedules[0]!;
      if (day0.activities[0]!.category === 'TimeOff') continue;
      const shiftEnd = day0.activities[day0.activities.length - 1]!.end;
      const logout = list.find((m) => m.ts > START && stateOf(m)?.status === 'LoggedOff');
      expect(logout!.ts).toBeGreaterThan(shiftEnd - 15 * 60_000);
      expect(logout!.ts).toBeLessThan(shiftEnd + 45 * 60_000);
      const afterLogout = list.filter((m) => m.ts > logout!.ts && m.ts < day0.to);
      expect(
        afterLogout.every((m) => m.kind === 'stat' && m.payload.statistic === 'CurrentStateReason'),
      ).toBe(true);
    }
  });

  it('takes scheduled breaks with their reason code, mostly on time, sometimes late', () => {
    const delays: number[] = [];
    for (const list of byAgent.values()) {
      const breaks = firstSchedule(list).activities.filter(
        (a) => a.category === 'Break' && a.start > START + 5 * 60_000,
      );
      const reasons = list.filter(
        (m): m is SimulatedMessage & { payload: CurrentStateReasonPayload } =>
          m.kind === 'stat' &&
          m.payload.statistic === 'CurrentStateReason' &&
          m.payload.reasons.ReasonCode === 'Break',
      );
      for (const b of breaks) {
        const taken = reasons.find((m) => Math.abs(m.ts - b.start) < 30 * 60_000);
        if (taken !== undefined) delays.push(taken.ts - b.start);
      }
    }
    expect(delays.length).toBeGreaterThan(100);
    const onTime = delays.filter((d) => Math.abs(d) < 60_000).length;
    const late = delays.filter((d) => d >= 60_000).length;
    expect(onTime / delays.length).toBeGreaterThan(0.3);
    expect(late).toBeGreaterThan(5);
    expect(delays.some((d) => d <= -60_000)).toBe(true);
  });

  it('changes state often while on queue', () => {
    let checked = 0;
    for (const list of byAgent.values()) {
      const states = list.filter((m) => stateOf(m) !== undefined);
      const long = firstSchedule(list).activities.filter(
        (a) => a.category === 'OnQueueWork' && a.start >= START && a.end - a.start >= HOUR,
      );
      for (const a of long) {
        checked++;
        expect(
          states.filter((m) => m.ts >= a.start + 5 * 60_000 && m.ts < a.end - 5 * 60_000).length,
        ).toBeGreaterThan(5);
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});

describe('TrafficGenerator: options', () => {
  const bad: Array<[string, Partial<TrafficGeneratorOptions>]> = [
    ['tenant', { tenant: 'T 1' }],
    ['sites', { sites: [] }],
    ['sites[1]', { sites: ['london', 'a.b'] }],
    ['sites[1]', { sites: ['london', 'london'] }],
    ['agentsPerSite', { agentsPerSite: -1 }],
    ['agentsPerSite', { agentsPerSite: 1.5 }],
    ['seed', { seed: Number.NaN }],
    ['startTs', { startTs: 1.5 }],
    ['intervalMinutes', { intervalMinutes: 7 }],
    ['reasonCodeKeyName', { reasonCodeKeyName: '' }],
    ['tickMs', { tickMs: -1000 }],
    ['agentsPerSite', { agentsPerSite: 0, tickMs: 0 }],
  ];
  it.each(bad)('rejects a bad %s', (field, options) => {
    try {
      generator(options);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).field).toBe(field);
    }
  });

  it('names agents after their site, and keeps long site ids within 64 characters', () => {
    const longSite = 's'.repeat(64);
    const g = generator({ sites: [longSite], agentsPerSite: 2 });
    expect(g.agents.map((a) => a.agentId.length)).toEqual([62, 62]);
    for (const m of take(g, 100)) checkMessage(m);
  });

  it('places shift starts on the interval grid', () => {
    for (const intervalMinutes of [5, 30, 60, 120, 1440]) {
      const g = generator({ intervalMinutes, tickMs: 0 });
      const starts = collect(g, START + 1).flatMap((m) =>
        m.kind === 'schedule' ? [m.payload.activities[0]!.start] : [],
      );
      expect(starts.length).toBe(40);
      const grid = Math.min(intervalMinutes, 60) * 60_000;
      expect(starts.every((s) => s % grid === 0 && s > START - 4 * HOUR && s <= START + HOUR)).toBe(true);
      // And so every agent is working within the first hour, whatever the interval.
      const loggedIn = new Set(
        collect(g, START + HOUR).flatMap((m) =>
          m.kind === 'stat' && m.payload.statistic === 'CurrentState' && m.payload.status !== 'LoggedOff'
            ? [m.payload.agentId]
            : [],
        ),
      );
      expect(loggedIn.size).toBeGreaterThan(30);
    }
  });
});
