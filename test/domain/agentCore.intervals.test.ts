import { describe, expect, it } from 'vitest';
import {
  AgentHarness,
  act,
  adherenceCore,
  gcCore,
  intervalCore,
  intervalRecord,
  ofKind,
  SECOND,
  utc,
} from '../helpers/agentScenario.ts';

/** Interval accounting through the agent core; `advance` plays the site's deadline ticks. */
describe('agent core: DESIGN.md worked example', () => {
  it('gives exactly the documented records', () => {
    const a = new AgentHarness();
    expect(a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')])).toEqual([]);
    expect(a.state('Ready', utc(9, 58))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(9, 58), 2),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(9, 58),
        ts: utc(9, 58),
        seq: 2,
      }),
    ]);
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
    expect(a.advance(utc(10, 1))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 45),
        secondsByPresence: { ON_QUEUE: 120 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 120,
        conformancePercentage: null,
        sourceSeq: 4,
      }),
    ]);
    expect(a.state('NotReady', utc(10, 5))).toEqual([
      gcCore('A1', 'BUSY', 'OFF_QUEUE', utc(10, 5), 5),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OffQueueWork',
        impact: 'Negative',
        since: utc(10, 5),
        ts: utc(10, 5),
        seq: 5,
      }),
    ]);
    expect(a.state('Ready', utc(10, 5, 40))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 5, 40), 6),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 5, 40),
        ts: utc(10, 5, 40),
        seq: 6,
      }),
    ]);
    expect(a.reason('Meal', utc(10, 14, 30))).toEqual([]);
    expect(a.state('NotReady', utc(10, 14, 30))).toEqual([
      gcCore('A1', 'MEAL', 'OFF_QUEUE', utc(10, 14, 30), 8),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'OnQueueWork',
        actual: 'Meal',
        impact: 'Negative',
        since: utc(10, 14, 30),
        ts: utc(10, 14, 30),
        seq: 8,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 16));
    // Not closed a moment before 10:16:00.
    expect(a.advance(utc(10, 15, 59, 999))).toEqual([]);
    expect(a.state('Ready', utc(10, 16))).toEqual([
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
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 16), 10),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 16),
        ts: utc(10, 16),
        seq: 10,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 30));
    expect(a.advance(utc(10, 30))).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 30),
        ts: utc(10, 30),
        seq: 11,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 31));
    expect(a.advance(utc(10, 31))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { MEAL: 60, ON_QUEUE: 840 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 60,
        adherencePercentage: 93.33,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 840,
        conformancePercentage: 93.33,
        sourceSeq: 12,
      }),
    ]);
  });
});

describe('agent core: a day of on-queue, break, on-queue', () => {
  it('late to the break by exactly the threshold (exception), back 30 s early (not one)', () => {
    const a = new AgentHarness();
    a.schedule(utc(9, 0), utc(10, 0), [
      act(utc(9, 0), utc(9, 30), 'OnQueueWork'),
      act(utc(9, 30), utc(9, 45), 'Break'),
      act(utc(9, 45), utc(10, 0), 'OnQueueWork'),
    ]);
    expect(ofKind(a.state('Ready', utc(9, 0)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'InAdherence',
        scheduledCategory: 'OnQueueWork',
        actualCategory: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(9, 0),
        ts: utc(9, 0),
        sourceSeq: 2,
      },
    ]);
    expect(a.deadline()).toBe(utc(9, 16));
    expect(a.advance(utc(9, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 0),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 900,
        conformancePercentage: 100,
        sourceSeq: 3,
      }),
    ]);
    expect(a.deadline()).toBe(utc(9, 30));
    expect(a.advance(utc(9, 30))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Break',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(9, 30),
        ts: utc(9, 30),
        seq: 4,
      }),
    ]);
    expect(a.reason('Break', utc(9, 31))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 15),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 900,
        conformancePercentage: 100,
        sourceSeq: 5,
      }),
    ]);
    expect(a.state('NotReady', utc(9, 31))).toEqual([
      gcCore('A1', 'BREAK', 'OFF_QUEUE', utc(9, 31), 6),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'Break',
        actual: 'Break',
        impact: 'Neutral',
        since: utc(9, 31),
        ts: utc(9, 31),
        seq: 6,
      }),
    ]);
    expect(a.state('Ready', utc(9, 44, 30))).toEqual([
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(9, 44, 30), 7),
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Break',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(9, 44, 30),
        ts: utc(9, 44, 30),
        seq: 7,
      }),
    ]);
    expect(a.deadline()).toBe(utc(9, 45));
    expect(a.advance(utc(9, 45))).toEqual([
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(9, 45),
        ts: utc(9, 45),
        seq: 8,
      }),
    ]);
    expect(a.advance(utc(9, 46))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 30),
        secondsByPresence: { ON_QUEUE: 90, BREAK: 810 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 60,
        adherencePercentage: 93.33,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 90,
        conformancePercentage: null,
        sourceSeq: 9,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 0));
    expect(a.state('LoggedOff', utc(10, 0))).toEqual([
      gcCore('A1', 'OFFLINE', 'OFF_QUEUE', utc(10, 0), 10),
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'Offline',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        seq: 10,
      }),
    ]);
    expect(a.advance(utc(10, 1))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 45),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 900,
        conformancePercentage: 100,
        sourceSeq: 11,
      }),
    ]);
    // Offline and unscheduled all through 10:00–10:15: no record.
    expect(a.deadline()).toBe(utc(10, 16));
    expect(a.advance(utc(10, 16))).toEqual([]);
    expect(a.deadline()).toBe(utc(10, 31));
  });
});

