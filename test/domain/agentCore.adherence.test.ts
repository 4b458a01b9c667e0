import { describe, expect, it } from 'vitest';
import {
  AgentHarness,
  act,
  adherenceCore,
  gcCore,
  intervalCore,
  ofKind,
  utc,
} from '../helpers/agentScenario.ts';

/** Real-time adherence through the agent core; `advance` plays the site's deadline ticks. */
describe('agent core: real-time adherence', () => {
  it('schedule boundaries change adherence at the boundary time (since = boundary)', () => {
    const a = new AgentHarness();
    expect(
      a.schedule(utc(10, 0), utc(11, 0), [
        act(utc(10, 0), utc(10, 30), 'OnQueueWork'),
        act(utc(10, 30), utc(10, 45), 'Break'),
      ]),
    ).toEqual([]);
    expect(a.deadline()).toBeNull();
    expect(a.state('Ready', utc(9, 55))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(9, 55), 2),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(9, 55),
        ts: utc(9, 55),
        seq: 2,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 0));
    expect(a.advance(utc(10, 0))).toEqual([
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        seq: 3,
      }),
    ]);
    // Interval 09:45 closes at 10:01 (end + 60 s); then 10:00 at 10:16; the break starts at 10:30.
    expect(a.deadline()).toBe(utc(10, 1));
    expect(ofKind(a.advance(utc(10, 1)), 'adherence')).toEqual([]);
    expect(a.deadline()).toBe(utc(10, 16));
    a.advance(utc(10, 16));
    expect(a.deadline()).toBe(utc(10, 30));
    expect(a.advance(utc(10, 30))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Break',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 30),
        ts: utc(10, 30),
        seq: 6,
      }),
    ]);
    expect(a.reason('Break', utc(10, 30, 30))).toEqual([]);
    expect(a.state('NotReady', utc(10, 30, 30))).toEqual([
      gcCore('A1', 'BREAK', 'OFF_QUEUE', utc(10, 30, 30), 8),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'Break',
        actual: 'Break',
        impact: 'Neutral',
        since: utc(10, 30, 30),
        ts: utc(10, 30, 30),
        seq: 8,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 31));
    a.advance(utc(10, 31));
    expect(a.deadline()).toBe(utc(10, 45));
    expect(a.advance(utc(10, 45))).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Break',
        impact: 'Neutral',
        since: utc(10, 45),
        ts: utc(10, 45),
        seq: 10,
      }),
    ]);
  });

  it('since is unchanged while only the categories change; it moves when the state changes', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    expect(a.state('NotReady', utc(10, 10))).toEqual([
      gcCore('A1', 'BUSY', 'OFF_QUEUE', utc(10, 10), 3),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OffQueueWork',
        impact: 'Negative',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 3,
      }),
    ]);
    expect(a.reason('Meal', utc(10, 11))).toEqual([
      gcCore('A1', 'MEAL', 'OFF_QUEUE', utc(10, 11), 4),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'Meal',
        impact: 'Negative',
        since: utc(10, 10),
        ts: utc(10, 11),
        seq: 4,
      }),
    ]);
    expect(a.state('LoggedOff', utc(10, 12))).toEqual([
      gcCore('A1', 'OFFLINE', 'OFF_QUEUE', utc(10, 12), 5),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'Offline',
        impact: 'Negative',
        since: utc(10, 10),
        ts: utc(10, 12),
        seq: 5,
      }),
    ]);
    expect(a.state('Ready', utc(10, 13))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 13), 6),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 13),
        ts: utc(10, 13),
        seq: 6,
      }),
    ]);
  });

  it('no adherence output when only routing changes', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    expect(a.state('Ready', utc(10, 1), 'Inbound')).toEqual([
      gcCore('A1', 'ON_QUEUE', 'INTERACTING', utc(10, 1), 3),
    ]);
  });

  it('scheduledCategory changing inside OutOfAdherence keeps since (Meeting → Training, both Neutral)', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 5), 'Meeting'),
      act(utc(10, 5), utc(10, 10), 'Training'),
    ]);
    a.reason('Break', utc(10, 0));
    expect(ofKind(a.state('NotReady', utc(10, 0)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Meeting',
        actualCategory: 'Break',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        sourceSeq: 3,
      },
    ]);
    expect(a.advance(utc(10, 5))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Training',
        actual: 'Break',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 5),
        seq: 4,
      }),
    ]);
    expect(a.advance(utc(10, 10))).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Break',
        impact: 'Neutral',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 5,
      }),
    ]);
  });

  it('adjacent activities of the same category give no output at their shared boundary', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 5), 'OnQueueWork'),
      act(utc(10, 5), utc(10, 10), 'OnQueueWork'),
    ]);
    a.state('Ready', utc(10, 0));
    expect(a.deadline()).toBe(utc(10, 5));
    expect(a.advance(utc(10, 5))).toEqual([]);
    expect(a.deadline()).toBe(utc(10, 10));
  });

  it('impact values: Positive, Negative and Neutral', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 10), 'Meal'),
      act(utc(10, 10), utc(10, 20), 'OnQueueWork'),
      act(utc(10, 20), utc(10, 30), 'Meeting'),
    ]);
    // On queue while scheduled a meal: Positive.
    expect(ofKind(a.state('Ready', utc(10, 0)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Meal',
        actualCategory: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 0),
        ts: utc(10, 0),
        sourceSeq: 2,
      },
    ]);
    // Busy while scheduled a meal: Neutral.
    expect(ofKind(a.state('NotReady', utc(10, 5)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Meal',
        actualCategory: 'OffQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 5),
        sourceSeq: 3,
      },
    ]);
    // Busy while scheduled on queue: Negative.
    expect(a.advance(utc(10, 10))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OffQueueWork',
        impact: 'Negative',
        since: utc(10, 0),
        ts: utc(10, 10),
        seq: 4,
      }),
    ]);
    // On queue while scheduled a meeting: Positive.
    a.state('Ready', utc(10, 15));
    expect(ofKind(a.advance(utc(10, 20)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Meeting',
        actualCategory: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 20),
        ts: utc(10, 20),
        sourceSeq: 6,
      },
    ]);
  });

  it('TimeOff and Unavailable are adhered to by being offline', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 10), 'TimeOff'),
      act(utc(10, 10), utc(10, 20), 'Unavailable'),
    ]);
    expect(ofKind(a.state('LoggedOff', utc(10, 0)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'InAdherence',
        scheduledCategory: 'TimeOff',
        actualCategory: 'Offline',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        sourceSeq: 2,
      },
    ]);
    expect(a.advance(utc(10, 10))).toEqual([
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'Unavailable',
        actual: 'Offline',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 10),
        seq: 3,
      }),
    ]);
    expect(ofKind(a.state('Ready', utc(10, 12)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Unavailable',
        actualCategory: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 12),
        ts: utc(10, 12),
        sourceSeq: 4,
      },
    ]);
    a.reason('Break', utc(10, 13));
    expect(ofKind(a.state('NotReady', utc(10, 13)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'OutOfAdherence',
        scheduledCategory: 'Unavailable',
        actualCategory: 'Break',
        impact: 'Neutral',
        since: utc(10, 12),
        ts: utc(10, 13),
        sourceSeq: 6,
      },
    ]);
  });

  it('nonOnQueueActivitiesEquivalent: a break during a scheduled meeting adheres', () => {
    for (const eq of [true, false]) {
      const a = new AgentHarness({ nonOnQueueActivitiesEquivalent: eq });
      a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'Meeting')]);
      a.reason('Break', utc(10, 0));
      expect(ofKind(a.state('NotReady', utc(10, 0)), 'adherence')).toEqual([
        {
          agentId: 'A1',
          adherenceState: eq ? 'InAdherence' : 'OutOfAdherence',
          scheduledCategory: 'Meeting',
          actualCategory: 'Break',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 0),
          sourceSeq: 3,
        },
      ]);
      // BUSY (OffQueueWork) is in the group too; Offline is not.
      expect(ofKind(a.reason(null, utc(10, 1)), 'adherence')).toEqual([
        {
          agentId: 'A1',
          adherenceState: eq ? 'InAdherence' : 'OutOfAdherence',
          scheduledCategory: 'Meeting',
          actualCategory: 'OffQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 1),
          sourceSeq: 4,
        },
      ]);
      expect(ofKind(a.state('LoggedOff', utc(10, 2)), 'adherence')).toEqual([
        {
          agentId: 'A1',
          adherenceState: 'OutOfAdherence',
          scheduledCategory: 'Meeting',
          actualCategory: 'Offline',
          impact: 'Neutral',
          since: eq ? utc(10, 2) : utc(10, 0),
          ts: utc(10, 2),
          sourceSeq: 5,
        },
      ]);
    }
  });

  it('a schedule received while known is evaluated at once, at the time the agent is accounted to', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 5));
    expect(a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(10, 30), 'Break')])).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Break',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 5),
        ts: utc(10, 5),
        seq: 2,
      }),
    ]);
    // Replacing it with the same thing changes nothing.
    expect(a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(10, 30), 'Break')])).toEqual([]);
    // Clearing it makes the agent Unscheduled again.
    expect(a.schedule(utc(10, 0), utc(11, 0), [])).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 5),
        ts: utc(10, 5),
        seq: 4,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 16));
  });

  it('a schedule received while known moves the next deadline to its first boundary', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.deadline()).toBe(utc(10, 16));
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 7), utc(10, 8), 'Break')]);
    expect(a.deadline()).toBe(utc(10, 7));
  });

  it('an event after several boundaries reports each boundary at its time, in order, then the event', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 10), 'OnQueueWork'),
      act(utc(10, 10), utc(10, 20), 'Break'),
      act(utc(10, 20), utc(10, 30), 'OnQueueWork'),
    ]);
    a.state('Ready', utc(10, 0));
    expect(a.state('NotReady', utc(10, 25))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Break',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 3,
      }),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 20),
        ts: utc(10, 20),
        seq: 3,
      }),
      // 10:00 closed at 10:16: on queue all along; the 600 s stretch 10:10–10:20 is an
      // exception and gives this interval 300 s; 600 s scheduled on queue, 900 s on queue.
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 300,
        adherencePercentage: 66.67,
        conformanceScheduleSecs: 600,
        conformanceActualSecs: 900,
        conformancePercentage: 150,
        sourceSeq: 3,
      }),
      gcCore('A1', 'BUSY', 'OFF_QUEUE', utc(10, 25), 3),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OffQueueWork',
        impact: 'Negative',
        since: utc(10, 25),
        ts: utc(10, 25),
        seq: 3,
      }),
    ]);
  });

  it('advance is a no-op for an unknown agent and for a time already accounted', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    expect(a.advance(utc(10, 30))).toEqual([]);
    expect(a.ctx.acctTs).toBe(-1);
    a.state('Ready', utc(10, 40));
    const before = a.ctx;
    expect(a.advance(utc(10, 40))).toEqual([]);
    expect(a.advance(utc(10, 39))).toEqual([]);
    expect(a.ctx).toBe(before);
  });
});
