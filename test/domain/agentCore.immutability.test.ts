import { describe, expect, it } from 'vitest';
import {
  type AgentContext,
  type AgentInput,
  type AgentOutput,
  adoptContext,
  applyAgentInput,
  initialAgentContext,
  resolveAgentOptions,
} from '../../src/domain/index.ts';
import { act, intervalCore, ofKind, SITE, TENANT, utc } from '../helpers/agentScenario.ts';

/** Freezes `value` and everything reachable from it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

const options = resolveAgentOptions({ tenant: TENANT, site: SITE });
const state = (status: 'Ready' | 'NotReady' | 'LoggedOff', ts: number): AgentInput => ({
  type: 'state',
  agentId: 'A1',
  status,
  callType: null,
  ts,
});
const tick = (at: number): AgentInput => ({ type: 'tick', at });

/** Every kind of step, each with the moment that makes it touch accumulators noted. */
const inputs: AgentInput[] = [
  // A schedule for an agent not known yet.
  {
    type: 'schedule',
    agentId: 'A1',
    from: utc(10, 0),
    to: utc(11, 0),
    activities: [act(utc(10, 0), utc(10, 30), 'OnQueueWork'), act(utc(10, 30), utc(10, 45), 'Break')],
  },
  state('Ready', utc(9, 58)), // the agent becomes known
  tick(utc(10, 0)), // a schedule boundary
  tick(utc(10, 1)), // the 09:45 interval closes
  state('NotReady', utc(10, 5)), // a stretch begins
  state('Ready', utc(10, 5, 40)), // it ends short of the threshold: its pending time is forgotten
  { type: 'reason', agentId: 'A1', reason: 'Meal', ts: utc(10, 14, 30) },
  state('NotReady', utc(10, 14, 30)),
  tick(utc(10, 15, 10)), // pending time in two intervals
  tick(utc(10, 16)), // the stretch qualifies (both intervals change) and 10:00 closes
  state('Ready', utc(10, 20)), // a qualified stretch ends
  // A schedule for a known agent.
  {
    type: 'schedule',
    agentId: 'A1',
    from: utc(10, 45),
    to: utc(11, 30),
    activities: [act(utc(10, 45), utc(11, 30), 'OnQueueWork')],
  },
  tick(utc(10, 31)), // Break begins at 10:30: out of adherence; 10:15 closes
  tick(utc(10, 45)), // back in adherence
  state('NotReady', utc(10, 59, 40)),
  tick(utc(11, 0, 5)), // pending time in 10:45 and 11:00
  state('Ready', utc(11, 0, 10)), // short: pending time forgotten in both
  state('NotReady', utc(10, 50)), // late
  state('LoggedOff', utc(11, 5)), // 10:30 and 10:45 close
  tick(utc(12, 0)), // a stretch qualifies and ends with the schedule; offline intervals jumped
];

/** Runs the inputs from a fresh agent; `frozen` deep-freezes each step's input context first. */
function run(frozen: boolean): { outputs: AgentOutput[]; contexts: AgentContext[] } {
  let ctx = initialAgentContext('A1');
  const outputs: AgentOutput[] = [];
  const contexts: AgentContext[] = [];
  inputs.forEach((input, i) => {
    if (frozen) deepFreeze(ctx);
    const before = structuredClone(ctx);
    const step = applyAgentInput(ctx, input, i + 1, options);
    // The step's input context is exactly as it was, frozen or not.
    expect(ctx).toEqual(before);
    outputs.push(...step.outputs);
    ctx = step.context;
    contexts.push(structuredClone(ctx));
  });
  return { outputs, contexts };
}

describe('agent core: a step never changes the context it is given', () => {
  it('every kind of step runs on a deeply frozen context, leaves it unchanged, and computes the same', () => {
    const frozen = run(true);
    expect(frozen).toEqual(run(false));
    // The scenario does reach the accumulators: exact records with pending, qualified and
    // forgotten stretch time across intervals.
    expect(ofKind(frozen.outputs, 'interval').map((r) => r.intervalStart)).toEqual([
      utc(9, 45),
      utc(10, 0),
      utc(10, 15),
      utc(10, 30),
      utc(10, 45),
      utc(11, 0),
      utc(11, 15),
    ]);
    expect(frozen.outputs.filter((o) => o.kind === 'interval').slice(1, 3)).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 30,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 830,
        conformancePercentage: 92.22,
        sourceSeq: 10,
      }),
      intervalCore('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { MEAL: 300, ON_QUEUE: 600 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 300,
        adherencePercentage: 66.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 600,
        conformancePercentage: 66.67,
        sourceSeq: 13,
      }),
    ]);
    // Before the short stretch ends (input 17), two intervals held pending time; it is forgotten.
    expect(frozen.contexts[15]!.intervals.map((a) => a.pendingMs)).toEqual([20_000, 5_000]);
    expect(frozen.contexts[16]!.intervals.map((a) => a.pendingMs)).toEqual([0, 0]);
  });
});

describe('adoptContext', () => {
  it("makes the held context equal to the step's in every field, as Object.assign does", () => {
    // Every field of a new context (the type makes it list them all) given a value of its own.
    const from = Object.fromEntries(
      Object.keys(initialAgentContext('A1')).map((key, i) => [key, { field: key, i }]),
    ) as unknown as AgentContext;
    const held = initialAgentContext('A1');
    const expected = Object.assign(initialAgentContext('A1'), from);
    adoptContext(held, from);
    expect(held).toEqual(expected);
    for (const key of Object.keys(from) as (keyof AgentContext)[]) expect(held[key]).toBe(from[key]);
  });
});
