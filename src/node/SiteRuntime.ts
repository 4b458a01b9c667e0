import type { SiteSupervisor } from '../actors/index.ts';
import type { SiteRef } from '../config/index.ts';
import type { Decoded, Output } from '../domain/index.ts';
import type { DeadLetter, PublishedMark } from '../streams/index.ts';

/** This node's part in a site: it writes (primary) or only keeps its actors current (backup). */
export type SiteRole = 'primary' | 'backup';

/** Where a site's outputs and dead letters go. */
export interface SiteSinks {
  output(output: Output, ordinal: number): void;
  deadLetter(letter: DeadLetter): void;
}

/** Counters the node's metrics read. */
export interface SiteCounters {
  events: number;
  outputs: Record<Output['kind'], number>;
  skippedAlreadyPublished: number;
}

/**
 * One site on one node: its supervisor, its role, its checkpoint position, and the published
 * mark that makes re-processing after a restart write nothing twice — outputs at or before the
 * site's last output already in `WFM_OUT` (by source seq, then ordinal) are skipped, whatever
 * the server's duplicate window.
 */
export class SiteRuntime {
  readonly ref: SiteRef;
  supervisor: SiteSupervisor;
  role: SiteRole = 'primary';
  checkpointSeq: number;
  readonly counters: SiteCounters = {
    events: 0,
    outputs: { gc: 0, adherence: 0, interval: 0 },
    skippedAlreadyPublished: 0,
  };
  #mark: PublishedMark | null;
  readonly #sinks: SiteSinks;

  constructor(ref: SiteRef, supervisor: SiteSupervisor, mark: PublishedMark | null, sinks: SiteSinks) {
    this.ref = ref;
    this.supervisor = supervisor;
    this.checkpointSeq = supervisor.seq;
    this.#mark = mark;
    this.#sinks = sinks;
  }

  /**
   * Applies one input for this site and, as primary, hands what it produced to the sinks in
   * order; a backup computes and counts the same but writes nothing.
   */
  apply(seq: number, subject: string, data: Uint8Array, decoded: Decoded): void {
    const result = this.supervisor.process(seq, subject, decoded);
    this.counters.events++;
    const sinks = this.role === 'primary' ? this.#sinks : null;
    for (let ordinal = 0; ordinal < result.outputs.length; ordinal++) {
      const output = result.outputs[ordinal]!;
      this.counters.outputs[output.kind]++;
      if (this.#alreadyPublished(seq, ordinal)) {
        this.counters.skippedAlreadyPublished++;
        continue;
      }
      sinks?.output(output, ordinal);
    }
    if (sinks !== null) for (const entry of result.dlq) sinks.deadLetter({ ...entry, data });
  }

  #alreadyPublished(seq: number, ordinal: number): boolean {
    const mark = this.#mark;
    if (mark === null) return false;
    if (seq < mark.sourceSeq || (seq === mark.sourceSeq && ordinal <= mark.ordinal)) return true;
    if (seq > mark.sourceSeq) this.#mark = null;
    return false;
  }
}
