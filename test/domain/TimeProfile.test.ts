import { describe, expect, it } from 'vitest';
import { TimeProfile } from '../../src/domain/index.ts';
import { MINUTE, utc } from '../helpers/agentScenario.ts';

describe('TimeProfile', () => {
  it('15-minute intervals, no offset', () => {
    const p = new TimeProfile(15, 0);
    expect(p.entries).toEqual([{ from: null, intervalMinutes: 15, offsetMinutes: 0 }]);
    expect(p.intervalStart(utc(10, 0))).toBe(utc(10, 0));
    expect(p.intervalStart(utc(10, 14, 59, 999))).toBe(utc(10, 0));
    expect(p.intervalStart(utc(10, 15))).toBe(utc(10, 15));
    expect(p.intervalEnd(utc(10, 7))).toBe(utc(10, 15));
    expect(p.endOf(utc(10, 0))).toBe(utc(10, 15));
    expect(p.intervalMinutesAt(utc(10, 0))).toBe(15);
  });

  it('15-minute intervals offset by 5 minutes: boundaries at :05, :20, :35, :50', () => {
    const p = new TimeProfile(15, 5);
    expect(p.intervalStart(utc(10, 4, 59))).toBe(utc(9, 50));
    expect(p.intervalStart(utc(10, 5))).toBe(utc(10, 5));
    expect(p.intervalStart(utc(10, 19, 59))).toBe(utc(10, 5));
    expect(p.intervalStart(utc(10, 20))).toBe(utc(10, 20));
    expect(p.intervalEnd(utc(10, 0))).toBe(utc(10, 5));
  });

  it('is floor((ts − offset)/len)·len + offset, also near the epoch', () => {
    const p = new TimeProfile(30, 10);
    expect(p.intervalStart(0)).toBe(-20 * 60_000);
    expect(p.intervalStart(10 * 60_000)).toBe(10 * 60_000);
    expect(p.intervalStart(39 * 60_000 + 59_999)).toBe(10 * 60_000);
    expect(p.intervalStart(40 * 60_000)).toBe(40 * 60_000);
  });

  it('60-minute and 1440-minute intervals', () => {
    expect(new TimeProfile(60, 0).intervalStart(utc(10, 59))).toBe(utc(10, 0));
    expect(new TimeProfile(1440, 0).intervalStart(utc(23, 59))).toBe(utc(0, 0));
  });

  it.each([0, 7, -15, 1.5, 2000])('rejects intervalMinutes %s', (m) => {
    expect(() => new TimeProfile(m, 0)).toThrow(new RangeError(`intervalMinutes must divide 1440, got ${m}`));
  });

  it.each([15, -1, 0.5])('rejects offsetMinutes %s with 15-minute intervals', (o) => {
    expect(() => new TimeProfile(15, o)).toThrow(
      new RangeError(`offsetMinutes must be in [0, intervalMinutes), got ${o}`),
    );
  });
});

