import type { SiteLifecycleServices, SiteRole } from '../../src/actors/siteMachine.ts';

/** The services a site machine drives that return a promise. */
export type AsyncService = 'restore' | 'checkpoint' | 'teardown' | 'drain' | 'takeOver';

type Stage = Parameters<SiteLifecycleServices['failed']>[0];

interface Deferred {
  resolve(): void;
  reject(error: unknown): void;
}

/**
 * `SiteLifecycleServices` for tests: every call is recorded in order in `calls` (e.g. `'restore'`,
 * `'accept(true)'`, `'setRole(primary)'`, `'failed(checkpoint)'`; the errors `failed` got are in
 * `errors`), and each promise stays pending until the test settles it with `resolve` / `reject`
 * (oldest call first), so the test decides exactly when a restore, checkpoint, teardown or drain
 * ends.
 */
export class FakeSiteServices implements SiteLifecycleServices {
  readonly calls: string[] = [];
  readonly errors: Array<{ stage: Stage; error: unknown }> = [];
  readonly #pending: Record<AsyncService, Deferred[]> = {
    restore: [],
    checkpoint: [],
    teardown: [],
    drain: [],
    takeOver: [],
  };

  restore(): Promise<void> {
    return this.#call('restore');
  }

  checkpoint(): Promise<void> {
    return this.#call('checkpoint');
  }

  teardown(): Promise<void> {
    return this.#call('teardown');
  }

  drain(): Promise<void> {
    return this.#call('drain');
  }

  takeOver(): Promise<void> {
    return this.#call('takeOver');
  }

  accept(on: boolean): void {
    this.calls.push(`accept(${on})`);
  }

  setRole(role: SiteRole): void {
    this.calls.push(`setRole(${role})`);
  }

  failed(stage: Stage, error: unknown): void {
    this.calls.push(`failed(${stage})`);
    this.errors.push({ stage, error });
  }

  /** How many calls of `service` have not been settled yet. */
  pending(service: AsyncService): number {
    return this.#pending[service].length;
  }

  /** Resolves the oldest unsettled call of `service`; throws when there is none. */
  resolve(service: AsyncService): void {
    this.#take(service).resolve();
  }

  /** Rejects the oldest unsettled call of `service` with `error`; throws when there is none. */
  reject(service: AsyncService, error: unknown): void {
    this.#take(service).reject(error);
  }

  /** The calls recorded since the last `takeCalls()` (or the start), and forgets them. */
  takeCalls(): string[] {
    return this.calls.splice(0);
  }

  #call(service: AsyncService): Promise<void> {
    this.calls.push(service);
    return new Promise<void>((resolve, reject) => {
      this.#pending[service].push({ resolve: () => resolve(), reject });
    });
  }

  #take(service: AsyncService): Deferred {
    const deferred = this.#pending[service].shift();
    if (deferred === undefined) throw new Error(`no ${service} call is pending`);
    return deferred;
  }
}

/**
 * Lets every settled promise's reactions run (the machine hears of a resolved service a few
 * microtasks later) without letting any time pass: no timers, no sleeps.
 */
export async function flush(): Promise<void> {
  for (let i = 0; i < 50; i++) await Promise.resolve();
}
