import { describe, expect, it } from 'vitest';
import {
  AGENT_HISTORY_MAX,
  type AgentAuditEvent,
  type AgentContext,
  applyAgentInput,
  initialAgentContext,
  type LoginSession,
  TRANSFER_DATA_TYPES,
  TRANSFER_POLICY,
  type TransferOutcome,
  transferAgentData,
  transferPolicyOf,
} from '../../src/domain/index.ts';
import {
  AgentHarness,
  act,
  adherenceCore,
  gcCore,
  intervalCore,
  MINUTE,
  utc,
} from '../helpers/agentScenario.ts';

/** Freezes `value` and everything reachable from it. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function auditEvent(id: string, from: string, to: string, at: number, sourceSeq: number): AgentAuditEvent {
  return { type: 'transfer', id, from, to, at, sourceSeq };
}

const AT = utc(10, 8);
const EVENT = auditEvent('X1', 'A1', 'B1', AT, 40);

/**
 * Source A1: scheduled OnQueueWork 10:00–10:30 and Break 10:30–10:45; logged in 09:00–09:20 and
 * again from 09:58; out of adherence (Not Ready) 10:05–10:07, an exception; Ready since 10:07.
 * It took part in an earlier transfer (seq 2).
 */
function sourceA1(): AgentContext {
  const a = new AgentHarness({}, 'A1');
  a.schedule(utc(10, 0), utc(11, 0), [
    act(utc(10, 0), utc(10, 30), 'OnQueueWork'),
    act(utc(10, 30), utc(10, 45), 'Break'),
  ]);
  a.state('Ready', utc(9, 0));
  a.state('LoggedOff', utc(9, 20));
  a.state('Ready', utc(9, 58));
  a.advance(utc(10, 0));
  a.state('NotReady', utc(10, 5));
  a.state('Ready', utc(10, 7));
  return { ...a.ctx, audit: [auditEvent('T-1', 'Z1', 'A1', utc(8, 0), 2)] };
}

/**
 * Target B1: scheduled Meeting 10:00–11:00; logged in since 09:30; Not Ready from 09:50, so out
 * of adherence 10:00–10:02 (an exception), then reason Meeting: in adherence since 10:02. It took
 * part in an earlier transfer (seq 3).
 */
function targetB1(): AgentContext {
  const b = new AgentHarness({}, 'B1');
  b.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'Meeting')]);
  b.state('Ready', utc(9, 30));
  b.state('NotReady', utc(9, 50));
  b.advance(utc(10, 0));
  b.reason('Meeting', utc(10, 2));
  return { ...b.ctx, audit: [auditEvent('T0', 'C1', 'B1', utc(9, 0), 3)] };
}

describe('TRANSFER_POLICY: the policy table of DESIGN "User data transfer"', () => {
  it('names every data type, its seed name and its policy exactly as the table does', () => {
    expect(TRANSFER_POLICY).toEqual([
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
    ]);
  });

  it('covers TRANSFER_DATA_TYPES once each, in order; transferPolicyOf reads the table', () => {
    expect(TRANSFER_POLICY.map((e) => e.type)).toEqual([...TRANSFER_DATA_TYPES]);
    expect(TRANSFER_DATA_TYPES.map((t) => [t, transferPolicyOf(t)])).toEqual([
      ['liveState', 'overwrite'],
      ['schedule', 'overwrite'],
      ['intervalHistory', 'overwrite'],
      ['exceptions', 'overwrite'],
      ['loginSessions', 'combine'],
      ['auditEvents', 'combine'],
    ]);
  });
});

