import { assign, fromPromise, setup } from 'xstate';
import { PublishError } from '../errors.ts';

/** This node's part in a site: it writes (primary) or only keeps its actors current (backup). */
export type SiteRole = 'primary' | 'backup';

/**
 * What a site's lifecycle drives; `SiteRuntime` (src/node) implements it with NATS and the
 * checkpoint store, tests with fakes. The machine decides *when*; these say *how*.
 */
export interface SiteLifecycleServices {
  /**
   * Loads the checkpoint, rebuilds the site's agents from it, finds what the site already wrote
   * after it, and asks for input from the checkpoint on. Rejects when any of that fails.
   */
  restore(): Promise<void>;
  /**
   * Captures the site's state, waits for the acks of what it published before, and commits the
   * capture. Rejects with PublishError when a publish failed (the site must rebuild), with
   * another error when only the commit failed (the captured agents stay dirty; nothing is lost).
   */
  checkpoint(): Promise<void>;
  /** Stops taking input, lets the site's publishes settle and drops its in-memory state. */
  teardown(): Promise<void>;
  /** A final checkpoint where there is state to save, then teardown (a graceful stop). */
  drain(): Promise<void>;
  /** Input is applied only between `accept(true)` and `accept(false)`. */
  accept(on: boolean): void;
  /**
   * A hot backup becomes primary: finds what the old primary stored after its last confirmed
   * mark, so that the site then writes exactly the rest from memory. Rejects when that cannot be
   * exact (too little held, not caught up): the site then rebuilds from its checkpoint instead.
   */
  takeOver(): Promise<void>;
  /** Whether the site's outputs are written (primary) or only computed (backup). */
  setRole(role: SiteRole): void;
  /** Something failed; the machine has decided what to do about it (logged and counted there). */
  failed(stage: FailureStage, error: unknown): void;
}

/** Where a site failed: `takeover` is a hot takeover that falls back to a rebuild. */
export type FailureStage = 'restore' | 'checkpoint' | 'run' | 'takeover';

/** What a site actor starts with. */
export interface SiteMachineInput {
  site: string;
  role: SiteRole;
  services: SiteLifecycleServices;
  /** Checkpoint at least this often (operational time: the actor's clock). */
  checkpointEveryMs: number;
  /** First wait before restoring again after a failure; doubles per failure in a row. */
  retryDelayMs: number;
  /** Longest wait between two tries. */
  maxRetryDelayMs: number;
}

/** The site actor's context. */
export interface SiteContext extends SiteMachineInput {
  /** Failures in a row (reset by a successful checkpoint); sets the retry delay. */
  failures: number;
  lastError: string | null;
  /**
   * A `restart` or `fail` came while restoring: what the restore under way made (settings read,
   * publisher taken) is not current, so the site rebuilds once it ends instead of running on it.
   */
  stale: boolean;
}

/** Events a site actor takes. */
export type SiteEvent =
  /** Write this site's outputs (#5's leader election sends it on winning the lease). */
  | { type: 'promote' }
  /** Stop writing, keep computing (a hot backup). */
  | { type: 'demote' }
  /** Checkpoint now (a message-count trigger). */
  | { type: 'checkpoint' }
  /** Something under the site failed (a publish, the publishing connection): rebuild it. */
  | { type: 'fail'; error: unknown }
  /** Checkpoint, then rebuild from it under the (re-read) settings: `wfm-agg restart`. */
  | { type: 'restart' }
  /** Drain and stop. */
  | { type: 'stop' };

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A site's lifecycle: `restoring` → `running` (role `primary` | `backup`, in parallel with
 * checkpoints `idle` | `flushing`) → `rebuilding` (after a failure, through `waiting`; after a
 * restart, through `restarting`, which checkpoints first) → `restoring` again, or `stopping` →
 * `stopped`.
 * Input flows only in `running`, flushing included: a checkpoint serializes what it writes at
 * capture. A failed publish or connection rebuilds this site alone from its checkpoint; a failed
 * commit keeps running (the agents it carried stay dirty) and counts towards the retry delay.
 * Timing (checkpoint cadence, retry backoff) runs on the actor's clock, so tests drive it with
 * xstate's `SimulatedClock`.
 */
