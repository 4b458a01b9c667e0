import { describe, expect, it } from 'vitest';
import { type AdherenceException, AGENT_HISTORY_MAX, type LoginSession } from '../../src/domain/index.ts';
import { AgentHarness, act, MINUTE, SECOND, utc } from '../helpers/agentScenario.ts';

/**
 * The histories an agent keeps in its context (DESIGN "User data transfer": seed names Login
 * State and Historical Activities by Agent): login sessions and adherence exceptions, through the
 * pure agent core; `advance` plays the site's deadline ticks.
 */

function exception(
  start: number,
  end: number,
  scheduledCategory: AdherenceException['scheduledCategory'],
  actualCategory: AdherenceException['actualCategory'],
  impact: AdherenceException['impact'],
): AdherenceException {
  return { start, end, scheduledCategory, actualCategory, impact };
}

describe('agent history: login sessions', () => {
  it('opens at the first state that is not LoggedOff and closes at LoggedOff, with exact times', () => {
    const a = new AgentHarness();
    expect(a.ctx.sessions).toEqual([]);
    a.state('Ready', utc(9, 0));
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 0), end: null }]);
    a.state('LoggedOff', utc(9, 30));
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 0), end: utc(9, 30) }]);
    a.state('NotReady', utc(9, 45));
    expect(a.ctx.sessions).toEqual([
      { start: utc(9, 0), end: utc(9, 30) },
      { start: utc(9, 45), end: null },
    ]);
    a.state('LoggedOff', utc(10, 0, 15));
    expect(a.ctx.sessions).toEqual([
      { start: utc(9, 0), end: utc(9, 30) },
      { start: utc(9, 45), end: utc(10, 0, 15) },
    ]);
  });

  it('a first LoggedOff opens nothing; AfterCallWork is logged in', () => {
    const a = new AgentHarness();
    a.state('LoggedOff', utc(9, 0));
    expect(a.ctx.sessions).toEqual([]);
    a.state('AfterCallWork', utc(9, 10));
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 10), end: null }]);
  });

  it('a repeated or changed logged-in state, a reason or a tick opens no new session; a repeated LoggedOff closes nothing again', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(9, 0));
    a.state('Ready', utc(9, 1), 'Inbound');
    a.state('Ready', utc(9, 2));
    a.reason('Break', utc(9, 3));
    a.state('NotReady', utc(9, 3));
    a.state('AfterCallWork', utc(9, 4));
    a.advance(utc(9, 16));
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 0), end: null }]);
    a.state('LoggedOff', utc(9, 20));
    a.state('LoggedOff', utc(9, 25));
    a.advance(utc(9, 40));
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 0), end: utc(9, 20) }]);
  });

  it('a late state is refused and changes no session', () => {
    const a = new AgentHarness();
    a.state('Ready', utc(9, 10));
    a.state('LoggedOff', utc(9, 5));
    expect(a.lastRejection?.reason).toBe('late');
    expect(a.ctx.sessions).toEqual([{ start: utc(9, 10), end: null }]);
  });

  it(`keeps at most AGENT_HISTORY_MAX (${AGENT_HISTORY_MAX}) sessions, the oldest dropped first`, () => {
    expect(AGENT_HISTORY_MAX).toBe(50);
    const a = new AgentHarness();
    // 60 sessions: login at 08:00 + 2i min, logoff a minute later.
    const base = utc(8, 0);
    for (let i = 0; i < 60; i++) {
      a.state('Ready', base + 2 * i * MINUTE);
      a.state('LoggedOff', base + (2 * i + 1) * MINUTE);
    }
    expect(a.ctx.sessions).toHaveLength(50);
    expect(a.ctx.sessions[0]).toEqual({ start: utc(8, 20), end: utc(8, 21) }); // i = 10
    expect(a.ctx.sessions[49]).toEqual({ start: utc(9, 58), end: utc(9, 59) }); // i = 59
    // The 61st login drops the oldest (08:20) and its session is the open one.
    a.state('NotReady', utc(10, 0));
    expect(a.ctx.sessions).toHaveLength(50);
    expect(a.ctx.sessions[0]).toEqual({ start: utc(8, 22), end: utc(8, 23) });
    expect(a.ctx.sessions[49]).toEqual({ start: utc(10, 0), end: null });
    const expected: LoginSession[] = [];
    for (let i = 11; i < 60; i++)
      expected.push({ start: base + 2 * i * MINUTE, end: base + (2 * i + 1) * MINUTE });
    expected.push({ start: utc(10, 0), end: null });
    expect(a.ctx.sessions).toEqual(expected);
  });

  it('LoggedOff closes the open session even when it is not the last one (as a transfer leaves them)', () => {
    // A transfer combines the target's sessions (its open one closed) with the source's, by
    // start: a source logged in at 09:00 and a target logged in at 09:30, transferred at 10:00,
    // leave the source's open session first.
    const a = new AgentHarness();
    a.state('Ready', utc(9, 0));
    a.ctx = {
      ...a.ctx,
      sessions: [
        { start: utc(9, 0), end: null },
        { start: utc(9, 30), end: utc(10, 0) },
      ],
    };
    a.state('LoggedOff', utc(10, 30));
    expect(a.ctx.sessions).toEqual([
      { start: utc(9, 0), end: utc(10, 30) },
      { start: utc(9, 30), end: utc(10, 0) },
    ]);
    a.state('Ready', utc(11, 0));
    expect(a.ctx.sessions).toEqual([
      { start: utc(9, 0), end: utc(10, 30) },
      { start: utc(9, 30), end: utc(10, 0) },
      { start: utc(11, 0), end: null },
    ]);
  });
});

