import type { Output } from '../domain/index.ts';
import type { DeadLetter } from '../streams/index.ts';

/** What one input of a site produced, kept until its primary is known to have stored it. */
export interface OutboxEntry {
  /** The input's `WFM_IN` sequence. */
  seq: number;
  outputs: readonly Output[];
  letters: readonly DeadLetter[];
}

/**
 * A site's outputs and dead letters of the input after the last confirmed mark (the point up to
 * which its primary has stored everything), primary and backup alike. A primary hands them to the
 * publisher as they come, while its lease permits; a backup keeps them, so that when it takes
 * over it writes exactly those the old primary did not store — however long the gap, with no
 * re-processing. Bounded: past `maxMessages` the oldest are dropped and the outbox is incomplete
 * (a takeover then rebuilds from a checkpoint instead) until a mark passes what was dropped.
 */
export class Outbox {
  readonly #max: number;
  #entries: OutboxEntry[] = [];
  #head = 0;
  // Index (into #entries) of the first entry not yet handed to the publisher.
  #unsent = 0;
  #messages = 0;
  // Input at or before this lost its entry before a mark confirmed it (0: none lost).
  #lostUpTo = 0;

  constructor(maxMessages: number) {
    if (!Number.isInteger(maxMessages) || maxMessages < 1)
      throw new RangeError(`maxMessages must be a positive integer, got ${maxMessages}`);
    this.#max = maxMessages;
  }

  /** Messages held. */
  get size(): number {
    return this.#messages;
  }

  /** Whether it holds every entry after the last mark it was trimmed to. */
  get complete(): boolean {
    return this.#lostUpTo === 0;
  }

  /** Keeps what input `seq` produced (nothing when it produced nothing). */
  push(seq: number, outputs: readonly Output[], letters: readonly DeadLetter[]): void {
    const count = outputs.length + letters.length;
    if (count === 0) return;
    this.#entries.push({ seq, outputs, letters });
    this.#messages += count;
    while (this.#messages > this.#max && this.#head < this.#entries.length) {
      const dropped = this.#entries[this.#head++]!;
      this.#messages -= dropped.outputs.length + dropped.letters.length;
      this.#lostUpTo = Math.max(this.#lostUpTo, dropped.seq);
    }
    this.#unsent = Math.max(this.#unsent, this.#head);
    this.#compact();
  }

  /** Drops what input at or before `seq` produced: its primary stored it. */
  trim(seq: number): void {
    while (this.#head < this.#entries.length && this.#entries[this.#head]!.seq <= seq) {
      const e = this.#entries[this.#head++]!;
      this.#messages -= e.outputs.length + e.letters.length;
    }
    this.#unsent = Math.max(this.#unsent, this.#head);
    if (seq >= this.#lostUpTo) this.#lostUpTo = 0;
    this.#compact();
  }

  /** How many entries wait to be handed to the publisher. */
  unsentCount(): number {
    return this.#entries.length - this.#unsent;
  }

  /** Entries not yet handed to the publisher, in input order; they count as handed from now. */
  takeUnsent(): OutboxEntry[] {
    const out = this.#entries.slice(this.#unsent);
    this.#unsent = this.#entries.length;
    return out;
  }

  /** Every entry held (a new primary checks each against what is stored); all count as handed. */
  takeAll(): OutboxEntry[] {
    const out = this.#entries.slice(this.#head);
    this.#unsent = this.#entries.length;
    return out;
  }

  /**
   * The last `entries` of those just taken were not handed to the publisher after all (its
   * permit ran out on the way): they wait again, in order.
   */
  putBack(entries: number): void {
    const unsent = this.#unsent - entries;
    if (!Number.isInteger(entries) || entries < 0 || unsent < this.#head)
      throw new RangeError(`cannot put back ${entries} entries: ${this.#unsent - this.#head} were taken`);
    this.#unsent = unsent;
  }

  /** Forgets everything (the site's state is rebuilt from a checkpoint). */
  clear(): void {
    this.#entries = [];
    this.#head = 0;
    this.#unsent = 0;
    this.#messages = 0;
    this.#lostUpTo = 0;
  }

  #compact(): void {
    // Amortized: shift the array only when the dropped head is large and at least half of it.
    if (this.#head > 1024 && this.#head * 2 > this.#entries.length) {
      this.#entries = this.#entries.slice(this.#head);
      this.#unsent -= this.#head;
      this.#head = 0;
    }
  }
}
