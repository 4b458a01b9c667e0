/**
 * A site's interval grid (Stat Server time profile): boundaries every `intervalMinutes`,
 * shifted by `offsetMinutes`, on the epoch-millisecond axis.
 */
export class TimeProfile {
  readonly intervalMinutes: number;
  readonly lengthMs: number;
  readonly offsetMs: number;

  constructor(intervalMinutes: number, offsetMinutes: number) {
    if (!Number.isInteger(intervalMinutes) || intervalMinutes <= 0 || 1440 % intervalMinutes !== 0) {
      throw new RangeError(`intervalMinutes must divide 1440, got ${intervalMinutes}`);
    }
    if (!Number.isInteger(offsetMinutes) || offsetMinutes < 0 || offsetMinutes >= intervalMinutes) {
      throw new RangeError(`offsetMinutes must be in [0, intervalMinutes), got ${offsetMinutes}`);
    }
    this.intervalMinutes = intervalMinutes;
    this.lengthMs = intervalMinutes * 60_000;
    this.offsetMs = offsetMinutes * 60_000;
  }

  /** Start of the interval that contains `ts`. */
  intervalStart(ts: number): number {
    return Math.floor((ts - this.offsetMs) / this.lengthMs) * this.lengthMs + this.offsetMs;
  }

  /** End (exclusive) of the interval that contains `ts`. */
  intervalEnd(ts: number): number {
    return this.intervalStart(ts) + this.lengthMs;
  }
}
