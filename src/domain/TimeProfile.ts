/**
 * One grid of a site's time-profile history: boundaries every `intervalMinutes`, shifted by
 * `offsetMinutes`, in effect from `from` (epoch ms, a boundary of this grid; `null`: since always)
 * until the next entry's `from`. JSON-safe: a site persists its history.
 */
export interface TimeProfileEntry {
  from: number | null;
  intervalMinutes: number;
  offsetMinutes: number;
}

/**
 * A site's interval grid (Stat Server time profile) on the epoch-millisecond axis: usually one
 * grid, boundaries every `intervalMinutes` shifted by `offsetMinutes`; after a restart with a new
 * profile, a history of grids with switch points. An interval belongs to the grid in effect at its
 * start; the last interval of a grid ends at the next grid's switch point at the latest (it may be
 * cut short there), and the next grid's first interval starts there.
 */
export class TimeProfile {
  /** The profile history, oldest first; the first entry's `from` is null. */
  readonly entries: readonly TimeProfileEntry[];
  // The single-grid case (almost always) computes straight from these, as fast as one grid can.
  readonly #single: boolean;
  readonly #lengthMs: number;
  readonly #offsetMs: number;
  // Per grid of a history, index-aligned; #froms[0] is -Infinity.
  readonly #froms: readonly number[];
  readonly #lengths: readonly number[];
  readonly #offsets: readonly number[];

  /** One grid, in effect since always. Throws RangeError naming the bad value. */
  constructor(intervalMinutes: number, offsetMinutes: number);
  /**
   * A history (as {@link TimeProfile.entries} gives it, e.g. persisted): the first entry's `from`
   * null, later ones increasing, each a boundary of its own grid. Throws RangeError naming the bad
   * value.
   */
  constructor(entries: readonly TimeProfileEntry[]);
  constructor(intervalMinutesOrEntries: number | readonly TimeProfileEntry[], offsetMinutes = 0) {
    const entries: readonly TimeProfileEntry[] =
      typeof intervalMinutesOrEntries === 'number'
        ? [{ from: null, intervalMinutes: intervalMinutesOrEntries, offsetMinutes }]
        : intervalMinutesOrEntries;
    if (entries.length === 0) throw new RangeError('a time profile needs at least one grid');
    const froms: number[] = [];
    const lengths: number[] = [];
    const offsets: number[] = [];
    entries.forEach((entry, i) => {
      const { from, intervalMinutes, offsetMinutes: offset } = entry;
      checkGrid(intervalMinutes, offset);
      const lengthMs = intervalMinutes * 60_000;
      const offsetMs = offset * 60_000;
      if (i === 0) {
        if (from !== null) throw new RangeError(`the first time profile must have from null, got ${from}`);
        froms.push(Number.NEGATIVE_INFINITY);
      } else {
        if (typeof from !== 'number' || !Number.isSafeInteger(from) || from <= froms[i - 1]!) {
          throw new RangeError(
            `time profile ${i}: from must be an integer after the previous one, got ${from}`,
          );
        }
        if (gridStart(from, lengthMs, offsetMs) !== from) {
          throw new RangeError(`time profile ${i}: from ${from} is not a boundary of its own grid`);
        }
        froms.push(from);
      }
      lengths.push(lengthMs);
      offsets.push(offsetMs);
    });
    this.entries = Object.freeze(entries.map((e) => Object.freeze({ ...e })));
    this.#single = entries.length === 1;
    this.#lengthMs = lengths[0]!;
    this.#offsetMs = offsets[0]!;
    this.#froms = froms;
    this.#lengths = lengths;
    this.#offsets = offsets;
  }

  /** The grid configured last (in effect from its `from`, or since always). */
  get latest(): TimeProfileEntry {
    return this.entries[this.entries.length - 1]!;
  }

