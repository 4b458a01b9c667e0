/**
 * A small, fast, seeded pseudo-random generator (mulberry32) so simulated traffic is a pure
 * function of its seed. Not for cryptography.
 */
export class SeededRandom {
  private state: number;

  /** `seed` is any 32-bit integer; use `SeededRandom.derive` to make one from several parts. */
  constructor(seed: number) {
    this.state = seed | 0;
  }

  /**
   * A 32-bit seed from any mix of numbers and strings (FNV-1a over their text, then a splitmix32
   * finisher), so nearby inputs give unrelated streams.
   */
  static derive(...parts: ReadonlyArray<number | string>): number {
    let h = 0x811c9dc5;
    const text = parts.map(String).join('\u0000');
    for (let i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h = Math.imul(h ^ (h >>> 16), 0x21f0aaad);
    h = Math.imul(h ^ (h >>> 15), 0x735a2d97);
    return (h ^ (h >>> 15)) | 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Exponentially distributed integer with the given mean, clamped to [min, max]. */
  exp(mean: number, min: number, max: number): number {
    const value = Math.round(-mean * Math.log(1 - this.next()));
    return Math.min(max, Math.max(min, value));
  }
}