export function createSiteMachine() {
  return setup({
    types: {
      context: {} as SiteContext,
      input: {} as SiteMachineInput,
      events: {} as SiteEvent,
    },
    actors: {
      restore: fromPromise<void, SiteLifecycleServices>(({ input }) => input.restore()),
      checkpoint: fromPromise<void, SiteLifecycleServices>(({ input }) => input.checkpoint()),
      teardown: fromPromise<void, SiteLifecycleServices>(({ input }) => input.teardown()),
      drain: fromPromise<void, SiteLifecycleServices>(({ input }) => input.drain()),
      takeOver: fromPromise<void, SiteLifecycleServices>(({ input }) => input.takeOver()),
    },
    delays: {
      checkpointEvery: ({ context }) => context.checkpointEveryMs,
      retryDelay: ({ context }) =>
        Math.min(context.maxRetryDelayMs, context.retryDelayMs * 2 ** Math.max(0, context.failures - 1)),
    },
    guards: {
      isPrimary: ({ context }) => context.role === 'primary',
      hasFailed: ({ context }) => context.failures > 0,
      isStale: ({ context }) => context.stale,
      publishFailed: ({ event }) => (event as { error?: unknown }).error instanceof PublishError,
    },
    actions: {
      accept: ({ context }) => context.services.accept(true),
      refuse: ({ context }) => context.services.accept(false),
      primary: assign({ role: 'primary' as SiteRole }),
      backup: assign({ role: 'backup' as SiteRole }),
      applyRole: ({ context }) => context.services.setRole(context.role),
      healthy: assign({ failures: 0, lastError: null }),
      fresh: assign({ stale: false }),
      stale: assign({ stale: true }),
      report: ({ context, event }, params: { stage: FailureStage }) =>
        context.services.failed(params.stage, (event as { error?: unknown }).error),
      countFailure: assign(({ context, event }) => ({
        failures: context.failures + 1,
        lastError: describe((event as { error?: unknown }).error),
      })),
    },
  }).createMachine({
    id: 'site',
    initial: 'restoring',
    context: ({ input }) => ({ ...input, failures: 0, lastError: null, stale: false }),
    // The role is remembered in any state; `running` applies it.
    on: {
      promote: { actions: 'primary' },
      demote: { actions: 'backup' },
      stop: '.stopping',
    },
    states: {
      restoring: {
        entry: 'fresh',
        // A restore cannot be stopped halfway (its promise runs on): let it end, then rebuild.
        on: {
          restart: { actions: 'stale' },
          fail: { actions: [{ type: 'report', params: { stage: 'run' } }, 'stale'] },
        },
        invoke: {
          src: 'restore',
          input: ({ context }) => context.services,
          onDone: [{ guard: 'isStale', target: 'rebuilding' }, { target: 'running' }],
          onError: {
            target: 'waiting',
            actions: [{ type: 'report', params: { stage: 'restore' } }, 'countFailure'],
          },
        },
      },
      waiting: {
        after: { retryDelay: 'restoring' },
      },
      running: {
        type: 'parallel',
        entry: 'accept',
        exit: 'refuse',
        on: {
          fail: {
            target: 'rebuilding',
            actions: [{ type: 'report', params: { stage: 'run' } }, 'countFailure'],
          },
          restart: 'restarting',
        },
        states: {
          role: {
            initial: 'choosing',
            states: {
              choosing: {
                always: [{ guard: 'isPrimary', target: 'primary' }, { target: 'backup' }],
              },
              primary: {
                entry: 'applyRole',
                on: { demote: { target: 'backup', actions: 'backup' } },
              },
              backup: {
                entry: 'applyRole',
                on: { promote: { target: 'promoting', actions: 'primary' } },
              },
              promoting: {
                // A hot backup holds what it computed beyond the old primary's last confirmed
                // mark: it reads what was stored after the mark and writes the rest, with no
                // re-processing. When it cannot be exact that way, it rebuilds from its checkpoint
                // (finding what the old primary stored from there) — slower, just as exact.
                on: { demote: { target: 'backup', actions: 'backup' } },
                invoke: {
                  src: 'takeOver',
                  input: ({ context }) => context.services,
                  onDone: 'primary',
                  onError: {
                    target: '#site.rebuilding',
                    actions: { type: 'report', params: { stage: 'takeover' } },
                  },
                },
              },
            },
          },
          checkpoints: {
            initial: 'idle',
            states: {
              idle: {
                after: { checkpointEvery: 'flushing' },
                on: { checkpoint: 'flushing' },
              },
              flushing: {
                invoke: {
                  src: 'checkpoint',
                  input: ({ context }) => context.services,
                  onDone: { target: 'idle', actions: 'healthy' },
                  onError: [
                    {
                      guard: 'publishFailed',
                      target: '#site.rebuilding',
                      actions: [{ type: 'report', params: { stage: 'checkpoint' } }, 'countFailure'],
                    },
                    {
                      target: 'idle',
                      actions: [{ type: 'report', params: { stage: 'checkpoint' } }, 'countFailure'],
                    },
                  ],
                },
              },
            },
          },
        },
      },
      restarting: {
        // A checkpoint first, so the site restarts from where it stands: a changed time profile
        // then starts after every interval already written under the old one.
        invoke: {
          src: 'checkpoint',
          input: ({ context }) => context.services,
          onDone: 'rebuilding',
          onError: { target: 'rebuilding', actions: { type: 'report', params: { stage: 'checkpoint' } } },
        },
      },
      rebuilding: {
        invoke: {
          src: 'teardown',
          input: ({ context }) => context.services,
          onDone: [{ guard: 'hasFailed', target: 'waiting' }, { target: 'restoring' }],
          onError: 'waiting',
        },
      },
      stopping: {
        entry: 'refuse',
        on: { stop: {} },
        invoke: {
          src: 'drain',
          input: ({ context }) => context.services,
          onDone: 'stopped',
          onError: 'stopped',
        },
      },
      stopped: { type: 'final' },
    },
  });
}

/** The site machine type (for the visualizer and tests). */
export type SiteMachine = ReturnType<typeof createSiteMachine>;
