import { type Actor, createActor } from 'xstate';
import {
  createElectionMachine,
  type DemoteReason,
  type ElectionMachine,
  type ElectionServices,
  type ObservedLease,
  type OperationalClock,
} from '../actors/index.ts';
import type { Logger } from '../logging/index.ts';
import type { LeaseEntry, LeaseRecord, LeaseStore, LeaseWrite } from '../streams/index.ts';
import { leaseAfterRefusal, replicaStagger } from './leaseRules.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** Lease timing, all derived from `leaseSeconds` (see {@link electionTiming}). */
export interface ElectionTiming {
  renewEveryMs: number;
  permitMs: number;
  silenceMs: number;
  staggerMs: number;
  retryMs: number;
  maxSuspectMs: number;
}

/**
 * Timing from the configured lease: a holder renews 12 times per lease and may write for half a
 * silence after its last renewal was sent; a watcher claims after a quarter lease of silence, so a
 * successor leads well within `leaseSeconds` while the old holder stopped writing a quarter lease
 * (250 ms at the default 3 s) before anyone may claim. A silent holder whose process is alive is
 * waited for up to four leases.
 */
export function electionTiming(leaseSeconds: number): ElectionTiming {
  const lease = leaseSeconds * 1000;
  return {
    renewEveryMs: lease / 12,
    permitMs: lease / 6,
    silenceMs: lease / 4,
    staggerMs: lease / 30,
    retryMs: 50,
    maxSuspectMs: lease * 4,
  };
}

/** What a site's election reads from the node. */
export interface SiteElectionHost {
  node: string;
  leases: LeaseStore;
  clock: OperationalClock;
  timing: ElectionTiming;
  logger: Logger;
  /**
   * The site's replicas in takeover order as the node's placement has them (this node may be
   * missing when the site is leaving it).
   */
  replicas(site: string): readonly string[];
  /** Whether `node`'s process is alive though its main thread may be busy (its beacon). */
  nodeAlive(node: string): boolean;
}

/** The lease a watcher saw, as the election machine reads it. */
export function observedLease(entry: LeaseEntry): ObservedLease {
  const r = entry.record;
  if (r === null) return { revision: entry.revision, holder: null, epoch: 0, released: false };
  return {
    revision: entry.revision,
    holder: r.node,
    epoch: r.epoch,
    released: r.released,
    ...(r.to !== undefined ? { to: r.to } : {}),
  };
}

/**
 * One site's leader election on this node: the election actor (`createElectionMachine`) with its
 * services — compare-and-set writes of the site's lease in `WFM_LEADER`, and the site it drives:
 * `promote` / `demote` to the site's lifecycle actor, the write permit to its `SiteWriter`, and the
 * site's confirmed mark into every renewal so backups trim what they hold for a takeover.
 */
export class SiteElection implements ElectionServices {
  readonly actor: Actor<ElectionMachine>;
  readonly #site: SiteRuntime;
  readonly #h: SiteElectionHost;
  #last: LeaseEntry;
  // The last epoch this process held (read while the actor is still being made, so not from it).
  #held = 0;

  constructor(site: SiteRuntime, host: SiteElectionHost, initial: LeaseEntry) {
    this.#site = site;
    this.#h = host;
    this.#last = initial;
    site.writer.observe(initial.record?.mark ?? null);
    site.onFenced = () => this.actor.send({ type: 'fenced' });
    const { renewEveryMs, permitMs, silenceMs, retryMs, maxSuspectMs } = host.timing;
    this.actor = createActor(createElectionMachine(), {
      input: {
        node: host.node,
        services: this,
        clock: host.clock,
        renewEveryMs,
        permitMs,
        silenceMs,
        retryMs,
        maxSuspectMs,
        initial: observedLease(initial),
      },
      clock: host.clock,
      id: `election:${site.site}`,
      inspect: site.inspect,
    });
    this.#traceStates();
  }

