import { assign, fromPromise, setup } from 'xstate';
import type { OperationalClock } from './OperationalClock.ts';

/** A site's lease as a watcher last saw it (the fields the election decides on). */
export interface ObservedLease {
  /** The value's revision (0: the key was never written). */
  revision: number;
  /** The node named in the lease (null: no readable lease). */
  holder: string | null;
  epoch: number;
  /** The holder stopped writing and gave the lease up. */
  released: boolean;
  /** The node it was handed to, when released. */
  to?: string;
}

/** Why a primary stops writing. */
export type DemoteReason = 'lost' | 'superseded' | 'fenced' | 'released';

/**
 * What the election drives; `SiteElection` (src/node) implements it with `WFM_LEADER` and the
 * site's runtime, tests with fakes. Writes are compare-and-sets on the revision: each resolves
 * with the new revision, or null when another write got there first.
 */
export interface ElectionServices {
  /** Writes a lease held by this node at `epoch`, if the key is still at `expected`. */
  claim(epoch: number, expected: number): Promise<number | null>;
  /** Writes the held lease again (a heartbeat, with the site's latest confirmed mark). */
  renew(epoch: number, expected: number): Promise<number | null>;
  /**
   * Stops the site writing, lets what it sent settle, and writes the lease released (to the
   * replica that should lead next).
   */
  release(epoch: number, expected: number): Promise<number | null>;
  /** Whether this replica may lead now (running, and caught up with the holder's mark). */
  ready(): boolean;
  /**
   * The lease is free and this replica has not been {@link ready} to lead for `forMs` (said once
   * per wait): while that lasts and no other replica claims, the site has no leader. Say why.
   */
  cannotLead(forMs: number): void;
  /**
   * Whether the holder's process is known alive though its renewals are silent (its main thread
   * busy): then the lease is not taken from it yet. Its permit still runs out, so it writes
   * nothing meanwhile; a process silent altogether, or stalled too long, is not alive.
   */
  holderAlive(holder: string): boolean;
  /** How long this replica waits before it claims a vacant lease (its rank among the replicas). */
  stagger(lease: ObservedLease): number;
  /**
   * The site becomes primary at `epoch`; it may write until `validUntil` (this clock).
   * `resumesFrom`: when the compare-and-set that won it named this node's own lease at the epoch
   * it held last, that epoch — nobody held the lease in between, so nothing but this node wrote
   * the site's output since; otherwise 0.
   */
  promote(epoch: number, validUntil: number, resumesFrom: number): void;
  /** The lease was renewed: the site may write until `validUntil`. */
  renewed(validUntil: number): void;
  /** The site stops writing (it stays a hot backup). */
  demote(reason: DemoteReason): void;
}

/** What an election actor starts with. */
export interface ElectionInput {
  /** This node. */
  node: string;
  services: ElectionServices;
  clock: OperationalClock;
  /** The holder renews this often. */
  renewEveryMs: number;
  /**
   * A holder writes for at most this long after it sent its last successful renewal; shorter
   * than `silenceMs`, so it has stopped before any watcher may claim.
   */
  permitMs: number;
  /** A watcher that hears nothing from the holder for this long claims the lease. */
  silenceMs: number;
  /** How often a replica not yet caught up checks again. */
  retryMs: number;
  /**
   * How long a watcher defers to a holder whose renewals stopped but whose process is alive (a
   * busy event loop catches up and renews): past this it claims anyway. A lane that cannot lead
   * on a live node — its restore failing again and again — would otherwise leave the site
   * without a leader for as long as that node lives.
   */
  maxSuspectMs: number;
  /** The lease as read before the election starts (so it never mistakes a held lease for vacant). */
  initial: ObservedLease;
}

