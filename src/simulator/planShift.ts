import type { Activity, ActivityCategory } from '../domain/index.ts';
import type { SeededRandom } from './SeededRandom.ts';

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Length of every simulated shift, breaks and meal included. */
export const SHIFT_MS = 8 * HOUR;

/** One agent's working day as scheduled. */
export interface ShiftPlan {
  /** The whole shift is `TimeOff`: the agent stays logged off. */
  timeOff: boolean;
  start: number;
  end: number;
  /** Sorted, disjoint, covering `[start, end)` exactly. */
  activities: Activity[];
}

/** How likely a day is: time off, or with an extra off-queue activity. */
const TIME_OFF_CHANCE = 0.06;
const EXTRA_ACTIVITIES: ReadonlyArray<{
  category: ActivityCategory;
  code: string;
  minutes: number[];
  chance: number;
}> = [
  { category: 'Meeting', code: 'TeamMeeting', minutes: [30, 60], chance: 0.2 },
  { category: 'Training', code: 'Coaching', minutes: [60], chance: 0.12 },
  { category: 'OffQueueWork', code: 'Email', minutes: [30, 45, 60], chance: 0.1 },
];

/**
 * A realistic 8-hour shift starting at `start`: two 15-minute breaks around hours 2 and 6, a
 * 30-minute meal around hour 4, sometimes a meeting, training or off-queue work, and on-queue
 * work in between; or, now and then, a day of time off. Offsets are on a 15-minute grid.
 */
export function planShift(rng: SeededRandom, start: number): ShiftPlan {
  const end = start + SHIFT_MS;
  if (rng.chance(TIME_OFF_CHANCE)) {
    return { timeOff: true, start, end, activities: [{ start, end, category: 'TimeOff', code: 'Vacation' }] };
  }
  // [startMinute, endMinute, category, code] relative to the shift start, kept sorted below.
  const blocks: Array<{ from: number; to: number; category: ActivityCategory; code: string }> = [];
  const place = (from: number, minutes: number, category: ActivityCategory, code: string): void => {
    blocks.push({ from, to: from + minutes, category, code });
  };
  place(rng.pick([105, 120, 135]), 15, 'Break', 'Break');
  place(rng.pick([210, 225, 240, 255, 270]), 30, 'Meal', 'Lunch');
  place(rng.pick([345, 360, 375]), 15, 'Break', 'Break');
  for (const extra of EXTRA_ACTIVITIES) {
    if (!rng.chance(extra.chance)) continue;
    const minutes = rng.pick(extra.minutes);
    // A few tries at a free slot; a crowded day simply goes without.
    for (let attempt = 0; attempt < 8; attempt++) {
      const from = 15 * rng.int(2, (480 - minutes - 15) / 15);
      const to = from + minutes;
      if (blocks.every((b) => to <= b.from || from >= b.to)) {
        place(from, minutes, extra.category, extra.code);
        break;
      }
    }
  }
  blocks.sort((a, b) => a.from - b.from);

  const activities: Activity[] = [];
  let cursor = 0;
  for (const block of blocks) {
    if (block.from > cursor) activities.push(onQueue(start, cursor, block.from));
    activities.push({
      start: start + block.from * MINUTE,
      end: start + block.to * MINUTE,
      category: block.category,
      code: block.code,
    });
    cursor = block.to;
  }
  if (cursor < SHIFT_MS / MINUTE) activities.push(onQueue(start, cursor, SHIFT_MS / MINUTE));
  return { timeOff: false, start, end, activities };
}

function onQueue(shiftStart: number, fromMinute: number, toMinute: number): Activity {
  return {
    start: shiftStart + fromMinute * MINUTE,
    end: shiftStart + toMinute * MINUTE,
    category: 'OnQueueWork',
  };
}
