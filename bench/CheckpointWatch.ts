/**
 * The latency bench's view of a node's checkpoints: `/metrics` polled every METRICS_POLL_MS for
 * the checkpoint counters; the time around each checkpoint (its duration before the poll that
 * saw it, and the poll interval) is a checkpoint window, so a latency can be told apart by whether
 * its input was due inside one.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { metric, metricsText, SITE } from './nodeBench.ts';

const METRICS_POLL_MS = 100;

/** Checkpoint completions seen on `/metrics`: [window start, window end] in performance.now() ms. */
export class CheckpointWatch {
  readonly windows: [number, number][] = [];
  #count = 0;
  #secs = 0;
  #stopped = false;
  readonly #loop: Promise<void>;

  constructor(url: string) {
    this.#loop = (async () => {
      let lastPoll = performance.now();
      while (!this.#stopped) {
        const text = await metricsText(url).catch(() => '');
        const now = performance.now();
        const count = metric(text, 'wfm_checkpoints_total', { site: SITE });
        const secs = metric(text, 'wfm_checkpoint_seconds_total', { site: SITE });
        if (count !== undefined && secs !== undefined) {
          if (count > this.#count && this.#count > 0) {
            // One or more checkpoints finished since the last poll, taking `took` ms in all.
            const took = ((secs - this.#secs) * 1000) / (count - this.#count);
            this.windows.push([lastPoll - took, now]);
          }
          this.#count = count;
          this.#secs = secs;
        }
        lastPoll = now;
        await sleep(METRICS_POLL_MS);
      }
    })();
  }

  inWindow(t: number): boolean {
    for (let i = this.windows.length - 1; i >= 0; i--) {
      const [a, b] = this.windows[i]!;
      if (t >= a && t <= b) return true;
      if (b < t) return false;
    }
    return false;
  }

  /** ms from `t` to the nearest window (0 inside one). */
  distance(t: number): number {
    let best = Number.POSITIVE_INFINITY;
    for (const [a, b] of this.windows) best = Math.min(best, t < a ? a - t : t > b ? t - b : 0);
    return best;
  }

  /** Windows overlapping [from, to]: how many, and their total length inside it. */
  within(from: number, to: number): { count: number; ms: number } {
    let count = 0;
    let ms = 0;
    for (const [a, b] of this.windows) {
      if (b < from || a > to) continue;
      count++;
      ms += Math.min(b, to) - Math.max(a, from);
    }
    return { count, ms };
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
  }
}
