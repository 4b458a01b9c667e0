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
  | 'WFM_TRANSFER_FAILED'
  | 'WFM_INTERNAL';

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

/** NATS could not be reached or a JetStream call failed in a way processing cannot go past. */
export class NatsError extends WfmError {
  override name = 'NatsError';

  constructor(message: string, options?: { cause?: unknown }) {
    super('WFM_NATS_UNAVAILABLE', message, options);
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
