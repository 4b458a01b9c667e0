import { describe, expect, it } from 'vitest';
import { Handback, type HandbackLane } from '../../src/node/Handback.ts';

const STABLE = 6000;
const PLACED = 0;

/** S1, preferred on b, as node a sees it. */
const s1 = (leading: boolean, epoch: number, more: Partial<HandbackLane> = {}): HandbackLane => ({
  lane: 'S1',
  leading,
  epoch,
  leaving: false,
  preferred: 'b',
  ...more,
});

describe('Handback', () => {
  it('hands a lane over once the placement is stable and the lane was led here that long', () => {
    const h = new Handback();
    // Led since t=1000 (first seen then), placement changed at t=4000.
    expect(h.choose([s1(true, 1)], 'a', 1000, 4000, STABLE)).toBeNull();
    expect(h.choose([s1(true, 1)], 'a', 7000, 4000, STABLE)).toBeNull(); // led 6 s, placement 3 s
    expect(h.choose([s1(true, 1)], 'a', 10_000, 4000, STABLE)).toBe('S1');
  });

  it('never hands over a lane it does not lead, that is leaving, unplaced, or preferred here', () => {
    const h = new Handback();
    const lanes = [
      s1(false, 1),
      s1(true, 1, { lane: 'S2', leaving: true }),
      s1(true, 1, { lane: 'S3', preferred: undefined }),
      s1(true, 1, { lane: 'S4', preferred: 'a' }),
    ];
    for (let t = 0; t <= 60_000; t += 3000) expect(h.choose(lanes, 'a', t, PLACED, STABLE)).toBeNull();
  });

  it('does not hand back a lane it just took over (its preferred node died and is starting again)', () => {
    const h = new Handback();
    expect(h.choose([s1(true, 1)], 'a', 0, PLACED, STABLE)).toBeNull();
    expect(h.choose([s1(true, 1)], 'a', 6000, PLACED, STABLE)).toBe('S1');
    // b took it (epoch 2), died; a took it over at epoch 3, seen at the next rebalance.
    expect(h.choose([s1(true, 3)], 'a', 9000, PLACED, STABLE)).toBeNull();
    expect(h.choose([s1(true, 3)], 'a', 12_000, PLACED, STABLE)).toBeNull();
    // Led 6 s under epoch 3: b (started again meanwhile) gets it back, not held for 30 s.
    expect(h.choose([s1(true, 3)], 'a', 15_000, PLACED, STABLE)).toBe('S1');
  });

  it('holds a lane that came back untaken (the epoch right after the one released) for 5 × stableMs', () => {
    const h = new Handback();
    h.choose([s1(true, 1)], 'a', 0, PLACED, STABLE);
    expect(h.choose([s1(true, 1)], 'a', 6000, PLACED, STABLE)).toBe('S1');
    // Nobody claimed it: a claimed it again at epoch 2.
    expect(h.choose([s1(true, 2)], 'a', 9000, PLACED, STABLE)).toBeNull();
    for (let t = 12_000; t < 39_000; t += 3000)
      expect(h.choose([s1(true, 2)], 'a', t, PLACED, STABLE)).toBeNull();
    expect(h.choose([s1(true, 2)], 'a', 39_000, PLACED, STABLE)).toBe('S1');
  });

  it('forgets a lane it stopped leading: led again, it waits stableMs from then', () => {
    const h = new Handback();
    h.choose([s1(true, 1)], 'a', 0, PLACED, STABLE);
    h.choose([s1(false, 1)], 'a', 3000, PLACED, STABLE);
    // Led again under the same epoch number as before (no new claim seen in between): from now.
    expect(h.choose([s1(true, 1)], 'a', 6000, PLACED, STABLE)).toBeNull();
    expect(h.choose([s1(true, 1)], 'a', 9000, PLACED, STABLE)).toBeNull();
    expect(h.choose([s1(true, 1)], 'a', 12_000, PLACED, STABLE)).toBe('S1');
  });

  it('hands over one lane per call', () => {
    const h = new Handback();
    const lanes = [s1(true, 1), s1(true, 1, { lane: 'S2' })];
    h.choose(lanes, 'a', 0, PLACED, STABLE);
    expect(h.choose(lanes, 'a', 6000, PLACED, STABLE)).toBe('S1');
    // S1 went to b (a no longer leads it); S2 next.
    expect(h.choose([s1(false, 1), lanes[1]!], 'a', 9000, PLACED, STABLE)).toBe('S2');
  });
});
