import type { JetStreamClient } from '@nats-io/jetstream';
import {
  type PipelineMessage,
  type PublishMode,
  PublishPipeline,
  type PublishPipelineOptions,
  type PublishStats,
} from './PublishPipeline.ts';

/**
 * What every publisher of this package shares: one in-flight window (`whenReady`), `flush`,
 * a write/discard mode and counters. Subclasses only say how a value becomes a message.
 */
export abstract class PipelinedPublisher {
  readonly #pipeline: PublishPipeline;

  protected constructor(js: JetStreamClient, stream: string, options: Partial<PublishPipelineOptions>) {
    this.#pipeline = new PublishPipeline(js, stream, options);
  }

  /** Hands one message to the window (built only in write mode). */
  protected submit(build: () => PipelineMessage): void {
    this.#pipeline.submit(build);
  }

  /** Undefined when another publish may go now; otherwise resolves when the window has room. */
  whenReady(): Promise<void> | undefined {
    return this.#pipeline.whenReady();
  }

  /** Awaits every pending ack; rejects with PublishError if any publish since the last flush failed. */
  flush(): Promise<void> {
    return this.#pipeline.flush();
  }

  /** Current mode. */
  get mode(): PublishMode {
    return this.#pipeline.mode;
  }

  /** `write` when this node leads the site, `discard` while it is a backup. */
  setMode(mode: PublishMode): void {
    this.#pipeline.setMode(mode);
  }

  /** Counters since construction. */
  get stats(): PublishStats {
    return this.#pipeline.stats;
  }
}