describe('TimeProfile: switching grids (a site restarted with a new time profile)', () => {
  it('15 -> 30 at site time 10:07: the old grid up to 10:30 (the first 30-minute boundary at or after 10:15)', () => {
    const p = new TimeProfile(15, 0).switchTo(30, 0, utc(10, 7));
    expect(p.entries).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
      { from: utc(10, 30), intervalMinutes: 30, offsetMinutes: 0 },
    ]);
    expect(p.latest).toEqual({ from: utc(10, 30), intervalMinutes: 30, offsetMinutes: 0 });
    const starts = [
      utc(10, 0),
      utc(10, 14),
      utc(10, 15),
      utc(10, 29, 59),
      utc(10, 30),
      utc(10, 59),
      utc(11, 0),
    ];
    expect(starts.map((t) => p.intervalStart(t))).toEqual([
      utc(10, 0),
      utc(10, 0),
      utc(10, 15),
      utc(10, 15),
      utc(10, 30),
      utc(10, 30),
      utc(11, 0),
    ]);
    expect([utc(10, 0), utc(10, 15), utc(10, 30), utc(11, 0)].map((s) => p.endOf(s))).toEqual([
      utc(10, 15),
      utc(10, 30),
      utc(11, 0),
      utc(11, 30),
    ]);
    expect([utc(10, 0), utc(10, 15), utc(10, 30)].map((s) => p.intervalMinutesAt(s))).toEqual([15, 15, 30]);
    // Long before the switch: the old grid, whatever the day.
    expect(p.intervalStart(utc(0, 7))).toBe(utc(0, 0));
    expect(p.intervalEnd(utc(0, 7))).toBe(utc(0, 15));
  });

  it('30 -> 15 at 10:07: the switch is the end of the old interval, 10:30', () => {
    const p = new TimeProfile(30, 0).switchTo(15, 0, utc(10, 7));
    expect(p.latest.from).toBe(utc(10, 30));
    expect(p.intervalStart(utc(10, 29))).toBe(utc(10, 0));
    expect(p.endOf(utc(10, 0))).toBe(utc(10, 30));
    expect(p.intervalStart(utc(10, 44))).toBe(utc(10, 30));
    expect(p.endOf(utc(10, 30))).toBe(utc(10, 45));
  });

  it('a new offset off the old grid: the last old interval is cut short at the switch point', () => {
    // 15/0 at 10:07 ends 10:15; 60-minute intervals offset 10: boundaries 10:10, 11:10.
    const p = new TimeProfile(15, 0).switchTo(60, 10, utc(10, 7));
    expect(p.latest).toEqual({ from: utc(11, 10), intervalMinutes: 60, offsetMinutes: 10 });
    expect(p.intervalStart(utc(11, 5))).toBe(utc(11, 0));
    expect(p.endOf(utc(11, 0))).toBe(utc(11, 10));
    expect(p.intervalEnd(utc(11, 9, 59))).toBe(utc(11, 10));
    expect(p.intervalMinutesAt(utc(11, 0))).toBe(15);
    expect(p.intervalStart(utc(11, 10))).toBe(utc(11, 10));
    expect(p.endOf(utc(11, 10))).toBe(utc(12, 10));
    expect(p.intervalMinutesAt(utc(11, 10))).toBe(60);
  });

  it('a site time on a boundary: the interval containing it is the one starting there', () => {
    const p = new TimeProfile(15, 0).switchTo(30, 0, utc(10, 15));
    expect(p.latest.from).toBe(utc(10, 30));
    const q = new TimeProfile(15, 0).switchTo(30, 0, utc(10, 30));
    expect(q.latest.from).toBe(utc(11, 0));
  });

  it('the same grid again changes nothing; no site time yet applies the new grid at once and alone', () => {
    const p = new TimeProfile(15, 0);
    expect(p.switchTo(15, 0, utc(10, 7))).toBe(p);
    expect(p.switchTo(15, 0, -1)).toBe(p);
    expect(p.switchTo(30, 5, -1).entries).toEqual([{ from: null, intervalMinutes: 30, offsetMinutes: 5 }]);
    const switched = p.switchTo(30, 0, utc(10, 7));
    // Restarted again under the same new grid before the switch: the same switch point.
    expect(switched.switchTo(30, 0, utc(10, 20)).entries).toEqual(switched.entries);
    expect(switched.switchTo(30, 0, utc(10, 40))).toBe(switched);
    expect(switched.switchTo(60, 0, -1).entries).toEqual([
      { from: null, intervalMinutes: 60, offsetMinutes: 0 },
    ]);
  });

  it('a second restart before a pending switch replaces it; after it, appends', () => {
    const pending = new TimeProfile(15, 0).switchTo(30, 0, utc(10, 7));
    // At 10:20 the 15-minute grid is still in effect (10:15-10:30): 60 minutes from 11:00.
    expect(pending.switchTo(60, 0, utc(10, 20)).entries).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
      { from: utc(11, 0), intervalMinutes: 60, offsetMinutes: 0 },
    ]);
    // Back to 15 before the switch: as if it had never been configured.
    expect(pending.switchTo(15, 0, utc(10, 20)).entries).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
    ]);
    // After it (10:40 is in 10:30-11:00 of the 30-minute grid): 15 again from 11:00.
    const three = pending.switchTo(15, 0, utc(10, 40));
    expect(three.entries).toEqual([
      { from: null, intervalMinutes: 15, offsetMinutes: 0 },
      { from: utc(10, 30), intervalMinutes: 30, offsetMinutes: 0 },
      { from: utc(11, 0), intervalMinutes: 15, offsetMinutes: 0 },
    ]);
    expect([utc(10, 14), utc(10, 59), utc(11, 14)].map((t) => three.intervalStart(t))).toEqual([
      utc(10, 0),
      utc(10, 30),
      utc(11, 0),
    ]);
    expect([utc(10, 15), utc(10, 30), utc(11, 0)].map((s) => three.endOf(s))).toEqual([
      utc(10, 30),
      utc(11, 0),
      utc(11, 15),
    ]);
  });

  it('a persisted history round-trips through JSON to the same grids', () => {
    const p = new TimeProfile(15, 0).switchTo(60, 10, utc(10, 7));
    const q = new TimeProfile(JSON.parse(JSON.stringify(p.entries)));
    expect(q.entries).toEqual(p.entries);
    for (let t = utc(9, 0); t < utc(13, 0); t += 7 * MINUTE) {
      expect(q.intervalStart(t)).toBe(p.intervalStart(t));
      expect(q.intervalEnd(t)).toBe(p.intervalEnd(t));
    }
  });

  it('refuses a history it would misread', () => {
    expect(() => new TimeProfile([])).toThrow(new RangeError('a time profile needs at least one grid'));
    expect(() => new TimeProfile([{ from: 0, intervalMinutes: 15, offsetMinutes: 0 }])).toThrow(
      new RangeError('the first time profile must have from null, got 0'),
    );
    const first = { from: null, intervalMinutes: 15, offsetMinutes: 0 };
    expect(
      () => new TimeProfile([first, { from: utc(10, 7), intervalMinutes: 30, offsetMinutes: 0 }]),
    ).toThrow(new RangeError(`time profile 1: from ${utc(10, 7)} is not a boundary of its own grid`));
    const later = { from: utc(11, 0), intervalMinutes: 30, offsetMinutes: 0 };
    expect(
      () => new TimeProfile([first, later, { from: utc(10, 0), intervalMinutes: 15, offsetMinutes: 0 }]),
    ).toThrow(
      new RangeError(`time profile 2: from must be an integer after the previous one, got ${utc(10, 0)}`),
    );
    expect(
      () => new TimeProfile([first, { from: utc(11, 0), intervalMinutes: 7, offsetMinutes: 0 }]),
    ).toThrow(new RangeError('intervalMinutes must divide 1440, got 7'));
    expect(() => new TimeProfile(15, 0).switchTo(15, 15, utc(10, 0))).toThrow(
      new RangeError('offsetMinutes must be in [0, intervalMinutes), got 15'),
    );
  });
});