describe('transferAgentData: both agents known', () => {
  const source = sourceA1();
  const target = targetB1();
  const outcome = transferAgentData(source, target, AT, EVENT);

  it('the inputs are as described (hand-checked)', () => {
    expect(source.gc).toEqual({ presence: 'ON_QUEUE', routingStatus: 'IDLE' });
    expect(source.acctTs).toBe(utc(10, 7));
    expect(source.lastTs).toBe(utc(10, 7));
    expect(target.gc).toEqual({ presence: 'MEETING', routingStatus: 'OFF_QUEUE' });
    expect(target.lastTs).toBe(utc(10, 2));
    expect(target.intervals).toEqual([
      {
        start: utc(10, 0),
        presenceMs: { BUSY: 2 * MINUTE },
        schedMs: 2 * MINUTE,
        excMs: 2 * MINUTE,
        pendingMs: 0,
        confSchedMs: 0,
      },
    ]);
  });

  it('overwrites: the target takes the live state, schedule, open intervals and exceptions of the source', () => {
    const t = outcome.target;
    expect(t.agentId).toBe('B1');
    expect(t.status).toBe('Ready');
    expect(t.callType).toBeNull();
    expect(t.reason).toBeNull(); // its own 'Meeting' is gone
    expect(t.gc).toEqual({ presence: 'ON_QUEUE', routingStatus: 'IDLE' });
    expect(t.adherence).toEqual({
      adherenceState: 'InAdherence',
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OnQueueWork',
      impact: 'Neutral',
      since: utc(10, 7),
    });
    expect(t.stretch).toBeNull();
    expect(t.acctTs).toBe(utc(10, 7));
    // The later of both watermarks: neither agent's late input gets in.
    expect(t.lastTs).toBe(utc(10, 7));
    expect(t.schedule).toEqual([
      act(utc(10, 0), utc(10, 30), 'OnQueueWork'),
      act(utc(10, 30), utc(10, 45), 'Break'),
    ]);
    // A1's 10:00 interval so far: ON_QUEUE 10:00–10:05, BUSY 10:05–10:07 (an exception).
    expect(t.intervals).toEqual([
      {
        start: utc(10, 0),
        presenceMs: { ON_QUEUE: 5 * MINUTE, BUSY: 2 * MINUTE },
        schedMs: 7 * MINUTE,
        excMs: 2 * MINUTE,
        pendingMs: 0,
        confSchedMs: 7 * MINUTE,
      },
    ]);
    expect(t.exceptions).toEqual([
      {
        start: utc(10, 5),
        end: utc(10, 7),
        scheduledCategory: 'OnQueueWork',
        actualCategory: 'OffQueueWork',
        impact: 'Negative',
      },
    ]);
  });

  it("combines login sessions: the target's open one closed at the transfer, all sorted by start", () => {
    expect(outcome.target.sessions).toEqual([
      { start: utc(9, 0), end: utc(9, 20) }, // A1's
      { start: utc(9, 30), end: utc(10, 8) }, // B1's, closed at the transfer
      { start: utc(9, 58), end: null }, // A1's open one: B1 is logged in as A1 was
    ]);
  });

  it("combines audit events by sequence and adds the transfer's own", () => {
    expect(outcome.target.audit).toEqual([
      auditEvent('T-1', 'Z1', 'A1', utc(8, 0), 2),
      auditEvent('T0', 'C1', 'B1', utc(9, 0), 3),
      auditEvent('X1', 'A1', 'B1', utc(10, 8), 40),
    ]);
  });

  it('leaves the source with nothing but its late-input watermark', () => {
    expect(outcome.source).toEqual({ ...initialAgentContext('A1'), lastTs: utc(10, 7) });
  });

  it('counts per data type: policy, what moved from the source, what the target had', () => {
    expect(outcome.counts).toEqual({
      liveState: { policy: 'overwrite', moved: 1, targetHad: 1 },
      schedule: { policy: 'overwrite', moved: 2, targetHad: 1 },
      intervalHistory: { policy: 'overwrite', moved: 1, targetHad: 1 },
      exceptions: { policy: 'overwrite', moved: 1, targetHad: 1 },
      loginSessions: { policy: 'combine', moved: 2, targetHad: 1 },
      auditEvents: { policy: 'combine', moved: 1, targetHad: 1 },
    });
  });

  it("publishes the source as OFFLINE / Unscheduled and the target's changes, at the transfer's time and seq", () => {
    expect(outcome.sourceOutputs).toEqual([
      gcCore('A1', 'OFFLINE', 'OFF_QUEUE', AT, 40),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Offline',
        impact: 'Neutral',
        since: AT,
        ts: AT,
        seq: 40,
      }),
    ]);
    expect(outcome.targetOutputs).toEqual([
      gcCore('B1', 'ON_QUEUE', 'IDLE', AT, 40),
      adherenceCore('B1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 7),
        ts: AT,
        seq: 40,
      }),
    ]);
  });

  it("the target continues from the source: its next input accounts A1's time and closes A1's interval as B1's", () => {
    const options = new AgentHarness().options;
    // B1 goes Not Ready at 10:10: ON_QUEUE 10:07–10:10 in A1's accumulator, a new stretch.
    const s1 = applyAgentInput(
      outcome.target,
      { type: 'state', agentId: 'B1', status: 'NotReady', callType: null, ts: utc(10, 10) },
      41,
      options,
    );
    expect(s1.rejection).toBeNull();
    expect(s1.outputs).toEqual([
      gcCore('B1', 'BUSY', 'OFF_QUEUE', utc(10, 10), 41),
      adherenceCore('B1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OffQueueWork',
        impact: 'Negative',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 41,
      }),
    ]);
    // Logging off closes the open session it took from A1 (not the last one).
    const s2 = applyAgentInput(
      s1.context,
      { type: 'state', agentId: 'B1', status: 'LoggedOff', callType: null, ts: utc(10, 12) },
      42,
      options,
    );
    expect(s2.context.sessions).toEqual([
      { start: utc(9, 0), end: utc(9, 20) },
      { start: utc(9, 30), end: utc(10, 8) },
      { start: utc(9, 58), end: utc(10, 12) },
    ]);
    // Offline while scheduled on queue: still out of adherence, the 10:10 stretch goes on.
    expect(s2.context.exceptions).toEqual([
      {
        start: utc(10, 5),
        end: utc(10, 7),
        scheduledCategory: 'OnQueueWork',
        actualCategory: 'OffQueueWork',
        impact: 'Negative',
      },
    ]);
    expect(s2.context.stretch).toEqual({
      start: utc(10, 10),
      qualified: true,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Negative',
    });
    const s3 = applyAgentInput(s2.context, { type: 'tick', at: utc(10, 16) }, 43, options);
    // 10:00 interval: ON_QUEUE 10:00–10:05 and 10:07–10:10 (480 s), BUSY 10:05–10:07 and
    // 10:10–10:12 (240 s), OFFLINE 10:12–10:15 (180 s); exceptions 10:05–10:07 and 10:10–10:15.
    expect(s3.outputs).toEqual([
      intervalCore('B1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 480, BUSY: 240, OFFLINE: 180 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 420,
        adherencePercentage: 53.33,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 480,
        conformancePercentage: 53.33,
        sourceSeq: 43,
      }),
    ]);
  });
});