  /**
   * Logs every move between the election's top-level states with the lease it saw — a few per
   * takeover or handover, none while a lease is held or followed, nor for a busy holder's pauses —
   * so where an election waited is in the node's log, not only in `/api/status` at the moment
   * someone looked.
   */
  #traceStates(): void {
    let state = 'following';
    this.actor.subscribe({
      next: (s) => {
        const now = typeof s.value === 'string' ? s.value : Object.keys(s.value)[0]!;
        if (now === state) return;
        const before = state;
        state = now;
        // A busy holder makes followers suspect it at every pause of its renewals: not logged.
        if (
          (before === 'following' && now === 'suspecting') ||
          (before === 'suspecting' && now === 'following')
        )
          return;
        const { revision, holder, epoch, released } = s.context.observed;
        this.#h.logger.info(
          { site: this.#site.site, from: before, to: now, lease: { revision, holder, epoch, released } },
          'election state',
        );
      },
      // Reported by whoever hosts the election (HostedLanes); an observer without an error
      // handler would make xstate rethrow it as unhandled.
      error: () => undefined,
    });
  }

  /** The lease as last seen. */
  get lease(): LeaseEntry {
    return this.#last;
  }

  /** Whether this node holds the site's lease. */
  get leading(): boolean {
    return this.actor.getSnapshot().matches('leading');
  }

  /** The epoch this node last held (0: none). */
  get epoch(): number {
    return this.actor.getSnapshot().context.epoch;
  }

  start(): void {
    this.actor.start();
  }

  /** A value of the site's key, from the node's watcher. */
  observe(entry: LeaseEntry): void {
    if (entry.revision >= this.#last.revision) this.#adopt(entry);
  }

  /** Takes `entry` as the site's lease now, whatever was seen before. */
  #adopt(entry: LeaseEntry): void {
    this.#last = entry;
    // Another node's lease: what this node's publisher parked past its permit never goes now.
    if (entry.record !== null && entry.record.node !== this.#h.node) this.#site.writer.refuseParked();
    // Marks count after the election stopped too: a draining backup's final checkpoint waits for one.
    this.#site.writer.observe(entry.record?.mark ?? null);
    if (this.actor.getSnapshot().status !== 'active') return;
    this.actor.send({ type: 'observed', lease: observedLease(entry) });
  }

  #record(epoch: number, released: boolean, to?: string): LeaseRecord {
    return {
      node: this.#h.node,
      epoch,
      startedAt: this.#site.startedAt,
      mark: this.#site.writer.mark,
      released,
      ...(to !== undefined ? { to } : {}),
    };
  }

  /** Takes what a refused compare-and-set says the stream's leader holds (see {@link leaseAfterRefusal}). */
  #refused(write: LeaseWrite): null {
    if (write.ok) return null;
    const outcome = leaseAfterRefusal(this.#last, write.current);
    if (outcome === null) return null;
    if (!outcome.behind) {
      this.observe(outcome.entry);
      return null;
    }
    this.#h.logger.warn(
      { site: this.#site.site, watched: this.#last.revision, leader: outcome.entry.revision },
      'the lease watcher showed a revision the stream leader does not hold; following the leader',
    );
    this.#adopt(outcome.entry);
    return null;
  }

  async claim(epoch: number, expected: number): Promise<number | null> {
    const result = await this.#h.leases.write(this.#site.site, this.#record(epoch, false), expected);
    return result.ok ? result.revision : this.#refused(result);
  }

  async renew(epoch: number, expected: number): Promise<number | null> {
    this.#site.writer.propose(this.#site.position);
    const started = performance.now();
    const result = await this.#h.leases.write(this.#site.site, this.#record(epoch, false), expected);
    if (!result.ok) return this.#refused(result);
    const seconds = (performance.now() - started) / 1000;
    const c = this.#site.counters;
    c.renewals++;
    c.renewSecondsSum += seconds;
    if (seconds > c.renewSecondsMax) c.renewSecondsMax = seconds;
    return result.revision;
  }

  async release(epoch: number, expected: number): Promise<number | null> {
    await this.#site.writer.release(this.#site.position);
    this.#site.actor.send({ type: 'demote' });
    // The preferred primary by the placement (or the next replica when that is this node).
    const to = this.#h.replicas(this.#site.site).find((n) => n !== this.#h.node);
    const result = await this.#h.leases.write(this.#site.site, this.#record(epoch, true, to), expected);
    this.#h.logger.info({ site: this.#site.site, epoch, to }, 'lease released');
    return result.ok ? result.revision : this.#refused(result);
  }

  ready(): boolean {
    const site = this.#site;
    return site.actor.getSnapshot().matches('running') && site.position >= site.writer.mark.seq;
  }

  cannotLead(forMs: number): void {
    const site = this.#site;
    this.#h.logger.warn(
      {
        site: site.site,
        forMs,
        state: site.actor.getSnapshot().value,
        position: site.position,
        holderMarkSeq: site.writer.mark.seq,
      },
      'the lease is free but this replica cannot lead yet: its site is not running, or behind the last holder',
    );
  }

  holderAlive(holder: string): boolean {
    return holder !== this.#h.node && this.#h.nodeAlive(holder);
  }

  stagger(lease: ObservedLease): number {
    const { staggerMs, silenceMs } = this.#h.timing;
    const replicas = this.#h.replicas(this.#site.site);
    return replicaStagger(lease, { node: this.#h.node, replicas, held: this.#held, staggerMs, silenceMs });
  }

  promote(epoch: number, validUntil: number, resumesFrom: number): void {
    this.#held = epoch;
    this.#site.counters.leasesWon++;
    this.#site.writer.lead(epoch, validUntil, resumesFrom);
    this.#site.actor.send({ type: 'promote' });
    this.#h.logger.info({ site: this.#site.site, epoch }, 'leading');
  }

  renewed(validUntil: number): void {
    this.#site.writer.permit(this.epoch, validUntil);
  }

  demote(reason: DemoteReason): void {
    this.#site.writer.revoke();
    this.#site.actor.send({ type: 'demote' });
    if (reason !== 'released') this.#site.counters.leasesLost++;
    this.#h.logger.warn({ site: this.#site.site, reason, epoch: this.epoch }, 'no longer leading');
  }
}
