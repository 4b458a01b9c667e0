import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

/** Event-loop delay as the metrics show it, in seconds. */
export interface EventLoopDelay {
  /** Longest delay seen since the monitor started. */
  maxSeconds: number;
  /** 99th percentile of the delays seen since the monitor started. */
  p99Seconds: number;
}

/**
 * Watches how late the event loop runs (a stall here delays lease renewals, checkpoints and
 * publishes alike), with Node's sampling histogram at a 10 ms resolution. One per node, from its
 * start to its stop; the values stay readable after {@link stop}.
 */
export class EventLoopMonitor {
  readonly #histogram: IntervalHistogram;
  #running = false;

  constructor(resolutionMs = 10) {
    this.#histogram = monitorEventLoopDelay({ resolution: resolutionMs });
  }

  /** Starts sampling (again: a stopped monitor keeps what it saw and adds to it). */
  start(): void {
    if (this.#running) return;
    this.#histogram.enable();
    this.#running = true;
  }

  /** Stops sampling; what was seen stays. */
  stop(): void {
    if (!this.#running) return;
    this.#histogram.disable();
    this.#running = false;
  }

  /** What it saw so far (zeros before the first sample). */
  delay(): EventLoopDelay {
    const h = this.#histogram;
    // An empty histogram's percentiles are not 0 (its lowest bucket): report none as zeros.
    if (h.count === 0) return { maxSeconds: 0, p99Seconds: 0 };
    // The histogram counts nanoseconds.
    return { maxSeconds: h.max / 1e9, p99Seconds: h.percentile(99) / 1e9 };
  }
}