describe('transferAgentData: outputs only where they change', () => {
  const options = new AgentHarness().options;

  function readyAt(agentId: string, ts: number, callType: 'Inbound' | null = null): AgentContext {
    const h = new AgentHarness({}, agentId);
    h.state('Ready', ts, callType);
    return h.ctx;
  }

  it('nothing for the target when its GC state and adherence (since included) stay the same', () => {
    const out = transferAgentData(readyAt('A1', utc(9, 0)), readyAt('B1', utc(9, 0)), AT, EVENT);
    expect(out.targetOutputs).toEqual([]);
    expect(out.sourceOutputs).toEqual([
      gcCore('A1', 'OFFLINE', 'OFF_QUEUE', AT, 40),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Offline',
        impact: 'Neutral',
        since: AT,
        ts: AT,
        seq: 40,
      }),
    ]);
  });

  it('only the adherence when only its since differs', () => {
    const out = transferAgentData(readyAt('A1', utc(9, 0)), readyAt('B1', utc(9, 30)), AT, EVENT);
    expect(out.targetOutputs).toEqual([
      adherenceCore('B1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(9, 0),
        ts: AT,
        seq: 40,
      }),
    ]);
  });

  it('only the GC state when only the routing status differs', () => {
    const out = transferAgentData(readyAt('A1', utc(9, 0), 'Inbound'), readyAt('B1', utc(9, 0)), AT, EVENT);
    expect(out.targetOutputs).toEqual([gcCore('B1', 'ON_QUEUE', 'INTERACTING', AT, 40)]);
  });

  it('nothing for a logged-off, unscheduled source: it already shows OFFLINE / Unscheduled', () => {
    const a = new AgentHarness({}, 'A1');
    a.state('Ready', utc(9, 0));
    a.state('LoggedOff', utc(9, 10));
    expect(a.ctx.gc).toEqual({ presence: 'OFFLINE', routingStatus: 'OFF_QUEUE' });
    const out = transferAgentData(a.ctx, readyAt('B1', utc(9, 30)), AT, EVENT);
    expect(out.sourceOutputs).toEqual([]);
    // The target takes the logged-off state: its session ends at the transfer.
    expect(out.targetOutputs).toEqual([
      gcCore('B1', 'OFFLINE', 'OFF_QUEUE', AT, 40),
      // Unscheduled since 09:00: logging off kept A1 Unscheduled, only its category changed.
      adherenceCore('B1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Offline',
        impact: 'Neutral',
        since: utc(9, 0),
        ts: AT,
        seq: 40,
      }),
    ]);
    expect(out.target.sessions).toEqual([
      { start: utc(9, 0), end: utc(9, 10) },
      { start: utc(9, 30), end: AT },
    ]);
  });

  it('a source with no state (a schedule only) publishes nothing; the target becomes unknown: OFFLINE / Unscheduled', () => {
    const a = new AgentHarness({}, 'A1');
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    expect(a.ctx.gc).toBeNull();
    const out = transferAgentData(a.ctx, readyAt('B1', utc(9, 30)), AT, EVENT);
    expect(out.sourceOutputs).toEqual([]);
    expect(out.targetOutputs).toEqual([
      gcCore('B1', 'OFFLINE', 'OFF_QUEUE', AT, 40),
      adherenceCore('B1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Offline',
        impact: 'Neutral',
        since: AT,
        ts: AT,
        seq: 40,
      }),
    ]);
    expect(out.target).toEqual({
      ...initialAgentContext('B1'),
      lastTs: utc(9, 30),
      schedule: [act(utc(10, 0), utc(11, 0), 'OnQueueWork')],
      sessions: [{ start: utc(9, 30), end: AT }],
      audit: [EVENT],
    });
    expect(out.source).toEqual(initialAgentContext('A1'));
    expect(out.counts).toEqual({
      liveState: { policy: 'overwrite', moved: 0, targetHad: 1 },
      schedule: { policy: 'overwrite', moved: 1, targetHad: 0 },
      intervalHistory: { policy: 'overwrite', moved: 0, targetHad: 0 },
      exceptions: { policy: 'overwrite', moved: 0, targetHad: 0 },
      loginSessions: { policy: 'combine', moved: 0, targetHad: 1 },
      auditEvents: { policy: 'combine', moved: 0, targetHad: 0 },
    });
    // B1's next state starts it fresh, on A1's schedule.
    const next = applyAgentInput(
      out.target,
      { type: 'state', agentId: 'B1', status: 'Ready', callType: null, ts: utc(10, 10) },
      41,
      options,
    );
    expect(next.outputs).toEqual([
      gcCore('B1', 'ON_QUEUE', 'IDLE', utc(10, 10), 41),
      adherenceCore('B1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 41,
      }),
    ]);
  });

  it('neither agent with state: no output at all', () => {
    const a = { ...initialAgentContext('A1'), schedule: [act(utc(10, 0), utc(11, 0), 'Break')] };
    const out = transferAgentData(a, initialAgentContext('B1'), AT, EVENT);
    expect(out.sourceOutputs).toEqual([]);
    expect(out.targetOutputs).toEqual([]);
    expect(out.target).toEqual({ ...a, agentId: 'B1', audit: [EVENT] });
  });
});

