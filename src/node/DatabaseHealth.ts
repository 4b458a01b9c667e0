import type { OperationalClock } from '../actors/index.ts';
import type { DatabaseError } from '../errors.ts';

/** How the node's interval sink is doing, as status shows it. */
export type DatabaseState = 'ok' | 'retrying' | 'outage';

/**
 * Whether the interval sink is in an outage (DESIGN guarantee 4): failures with no success
 * between them for `retryMs` (`dbRetrySeconds`) on the operational clock. One per node, shared by
 * every site's writer: one success anywhere ends a failing stretch. Slowness is not failure — a
 * write that waits on a lock is neither — so a slow database never causes an outage.
 */
export class DatabaseHealth {
  readonly #clock: OperationalClock;
  readonly #retryMs: number;
  readonly #onOutage: (error: DatabaseError) => void;
  #failingSince: number | null = null;
  #outage: DatabaseError | null = null;
  /** Failed attempts since the node started. */
  failures = 0;

  constructor(clock: OperationalClock, retryMs: number, onOutage: (error: DatabaseError) => void) {
    this.#clock = clock;
    this.#retryMs = retryMs;
    this.#onOutage = onOutage;
  }

  get state(): DatabaseState {
    if (this.#outage !== null) return 'outage';
    return this.#failingSince === null ? 'ok' : 'retrying';
  }

  /** The error that ended retrying (null: no outage). Once set it stays: the node shuts down. */
  get outage(): DatabaseError | null {
    return this.#outage;
  }

  succeeded(): void {
    if (this.#outage === null) this.#failingSince = null;
  }

  /**
   * Records a failed attempt. Returns true while the caller should retry; false once this is an
   * outage (it is reported once, to `onOutage`).
   */
  failed(error: DatabaseError): boolean {
    this.failures++;
    if (this.#outage !== null) return false;
    const now = this.#clock.now();
    this.#failingSince ??= now;
    if (now - this.#failingSince < this.#retryMs) return true;
    this.#outage = error;
    this.#onOutage(error);
    return false;
  }
}
