import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import { type StreamGap, StreamMismatchError } from '../errors.ts';
import { natsErrorFrom } from './natsErrorFrom.ts';
import { subjectCovers } from './subjectCovers.ts';

/** The three streams of the wire contract and the subjects each must capture (DESIGN.md). */
export const WFM_STREAMS = {
  WFM_IN: ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>', 'wfm.command.>'],
  WFM_OUT: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>', 'wfm.transfer.>'],
  WFM_DLQ: ['wfm.dlq.>'],
} as const satisfies Record<string, readonly string[]>;

/** Name of one of the contract's streams. */
export type WfmStreamName = keyof typeof WFM_STREAMS;

/**
 * The streams the node publishes to. A subject one of them does not capture loses what is
 * published there (the publish gets a 503, or is stored elsewhere), so a gap in these is fatal.
 * A gap in `WFM_IN` is not: the node only reads it, and input the stream never stored never
 * reaches the node to be lost by it (its publisher gets the 503). That covers a `WFM_IN` made
 * before `wfm.command.>` joined the contract, as long as no command is published.
 */
export const PUBLISHED_STREAMS: readonly WfmStreamName[] = ['WFM_OUT', 'WFM_DLQ'];

const MAX_REPLICAS = 5;

/** How streams are created when missing (an existing stream is never changed). */
export interface EnsureStreamsOptions {
  /**
   * `WFM_IN` duplicate window (the stat source's own re-sends).
   * @defaultValue `120_000` (2 min, the server's default)
   */
  inDuplicateWindowMs: number;
  /**
   * `WFM_OUT` duplicate window: how long a re-sent output with the same `Nats-Msg-Id` is dropped.
   * @defaultValue `120_000` (2 min)
   */
  outDuplicateWindowMs: number;
  /**
   * `WFM_DLQ` duplicate window; long because the DLQ is low volume.
   * @defaultValue `86_400_000` (24 h)
   */
  dlqDuplicateWindowMs: number;
  /**
   * Storage of created streams.
   * @defaultValue `'file'`
   */
  storage: 'file' | 'memory';
  /**
   * Replicas of created streams, 1 to 5 (DESIGN.md `streams.replicas`; a NATS cluster may want 3).
   * An existing stream keeps its own.
   * @defaultValue `1`
   */
  replicas: number;
  /**
   * What to do when `WFM_OUT` or `WFM_DLQ` exists without capturing every contract subject:
   * `'throw'` a StreamMismatchError (a node must not start: what it publishes there is lost), or
   * only `'report'` it in `missingSubjects` (tools that inspect, tests that make such a stream
   * on purpose). Gaps in `WFM_IN` are only ever reported (see `PUBLISHED_STREAMS`).
   * @defaultValue `'throw'`
   */
  onMissingSubjects: 'throw' | 'report';
}

export const defaultEnsureStreamsOptions: EnsureStreamsOptions = {
  inDuplicateWindowMs: 120_000,
  outDuplicateWindowMs: 120_000,
  dlqDuplicateWindowMs: 86_400_000,
  storage: 'file',
  replicas: 1,
  onMissingSubjects: 'throw',
};

/** What `ensureStreams` found or did for one stream. */
export interface EnsuredStream {
  name: WfmStreamName;
  /** `created` by this call, or `existing` and used as it is. */
  action: 'created' | 'existing';
  /** The stream's subjects as the server has them. */
  subjects: string[];
  /**
   * Contract subjects the stream does not capture (only possible for an existing stream made by
   * someone else, or before the contract grew). Messages on them are not stored. Only ever
   * non-empty for `WFM_IN`, unless `onMissingSubjects` is `'report'`.
   */
  missingSubjects: string[];
  /** The stream's duplicate window as the server has it. */
  duplicateWindowMs: number;
}

