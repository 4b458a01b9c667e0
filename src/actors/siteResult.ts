import type { AgentOutput, Output, Rejection } from '../domain/index.ts';

/**
 * A refused input, ready for the DLQ. `ordinal` is its position (0-based) among the DLQ entries
 * of the same input message, so `(tenant, seq, ordinal)` identifies it even when one input yields
 * two (e.g. the input refused and another agent quarantined on the deadline it reached).
 */
export interface DlqEntry {
  tenant: string;
  seq: number;
  ordinal: number;
  subject: string;
  reason: Rejection['reason'];
  detail: string;
}

/** What one input message produced, in production order. */
export interface SiteResult {
  outputs: Output[];
  dlq: DlqEntry[];
}

/**
 * Collects the {@link SiteResult} of one input message of site `tenant`/`site` at a time:
 * {@link begin} starts a message with fresh lists, so a result handed out is never changed.
 */
export class SiteResultCollector {
  readonly #tenant: string;
  readonly #site: string;
  #outputs: Output[] = [];
  #dlq: DlqEntry[] = [];
  #current = { seq: 0, subject: '' };

  constructor(tenant: string, site: string) {
    this.#tenant = tenant;
    this.#site = site;
  }

  /** Starts the collection for input message `seq` on `subject`. */
  begin(seq: number, subject: string): void {
    this.#outputs = [];
    this.#dlq = [];
    this.#current = { seq, subject };
  }

  /** What the current message produced so far. */
  result(): SiteResult {
    return { outputs: this.#outputs, dlq: this.#dlq };
  }

  /** Adds an agent's outputs, numbered in production order. */
  collect(agentId: string, outputs: AgentOutput[]): void {
    const tenant = this.#tenant;
    const site = this.#site;
    for (const output of outputs) {
      this.#outputs.push({
        kind: output.kind,
        tenant,
        site,
        agentId,
        ordinal: this.#outputs.length,
        payload: output.payload,
      } as Output);
    }
  }

  /** Adds a DLQ entry for the current message. */
  reject(rejection: Rejection): void {
    const { seq, subject } = this.#current;
    this.#dlq.push({
      tenant: this.#tenant,
      seq,
      ordinal: this.#dlq.length,
      subject,
      reason: rejection.reason,
      detail: rejection.detail,
    });
  }
}
