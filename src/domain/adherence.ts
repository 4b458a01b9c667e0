import type { ActivityCategory, ActualCategory, AdherenceState, Impact, Presence } from './types.ts';

/** Real-time adherence of one moment. */
export interface AdherenceValue {
  adherenceState: AdherenceState;
  scheduledCategory: ActivityCategory | null;
  actualCategory: ActualCategory;
  impact: Impact;
}

const ACTUAL_BY_PRESENCE: Record<Presence, ActualCategory> = {
  ON_QUEUE: 'OnQueueWork',
  BUSY: 'OffQueueWork',
  BREAK: 'Break',
  MEAL: 'Meal',
  MEETING: 'Meeting',
  TRAINING: 'Training',
  OFFLINE: 'Offline',
};

/** The categories `nonOnQueueActivitiesEquivalent` folds into one. */
const NON_ON_QUEUE = new Set<string>(['Break', 'Meal', 'Meeting', 'Training', 'OffQueueWork']);

/** Actual category of a presence (DESIGN.md "Adherence"). */
export function actualCategory(presence: Presence): ActualCategory {
  return ACTUAL_BY_PRESENCE[presence];
}

/** Does doing `actual` adhere to being scheduled for `scheduled`? */
export function categoriesMatch(
  scheduled: ActivityCategory,
  actual: ActualCategory,
  nonOnQueueActivitiesEquivalent: boolean,
): boolean {
  if (scheduled === 'TimeOff' || scheduled === 'Unavailable') return actual === 'Offline';
  if (scheduled === actual) return true;
  return nonOnQueueActivitiesEquivalent && NON_ON_QUEUE.has(scheduled) && NON_ON_QUEUE.has(actual);
}

/** Adherence of an agent with presence `presence` while scheduled for `scheduled` (null: nothing). */
export function evaluateAdherence(
  scheduled: ActivityCategory | null,
  presence: Presence,
  nonOnQueueActivitiesEquivalent: boolean,
): AdherenceValue {
  const actual = actualCategory(presence);
  if (scheduled === null) {
    return {
      adherenceState: 'Unscheduled',
      scheduledCategory: null,
      actualCategory: actual,
      impact: 'Neutral',
    };
  }
  const adheres = categoriesMatch(scheduled, actual, nonOnQueueActivitiesEquivalent);
  let impact: Impact = 'Neutral';
  if (!adheres && actual === 'OnQueueWork') impact = 'Positive';
  else if (!adheres && scheduled === 'OnQueueWork') impact = 'Negative';
  return {
    adherenceState: adheres ? 'InAdherence' : 'OutOfAdherence',
    scheduledCategory: scheduled,
    actualCategory: actual,
    impact,
  };
}

/** True when two adherence values would publish the same payload (ignoring times). */
export function sameAdherence(a: AdherenceValue, b: AdherenceValue): boolean {
  return (
    a.adherenceState === b.adherenceState &&
    a.scheduledCategory === b.scheduledCategory &&
    a.actualCategory === b.actualCategory &&
    a.impact === b.impact
  );
}
