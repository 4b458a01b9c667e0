import type { Decoded } from '../domain/index.ts';
import { MAX_FORWARD_JUMP_MS } from './SiteSupervisor.ts';

/** Where an export of a site's input ends. */
export interface InputCutOptions {
  /**
   * End of the report range (epoch ms, exclusive); null: the export takes every stored message.
   * @defaultValue null
   */
  to: number | null;
  /**
   * How far past `to`, in event time, the input goes on: an interval closes only once the site's
   * event time passes its end by the adherence threshold, so the intervals before `to` need input
   * after it. A what-if threshold up to this margin still closes every interval ending by `to`.
   * @defaultValue 900_000 (15 minutes)
   */
  marginMs: number;
}

/** Defaults of {@link InputCutOptions}. */
export const defaultInputCutOptions: InputCutOptions = { to: null, marginMs: 900_000 };

/**
 * Decides where a site's exported input ends, so a replay of it is exact: the export is always a
 * *prefix* of the site's input in stream order (a replay of a prefix computes exactly what the live
 * node computed from it, DESIGN "Determinism"), the longest one in which the site's event time stays
 * below `to + marginMs`. It follows the site's event time by `SiteSupervisor`'s own rule — the
 * greatest `ts` of accepted stat and clock messages; schedules (no `ts`), commands (an admin's
 * clock), refused input and clock errors (`bad_ts` jumps) do not move it — and the first message
 * that would move it to `to + marginMs` or later ends the prefix, itself excluded.
 */
export class InputCut {
  readonly #limit: number;
  #siteTime = -1;
  #ended = false;

  constructor(options: Partial<InputCutOptions> = {}) {
    const { to, marginMs } = { ...defaultInputCutOptions, ...options };
    if (!Number.isSafeInteger(marginMs) || marginMs < 0) {
      throw new RangeError(`marginMs must be a non-negative integer, got ${marginMs}`);
    }
    this.#limit = to === null ? Number.POSITIVE_INFINITY : to + marginMs;
  }

  /** The site's event time after the admitted messages (-1: none moved it). */
  get siteTime(): number {
    return this.#siteTime;
  }

  /** Whether a message was refused: the prefix is complete. */
  get ended(): boolean {
    return this.#ended;
  }

  /**
   * Whether the next message in stream order belongs to the prefix; once one does not, none
   * after it does.
   */
  admits(decoded: Decoded): boolean {
    if (this.#ended) return false;
    const ts = advancingTs(decoded, this.#siteTime);
    if (ts === null || ts <= this.#siteTime) return true;
    if (ts >= this.#limit) {
      this.#ended = true;
      return false;
    }
    this.#siteTime = ts;
    return true;
  }
}

/** The `ts` by which `decoded` may move the site's event time, or null when it cannot move it. */
function advancingTs(decoded: Decoded, siteTime: number): number | null {
  if (!decoded.ok) return null;
  const event = decoded.event;
  if (event.type === 'schedule' || event.type === 'transfer') return null;
  if (siteTime >= 0 && event.ts > siteTime + MAX_FORWARD_JUMP_MS) return null;
  return event.ts;
}
