import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import { NatsError } from '../errors.ts';
import { subjectCovers } from './subjectCovers.ts';

/** The three streams of the wire contract and the subjects each must capture (DESIGN.md). */
export const WFM_STREAMS = {
  WFM_IN: ['wfm.stat.>', 'wfm.schedule.>', 'wfm.clock.>'],
  WFM_OUT: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'],
  WFM_DLQ: ['wfm.dlq.>'],
} as const satisfies Record<string, readonly string[]>;

/** Name of one of the contract's streams. */
export type WfmStreamName = keyof typeof WFM_STREAMS;

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
   * Replicas of created streams (a NATS cluster may want 3).
   * @defaultValue `1`
   */
  replicas: number;
}

export const defaultEnsureStreamsOptions: EnsureStreamsOptions = {
  inDuplicateWindowMs: 120_000,
  outDuplicateWindowMs: 120_000,
  dlqDuplicateWindowMs: 86_400_000,
  storage: 'file',
  replicas: 1,
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
   * someone else). Non-empty means messages on them are not stored: the caller decides whether
   * that is fatal.
   */
  missingSubjects: string[];
  /** The stream's duplicate window as the server has it. */
  duplicateWindowMs: number;
}

/**
 * Creates `WFM_IN`, `WFM_OUT` and `WFM_DLQ` when missing; a stream that exists is used as it is
 * (a stat source may have created it first). Safe to run from several nodes at once.
 * @throws NatsError when JetStream cannot be asked or refuses to create a stream.
 */
export async function ensureStreams(
  jsm: JetStreamManager,
  options: Partial<EnsureStreamsOptions> = {},
): Promise<EnsuredStream[]> {
  const o: EnsureStreamsOptions = { ...defaultEnsureStreamsOptions, ...options };
  const windows: Record<WfmStreamName, number> = {
    WFM_IN: o.inDuplicateWindowMs,
    WFM_OUT: o.outDuplicateWindowMs,
    WFM_DLQ: o.dlqDuplicateWindowMs,
  };
  const result: EnsuredStream[] = [];
  for (const name of Object.keys(WFM_STREAMS) as WfmStreamName[]) {
    result.push(await ensureOne(jsm, name, windows[name], o));
  }
  return result;
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
    throw new NatsError(`cannot create stream ${name}: ${messageOf(err)}`, { cause: err });
  }
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw new NatsError(`cannot read stream ${name}: ${messageOf(err)}`, { cause: err });
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

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