/** The election actor's context. */
export interface ElectionContext extends ElectionInput {
  observed: ObservedLease;
  /** The epoch this node holds (0: none yet). */
  epoch: number;
  /** The revision of this node's last write of its lease. */
  revision: number;
  validUntil: number;
  /** When the renewal in flight was sent. */
  sentAt: number;
  /** The epoch the claim in flight asks for. */
  claiming: number;
  /** The epoch this node held last when the claim in flight names that lease of its own (else 0). */
  resuming: number;
  stopping: boolean;
  /** A claim expecting this revision was refused: it is not vacant, whatever it looked like. */
  refused: number;
  /**
   * Since when this watcher defers to a silent, live holder (see `maxSuspectMs`); null while it
   * has heard the holder renew since. A holder that only takes its own lease again at new epochs
   * renews nothing, so the wait keeps counting through its claims.
   */
  deferringSince: number | null;
}

/** Events an election actor takes. */
export type ElectionEvent =
  /** The watcher saw a value of the key (every change, own writes included). */
  | { type: 'observed'; lease: ObservedLease }
  /** A write of the site was refused by the fence: stop leading. */
  | { type: 'fenced' }
  /** Hand leadership over now (a rebalance): release the lease and follow. */
  | { type: 'release' }
  /** Hand over if leading, then stop (SIGTERM). */
  | { type: 'stop' };

/** The lease of a key never written. */
export const VACANT_LEASE: ObservedLease = { revision: 0, holder: null, epoch: 0, released: false };

/**
 * How long a free lease may wait for this replica to become ready before it says why it cannot
 * lead: a lease (`silenceMs` is a quarter of one).
 */
function unremarkedMs(context: ElectionContext): number {
  return context.silenceMs * 4;
}

/**
 * A site's leader election over its lease in `WFM_LEADER` (DESIGN guarantee 2): `following`
 * (the holder renews; silence for `silenceMs` on this node's clock makes the lease vacant,
 * unless the holder's process is known alive and only busy: `suspecting`) →
 * `candidate` (waits its stagger, so the first-ranked replica wins cleanly) → `campaigning`
 * (compare-and-set of epoch + 1) → `leading` (renews every `renewEveryMs`; may write only until
 * `permitMs` after its last successful renewal was sent) → back to `following` when superseded,
 * fenced, out of permit, or after releasing the lease on `release` / `stop`.
 * Liveness never depends on KV expiry (no tombstone on nats-server 2.9): only on renewals heard.
 */
