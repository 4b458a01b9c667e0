import { describe, expect, it } from 'vitest';
import {
  type Activity,
  categoryAt,
  nextScheduleBoundary,
  replaceSchedule,
  trimSchedule,
} from '../../src/domain/index.ts';
import { act, utc } from '../helpers/agentScenario.ts';

const day: Activity[] = [
  act(utc(9, 0), utc(10, 0), 'OnQueueWork'),
  act(utc(10, 0), utc(10, 15), 'Break'),
  act(utc(10, 15), utc(12, 0), 'OnQueueWork'),
  act(utc(13, 0), utc(14, 0), 'Meal'),
];

describe('categoryAt', () => {
  it('activities are [start, end)', () => {
    expect(categoryAt(day, utc(8, 59, 59, 999))).toBeNull();
    expect(categoryAt(day, utc(9, 0))).toBe('OnQueueWork');
    expect(categoryAt(day, utc(9, 59, 59, 999))).toBe('OnQueueWork');
    expect(categoryAt(day, utc(10, 0))).toBe('Break');
    expect(categoryAt(day, utc(10, 15))).toBe('OnQueueWork');
    expect(categoryAt(day, utc(12, 0))).toBeNull();
    expect(categoryAt(day, utc(12, 30))).toBeNull();
    expect(categoryAt(day, utc(13, 30))).toBe('Meal');
    expect(categoryAt(day, utc(14, 0))).toBeNull();
    expect(categoryAt([], utc(10, 0))).toBeNull();
  });
});

describe('nextScheduleBoundary', () => {
  it('is the first start or end strictly after ts', () => {
    expect(nextScheduleBoundary(day, utc(8, 0))).toBe(utc(9, 0));
    expect(nextScheduleBoundary(day, utc(9, 0))).toBe(utc(10, 0));
    expect(nextScheduleBoundary(day, utc(10, 0))).toBe(utc(10, 15));
    expect(nextScheduleBoundary(day, utc(11, 0))).toBe(utc(12, 0));
    expect(nextScheduleBoundary(day, utc(12, 0))).toBe(utc(13, 0));
    expect(nextScheduleBoundary(day, utc(13, 59))).toBe(utc(14, 0));
    expect(nextScheduleBoundary(day, utc(14, 0))).toBeNull();
    expect(nextScheduleBoundary([], 0)).toBeNull();
  });
});

describe('replaceSchedule', () => {
  it('replaces whatever was in [from, to), cutting activities that straddle the edges', () => {
    expect(replaceSchedule(day, utc(9, 30), utc(10, 30), [act(utc(9, 45), utc(10, 0), 'Meeting')])).toEqual([
      act(utc(9, 0), utc(9, 30), 'OnQueueWork'),
      act(utc(9, 45), utc(10, 0), 'Meeting'),
      act(utc(10, 30), utc(12, 0), 'OnQueueWork'),
      act(utc(13, 0), utc(14, 0), 'Meal'),
    ]);
  });

  it('an activity covering the whole range is split in two', () => {
    expect(replaceSchedule([act(utc(9, 0), utc(12, 0), 'OnQueueWork')], utc(10, 0), utc(11, 0), [])).toEqual([
      act(utc(9, 0), utc(10, 0), 'OnQueueWork'),
      act(utc(11, 0), utc(12, 0), 'OnQueueWork'),
    ]);
  });

  it('keeps activities that only touch the range, and does not change its input', () => {
    const before = structuredClone(day);
    expect(replaceSchedule(day, utc(12, 0), utc(13, 0), [act(utc(12, 0), utc(13, 0), 'Training')])).toEqual([
      ...day.slice(0, 3),
      act(utc(12, 0), utc(13, 0), 'Training'),
      day[3]!,
    ]);
    expect(day).toEqual(before);
  });

  it('an empty range replacement clears it', () => {
    expect(replaceSchedule(day, utc(0, 0), utc(23, 0), [])).toEqual([]);
  });

  it('keeps the code of a cut activity', () => {
    expect(
      replaceSchedule(
        [{ start: utc(9, 0), end: utc(11, 0), category: 'Meeting', code: 'M1' }],
        utc(10, 0),
        utc(12, 0),
        [],
      ),
    ).toEqual([{ start: utc(9, 0), end: utc(10, 0), category: 'Meeting', code: 'M1' }]);
  });
});

describe('trimSchedule', () => {
  it('drops activities that end at or before ts', () => {
    expect(trimSchedule(day, utc(10, 15))).toEqual(day.slice(2));
    expect(trimSchedule(day, utc(10, 14))).toEqual(day.slice(1));
    expect(trimSchedule(day, utc(15, 0))).toEqual([]);
  });
  it('returns the same array when nothing is dropped', () => {
    expect(trimSchedule(day, utc(8, 0))).toBe(day);
  });
});
