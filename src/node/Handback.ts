/** One lane this node hosts, as {@link Handback.choose} sees it at a rebalance. */
export interface HandbackLane {
  lane: string;
  /** This node leads the lane now. */
  leading: boolean;
  /** The epoch this node last held the lane's lease at (a new claim is a new epoch). */
  epoch: number;
  /** The lane is leaving this node (its lease is handed over anyway). */
  leaving: boolean;
  /** The lane's preferred primary by the placement (undefined: not placed). */
  preferred: string | undefined;
}

/**
 * Which lease a node hands to the lane's preferred primary at a rebalance (one per call, every
 * lease period), so leadership moves where the placement wants it without flapping. Pure: the
 * caller passes what it hosts and the time on its operational clock, and releases the lease.
 *
 * A lane is handed over only when
 * - the placement has been stable for `stableMs` (nodes come and go without moving leadership);
 * - this node has led it for `stableMs` under one epoch, as far as rebalances saw. A lane just
 *   taken over — typically from its preferred primary, which died and is starting again within
 *   the membership timeout, so it is still placed — would otherwise go straight back to a node
 *   that cannot take it yet: the lease lies released until this node claims it again (an output
 *   gap of about a second), and that looks like a refusal (below). The takeover bench saw this in
 *   half its rounds: a restarted node got its site back 32 s after it was ready instead of 1–6 s;
 * - it was not handed over in the last `5 × stableMs` and came back: a lane handed over at the
 *   previous call that this node leads again under the epoch right after the one it released
 *   (nobody took it in between) is left alone that long, rather than pausing its outputs every
 *   lease period for a node that cannot take it. One the preferred node did take and lost again
 *   (a later epoch) is not held.
 */
export class Handback {
  #handedOver: { lane: string; epoch: number } | null = null;
  readonly #holdUntil = new Map<string, number>();
  // Per lane this node leads: the epoch, and when a rebalance first saw it lead under it.
  readonly #leadingSince = new Map<string, { epoch: number; since: number }>();

  /**
   * The lane to hand over now (its lease released by the caller), or null.
   * @param placedAt when the placement last changed (operational clock)
   */
  choose(
    lanes: readonly HandbackLane[],
    node: string,
    now: number,
    placedAt: number,
    stableMs: number,
  ): string | null {
    this.#note(lanes, now);
    const last = this.#handedOver;
    this.#handedOver = null;
    if (last !== null) {
      const again = lanes.find((l) => l.lane === last.lane);
      if (again?.leading === true && again.epoch === last.epoch + 1)
        this.#holdUntil.set(last.lane, now + 5 * stableMs);
    }
    if (now - placedAt < stableMs) return null;
    for (const l of lanes) {
      if (l.leaving || !l.leading || l.preferred === undefined || l.preferred === node) continue;
      if ((this.#holdUntil.get(l.lane) ?? Number.NEGATIVE_INFINITY) > now) continue;
      const led = this.#leadingSince.get(l.lane);
      if (led === undefined || now - led.since < stableMs) continue;
      this.#handedOver = { lane: l.lane, epoch: l.epoch };
      return l.lane;
    }
    return null;
  }

  /** Keeps, per lane led, when it was first seen led under its current epoch. */
  #note(lanes: readonly HandbackLane[], now: number): void {
    const led = new Set<string>();
    for (const l of lanes) {
      if (!l.leading) continue;
      led.add(l.lane);
      if (this.#leadingSince.get(l.lane)?.epoch !== l.epoch)
        this.#leadingSince.set(l.lane, { epoch: l.epoch, since: now });
    }
    for (const lane of this.#leadingSince.keys()) if (!led.has(lane)) this.#leadingSince.delete(lane);
  }
}