  /**
   * This history continued with the grid (`intervalMinutes`, `offsetMinutes`) when a site whose
   * event time is `siteTime` restarts with it (DESIGN.md: a changed time profile applies from the
   * next interval boundary). Time before the switch point keeps the grid it had; the switch point
   * is the first boundary of the new grid at or after the end of the interval containing
   * `siteTime`. With no site time yet (`siteTime` < 0), the new grid applies at once and alone.
   * A switch still ahead of `siteTime` (configured by an earlier restart) is replaced. Returns
   * this profile when the grid in effect at `siteTime` is the one asked for and none is pending.
   */
  switchTo(intervalMinutes: number, offsetMinutes: number, siteTime: number): TimeProfile {
    checkGrid(intervalMinutes, offsetMinutes);
    if (siteTime < 0) {
      const only = this.entries.length === 1 ? this.entries[0]! : null;
      return only?.intervalMinutes === intervalMinutes && only.offsetMinutes === offsetMinutes
        ? this
        : new TimeProfile(intervalMinutes, offsetMinutes);
    }
    // Nothing was accounted past the site time, so switches not yet reached can be dropped.
    const kept = this.entries.filter((e) => e.from === null || e.from <= siteTime);
    const current = kept[kept.length - 1]!;
    if (current.intervalMinutes === intervalMinutes && current.offsetMinutes === offsetMinutes) {
      return kept.length === this.entries.length ? this : new TimeProfile(kept);
    }
    const oldEnd = new TimeProfile(kept).intervalEnd(siteTime);
    const grid = new TimeProfile(intervalMinutes, offsetMinutes);
    const from = grid.intervalStart(oldEnd) === oldEnd ? oldEnd : grid.intervalEnd(oldEnd);
    return new TimeProfile([...kept, { from, intervalMinutes, offsetMinutes }]);
  }

  /** Start of the interval that contains `ts`. */
  intervalStart(ts: number): number {
    if (this.#single) return gridStart(ts, this.#lengthMs, this.#offsetMs);
    // A grid's `from` is one of its boundaries: its first interval starts there, never before.
    const i = this.#gridAt(ts);
    return gridStart(ts, this.#lengths[i]!, this.#offsets[i]!);
  }

  /** End (exclusive) of the interval that contains `ts`. */
  intervalEnd(ts: number): number {
    return this.endOf(this.intervalStart(ts));
  }

  /** End (exclusive) of the interval that starts at `start` (a start this profile gave). */
  endOf(start: number): number {
    if (this.#single) return start + this.#lengthMs;
    const i = this.#gridAt(start);
    const end = start + this.#lengths[i]!;
    const next = this.#froms[i + 1];
    return next !== undefined && end > next ? next : end;
  }

  /** The `intervalMinutes` of the grid an interval starting at `start` belongs to. */
  intervalMinutesAt(start: number): number {
    return this.#single
      ? this.entries[0]!.intervalMinutes
      : this.entries[this.#gridAt(start)]!.intervalMinutes;
  }

  /** Index of the grid in effect at `ts` (histories are a handful of entries: a linear scan). */
  #gridAt(ts: number): number {
    let i = this.#froms.length - 1;
    while (ts < this.#froms[i]!) i--;
    return i;
  }
}

function gridStart(ts: number, lengthMs: number, offsetMs: number): number {
  return Math.floor((ts - offsetMs) / lengthMs) * lengthMs + offsetMs;
}

function checkGrid(intervalMinutes: number, offsetMinutes: number): void {
  if (!Number.isInteger(intervalMinutes) || intervalMinutes <= 0 || 1440 % intervalMinutes !== 0) {
    throw new RangeError(`intervalMinutes must divide 1440, got ${intervalMinutes}`);
  }
  if (!Number.isInteger(offsetMinutes) || offsetMinutes < 0 || offsetMinutes >= intervalMinutes) {
    throw new RangeError(`offsetMinutes must be in [0, intervalMinutes), got ${offsetMinutes}`);
  }
}