describe('transferAgentData: a target that was itself the target of a transfer', () => {
  it('closes its open session at the transfer even when it is not its last one', () => {
    // B1 as an earlier transfer left it: logged in with the open session of that source first.
    const h = new AgentHarness({}, 'B1');
    h.state('Ready', utc(9, 30));
    const target: AgentContext = {
      ...h.ctx,
      sessions: [
        { start: utc(9, 0), end: null },
        { start: utc(9, 30), end: utc(10, 0) },
      ],
    };
    const d = new AgentHarness({}, 'D1');
    d.state('Ready', utc(9, 45));
    const out = transferAgentData(d.ctx, target, utc(10, 30), auditEvent('X2', 'D1', 'B1', utc(10, 30), 50));
    expect(out.target.sessions).toEqual([
      { start: utc(9, 0), end: utc(10, 30) },
      { start: utc(9, 30), end: utc(10, 0) },
      { start: utc(9, 45), end: null }, // D1's: the only open one
    ]);
  });
});

describe('transferAgentData: bounded histories', () => {
  it(`keeps the ${AGENT_HISTORY_MAX} latest sessions and audit events of both`, () => {
    const base = utc(6, 0);
    // A1 logged in at even minutes, B1 at odd ones: 30 each, every one closed a few seconds later.
    const session = (i: number): LoginSession => ({
      start: base + i * MINUTE,
      end: base + i * MINUTE + 5000,
    });
    const aSessions = Array.from({ length: 30 }, (_, k) => session(2 * k));
    const bSessions = Array.from({ length: 30 }, (_, k) => session(2 * k + 1));
    const aAudit = Array.from({ length: 30 }, (_, k) => auditEvent(`a${k}`, 'Z1', 'A1', base, 2 * k + 1));
    const bAudit = Array.from({ length: 30 }, (_, k) => auditEvent(`b${k}`, 'Z1', 'B1', base, 2 * k + 2));
    const a = { ...initialAgentContext('A1'), sessions: aSessions, audit: aAudit };
    const b = { ...initialAgentContext('B1'), sessions: bSessions, audit: bAudit };
    const out = transferAgentData(a, b, AT, auditEvent('X1', 'A1', 'B1', AT, 100));
    // 60 sessions by start (minutes 0…59): the 50 latest are minutes 10…59.
    expect(out.target.sessions).toEqual(Array.from({ length: 50 }, (_, k) => session(k + 10)));
    // 61 events by seq (1…60, then 100): the 50 latest are seqs 12…60 and the transfer.
    expect(out.target.audit.map((e) => e.sourceSeq)).toEqual([
      ...Array.from({ length: 49 }, (_, k) => k + 12),
      100,
    ]);
    expect(out.target.audit[0]).toEqual(auditEvent('b5', 'Z1', 'B1', base, 12));
    expect(out.target.audit[49]).toEqual(auditEvent('X1', 'A1', 'B1', AT, 100));
    expect(out.counts.loginSessions).toEqual({ policy: 'combine', moved: 30, targetHad: 30 });
    expect(out.counts.auditEvents).toEqual({ policy: 'combine', moved: 30, targetHad: 30 });
  });
});

describe('transferAgentData: pure', () => {
  it('changes neither input (deeply frozen) and gives the same outcome twice', () => {
    const source = sourceA1();
    const target = targetB1();
    const before = structuredClone({ source, target, event: EVENT });
    deepFreeze(source);
    deepFreeze(target);
    deepFreeze(EVENT);
    let first: TransferOutcome | undefined;
    expect(() => {
      first = transferAgentData(source, target, AT, EVENT);
    }).not.toThrow();
    expect({ source, target, event: EVENT }).toEqual(before);
    expect(transferAgentData(source, target, AT, EVENT)).toEqual(first);
    // And the target it made goes on through the (copy-on-write) core with its shared parts frozen.
    const options = new AgentHarness().options;
    const step = applyAgentInput(first!.target, { type: 'tick', at: utc(10, 16) }, 41, options);
    expect(step.outputs).toEqual([
      intervalCore('B1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 780, BUSY: 120 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 120,
        adherencePercentage: 86.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 780,
        conformancePercentage: 86.67,
        sourceSeq: 41,
      }),
    ]);
    expect({ source, target, event: EVENT }).toEqual(before);
  });
});