describe('agent history: adherence exceptions', () => {
  it("DESIGN's worked example: the 40 s stretch is no exception, the 90 s Meal stretch 10:14:30–10:16:00 is one", () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(9, 58));
    a.advance(utc(10, 0));
    a.advance(utc(10, 1));
    a.state('NotReady', utc(10, 5));
    expect(a.ctx.stretch).toEqual({
      start: utc(10, 5),
      qualified: false,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Negative',
    });
    a.state('Ready', utc(10, 5, 40));
    expect(a.ctx.stretch).toBeNull();
    expect(a.ctx.exceptions).toEqual([]);
    a.reason('Meal', utc(10, 14, 30));
    a.state('NotReady', utc(10, 14, 30));
    a.advance(utc(10, 15, 59, 999));
    // Qualified (89.999 s ≥ 60 s) but still running: not yet in the history.
    expect(a.ctx.stretch).toEqual({
      start: utc(10, 14, 30),
      qualified: true,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'Meal',
      impact: 'Negative',
    });
    expect(a.ctx.exceptions).toEqual([]);
    a.state('Ready', utc(10, 16));
    expect(a.ctx.stretch).toBeNull();
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 14, 30), utc(10, 16), 'OnQueueWork', 'Meal', 'Negative'),
    ]);
    // Nothing else happens to the history through the end of the schedule.
    a.advance(utc(10, 30));
    a.advance(utc(10, 31));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 14, 30), utc(10, 16), 'OnQueueWork', 'Meal', 'Negative'),
    ]);
  });

  it('records the categories and impact the stretch started with, not those it ended with', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 5)); // BUSY: OffQueueWork
    a.reason('Meal', utc(10, 6)); // MEAL, still out of adherence: the same stretch
    a.reason('Training', utc(10, 7));
    a.state('Ready', utc(10, 8));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 5), utc(10, 8), 'OnQueueWork', 'OffQueueWork', 'Negative'),
    ]);
  });

  it('a stretch of exactly the threshold is an exception; 1 ms shorter is none', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 10));
    a.state('Ready', utc(10, 10, 59, 999));
    expect(a.ctx.exceptions).toEqual([]);
    a.state('NotReady', utc(10, 20));
    a.state('Ready', utc(10, 21));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 20), utc(10, 21), 'OnQueueWork', 'OffQueueWork', 'Negative'),
    ]);
  });

  it('a positive stretch (on queue during a scheduled break) records impact Positive', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 30), 'OnQueueWork'),
      act(utc(10, 30), utc(10, 45), 'Break'),
      act(utc(10, 45), utc(11, 0), 'OnQueueWork'),
    ]);
    a.state('Ready', utc(10, 0));
    a.advance(utc(10, 30));
    a.reason('Break', utc(10, 32));
    a.state('NotReady', utc(10, 32));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 30), utc(10, 32), 'Break', 'OnQueueWork', 'Positive'),
    ]);
  });

  it('a stretch ended by the schedule ending ends there: at a deadline on the boundary', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 20));
    expect(a.deadline()).toBe(utc(10, 30));
    a.advance(utc(10, 30));
    expect(a.ctx.adherence?.adherenceState).toBe('Unscheduled');
    expect(a.ctx.stretch).toBeNull();
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 20), utc(10, 30), 'OnQueueWork', 'OffQueueWork', 'Negative'),
    ]);
  });

  it('a stretch ended by the schedule ending ends there: at a boundary passed inside a later step', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 20));
    // No deadline tick at 10:30: the next input at 10:40 walks over the boundary.
    a.state('Ready', utc(10, 40));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 20), utc(10, 30), 'OnQueueWork', 'OffQueueWork', 'Negative'),
    ]);
    expect(a.ctx.stretch).toBeNull();
  });

  it('a stretch cut short by the schedule ending is no exception when below the threshold', () => {
    const a = new AgentHarness();
    a.schedule(utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 29, 30));
    a.advance(utc(10, 30));
    expect(a.ctx.stretch).toBeNull();
    expect(a.ctx.exceptions).toEqual([]);
  });

  it('threshold 0: every stretch is an exception, however short', () => {
    const a = new AgentHarness({ adherenceExceptionThresholdSeconds: 0 });
    a.schedule(utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    a.state('Ready', utc(10, 0));
    a.state('NotReady', utc(10, 5));
    expect(a.ctx.stretch).toEqual({
      start: utc(10, 5),
      qualified: true,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Negative',
    });
    a.state('Ready', utc(10, 5, 10));
    a.reason('Meal', utc(10, 7));
    a.state('NotReady', utc(10, 7));
    a.state('Ready', utc(10, 7, 0, 1));
    expect(a.ctx.exceptions).toEqual([
      exception(utc(10, 5), utc(10, 5, 10), 'OnQueueWork', 'OffQueueWork', 'Negative'),
      exception(utc(10, 7), utc(10, 7, 0, 1), 'OnQueueWork', 'Meal', 'Negative'),
    ]);
  });

  it(`keeps at most AGENT_HISTORY_MAX (${AGENT_HISTORY_MAX}) exceptions, the oldest dropped first`, () => {
    const a = new AgentHarness();
    a.schedule(utc(8, 0), utc(12, 0), [act(utc(8, 0), utc(12, 0), 'OnQueueWork')]);
    a.state('Ready', utc(8, 0));
    // 55 one-minute stretches: Not Ready at 08:01 + 2i min, Ready a minute later.
    const base = utc(8, 1);
    for (let i = 0; i < 55; i++) {
      a.state('NotReady', base + 2 * i * MINUTE);
      a.state('Ready', base + (2 * i + 1) * MINUTE);
    }
    expect(a.ctx.exceptions).toHaveLength(50);
    const expected: AdherenceException[] = [];
    for (let i = 5; i < 55; i++)
      expected.push(
        exception(
          base + 2 * i * MINUTE,
          base + (2 * i + 1) * MINUTE,
          'OnQueueWork',
          'OffQueueWork',
          'Negative',
        ),
      );
    expect(a.ctx.exceptions).toEqual(expected);
    expect(a.ctx.exceptions[0]!.start).toBe(utc(8, 11));
    expect(a.ctx.exceptions[49]!.end).toBe(utc(9, 50));
    expect(a.ctx.exceptions[49]!.end - a.ctx.exceptions[49]!.start).toBe(60 * SECOND);
  });
});