/** Scheduled on queue 10:00–10:15, Ready at 10:00, NotReady 10:05 for `busyMs`, record of 10:00. */
function oneStretch(busyMs: number, threshold?: number) {
  const a = new AgentHarness(
    threshold === undefined ? {} : { adherenceExceptionThresholdSeconds: threshold },
  );
  a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'OnQueueWork')]);
  a.state('Ready', utc(10, 0));
  a.state('NotReady', utc(10, 5));
  a.state('Ready', utc(10, 5) + busyMs);
  const closeAt = utc(10, 15) + (threshold ?? 60) * SECOND;
  // The schedule ends at 10:15; the interval closes then too when the threshold is 0.
  expect(a.deadline()).toBe(utc(10, 15));
  const atEnd = ofKind(a.advance(utc(10, 15)), 'interval');
  if (closeAt === utc(10, 15)) return atEnd;
  expect(atEnd).toEqual([]);
  expect(a.deadline()).toBe(closeAt);
  return ofKind(a.advance(closeAt), 'interval');
}

describe('agent core: out-of-adherence stretches and the threshold', () => {
  it('59 s: below the threshold, no exception', () => {
    expect(oneStretch(59 * SECOND)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 841, BUSY: 59 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 841,
        conformancePercentage: 93.44,
        sourceSeq: 6,
      }),
    ]);
  });

  it('59.999 s: still below', () => {
    expect(oneStretch(59_999)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 840.001, BUSY: 59.999 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 840.001,
        conformancePercentage: 93.33,
        sourceSeq: 6,
      }),
    ]);
  });

  it('exactly 60 s: an exception, all 60 s count', () => {
    expect(oneStretch(60 * SECOND)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 840, BUSY: 60 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 60,
        adherencePercentage: 93.33,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 840,
        conformancePercentage: 93.33,
        sourceSeq: 6,
      }),
    ]);
  });

  it('61 s: an exception, all 61 s count', () => {
    expect(oneStretch(61 * SECOND)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 839, BUSY: 61 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 61,
        adherencePercentage: 93.22,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 839,
        conformancePercentage: 93.22,
        sourceSeq: 6,
      }),
    ]);
  });

  it('threshold 0: every stretch is an exception (1 s); the interval closes at its end', () => {
    expect(oneStretch(SECOND, 0)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 899, BUSY: 1 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 1,
        adherencePercentage: 99.89,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 899,
        conformancePercentage: 99.89,
        sourceSeq: 5,
      }),
    ]);
  });

  it('threshold 120: 119 s is not an exception, 120 s is; the interval closes at end + 120 s', () => {
    expect(oneStretch(119 * SECOND, 120)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 781, BUSY: 119 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 781,
        conformancePercentage: 86.78,
        sourceSeq: 6,
      }),
    ]);
    expect(oneStretch(120 * SECOND, 120)).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 780, BUSY: 120 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 120,
        adherencePercentage: 86.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 780,
        conformancePercentage: 86.67,
        sourceSeq: 6,
      }),
    ]);
  });

  it('two short stretches do not add up to an exception', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 5));
    a.state('Ready', utc(10, 5, 40));
    a.state('NotReady', utc(10, 6));
    a.state('Ready', utc(10, 6, 40));
    a.advance(utc(10, 15));
    expect(ofKind(a.advance(utc(10, 16)), 'interval')).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 820, BUSY: 80 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 820,
        conformancePercentage: 91.11,
        sourceSeq: 8,
      }),
    ]);
  });

  it('one stretch spans changes of actual category (BUSY 30 s then MEAL 40 s = 70 s exception)', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 5));
    a.reason('Meal', utc(10, 5, 30));
    a.state('Ready', utc(10, 6, 10));
    a.advance(utc(10, 15));
    expect(ofKind(a.advance(utc(10, 16)), 'interval')).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 830, BUSY: 30, MEAL: 40 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 70,
        adherencePercentage: 92.22,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 830,
        conformancePercentage: 92.22,
        sourceSeq: 7,
      }),
    ]);
  });

  it('a stretch ended by the schedule stopping (Unscheduled) after 30 s is not an exception', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 10), [act(utc(10, 0), utc(10, 10), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 9, 30));
    expect(a.advance(utc(10, 10))).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OffQueueWork',
        impact: 'Neutral',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 4,
      }),
    ]);
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 570, BUSY: 330 },
        adherenceScheduleSecs: 600,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 600,
        conformanceActualSecs: 570,
        conformancePercentage: 95,
        sourceSeq: 5,
      }),
    ]);
  });

  it('a 120 s stretch ended by the schedule stopping counts 120 s, not the unscheduled time after', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 10), [act(utc(10, 0), utc(10, 10), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 8));
    a.advance(utc(10, 10));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 480, BUSY: 420 },
        adherenceScheduleSecs: 600,
        exceptionDurationSecs: 120,
        adherencePercentage: 80,
        conformanceScheduleSecs: 600,
        conformanceActualSecs: 480,
        conformancePercentage: 80,
        sourceSeq: 5,
      }),
    ]);
  });
});

