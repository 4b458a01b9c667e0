import type { JetStreamClient } from '@nats-io/jetstream';
import type { Subscription } from 'rxjs';
import type { OperationalClock } from '../actors/index.ts';
import { tenantInputFilter } from '../domain/index.ts';
import type { Logger } from '../logging/index.ts';
import { inputMessages, type RawInput } from '../streams/index.ts';
import { InputBatcher } from './InputBatcher.ts';

/** What a {@link SharedInput} needs. */
export interface SharedInputOptions {
  js: JetStreamClient;
  tenant: string;
  logger: Logger;
  /** Routes one input to its site (synchronously); called once per input, in stream order. */
  route: (raw: RawInput) => void;
  /** Backpressure beyond the batcher's own (the publisher's window), or undefined when open. */
  gate: () => Promise<void> | undefined;
  /** Times the reader's watchdog of a silent consumer (the node's operational clock). */
  clock: OperationalClock;
  /** Called when reading failed and starts again (a metric). */
  onRestart: () => void;
}

/**
 * The node's one reader of its tenant's `WFM_IN` input, shared by every site: it reads from the
 * earliest point any site asked for and hands each input, once, to `route`. A site restored from
 * an earlier checkpoint asks for input from there ({@link readFrom}) and the reader goes back;
 * every other site ignores what it already applied, so nothing waits for the restored site.
 */
export class SharedInput {
  readonly #o: SharedInputOptions;
  readonly #batcher: InputBatcher<RawInput>;
  #reader: Subscription | null = null;
  #generation = 0;
  // Every input before this was routed: the next one the reader delivers.
  #next = 1;
  #open = false;
  #stopped = false;
  #wantFrom = Number.POSITIVE_INFINITY;

  constructor(options: SharedInputOptions) {
    this.#o = options;
    this.#batcher = new InputBatcher<RawInput>({ apply: (raw) => this.#deliver(raw) });
  }

  /** Every input at or before this sequence has been routed. */
  get routedSeq(): number {
    return this.#next - 1;
  }

  /**
   * Some site takes input from `seq` on. Before {@link open} the earliest such point is only
   * remembered (a node reads nothing until all its sites are restored).
   */
  readFrom(seq: number): void {
    if (!this.#open) {
      this.#wantFrom = Math.min(this.#wantFrom, seq);
      return;
    }
    if (this.#reader === null || seq < this.#next) this.#start(seq);
  }

  /** Starts reading from the earliest point asked for so far. */
  open(): void {
    this.#open = true;
    if (Number.isFinite(this.#wantFrom)) this.#start(this.#wantFrom);
  }

  /** Stops reading; what was received is applied first. */
  stop(): void {
    this.#stopped = true;
    this.#generation++;
    this.#reader?.unsubscribe();
    this.#reader = null;
    this.#batcher.drainNow();
  }

  #start(seq: number): void {
    if (this.#stopped) return;
    this.#generation++;
    this.#reader?.unsubscribe();
    // What waits unapplied is read again from the new start.
    this.#batcher.clear();
    const generation = this.#generation;
    this.#next = Math.min(this.#next, seq);
    const { js, tenant, logger, clock } = this.#o;
    this.#reader = inputMessages(js, {
      clock,
      filterSubject: tenantInputFilter(tenant),
      startSeq: seq,
      whenReady: () => this.#whenReady(),
      onEvent: (event) => logger.info({ input: event.type, ...event }, 'input consumer'),
    }).subscribe({
      next: (raw) => {
        if (generation === this.#generation) this.#batcher.push(raw);
      },
      error: (err: unknown) => {
        if (generation !== this.#generation) return;
        this.#o.onRestart();
        logger.warn({ err }, 'reading WFM_IN failed; reading again from where it stopped');
        this.#reader = null;
        setTimeout(() => {
          if (this.#reader === null) this.#start(this.#next);
        }, 1000);
      },
    });
  }

  #gate(): Promise<void> | undefined {
    return this.#batcher.whenRoom() ?? this.#o.gate();
  }

  #whenReady(): Promise<void> | undefined {
    const first = this.#gate();
    if (first === undefined) return undefined;
    return (async () => {
      // Each gate may have closed again while we waited: wait until all are open at once.
      for (let g: Promise<void> | undefined = first; g !== undefined; g = this.#gate())
        await g.catch(() => undefined);
    })();
  }

  #deliver(raw: RawInput): void {
    if (raw.seq < this.#next) return; // a rewound reader's repeat of what was routed
    this.#next = raw.seq + 1;
    this.#o.route(raw);
  }
}
