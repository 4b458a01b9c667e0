import type { ObservedLease } from '../actors/index.ts';
import type { LeaseEntry } from '../streams/index.ts';

/** What {@link replicaStagger} reads of a replica and its cluster. */
export interface StaggerInput {
  /** This node. */
  node: string;
  /** The site's replicas in takeover order by the placement (this node may be missing). */
  replicas: readonly string[];
  /** The last epoch this process held (0: none). */
  held: number;
  staggerMs: number;
  silenceMs: number;
}

/**
 * How long a replica waits before it claims a vacant `lease` (the election's `stagger`), so the
 * first-ranked replica wins cleanly and a lease handed to one replica is not snatched by another.
 */
export function replicaStagger(lease: ObservedLease, r: StaggerInput): number {
  const me = r.node;
  // Handed to this node, or this node's own earlier lease (its permit ran out, or its previous
  // process held it): claim at once.
  if (lease.to === me || (lease.holder === me && !lease.released)) return 0;
  const order = r.replicas.filter((n) => n !== lease.holder && n !== lease.to);
  const rank = order.indexOf(me);
  // Not placed here (a site on its way out): after every placed replica had its turn.
  const turn = (rank < 0 ? order.length : rank) * r.staggerMs;
  // This process gave the lease up: it takes it back only if nobody else did within a silence.
  // (Released by its previous process, stopped gracefully, it is as vacant as any.)
  if (lease.released && lease.holder === me && lease.epoch === r.held)
    return r.silenceMs + (order.length + 1) * r.staggerMs;
  // Handed to another: the others step in only if that one did not take it within a silence.
  if (lease.released && lease.to !== undefined) return r.silenceMs + turn;
  return turn;
}

/** What a replica takes as seen after a refused compare-and-set (see {@link leaseAfterRefusal}). */
export interface RefusalOutcome {
  /** The lease to take as seen. */
  entry: LeaseEntry;
  /**
   * The stream's leader holds an older revision than the watcher showed: the watcher reads a
   * replica that diverged, so `entry` replaces what was seen even though its revision is lower.
   */
  behind: boolean;
}

/**
 * A refused compare-and-set comes with the lease as the stream's leader holds it (`current`;
 * null when it could not be read); `seen` is the value the replica's watcher showed last. A newer
 * value is taken as seen — the watcher would show it anyway — unless the watcher reads a replica
 * that diverged from its leader (nats-server 2.9.10, after server kills): it then showed a
 * revision the leader lacks and never shows the leader's value under that revision, so every
 * later claim would name the wrong one and be refused for ever (the chaos test saw a lane nobody
 * led for the rest of the run). Then the leader's value is taken, keeping the higher epoch the
 * watcher showed — the next claim asks for the epoch after the one seen, and a holder of that
 * phantom epoch is fenced like any earlier one.
 * @returns null when there is nothing new to take (the same revision, or none readable)
 */
export function leaseAfterRefusal(seen: LeaseEntry, current: LeaseEntry | null): RefusalOutcome | null {
  if (current === null || current.revision === seen.revision) return null;
  if (current.revision > seen.revision) return { entry: current, behind: false };
  const watched = seen.record;
  const held = current.record;
  const record =
    held === null
      ? watched
      : watched !== null && watched.epoch > held.epoch
        ? { ...held, epoch: watched.epoch }
        : held;
  return { entry: { revision: current.revision, record }, behind: true };
}