/**
 * Creates `WFM_IN`, `WFM_OUT` and `WFM_DLQ` when missing; a stream that exists is used as it is
 * (a stat source may have created it first). Safe to run from several nodes at once.
 * @throws RangeError for invalid options, before anything is asked of the server.
 * @throws NatsError when JetStream cannot be asked or refuses to create a stream (its `kind`,
 *   `errCode` and `transient` say why: e.g. `api` 10074 for replicas > 1 on a server that is not
 *   clustered, `api` 10065 when another stream already captures the subjects).
 * @throws StreamMismatchError (unless `onMissingSubjects: 'report'`) when `WFM_OUT` or `WFM_DLQ`
 *   exists without capturing every subject of the contract, naming each stream and subject; the
 *   other streams are ensured first.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  options: Partial<EnsureStreamsOptions> = {},
): Promise<EnsuredStream[]> {
  const o: EnsureStreamsOptions = { ...defaultEnsureStreamsOptions, ...options };
  validate(o);
  const windows: Record<WfmStreamName, number> = {
    WFM_IN: o.inDuplicateWindowMs,
    WFM_OUT: o.outDuplicateWindowMs,
    WFM_DLQ: o.dlqDuplicateWindowMs,
  };
  const result: EnsuredStream[] = [];
  for (const name of Object.keys(WFM_STREAMS) as WfmStreamName[]) {
    result.push(await ensureOne(jsm, name, windows[name], o));
  }
  const gaps: StreamGap[] = result
    .filter((s) => PUBLISHED_STREAMS.includes(s.name) && s.missingSubjects.length > 0)
    .map((s) => ({ stream: s.name, missingSubjects: s.missingSubjects }));
  if (gaps.length > 0 && o.onMissingSubjects === 'throw') throw new StreamMismatchError(gaps);
  return result;
}

function validate(o: EnsureStreamsOptions): void {
  for (const key of ['inDuplicateWindowMs', 'outDuplicateWindowMs', 'dlqDuplicateWindowMs'] as const) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) {
      throw new RangeError(`${key} must be a positive integer (milliseconds), got ${o[key]}`);
    }
  }
  if (o.storage !== 'file' && o.storage !== 'memory') {
    throw new RangeError(`storage must be 'file' or 'memory', got ${String(o.storage)}`);
  }
  if (!Number.isInteger(o.replicas) || o.replicas < 1 || o.replicas > MAX_REPLICAS) {
    throw new RangeError(`replicas must be an integer from 1 to ${MAX_REPLICAS}, got ${o.replicas}`);
  }
  if (o.onMissingSubjects !== 'throw' && o.onMissingSubjects !== 'report') {
    throw new RangeError(`onMissingSubjects must be 'throw' or 'report', got ${String(o.onMissingSubjects)}`);
  }
}

async function ensureOne(
  jsm: JetStreamManager,
  name: WfmStreamName,
  duplicateWindowMs: number,
  o: EnsureStreamsOptions,
): Promise<EnsuredStream> {
  const existing = await streamInfo(jsm, name);
  if (existing !== undefined) return describe(name, 'existing', existing);
  try {
    const created = await jsm.streams.add({
      name,
      subjects: [...WFM_STREAMS[name]],
      storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: o.replicas,
      duplicate_window: nanos(duplicateWindowMs),
    });
    return describe(name, 'created', created);
  } catch (err) {
    // Another node (or the stat source) created it between our info and add: use theirs.
    const raced = await streamInfo(jsm, name);
    if (raced !== undefined) return describe(name, 'existing', raced);
    throw natsErrorFrom(err, `cannot create stream ${name}`);
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw natsErrorFrom(err, `cannot read stream ${name}`);
  }
}

function describe(name: WfmStreamName, action: EnsuredStream['action'], info: StreamInfo): EnsuredStream {
  const subjects = info.config.subjects ?? [];
  return {
    name,
    action,
    subjects,
    missingSubjects: WFM_STREAMS[name].filter((want) => !subjects.some((have) => subjectCovers(have, want))),
    duplicateWindowMs: millis(info.config.duplicate_window ?? 0),
  };
}
