import { describe, expect, it } from 'vitest';
import { TimeProfile } from '../../src/domain/index.ts';
import { utc } from '../helpers/agentScenario.ts';

describe('TimeProfile', () => {
  it('15-minute intervals, no offset', () => {
    const p = new TimeProfile(15, 0);
    expect(p.lengthMs).toBe(900_000);
    expect(p.offsetMs).toBe(0);
    expect(p.intervalStart(utc(10, 0))).toBe(utc(10, 0));
    expect(p.intervalStart(utc(10, 14, 59, 999))).toBe(utc(10, 0));
    expect(p.intervalStart(utc(10, 15))).toBe(utc(10, 15));
    expect(p.intervalEnd(utc(10, 7))).toBe(utc(10, 15));
  });

  it('15-minute intervals offset by 5 minutes: boundaries at :05, :20, :35, :50', () => {
    const p = new TimeProfile(15, 5);
    expect(p.offsetMs).toBe(300_000);
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
