import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACTIVITY_CATEGORIES,
  type ActivityCategory,
  actualCategory,
  categoriesMatch,
  evaluateAdherence,
  PRESENCES,
  sameAdherence,
} from '../../src/domain/index.ts';

describe('actualCategory', () => {
  it.each([
    ['ON_QUEUE', 'OnQueueWork'],
    ['BUSY', 'OffQueueWork'],
    ['BREAK', 'Break'],
    ['MEAL', 'Meal'],
    ['MEETING', 'Meeting'],
    ['TRAINING', 'Training'],
    ['OFFLINE', 'Offline'],
  ] as const)('%s → %s', (presence, category) => {
    expect(actualCategory(presence)).toBe(category);
  });
});

describe('categoriesMatch', () => {
  it.each(['TimeOff', 'Unavailable'] as const)('%s matches Offline only', (scheduled) => {
    expect(categoriesMatch(scheduled, 'Offline', false)).toBe(true);
    for (const actual of ['OnQueueWork', 'OffQueueWork', 'Break', 'Meal', 'Meeting', 'Training'] as const) {
      expect(categoriesMatch(scheduled, actual, false)).toBe(false);
      expect(categoriesMatch(scheduled, actual, true)).toBe(false);
    }
  });

  it('OnQueueWork needs OnQueueWork, even with the equivalence option', () => {
    expect(categoriesMatch('OnQueueWork', 'OnQueueWork', false)).toBe(true);
    for (const actual of ['OffQueueWork', 'Break', 'Meal', 'Meeting', 'Training', 'Offline'] as const) {
      expect(categoriesMatch('OnQueueWork', actual, false)).toBe(false);
      expect(categoriesMatch('OnQueueWork', actual, true)).toBe(false);
    }
  });

  it('the same name matches; another off-queue category does not (option off)', () => {
    for (const c of ['Break', 'Meal', 'Meeting', 'Training', 'OffQueueWork'] as const) {
      expect(categoriesMatch(c, c, false)).toBe(true);
    }
    expect(categoriesMatch('Break', 'Meal', false)).toBe(false);
    expect(categoriesMatch('Meeting', 'OffQueueWork', false)).toBe(false);
    expect(categoriesMatch('OffQueueWork', 'Training', false)).toBe(false);
  });

  it('nonOnQueueActivitiesEquivalent folds Break, Meal, Meeting, Training and OffQueueWork', () => {
    const group = ['Break', 'Meal', 'Meeting', 'Training', 'OffQueueWork'] as const;
    for (const s of group) for (const a of group) expect(categoriesMatch(s, a, true)).toBe(true);
    for (const s of group) {
      expect(categoriesMatch(s, 'Offline', true)).toBe(false);
      expect(categoriesMatch(s, 'OnQueueWork', true)).toBe(false);
    }
  });

  it('nothing but TimeOff/Unavailable matches Offline', () => {
    for (const s of ['OnQueueWork', 'Break', 'Meal', 'Meeting', 'OffQueueWork', 'Training'] as const) {
      expect(categoriesMatch(s, 'Offline', true)).toBe(false);
    }
  });
});