describe('agent core: stretches crossing interval boundaries', () => {
  it('a 50 s stretch across 10:15 is no exception in either interval', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 14, 30));
    a.state('Ready', utc(10, 15, 20));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 870, BUSY: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 870,
        conformancePercentage: 96.67,
        sourceSeq: 5,
      }),
    ]);
    a.advance(utc(10, 30));
    expect(a.advance(utc(10, 31))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { ON_QUEUE: 880, BUSY: 20 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 880,
        conformancePercentage: 97.78,
        sourceSeq: 7,
      }),
    ]);
  });

  it('a 75 s stretch across 10:15 is an exception: 30 s to 10:00, 45 s to 10:15', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 14, 30));
    a.state('Ready', utc(10, 15, 45));
    expect(ofKind(a.advance(utc(10, 16)), 'interval')).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 870, BUSY: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 30,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 870,
        conformancePercentage: 96.67,
        sourceSeq: 5,
      }),
    ]);
    a.advance(utc(10, 30));
    expect(ofKind(a.advance(utc(10, 31)), 'interval')).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { ON_QUEUE: 855, BUSY: 45 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 45,
        adherencePercentage: 95,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 855,
        conformancePercentage: 95,
        sourceSeq: 7,
      }),
    ]);
  });

  it('a 30-minute stretch over three intervals; two close in the event that ends it', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 10));
    expect(a.state('Ready', utc(10, 40))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 600, BUSY: 300 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 300,
        adherencePercentage: 66.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 600,
        conformancePercentage: 66.67,
        sourceSeq: 4,
      }),
      intervalCore('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { BUSY: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 900,
        adherencePercentage: 0,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 0,
        conformancePercentage: 0,
        sourceSeq: 4,
      }),
      gcCore('A1', 'ON_QUEUE', 'IDLE', utc(10, 40), 4),
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'OnQueueWork',
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 40),
        ts: utc(10, 40),
        seq: 4,
      }),
    ]);
    expect(a.deadline()).toBe(utc(10, 46));
    expect(a.advance(utc(10, 46))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 30),
        secondsByPresence: { BUSY: 600, ON_QUEUE: 300 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 600,
        adherencePercentage: 33.33,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 300,
        conformancePercentage: 33.33,
        sourceSeq: 5,
      }),
    ]);
  });
});

