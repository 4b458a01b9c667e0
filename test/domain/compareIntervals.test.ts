/**
 * What `replay --compare` computes, with hand-made records: the projection of interval and
 * transfer records into rows as the sinks make it, the differences interval by interval, and the
 * totals (percentages of the sums).
 */
import { describe, expect, it } from 'vitest';
import {
  compareIntervals,
  IntervalHistoryProjection,
  type IntervalRecord,
  sumFigures,
} from '../../src/domain/index.ts';

const T0 = Date.UTC(2026, 0, 5, 10, 0);
const Q = 900_000;

function rec(agentId: string, start: number, o: Partial<IntervalRecord> = {}): IntervalRecord {
  return {
    agentId,
    site: 'S1',
    intervalStart: start,
    intervalMinutes: 15,
    secondsByPresence: { ON_QUEUE: 900 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 0,
    adherencePercentage: 100,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 900,
    conformancePercentage: 100,
    sourceSeq: 1,
    ...o,
  };
}

describe('IntervalHistoryProjection', () => {
  it('upserts by agent and start; an applied transfer replaces the target rows with the source ones', () => {
    const p = new IntervalHistoryProjection();
    p.record(rec('A', T0, { sourceSeq: 1 }));
    p.record(rec('A', T0 + Q, { sourceSeq: 2 }));
    p.record(rec('B', T0, { sourceSeq: 3 }));
    p.record(rec('B', T0 + 2 * Q, { sourceSeq: 4 }));
    p.record(rec('A', T0, { sourceSeq: 5, exceptionDurationSecs: 30 }));
    expect(p.size).toBe(4);
    p.transfer({ from: 'A', to: 'B', result: 'refused' });
    expect(p.rows().map((r) => [r.agentId, r.intervalStart, r.sourceSeq])).toEqual([
      ['A', T0, 5],
      ['A', T0 + Q, 2],
      ['B', T0, 3],
      ['B', T0 + 2 * Q, 4],
    ]);
    p.transfer({ from: 'A', to: 'B', result: 'applied' });
    // Rows after the transfer stay with the agent they are written for.
    p.record(rec('A', T0 + 3 * Q, { sourceSeq: 6 }));
    expect(p.rows()).toEqual([
      rec('A', T0 + 3 * Q, { sourceSeq: 6 }),
      rec('B', T0, { sourceSeq: 5, exceptionDurationSecs: 30 }),
      rec('B', T0 + Q, { sourceSeq: 2 }),
    ]);
    // A transfer from an agent with no rows leaves the target with none.
    p.transfer({ from: 'C', to: 'B', result: 'applied' });
    expect(p.rows()).toEqual([rec('A', T0 + 3 * Q, { sourceSeq: 6 })]);
  });
});

describe('compareIntervals', () => {
  it('finds no difference between equal histories, whatever their sourceSeq', () => {
    const before = [
      rec('A', T0),
      rec('A', T0 + Q, { exceptionDurationSecs: 60, adherencePercentage: 93.33 }),
    ];
    const after = before.map((r) => ({
      ...r,
      sourceSeq: r.sourceSeq + 7,
      secondsByPresence: { BUSY: 0, ON_QUEUE: 900 },
    }));
    const c = compareIntervals(before, after);
    expect(c.differences).toEqual([]);
    expect(c.total).toEqual({
      beforeIntervals: 2,
      afterIntervals: 2,
      changed: 0,
      added: 0,
      removed: 0,
      before: c.total.after,
      after: {
        adherenceScheduleSecs: 1800,
        exceptionDurationSecs: 60,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 1800,
        conformanceActualSecs: 1800,
        conformancePercentage: 100,
        secondsByPresence: { ON_QUEUE: 1800 },
      },
    });
  });

  it('lists changed, added and removed intervals by agent and start, with the fields that differ', () => {
    const before = [
      rec('B', T0, { exceptionDurationSecs: 90, adherencePercentage: 90 }),
      rec('A', T0),
      rec('A', T0 + Q),
    ];
    const after = [
      rec('B', T0),
      rec('A', T0, {
        secondsByPresence: { MEAL: 100, ON_QUEUE: 800 },
        conformanceActualSecs: 800,
        conformancePercentage: 88.89,
      }),
      rec('C', T0, { adherenceScheduleSecs: 0, adherencePercentage: null }),
    ];
    const c = compareIntervals(before, after);
    const figures = (r: IntervalRecord) => ({
      adherenceScheduleSecs: r.adherenceScheduleSecs,
      exceptionDurationSecs: r.exceptionDurationSecs,
      adherencePercentage: r.adherencePercentage,
      conformanceScheduleSecs: r.conformanceScheduleSecs,
      conformanceActualSecs: r.conformanceActualSecs,
      conformancePercentage: r.conformancePercentage,
      secondsByPresence: r.secondsByPresence,
    });
    expect(c.differences).toEqual([
      {
        ...{ site: 'S1', agentId: 'A', intervalStart: T0, intervalMinutes: 15, change: 'changed' },
        fields: ['conformanceActualSecs', 'conformancePercentage', 'secondsByPresence'],
        before: figures(before[1]!),
        after: { ...figures(after[1]!), secondsByPresence: { MEAL: 100, ON_QUEUE: 800 } },
      },
      {
        ...{ site: 'S1', agentId: 'A', intervalStart: T0 + Q, intervalMinutes: 15, change: 'removed' },
        fields: [],
        before: figures(before[2]!),
        after: null,
      },
      {
        ...{ site: 'S1', agentId: 'B', intervalStart: T0, intervalMinutes: 15, change: 'changed' },
        fields: ['exceptionDurationSecs', 'adherencePercentage'],
        before: figures(before[0]!),
        after: figures(after[0]!),
      },
      {
        ...{ site: 'S1', agentId: 'C', intervalStart: T0, intervalMinutes: 15, change: 'added' },
        fields: [],
        before: null,
        after: figures(after[2]!),
      },
    ]);
    expect(c.total).toMatchObject({
      beforeIntervals: 3,
      afterIntervals: 3,
      changed: 2,
      added: 1,
      removed: 1,
    });
    // Before: 2700 scheduled, 90 exception → 96.67; after: 1800 scheduled, 0 → 100; 2500/2700 = 92.59.
    expect(c.total.before.adherencePercentage).toBe(96.67);
    expect(c.total.after).toEqual({
      adherenceScheduleSecs: 1800,
      exceptionDurationSecs: 0,
      adherencePercentage: 100,
      conformanceScheduleSecs: 2700,
      conformanceActualSecs: 2600,
      conformancePercentage: 96.3,
      secondsByPresence: { MEAL: 100, ON_QUEUE: 2600 },
    });
  });

  it('sums to the millisecond and gives null percentages where nothing was scheduled', () => {
    const parts = [0.1, 0.2].map((s, i) =>
      rec('A', T0 + i * Q, {
        adherenceScheduleSecs: 0,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: s,
        secondsByPresence: { ON_QUEUE: s },
      }),
    );
    expect(sumFigures(parts)).toEqual({
      adherenceScheduleSecs: 0,
      exceptionDurationSecs: 0,
      adherencePercentage: null,
      conformanceScheduleSecs: 0,
      conformanceActualSecs: 0.3,
      conformancePercentage: null,
      secondsByPresence: { ON_QUEUE: 0.3 },
    });
  });
});
