/**
 * The one error hierarchy of wfm-aggregator. Each class has a stable `code` for programs and
 * keeps the underlying `cause`. Non-fatal conditions are typed events, not errors.
 */

export type WfmErrorCode =
  | 'WFM_CONFIG_INVALID'
  | 'WFM_NATS_UNAVAILABLE'
  | 'WFM_STREAM_MISMATCH'
  | 'WFM_CHECKPOINT_FAILED'
  | 'WFM_PUBLISH_FAILED'
  | 'WFM_DATABASE_UNAVAILABLE'
  | 'WFM_WRITE_FENCED'
  | 'WFM_PERMIT_EXPIRED'
  | 'WFM_DUMP_FILE_INVALID'
  | 'WFM_TRANSFER_FAILED'
  | 'WFM_INTERNAL'
  | 'WFM_SITE_START_FAILED'
  | 'WFM_SNAPSHOT_VERSION';

/** Base class: never thrown directly. */
export class WfmError extends Error {
  override name = 'WfmError';
  readonly code: WfmErrorCode;

  constructor(code: WfmErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}

/** Configuration failed validation; `field` names the offending key path (e.g. `nats.servers[0]`). */
export class ConfigError extends WfmError {
  override name = 'ConfigError';
  readonly field: string;

  constructor(field: string, message: string, options?: { cause?: unknown }) {
    super('WFM_CONFIG_INVALID', `invalid configuration: ${field}: ${message}`, options);
    this.field = field;
  }
}

/**
 * What kind of NATS failure a `NatsError` is, so a caller can tell one that passes by itself from
 * one that needs someone to change something:
 * - `timeout`: no answer in time (a busy server, a leader election in progress). Transient.
 * - `no_responders`: nobody subscribed to the subject (503). For a JetStream API call or publish
 *   this is JetStream without a leader for the moment (transient), but it is also what a publish
 *   to a subject no stream captures gets — `ensureStreams` refuses to start in that case, so
 *   once running it is read as transient.
 * - `connection_closed`: the connection is closed, draining or disconnected, or could not be made
 *   (refused, reset). Transient: a server coming back fixes it.
 * - `api`: JetStream answered with an API error (`apiCode`, `errCode` set): stream not found,
 *   subjects overlap, bad request… Permanent, except the few codes in
 *   `TRANSIENT_JETSTREAM_ERR_CODES` that say "temporarily unavailable" in other words.
 * - `other`: anything else (authorization, permission, protocol, a bug). Permanent: nothing says
 *   that waiting helps.
 */
export type NatsErrorKind = 'timeout' | 'no_responders' | 'connection_closed' | 'api' | 'other';

/**
 * JetStream API `err_code`s that a retry may get past with nobody changing anything (cluster
 * leadership moving, replicas catching up, rate limits): JSClusterIncompleteErr 10004,
 * JSClusterNotAvailErr 10008, JSClusterNotLeaderErr 10009, JSStreamOfflineErr 10118,
 * JSConsumerOfflineErr 10119, JSStreamDuplicateMessageConflict 10158,
 * JSStreamExpectedLastSeqPerSubjectNotReady 10163, JSStreamTooManyRequests 10167,
 * JSAtomicPublishTooManyInflight 10210, JSBatchPublishTooManyInflight 10211.
 */
export const TRANSIENT_JETSTREAM_ERR_CODES: ReadonlySet<number> = new Set([
  10004, 10008, 10009, 10118, 10119, 10158, 10163, 10167, 10210, 10211,
]);

/** How a `NatsError` was classified; `natsErrorFrom` (src/streams) fills it from what nats.js threw. */
export interface NatsErrorOptions {
  /**
   * The error nats.js threw, kept as it is (its class and codes stay reachable).
   * @defaultValue `undefined`
   */
  cause?: unknown;
  /**
   * The kind of failure.
   * @defaultValue `'other'`
   */
  kind?: NatsErrorKind;
  /**
   * Kind `api` only: the JetStream API error's `code`, an HTTP-like status (400, 404, 500, 503).
   * @defaultValue `undefined`
   */
  apiCode?: number;
  /**
   * Kind `api` only: the JetStream API error's `err_code` (e.g. 10059 stream not found), the
   * number nats.js' `JetStreamApiError.code` gives.
   * @defaultValue `undefined`
   */
  errCode?: number;
}

/**
 * NATS could not be reached or a NATS/JetStream call failed. `kind`, `apiCode` and `errCode` say
 * how, `transient` whether trying again later may succeed with nobody changing anything.
 */
export class NatsError extends WfmError {
  override name = 'NatsError';
  readonly kind: NatsErrorKind;
  readonly apiCode: number | undefined;
  readonly errCode: number | undefined;
  /**
   * True for `timeout`, `no_responders` and `connection_closed`, and for an `api` error whose
   * `errCode` is in `TRANSIENT_JETSTREAM_ERR_CODES`; false otherwise.
   */
  readonly transient: boolean;

