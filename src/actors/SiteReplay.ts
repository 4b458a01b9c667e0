import {
  type AgentOptions,
  type DecodeOptions,
  decodeInput,
  defaultDecodeOptions,
  type RejectionReason,
  type SiteInputMessage,
} from '../domain/index.ts';
import { SiteSupervisor } from './SiteSupervisor.ts';
import type { SiteResult } from './siteResult.ts';

/** Options of a {@link SiteReplay}: the site's rules, as a node would run it, with any what-if. */
export interface SiteReplayOptions {
  /** The site's agent options (tenant, site, thresholds, mapped reasons, time profile). */
  agent: Partial<AgentOptions> & Pick<AgentOptions, 'tenant' | 'site'>;
  /**
   * How payloads are decoded (`reasonCodeKeyName` from the configuration or a what-if).
   * @defaultValue `defaultDecodeOptions`
   */
  decode: Partial<DecodeOptions>;
}

/**
 * One site's input run again in process: every message goes through `decodeInput` and a fresh
 * `SiteSupervisor` with its agent actors — the very code a node runs — and nothing else: no NATS,
 * no checkpoint, no database. Given the same messages in the same order under the same options it
 * yields the outputs and dead letters the live site produced (DESIGN "Determinism"). Counts what
 * it applied and refused, for the summary.
 */
export class SiteReplay {
  readonly #supervisor: SiteSupervisor;
  readonly #decode: DecodeOptions;
  readonly #dlqByReason = new Map<RejectionReason, number>();
  #applied = 0;
  #firstSeq: number | null = null;
  #outputs = 0;

  /** @throws RangeError naming the option when the agent options are invalid. */
  constructor(options: SiteReplayOptions) {
    this.#decode = { ...defaultDecodeOptions, ...options.decode };
    this.#supervisor = new SiteSupervisor(options.agent);
  }

  /** The options in force, as the supervisor resolved them. */
  get options(): SiteSupervisor['options'] {
    return this.#supervisor.options;
  }

  /** `optionsFingerprint` of the options: equal to a live site's when the rules are the same. */
  get optionsFingerprint(): string {
    return this.#supervisor.optionsFingerprint;
  }

  /**
   * Applies the next message. A message at or below the last applied sequence is ignored (as a
   * site ignores one it already applied) and yields nothing.
   */
  apply(message: SiteInputMessage): SiteResult {
    if (message.seq <= this.#supervisor.seq) return { outputs: [], dlq: [] };
    const decoded = decodeInput(message.subject, message.data, this.#decode);
    const result = this.#supervisor.process(message.seq, message.subject, decoded);
    this.#applied += 1;
    this.#firstSeq ??= message.seq;
    this.#outputs += result.outputs.length;
    for (const entry of result.dlq) {
      this.#dlqByReason.set(entry.reason, (this.#dlqByReason.get(entry.reason) ?? 0) + 1);
    }
    return result;
  }

  /** Messages applied. */
  get applied(): number {
    return this.#applied;
  }

  /** Outputs produced (every kind). */
  get outputs(): number {
    return this.#outputs;
  }

  /** The first and last sequences applied (null: none yet). */
  get seqRange(): { first: number; last: number } | null {
    return this.#firstSeq === null ? null : { first: this.#firstSeq, last: this.#supervisor.seq };
  }

  /** The site's event time after the messages applied (-1: none moved it). */
  get siteTime(): number {
    return this.#supervisor.siteTime;
  }

  /** Dead letters by reason, reasons sorted: what the live node published to `WFM_DLQ` for them. */
  get dlqByReason(): [RejectionReason, number][] {
    return [...this.#dlqByReason].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  }

  /** Dead letters in all. */
  get dlqCount(): number {
    let n = 0;
    for (const count of this.#dlqByReason.values()) n += count;
    return n;
  }

  /** Agent steps taken and how many moved a statechart (the supervisor's counts). */
  get stepCounts(): { steps: number; transitions: number } {
    return this.#supervisor.stepCounts;
  }

  /** Stops the agent actors. */
  stop(): void {
    this.#supervisor.stop();
  }
}
