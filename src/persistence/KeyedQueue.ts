/**
 * Runs tasks one at a time per key, each after the ones queued before it under that key settle
 * (a failed task does not stop the next). The stores use it so that a site's read-check-write
 * steps never interleave: commits of one site are stored in call order.
 */
export class KeyedQueue {
  // Per key: the last queued task, settled either way; dropped once nothing follows it.
  readonly #tails = new Map<string, Promise<void>>();

  /** Queues `task` under `key`; settles as it does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const result = (this.#tails.get(key) ?? Promise.resolve()).then(task);
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Whether a task is queued or running under `key`. */
  busy(key: string): boolean {
    return this.#tails.has(key);
  }

  /** Settles once every task queued so far has settled. */
  async idle(): Promise<void> {
    await Promise.all(this.#tails.values());
  }
}
