import { describe, expect, it } from 'vitest';
import { AgentHarness, adherenceCore, gcCore, ofKind, utc } from '../helpers/agentScenario.ts';

/** The documented edges of the GC mapping, through the agent core (no schedule: Unscheduled). */
describe('agent core: GC state edges', () => {
  it('the first state gives a GC state and an adherence value at its ts', () => {
    const a = new AgentHarness();
    expect(a.state('Ready', utc(10, 0))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 0), 1),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        seq: 1,
      }),
    ]);
  });

  it('LoggedOff as the first state → OFFLINE / OFF_QUEUE', () => {
    const a = new AgentHarness();
    expect(ofKind(a.state('LoggedOff', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'OFFLINE', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 1 },
    ]);
  });

  it('AfterCallWork as the first state ever → BUSY / INTERACTING', () => {
    const a = new AgentHarness();
    expect(a.state('AfterCallWork', utc(10, 0))).toEqual([
      gcCore('A1', 'BUSY', 'INTERACTING', utc(10, 0), 1),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OffQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        seq: 1,
      }),
    ]);
  });

  it('AfterCallWork after Ready keeps ON_QUEUE; only routing changes (no adherence output)', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.state('AfterCallWork', utc(10, 3))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'INTERACTING', utc(10, 3), 2),
    ]);
    expect(a.state('Ready', utc(10, 4))).toEqual([gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 4), 3)]);
  });

  it('Ready on an Inbound call → AfterCallWork: GC state unchanged (ON_QUEUE / INTERACTING), no output', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0), 'Inbound');
    expect(a.state('AfterCallWork', utc(10, 3))).toEqual([]);
    expect(a.ctx.status).toBe('AfterCallWork');
  });

  it('AfterCallWork after NotReady with reason Meal keeps MEAL', () => {
    const a = new AgentHarness();
    a.reason('Meal', utc(10, 0));
    a.state('NotReady', utc(10, 0));
    expect(a.state('AfterCallWork', utc(10, 1))).toEqual([
      gcCore('A1', 'MEAL', 'INTERACTING', utc(10, 1), 3),
    ]);
  });

  it('AfterCallWork with a call: Internal → COMMUNICATING, other types → INTERACTING, presence unchanged', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0));
    expect(a.state('AfterCallWork', utc(10, 1), 'Internal')).toEqual([
      gcCore('A1', 'BUSY', 'COMMUNICATING', utc(10, 1), 2),
    ]);
    expect(a.state('AfterCallWork', utc(10, 2), 'Consult')).toEqual([
      gcCore('A1', 'BUSY', 'INTERACTING', utc(10, 2), 3),
    ]);
    expect(a.state('AfterCallWork', utc(10, 3), 'Outbound')).toEqual([]);
  });

  it('a reason received while Ready is kept and applies at the next NotReady', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.reason('Meal', utc(10, 1))).toEqual([]);
    expect(a.state('NotReady', utc(10, 2))).toEqual([
      gcCore('A1', 'MEAL', 'OFF_QUEUE', utc(10, 2), 3),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Meal',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 2),
        seq: 3,
      }),
    ]);
  });

  it('a reason received before the first state ever applies to it', () => {
    const a = new AgentHarness();
    expect(a.reason('Training', utc(10, 0))).toEqual([]);
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'TRAINING', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 2 },
    ]);
  });

  it('becoming Ready clears the reason (NotReady Break → Ready → NotReady ⇒ BUSY)', () => {
    const a = new AgentHarness();
    a.reason('Break', utc(10, 0));
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BREAK', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 2 },
    ]);
    expect(ofKind(a.state('Ready', utc(10, 5)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'ON_QUEUE', routingStatus: 'IDLE', ts: utc(10, 5), sourceSeq: 3 },
    ]);
    expect(ofKind(a.state('NotReady', utc(10, 6)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 6), sourceSeq: 4 },
    ]);
    expect(a.ctx.reason).toBeNull();
  });

  it('logging off clears the reason (NotReady Meal → LoggedOff → NotReady ⇒ BUSY)', () => {
    const a = new AgentHarness();
    a.reason('Meal', utc(10, 0));
    a.state('NotReady', utc(10, 0));
    expect(ofKind(a.state('LoggedOff', utc(10, 5)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'OFFLINE', routingStatus: 'OFF_QUEUE', ts: utc(10, 5), sourceSeq: 3 },
    ]);
    expect(ofKind(a.state('NotReady', utc(10, 6)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 6), sourceSeq: 4 },
    ]);
  });

  it('a reason received while logged off applies when the agent logs in NotReady', () => {
    const a = new AgentHarness();
    a.state('LoggedOff', utc(9, 0));
    expect(a.reason('Training', utc(10, 0))).toEqual([]);
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'TRAINING', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 3 },
    ]);
  });

  it('a reason received while Ready on a call survives the call ending (the agent did not become Ready)', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0), 'Inbound');
    expect(a.reason('Meal', utc(10, 1))).toEqual([]);
    // Still Ready: only the call ended.
    expect(a.state('Ready', utc(10, 2))).toEqual([gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 2), 3)]);
    expect(ofKind(a.state('NotReady', utc(10, 3)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEAL', routingStatus: 'OFF_QUEUE', ts: utc(10, 3), sourceSeq: 4 },
    ]);
  });

  it('a reason after the NotReady changes presence at the reason ts (BUSY → BREAK)', () => {
    const a = new AgentHarness();
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 1 },
    ]);
    expect(a.reason('Break', utc(10, 0, 2))).toEqual([
      gcCore('A1', 'BREAK', 'OFF_QUEUE', utc(10, 0, 2), 2),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Break',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0, 2),
        seq: 2,
      }),
    ]);
  });

  it('a reason changing while NotReady moves between mapped presences, and null goes back to BUSY', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0));
    expect(ofKind(a.reason('Meal', utc(10, 1)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEAL', routingStatus: 'OFF_QUEUE', ts: utc(10, 1), sourceSeq: 2 },
    ]);
    expect(ofKind(a.reason('Meeting', utc(10, 2)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEETING', routingStatus: 'OFF_QUEUE', ts: utc(10, 2), sourceSeq: 3 },
    ]);
    expect(ofKind(a.reason(null, utc(10, 3)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 3), sourceSeq: 4 },
    ]);
  });

  it('an unmapped reason while NotReady changes nothing (BUSY stays BUSY, no output)', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0));
    expect(a.reason('Personal', utc(10, 1))).toEqual([]);
    expect(a.ctx.reason).toBe('Personal');
  });

  it('reason matching is exact: "break" → BUSY', () => {
    const a = new AgentHarness();
    a.reason('break', utc(10, 0));
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 2 },
    ]);
  });

  it('with mappedReasons [Break], reason Meal → BUSY and Break → BREAK', () => {
    const a = new AgentHarness({ mappedReasons: ['Break'] });
    a.reason('Meal', utc(10, 0));
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 0), sourceSeq: 2 },
    ]);
    expect(ofKind(a.reason('Break', utc(10, 1)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BREAK', routingStatus: 'OFF_QUEUE', ts: utc(10, 1), sourceSeq: 3 },
    ]);
  });

  it('a reason during ACW is kept but ACW keeps presence; it applies when back to NotReady', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.state('AfterCallWork', utc(10, 1))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'INTERACTING', utc(10, 1), 2),
    ]);
    expect(a.reason('Meal', utc(10, 2))).toEqual([]);
    expect(a.ctx.reason).toBe('Meal');
    expect(ofKind(a.state('NotReady', utc(10, 3)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEAL', routingStatus: 'OFF_QUEUE', ts: utc(10, 3), sourceSeq: 4 },
    ]);
  });

  it('a reason while NotReady on a call is kept and applies when the call ends', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0), 'Inbound');
    expect(a.reason('Meal', utc(10, 1))).toEqual([]);
    expect(ofKind(a.state('NotReady', utc(10, 2)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEAL', routingStatus: 'OFF_QUEUE', ts: utc(10, 2), sourceSeq: 3 },
    ]);
  });

  it('NotReady with an Internal call → BUSY / COMMUNICATING, other calls INTERACTING', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0));
    expect(a.state('NotReady', utc(10, 1), 'Internal')).toEqual([
      gcCore('A1', 'BUSY', 'COMMUNICATING', utc(10, 1), 2),
    ]);
    expect(a.state('NotReady', utc(10, 2), 'Outbound')).toEqual([
      gcCore('A1', 'BUSY', 'INTERACTING', utc(10, 2), 3),
    ]);
  });

  it('a repeated identical state gives no output', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.state('Ready', utc(10, 1))).toEqual([]);
    a.state('NotReady', utc(10, 2), 'Inbound');
    expect(a.state('NotReady', utc(10, 3), 'Inbound')).toEqual([]);
  });

  it('a different state with the same GC state gives no output (NotReady Inbound → NotReady Consult)', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0), 'Inbound');
    expect(a.state('NotReady', utc(10, 1), 'Consult')).toEqual([]);
    expect(a.ctx.callType).toBe('Consult');
  });

  it('a late state is rejected with reason late and changes nothing', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 5));
    const before = a.ctx;
    expect(a.state('NotReady', utc(10, 4, 59, 999))).toEqual([]);
    expect(a.lastRejection).toEqual({
      reason: 'late',
      detail: `ts ${utc(10, 4, 59, 999)} is older than the agent's last accepted ts ${utc(10, 5)}`,
    });
    expect(a.ctx).toBe(before);
  });

  it('a late reason is rejected too; an equal ts is not late', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 5));
    expect(a.reason('Meal', utc(10, 4))).toEqual([]);
    expect(a.lastRejection).toEqual({
      reason: 'late',
      detail: `ts ${utc(10, 4)} is older than the agent's last accepted ts ${utc(10, 5)}`,
    });
    expect(a.ctx.reason).toBeNull();
    expect(ofKind(a.reason('Meal', utc(10, 5)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'MEAL', routingStatus: 'OFF_QUEUE', ts: utc(10, 5), sourceSeq: 3 },
    ]);
    expect(a.lastRejection).toBeNull();
  });

  it('a reason sets the last accepted ts: a state older than it is late', () => {
    const a = new AgentHarness();
    a.reason('Meal', utc(10, 5));
    expect(a.state('NotReady', utc(10, 4))).toEqual([]);
    expect(a.lastRejection?.reason).toBe('late');
    expect(a.ctx.gc).toBeNull();
  });
});