describe('evaluateAdherence', () => {
  it('nothing scheduled → Unscheduled, Neutral, scheduledCategory null', () => {
    expect(evaluateAdherence(null, 'ON_QUEUE', false)).toEqual({
      adherenceState: 'Unscheduled',
      scheduledCategory: null,
      actualCategory: 'OnQueueWork',
      impact: 'Neutral',
    });
    expect(evaluateAdherence(null, 'OFFLINE', false)).toEqual({
      adherenceState: 'Unscheduled',
      scheduledCategory: null,
      actualCategory: 'Offline',
      impact: 'Neutral',
    });
  });

  it('on queue as scheduled → InAdherence, Neutral', () => {
    expect(evaluateAdherence('OnQueueWork', 'ON_QUEUE', false)).toEqual({
      adherenceState: 'InAdherence',
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OnQueueWork',
      impact: 'Neutral',
    });
  });

  it('scheduled on queue, on a break → OutOfAdherence, Negative', () => {
    expect(evaluateAdherence('OnQueueWork', 'BREAK', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'Break',
      impact: 'Negative',
    });
  });

  it('scheduled on queue, offline → OutOfAdherence, Negative', () => {
    expect(evaluateAdherence('OnQueueWork', 'OFFLINE', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'Offline',
      impact: 'Negative',
    });
  });

  it('scheduled a break, on queue → OutOfAdherence, Positive', () => {
    expect(evaluateAdherence('Break', 'ON_QUEUE', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'Break',
      actualCategory: 'OnQueueWork',
      impact: 'Positive',
    });
  });

  it('scheduled TimeOff, on queue → OutOfAdherence, Positive', () => {
    expect(evaluateAdherence('TimeOff', 'ON_QUEUE', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'TimeOff',
      actualCategory: 'OnQueueWork',
      impact: 'Positive',
    });
  });

  it('scheduled a break, in a meal → OutOfAdherence, Neutral', () => {
    expect(evaluateAdherence('Break', 'MEAL', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'Break',
      actualCategory: 'Meal',
      impact: 'Neutral',
    });
  });

  it('scheduled a meeting, offline → OutOfAdherence, Neutral', () => {
    expect(evaluateAdherence('Meeting', 'OFFLINE', false)).toEqual({
      adherenceState: 'OutOfAdherence',
      scheduledCategory: 'Meeting',
      actualCategory: 'Offline',
      impact: 'Neutral',
    });
  });

  it('scheduled Unavailable, offline → InAdherence', () => {
    expect(evaluateAdherence('Unavailable', 'OFFLINE', false)).toEqual({
      adherenceState: 'InAdherence',
      scheduledCategory: 'Unavailable',
      actualCategory: 'Offline',
      impact: 'Neutral',
    });
  });

  it('scheduled a break, in a meal, with equivalence → InAdherence', () => {
    expect(evaluateAdherence('Break', 'MEAL', true)).toEqual({
      adherenceState: 'InAdherence',
      scheduledCategory: 'Break',
      actualCategory: 'Meal',
      impact: 'Neutral',
    });
  });

  it('scheduled OffQueueWork, BUSY → InAdherence', () => {
    expect(evaluateAdherence('OffQueueWork', 'BUSY', false)).toEqual({
      adherenceState: 'InAdherence',
      scheduledCategory: 'OffQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Neutral',
    });
  });

  it('property: impact is Positive iff out of adherence and on queue; Negative iff out, scheduled on queue and not on queue', () => {
    fc.assert(
      fc.property(
        fc.option(fc.constantFrom<ActivityCategory>(...ACTIVITY_CATEGORIES), { nil: null }),
        fc.constantFrom(...PRESENCES),
        fc.boolean(),
        (scheduled, presence, eq) => {
          const v = evaluateAdherence(scheduled, presence, eq);
          const out = v.adherenceState === 'OutOfAdherence';
          expect(v.impact === 'Positive').toBe(out && presence === 'ON_QUEUE');
          expect(v.impact === 'Negative').toBe(out && scheduled === 'OnQueueWork' && presence !== 'ON_QUEUE');
          expect(v.adherenceState === 'Unscheduled').toBe(scheduled === null);
        },
      ),
    );
  });
});

describe('sameAdherence', () => {
  const a = evaluateAdherence('Break', 'MEAL', false);
  it('equal values', () => {
    expect(sameAdherence(a, { ...a })).toBe(true);
  });
  it('differs by any of the four fields', () => {
    expect(sameAdherence(a, { ...a, adherenceState: 'InAdherence' })).toBe(false);
    expect(sameAdherence(a, { ...a, scheduledCategory: 'Meal' })).toBe(false);
    expect(sameAdherence(a, { ...a, actualCategory: 'Break' })).toBe(false);
    expect(sameAdherence(a, { ...a, impact: 'Negative' })).toBe(false);
  });
});
