/**
 * Min-heap of per-agent event-time deadlines, ordered by (deadline, agentId) so that agents due
 * at the same moment are always advanced in the same order (determinism). Keeps one live entry
 * per agent; superseded entries are skipped lazily when they surface.
 */
export class DeadlineQueue {
  #heap: { at: number; agentId: string }[] = [];
  #current = new Map<string, number>();

  /** Number of agents with a deadline. */
  get size(): number {
    return this.#current.size;
  }

  /** Sets (or with null clears) the deadline of an agent. */
  set(agentId: string, at: number | null): void {
    const previous = this.#current.get(agentId);
    if (previous === at) return;
    if (at === null) {
      this.#current.delete(agentId);
      return;
    }
    this.#current.set(agentId, at);
    this.#push({ at, agentId });
  }

  /** Removes and returns the earliest agent due at or before `now`, or undefined. */
  popDue(now: number): { at: number; agentId: string } | undefined {
    while (this.#heap.length > 0) {
      const top = this.#heap[0]!;
      if (top.at > now) return undefined;
      this.#pop();
      if (this.#current.get(top.agentId) === top.at) {
        this.#current.delete(top.agentId);
        return top;
      }
    }
    return undefined;
  }

  #less(a: { at: number; agentId: string }, b: { at: number; agentId: string }): boolean {
    return a.at < b.at || (a.at === b.at && a.agentId < b.agentId);
  }

  #push(entry: { at: number; agentId: string }): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && this.#less(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && this.#less(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  }
}