export function createElectionMachine() {
  return setup({
    types: {
      context: {} as ElectionContext,
      input: {} as ElectionInput,
      events: {} as ElectionEvent,
    },
    actors: {
      claim: fromPromise<number | null, { s: ElectionServices; epoch: number; expected: number }>(
        ({ input }) => input.s.claim(input.epoch, input.expected),
      ),
      renew: fromPromise<number | null, { s: ElectionServices; epoch: number; expected: number }>(
        ({ input }) => input.s.renew(input.epoch, input.expected),
      ),
      release: fromPromise<number | null, { s: ElectionServices; epoch: number; expected: number }>(
        ({ input }) => input.s.release(input.epoch, input.expected),
      ),
    },
    delays: {
      silence: ({ context }) => context.silenceMs,
      stagger: ({ context }) => context.services.stagger(context.observed),
      retry: ({ context }) => context.retryMs,
      unready: ({ context }) => unremarkedMs(context),
      renewEvery: ({ context }) => context.renewEveryMs,
      permitLeft: ({ context }) => Math.max(0, context.validUntil - context.clock.now()),
    },
    guards: {
      // Its own lease (an earlier epoch of this node, or of its previous process) is vacant too:
      // it may claim it again at once, by compare-and-set like any claim.
      vacant: ({ context }) =>
        context.observed.revision !== context.refused &&
        (context.observed.revision === 0 ||
          context.observed.holder === null ||
          context.observed.holder === context.node ||
          context.observed.released),
      holderAlive: ({ context }) =>
        context.observed.holder !== null && context.services.holderAlive(context.observed.holder),
      stillDeferring: ({ context }) =>
        context.observed.holder !== null &&
        context.services.holderAlive(context.observed.holder) &&
        context.clock.now() - (context.deferringSince ?? context.clock.now()) < context.maxSuspectMs,
      ready: ({ context }) => context.services.ready(),
      stopping: ({ context }) => context.stopping,
      refused: ({ event }) => (event as unknown as { output: number | null }).output === null,
      supersedes: ({ context, event }) => {
        const lease = (event as { lease: ObservedLease }).lease;
        return (
          lease.revision > context.revision &&
          (lease.holder !== context.node || lease.epoch !== context.epoch)
        );
      },
    },
    actions: {
      observe: assign(({ context, event }) => {
        const lease = (event as { lease: ObservedLease }).lease;
        // A node whose answers come back after its permit ran out wins claims it cannot use, over
        // and over: each is a new value, but no renewal, so the wait for it goes on counting.
        const reclaimed =
          !lease.released &&
          lease.holder !== null &&
          lease.holder === context.observed.holder &&
          lease.epoch > context.observed.epoch;
        return { observed: lease, deferringSince: reclaimed ? context.deferringSince : null };
      }),
      ownEcho: assign(({ context, event }) => {
        const lease = (event as { lease: ObservedLease }).lease;
        // A renewal that timed out here may still have been written: its echo says so.
        return lease.holder === context.node &&
          lease.epoch === context.epoch &&
          lease.revision > context.revision
          ? { observed: lease, revision: lease.revision }
          : { observed: lease };
      }),
      sending: assign({ sentAt: ({ context }) => context.clock.now() }),
      suspect: assign({ deferringSince: ({ context }) => context.deferringSince ?? context.clock.now() }),
      claiming: assign(({ context }) => ({
        sentAt: context.clock.now(),
        claiming: context.observed.epoch + 1,
        // The claim expects the revision of this value: if it wins, the key went from this
        // node's own lease straight to its next one (released or not; a refused claim leads to
        // nothing).
        resuming:
          context.observed.holder === context.node && context.observed.epoch === context.epoch
            ? context.epoch
            : 0,
      })),
      won: assign(({ context, event }) => {
        const revision = (event as unknown as { output: number }).output;
        const epoch = context.claiming;
        return {
          epoch,
          revision,
          validUntil: context.sentAt + context.permitMs,
          observed: { revision, holder: context.node, epoch, released: false },
        };
      }),
      promote: ({ context }) => context.services.promote(context.epoch, context.validUntil, context.resuming),
      renewed: assign(({ context, event }) => {
        const revision = (event as unknown as { output: number }).output;
        // Its own write is the key's value now, whether or not the watcher echoed it yet.
        return {
          revision,
          validUntil: context.sentAt + context.permitMs,
          observed:
            revision > context.observed.revision ? { ...context.observed, revision } : context.observed,
        };
      }),
      notifyRenewed: ({ context }) => context.services.renewed(context.validUntil),
      demote: ({ context }, params: { reason: DemoteReason }) => context.services.demote(params.reason),
      cannotLead: ({ context }) => context.services.cannotLead(unremarkedMs(context)),
      markStopping: assign({ stopping: true }),
      noteRefused: assign({ refused: ({ context }) => context.observed.revision }),
      // What it wrote releasing, as a watcher will see it (its own echo may come later).
      released: assign(({ context, event }) => {
        const revision = (event as unknown as { output: number | null }).output;
        return revision === null
          ? { refused: context.observed.revision }
          : { observed: { revision, holder: context.node, epoch: context.epoch, released: true } };
      }),
    },
  }).createMachine({
    id: 'election',
    initial: 'following',
    context: ({ input }) => ({
      ...input,
      observed: input.initial,
      epoch: 0,
      revision: 0,
      validUntil: 0,
      sentAt: 0,
      claiming: 0,
      resuming: 0,
      stopping: false,
      refused: -1,
      deferringSince: null,
    }),
    on: { stop: '.stopped' },
    states: {
      following: {
        always: { guard: 'vacant', target: 'candidate' },
        // Every value heard restarts the silence timer: the holder is alive while it renews.
        after: {
          silence: [
            { guard: 'holderAlive', target: 'suspecting', actions: 'suspect' },
            { target: 'candidate' },
          ],
        },
        on: { observed: { target: 'following', reenter: true, actions: 'observe' } },
      },
      suspecting: {
        // Silent renewals from a live, busy process: look again shortly — for `maxSuspectMs`.
        after: {
          retry: [{ guard: 'stillDeferring', target: 'suspecting', reenter: true }, { target: 'candidate' }],
        },
        on: { observed: { target: 'following', actions: 'observe' } },
      },
      candidate: {
        after: { stagger: [{ guard: 'ready', target: 'campaigning' }, { target: 'catchingUp' }] },
        on: { observed: { target: 'following', actions: 'observe' } },
      },
      catchingUp: {
        // Only a replica that has applied what the holder confirmed may lead: it then writes
        // exactly what is missing instead of re-deriving it. Waiting a whole lease for that is
        // said once (the checks re-enter only `waiting`, so this timer runs from the first).
        initial: 'waiting',
        after: { unready: { actions: 'cannotLead' } },
        states: {
          waiting: {
            after: {
              retry: [
                { guard: 'ready', target: '#election.campaigning' },
                { target: 'waiting', reenter: true },
              ],
            },
          },
        },
        on: { observed: { target: 'following', actions: 'observe' } },
      },
      campaigning: {
        entry: 'claiming',
        on: { observed: { actions: 'observe' } },
        invoke: {
          src: 'claim',
          input: ({ context }) => ({
            s: context.services,
            epoch: context.claiming,
            expected: context.observed.revision,
          }),
          onDone: [
            { guard: 'refused', target: 'following', actions: 'noteRefused' },
            { target: 'leading', actions: 'won' },
          ],
          // Unanswered: it may or may not have been written; what the watcher sees next tells,
          // or the silence runs out again (no tight retry loop against a struggling server).
          onError: { target: 'following', actions: 'noteRefused' },
        },
      },
      leading: {
        entry: 'promote',
        initial: 'holding',
        on: {
          observed: [
            {
              guard: 'supersedes',
              target: 'following',
              actions: ['observe', { type: 'demote', params: { reason: 'superseded' } }],
            },
            { actions: 'ownEcho' },
          ],
          fenced: { target: 'following', actions: { type: 'demote', params: { reason: 'fenced' } } },
          release: 'releasing',
          stop: { target: 'releasing', actions: 'markStopping' },
        },
        states: {
          holding: {
            after: {
              renewEvery: 'renewing',
              permitLeft: {
                target: '#election.following',
                actions: { type: 'demote', params: { reason: 'lost' } },
              },
            },
          },
          renewing: {
            entry: 'sending',
            after: {
              permitLeft: {
                target: '#election.following',
                actions: { type: 'demote', params: { reason: 'lost' } },
              },
            },
            invoke: {
              src: 'renew',
              input: ({ context }) => ({
                s: context.services,
                epoch: context.epoch,
                expected: context.revision,
              }),
              onDone: [
                {
                  guard: 'refused',
                  target: '#election.following',
                  actions: [{ type: 'demote', params: { reason: 'superseded' } }, 'noteRefused'],
                },
                { target: 'holding', actions: ['renewed', 'notifyRenewed'] },
              ],
              // Not answered: try again at the next tick while the permit lasts.
              onError: 'holding',
            },
          },
        },
      },
      releasing: {
        on: { observed: { actions: 'observe' }, stop: { actions: 'markStopping' } },
        invoke: {
          src: 'release',
          input: ({ context }) => ({ s: context.services, epoch: context.epoch, expected: context.revision }),
          onDone: [
            { guard: 'stopping', target: 'stopped' },
            { target: 'following', actions: 'released' },
          ],
          onError: [
            { guard: 'stopping', target: 'stopped' },
            { target: 'following', actions: 'noteRefused' },
          ],
        },
      },
      stopped: { type: 'final' },
    },
  });
}

/** The election machine type (for the visualizer and tests). */
export type ElectionMachine = ReturnType<typeof createElectionMachine>;