describe('agent core: interval records', () => {
  it('TimeOff while offline: in adherence; an offline unscheduled interval has no record', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'TimeOff')]);
    a.state('LoggedOff', utc(9, 55));
    expect(a.advance(utc(10, 0))).toEqual([
      adherenceCore('A1', {
        state: 'InAdherence',
        scheduled: 'TimeOff',
        actual: 'Offline',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 0),
        seq: 3,
      }),
    ]);
    expect(a.advance(utc(10, 1))).toEqual([]);
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { OFFLINE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 0,
        conformancePercentage: null,
        sourceSeq: 5,
      }),
    ]);
  });

  it('offline while scheduled on queue: the whole interval is an exception', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'OnQueueWork')]);
    a.state('LoggedOff', utc(10, 0));
    a.advance(utc(10, 15));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { OFFLINE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 900,
        adherencePercentage: 0,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 0,
        conformancePercentage: 0,
        sourceSeq: 4,
      }),
    ]);
  });

  it('unscheduled logged-in time is reported; time before the first state is not counted', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 3));
    a.state('NotReady', utc(10, 10));
    expect(a.deadline()).toBe(utc(10, 16));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 420, BUSY: 300 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 420,
        conformancePercentage: null,
        sourceSeq: 3,
      }),
    ]);
  });

  it('scheduled time before the first state is not counted either', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'OnQueueWork')]);
    a.state('Ready', utc(10, 5));
    a.advance(utc(10, 15));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 600 },
        adherenceScheduleSecs: 600,
        exceptionDurationSecs: 0,
        adherencePercentage: 100,
        conformanceScheduleSecs: 600,
        conformanceActualSecs: 600,
        conformancePercentage: 100,
        sourceSeq: 4,
      }),
    ]);
  });

  it('conformance over 100 %: on queue through a scheduled meeting', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 15), [
      act(utc(10, 0), utc(10, 10), 'OnQueueWork'),
      act(utc(10, 10), utc(10, 15), 'Meeting'),
    ]);
    a.state('Ready', utc(10, 0));
    expect(a.deadline()).toBe(utc(10, 10));
    expect(a.advance(utc(10, 10))).toEqual([
      adherenceCore('A1', {
        state: 'OutOfAdherence',
        scheduled: 'Meeting',
        actual: 'OnQueueWork',
        impact: 'Positive',
        since: utc(10, 10),
        ts: utc(10, 10),
        seq: 3,
      }),
    ]);
    expect(a.advance(utc(10, 15))).toEqual([
      adherenceCore('A1', {
        state: 'Unscheduled',
        scheduled: null,
        actual: 'OnQueueWork',
        impact: 'Neutral',
        since: utc(10, 15),
        ts: utc(10, 15),
        seq: 4,
      }),
    ]);
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 300,
        adherencePercentage: 66.67,
        conformanceScheduleSecs: 600,
        conformanceActualSecs: 900,
        conformancePercentage: 150,
        sourceSeq: 5,
      }),
    ]);
  });

  it('15-minute intervals offset by 5 minutes', () => {
    const a = new AgentHarness({ offsetMinutes: 5 });
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 5), utc(10, 20), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    expect(a.deadline()).toBe(utc(10, 5));
    expect(ofKind(a.advance(utc(10, 5)), 'interval')).toEqual([]);
    expect(a.deadline()).toBe(utc(10, 6));
    expect(a.advance(utc(10, 6))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(9, 50),
        secondsByPresence: { ON_QUEUE: 300 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 300,
        conformancePercentage: null,
        sourceSeq: 4,
      }),
    ]);
    a.state('NotReady', utc(10, 12));
    a.state('Ready', utc(10, 14));
    expect(a.deadline()).toBe(utc(10, 20));
    a.advance(utc(10, 20));
    expect(a.deadline()).toBe(utc(10, 21));
    expect(a.advance(utc(10, 21))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 5),
        secondsByPresence: { ON_QUEUE: 780, BUSY: 120 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 120,
        adherencePercentage: 86.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 780,
        conformancePercentage: 86.67,
        sourceSeq: 8,
      }),
    ]);
  });

  it('30-minute intervals offset by 10 minutes: intervalMinutes 30 in the record', () => {
    const a = new AgentHarness({ intervalMinutes: 30, offsetMinutes: 10 });
    a.state('Ready', utc(10, 0));
    expect(a.deadline()).toBe(utc(10, 11));
    expect(a.advance(utc(10, 11))).toEqual([
      intervalCore(
        'A1',
        {
          intervalStart: utc(9, 40),
          secondsByPresence: { ON_QUEUE: 600 },
          adherenceScheduleSecs: 0,
          exceptionDurationSecs: 0,
          adherencePercentage: null,
          conformanceScheduleSecs: 0,
          conformanceActualSecs: 600,
          conformancePercentage: null,
          sourceSeq: 2,
        },
        30,
      ),
    ]);
  });

  it('nonOnQueueActivitiesEquivalent: a break during a scheduled meeting is no exception', () => {
    const run = (eq: boolean) => {
      const a = new AgentHarness({ nonOnQueueActivitiesEquivalent: eq });
      a.schedule(utc(10, 0), utc(10, 15), [act(utc(10, 0), utc(10, 15), 'Meeting')]);
      a.reason('Break', utc(10, 0));
      a.state('NotReady', utc(10, 0));
      a.advance(utc(10, 15));
      return ofKind(a.advance(utc(10, 16)), 'interval');
    };
    const base = {
      intervalStart: utc(10, 0),
      secondsByPresence: { BREAK: 900 },
      adherenceScheduleSecs: 900,
      conformanceScheduleSecs: 0,
      conformanceActualSecs: 0,
      conformancePercentage: null,
      sourceSeq: 5,
    };
    expect(run(true)).toEqual([
      intervalRecord('A1', { ...base, exceptionDurationSecs: 0, adherencePercentage: 100 }),
    ]);
    expect(run(false)).toEqual([
      intervalRecord('A1', { ...base, exceptionDurationSecs: 900, adherencePercentage: 0 }),
    ]);
  });

  it('a long jump closes every interval it passes, oldest first, with the same sourceSeq', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    const record = (start: number) =>
      intervalCore('A1', {
        intervalStart: start,
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 900,
        conformancePercentage: null,
        sourceSeq: 2,
      });
    expect(a.advance(utc(11, 0))).toEqual([record(utc(10, 0)), record(utc(10, 15)), record(utc(10, 30))]);
    expect(a.deadline()).toBe(utc(11, 1));
  });

  it('an event older than the time the agent was advanced to takes effect at that time', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    expect(a.advance(utc(10, 16))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 900,
        conformancePercentage: null,
        sourceSeq: 2,
      }),
    ]);
    // 10:10 is not older than the last accepted ts (10:00), but the agent is accounted to 10:16.
    const outputs = a.state('NotReady', utc(10, 10));
    expect(a.lastRejection).toBeNull();
    expect(ofKind(outputs, 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'Unscheduled',
        scheduledCategory: null,
        actualCategory: 'OffQueueWork',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 16),
        sourceSeq: 3,
      },
    ]);
    expect(a.ctx.lastTs).toBe(utc(10, 10));
    expect(a.advance(utc(10, 31))).toEqual([
      intervalCore('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { ON_QUEUE: 60, BUSY: 840 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 60,
        conformancePercentage: null,
        sourceSeq: 4,
      }),
    ]);
  });

  it("the GC output of such a clamped event keeps the event's own ts (when the Stat Server saw it)", () => {
    const a = new AgentHarness();
    a.state('Ready', utc(10, 0));
    a.advance(utc(10, 16));
    expect(ofKind(a.state('NotReady', utc(10, 10)), 'gc')).toEqual([
      { agentId: 'A1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: utc(10, 10), sourceSeq: 3 },
    ]);
  });

  it('a clamped reason is accounted from the clamped time too', () => {
    const a = new AgentHarness();
    a.state('NotReady', utc(10, 0));
    a.advance(utc(10, 16));
    expect(ofKind(a.reason('Meal', utc(10, 5)), 'adherence')).toEqual([
      {
        agentId: 'A1',
        adherenceState: 'Unscheduled',
        scheduledCategory: null,
        actualCategory: 'Meal',
        impact: 'Neutral',
        since: utc(10, 0),
        ts: utc(10, 16),
        sourceSeq: 3,
      },
    ]);
    expect(ofKind(a.advance(utc(10, 31)), 'interval')).toEqual([
      intervalRecord('A1', {
        intervalStart: utc(10, 15),
        secondsByPresence: { BUSY: 60, MEAL: 840 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 0,
        conformancePercentage: null,
        sourceSeq: 4,
      }),
    ]);
  });
});