  constructor(message: string, options: NatsErrorOptions = {}) {
    super('WFM_NATS_UNAVAILABLE', message, 'cause' in options ? { cause: options.cause } : undefined);
    this.kind = options.kind ?? 'other';
    this.apiCode = options.apiCode;
    this.errCode = options.errCode;
    this.transient =
      this.kind === 'timeout' ||
      this.kind === 'no_responders' ||
      this.kind === 'connection_closed' ||
      (this.kind === 'api' && this.errCode !== undefined && TRANSIENT_JETSTREAM_ERR_CODES.has(this.errCode));
  }
}

/** One contract stream that exists without capturing some of the subjects it must. */
export interface StreamGap {
  /** The stream's name, e.g. `WFM_OUT`. */
  stream: string;
  /** Contract subjects it does not capture, e.g. `['wfm.interval.>']`. */
  missingSubjects: string[];
}

/**
 * A contract stream exists without capturing every subject it must — `WFM_OUT` or `WFM_DLQ` (a
 * publish there would get no acknowledgement and be lost), or `WFM_IN` without `wfm.command.>`
 * (operator commands would be lost) — and `ensureStreams` was told not to add them
 * (`addMissingSubjects: false`). Permanent: someone must add the subjects to the stream (or delete
 * it so the node makes it).
 */
export class StreamMismatchError extends WfmError {
  override name = 'StreamMismatchError';
  /** Every fatal gap found, in contract order (`WFM_IN`, `WFM_OUT`, `WFM_DLQ`). */
  readonly gaps: readonly StreamGap[];

  constructor(gaps: readonly StreamGap[], options?: { cause?: unknown }) {
    const what = gaps.map((g) => `stream ${g.stream} does not capture ${g.missingSubjects.join(', ')}`);
    super(
      'WFM_STREAM_MISMATCH',
      `${what.join('; ')}: publishes there would be lost; add the subject(s) to the stream, or delete it so the node creates it`,
      options,
    );
    this.gaps = gaps.map((g) => ({ stream: g.stream, missingSubjects: [...g.missingSubjects] }));
  }
}

/** Publishing an output did not get a JetStream acknowledgement. */
export class PublishError extends WfmError {
  override name = 'PublishError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_PUBLISH_FAILED', message, options);
  }
}

/** Writing or reading a checkpoint failed. */
export class CheckpointError extends WfmError {
  override name = 'CheckpointError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_CHECKPOINT_FAILED', message, options);
  }
}

/** The WFM database stayed unreachable. */
export class DatabaseError extends WfmError {
  override name = 'DatabaseError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_DATABASE_UNAVAILABLE', message, options);
  }
}

/**
 * A site's interval write was refused because a newer primary (a higher lease epoch) has written
 * the site since: this node was deposed and must demote the site. Never retried.
 */
export class FencedWriteError extends WfmError {
  override name = 'FencedWriteError';
  readonly tenant: string;
  readonly site: string;
  /** The epoch the refused write carried. */
  readonly epoch: number;
  /** The epoch the store holds for the site. */
  readonly storedEpoch: number;

  constructor(tenant: string, site: string, epoch: number, storedEpoch: number) {
    super(
      'WFM_WRITE_FENCED',
      `interval write for site ${tenant}/${site} refused: epoch ${epoch} is older than the stored epoch ${storedEpoch}`,
    );
    this.tenant = tenant;
    this.site = site;
    this.epoch = epoch;
    this.storedEpoch = storedEpoch;
  }
}

/**
 * A publish a site had held for its turn (behind an earlier one on its subject, or behind a
 * transfer record) was not sent: when its turn came, the site's lease permit had run out, and
 * then another node may have led (and written it) or the site was torn down. It fails the site's
 * lane like a refused publish.
 */
export class PermitExpiredError extends WfmError {
  override name = 'PermitExpiredError';
  /** The site (publish lane) whose permit ran out. */
  readonly site: string;

  constructor(site: string) {
    super('WFM_PERMIT_EXPIRED', `not sent: the lease permit of ${site} ran out while it waited its turn`);
    this.site = site;
  }
}

/**
 * A database dump file (DESIGN guarantee 4) that cannot be read back as this node's own: corrupt,
 * truncated, another format or version, or another tenant's. It is kept as it is, never deleted.
 */
export class DumpFileError extends WfmError {
  override name = 'DumpFileError';
  /** Path of the refused file. */
  readonly path: string;

  constructor(path: string, message: string, options?: { cause?: unknown }) {
    super('WFM_DUMP_FILE_INVALID', `dump file ${path}: ${message}; it is kept as it is`, options);
    this.path = path;
  }
}

/** A site of a starting node could not be restored (its checkpoint, or the streams it reads). */
export class SiteStartError extends WfmError {
  override name = 'SiteStartError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_SITE_START_FAILED', message, options);
  }
}

/**
 * A persisted snapshot (an agent's, or a site's own state) carries a format version this build
 * does not read, or none: it is refused rather than misread. Permanent for this build: restore
 * with the version that wrote it, or drop the checkpoint and replay the input.
 */
export class SnapshotVersionError extends WfmError {
  override name = 'SnapshotVersionError';
  /** What the snapshot belongs to, e.g. `agent A1 of site T1/S1`. */
  readonly owner: string;
  /** The version found, as stored (`undefined`: none). */
  readonly found: unknown;
  /** The version this build reads. */
  readonly supported: number;

  constructor(owner: string, found: unknown, supported: number, options?: { cause?: unknown }) {
    const shown = found === undefined ? 'none' : (JSON.stringify(found) ?? String(found)).slice(0, 64);
    super(
      'WFM_SNAPSHOT_VERSION',
      `${owner}: snapshot version ${shown} is not supported; this build reads version ${supported}`,
      options,
    );
    this.owner = owner;
    this.found = found;
    this.supported = supported;
  }
}

/**
 * A use of an internal part that its design rules out (a bug in the caller), e.g. subscribing to
 * one agent's actor after the site slimmed it (`slimAgentActor`). Thrown at the first such use.
 */
export class InternalError extends WfmError {
  override name = 'InternalError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_INTERNAL', message, options);
  }
}
