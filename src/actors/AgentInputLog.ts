/** How many input sequences an {@link AgentInputLog} keeps per agent by default. */
export const AGENT_INPUT_LOG_DEPTH = 20;

/** Most agent ids {@link AgentInputLog.takeChanged} reports at once by default. */
export const CHANGED_AGENTS_MAX = 500;

/**
 * For the visualizer: per agent, the `WFM_IN` sequences of its last inputs (a ring of
 * {@link AGENT_INPUT_LOG_DEPTH}), and which agents were touched since the last
 * {@link takeChanged}. A sequence is kept, not the message: the visualizer reads the message
 * from `WFM_IN` when asked, so an agent costs one slot of a shared `Float64Array` (8 bytes per
 * sequence) plus a map entry, whatever its inputs weigh.
 *
 * Not persisted: it lives in its `SiteSupervisor`, so after a restart, a restore or a rebuild
 * every agent's log starts empty and fills with the inputs applied from then on (what the
 * checkpoint restored is not replayed through it). Sequences retention dropped from `WFM_IN`
 * stay here; the reader leaves their messages out.
 */
export class AgentInputLog {
  readonly depth: number;
  readonly #slots = new Map<string, number>();
  #capacity = 0;
  /** Slot `s` holds its ring at `[s * depth, (s + 1) * depth)`. */
  #seqs = new Float64Array(0);
  /** Per slot: where the next sequence goes. */
  #next = new Uint8Array(0);
  /** Per slot: how many sequences it holds (≤ depth). */
  #count = new Uint8Array(0);
  readonly #changed = new Set<string>();
  readonly #changedMax: number;

  /**
   * @param depth sequences kept per agent, 1..255
   * @param changedMax agent ids reported changed at most per {@link takeChanged}; one more is
   *   collected (to say there were more), so the set never outgrows `changedMax + 1` however
   *   long nobody takes it
   */
  constructor(depth = AGENT_INPUT_LOG_DEPTH, changedMax = CHANGED_AGENTS_MAX) {
    if (!Number.isInteger(depth) || depth < 1 || depth > 255)
      throw new RangeError(`depth must be 1..255, got ${depth}`);
    this.depth = depth;
    this.#changedMax = changedMax;
  }

  /** Number of agents with a log. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Notes that input `seq` touched `agentId`: appends it to the agent's ring (unless it is the
   * last one there already) and marks the agent changed.
   */
  record(agentId: string, seq: number): void {
    if (this.#changed.size <= this.#changedMax) this.#changed.add(agentId);
    let slot = this.#slots.get(agentId);
    if (slot === undefined) {
      slot = this.#slots.size;
      if (slot === this.#capacity) this.#grow();
      this.#slots.set(agentId, slot);
    }
    const depth = this.depth;
    const base = slot * depth;
    const count = this.#count[slot]!;
    const next = this.#next[slot]!;
    if (count > 0 && this.#seqs[base + ((next + depth - 1) % depth)] === seq) return;
    this.#seqs[base + next] = seq;
    this.#next[slot] = (next + 1) % depth;
    if (count < depth) this.#count[slot] = count + 1;
  }

  /** The agent's logged sequences, oldest first (empty: none since this log was made). */
  seqs(agentId: string): number[] {
    const slot = this.#slots.get(agentId);
    if (slot === undefined) return [];
    const depth = this.depth;
    const base = slot * depth;
    const count = this.#count[slot]!;
    const next = this.#next[slot]!;
    const out: number[] = [];
    for (let i = count; i > 0; i--) out.push(this.#seqs[base + ((next - i + depth) % depth)]!);
    return out;
  }

  /**
   * The agents touched since the last call, at most `changedMax` of them in the order first
   * touched, and whether there were more; the set is emptied.
   */
  takeChanged(): { ids: string[]; more: boolean } {
    const ids: string[] = [];
    for (const id of this.#changed) {
      if (ids.length === this.#changedMax) break;
      ids.push(id);
    }
    const more = this.#changed.size > ids.length;
    this.#changed.clear();
    return { ids, more };
  }

  #grow(): void {
    const capacity = Math.max(64, this.#capacity * 2);
    const seqs = new Float64Array(capacity * this.depth);
    seqs.set(this.#seqs);
    const next = new Uint8Array(capacity);
    next.set(this.#next);
    const count = new Uint8Array(capacity);
    count.set(this.#count);
    this.#seqs = seqs;
    this.#next = next;
    this.#count = count;
    this.#capacity = capacity;
  }
}
