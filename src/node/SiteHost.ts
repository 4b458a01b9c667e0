import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { InspectionEvent } from 'xstate';
import { type OperationalClock, realClock, type SiteRole } from '../actors/index.ts';
import type { Output, RejectionReason } from '../domain/index.ts';
import type { Logger } from '../logging/index.ts';
import type { CheckpointStore } from '../persistence/index.ts';
import type { Publisher } from '../streams/index.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** What the node gives each of its sites. */
export interface SiteHost {
  tenant: string;
  store: CheckpointStore;
  js: JetStreamClient;
  jsm: JetStreamManager;
  logger: Logger;
  /** The node's publisher now; throws while the publishing connection is being reopened. */
  publisher(): Publisher;
  /** The site takes input from `seq` on: the node's reader goes back there if it is past it. */
  readFrom(seq: number): void;
  /** Every input at or before this has been routed to its lane (the reader's position). */
  routedSeq(): number;
  /** `WFM_IN`'s first stored sequence (what retention kept). */
  firstInputSeq(): Promise<number>;
  /**
   * The most messages of the streams a site's read of what it stored (on restore, on takeover)
   * may span to be read in one pass: `wholeRangeMaxFor` the lanes this node may host.
   */
  wholeRangeMax(): number;
  /** A site's role was applied (`null`: it left this node); the interval history follows it. */
  roleChanged?(site: SiteRuntime, role: SiteRole | null): void;
}

/** How a site runs. */
export interface SiteRuntimeOptions {
  /** Checkpoint at least this often. @defaultValue 5000 */
  checkpointEveryMs: number;
  /** Checkpoint after this many applied messages (a bound on re-processing). @defaultValue 250000 */
  checkpointEveryMessages: number;
  /** First wait before a failed site is restored again; doubles per failure. @defaultValue 500 */
  retryDelayMs: number;
  /** Longest wait between tries. @defaultValue 10000 */
  maxRetryDelayMs: number;
  /** Operational clock of the lifecycle actor and the lease permit (tests pass xstate's SimulatedClock). @defaultValue the real one */
  clock: OperationalClock;
  /**
   * Most messages a site holds for a takeover beyond its primary's last confirmed mark; past it a
   * takeover rebuilds from a checkpoint. @defaultValue 200000
   */
  outboxMessages: number;
  /**
   * Changed agents a checkpoint serializes per event-loop turn; more are serialized in chunks of
   * this size, with input applied in between. Each chunk stalls the event loop (~25 µs an agent
   * here): 2000 made the p99 latency at 1k events/s ~60 ms. @defaultValue 250
   */
  captureChunk: number;
  /** xstate `inspect` observer of the site's actors (lifecycle, election, agents). @defaultValue undefined */
  inspect: ((event: InspectionEvent) => void) | undefined;
}

export const defaultSiteRuntimeOptions: SiteRuntimeOptions = {
  checkpointEveryMs: 5000,
  checkpointEveryMessages: 250_000,
  retryDelayMs: 500,
  maxRetryDelayMs: 10_000,
  clock: realClock,
  outboxMessages: 200_000,
  captureChunk: 250,
  inspect: undefined,
};

/** Counters the node's metrics read. */
export interface SiteCounters {
  events: number;
  outputs: Record<Output['kind'], number>;
  dlqByReason: Partial<Record<RejectionReason, number>>;
  skippedAlreadyPublished: number;
  checkpoints: number;
  checkpointFailures: number;
  checkpointSecondsSum: number;
  rebuilds: number;
  /** WFM_IN messages retention dropped before this site checkpointed them. */
  inputGapMessages: number;
  /** Times the lease permit ran out with something to write (nothing of it was sent). */
  fencedWrites: number;
  /** Backup checkpoints not committed because the primary had not yet stored up to them. */
  checkpointsDeferred: number;
  /**
   * Takeovers written from the outbox after reading the streams (hot), from a checkpoint rebuild
   * (cold), and from the outbox alone, re-taking this node's own lease nobody held since (resumed).
   */
  hotTakeovers: number;
  coldTakeovers: number;
  resumedLeases: number;
  /** Leases this node won for the site, and lost (permit ran out, superseded, fenced). */
  leasesWon: number;
  leasesLost: number;
  /** Successful lease renewals, their total and longest round trip in seconds. */
  renewals: number;
  renewSecondsSum: number;
  renewSecondsMax: number;
}

/** Counters of a site that has applied nothing yet. */
export function emptySiteCounters(): SiteCounters {
  return {
    events: 0,
    outputs: { gc: 0, adherence: 0, interval: 0, transfer: 0 },
    dlqByReason: {},
    skippedAlreadyPublished: 0,
    checkpoints: 0,
    checkpointFailures: 0,
    checkpointSecondsSum: 0,
    rebuilds: 0,
    inputGapMessages: 0,
    fencedWrites: 0,
    checkpointsDeferred: 0,
    hotTakeovers: 0,
    coldTakeovers: 0,
    resumedLeases: 0,
    leasesWon: 0,
    leasesLost: 0,
    renewals: 0,
    renewSecondsSum: 0,
    renewSecondsMax: 0,
  };
}
