import type { JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import { JetStreamApiCodes, JetStreamApiError, StorageType } from '@nats-io/jetstream';
import { millis, nanos } from '@nats-io/transport-node';
import { NatsError, type StreamGap, StreamMismatchError } from '../errors.ts';
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
 * A gap in `WFM_IN` mostly is not: the node only reads it, and input the stream never stored never
 * reaches the node to be lost by it (its publisher gets the 503). Commands are the exception (see
 * `COMMAND_SUBJECTS`). By default `ensureStreams` closes every gap itself (`addMissingSubjects`).
 */
export const PUBLISHED_STREAMS: readonly WfmStreamName[] = ['WFM_OUT', 'WFM_DLQ'];

/**
 * `WFM_IN` subjects whose gap is fatal all the same: a command (e.g. a transfer) published where
 * `WFM_IN` does not capture it is lost, never applied, and nobody is told — the "never a
 * silent loss of commands". Matters only with `addMissingSubjects: false` (otherwise the subject is
 * added).
 */
export const COMMAND_SUBJECTS: readonly string[] = ['wfm.command.>'];

const MAX_REPLICAS = 5;

/** JetStream API err_code JSStreamSubjectOverlapErr: another stream captures the subjects. */
const JS_STREAM_SUBJECT_OVERLAP = 10065;

/**
 * How streams are created when missing, and what is done about an existing stream that lacks
 * contract subjects (nothing else of an existing stream is ever changed).
 */
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
   * Whether an existing stream that does not capture every contract subject (made by someone
   * else, or before the contract grew: a `WFM_IN` without `wfm.command.>`, a `WFM_OUT` without
   * `wfm.transfer.>`) gets exactly the missing subjects added, by a stream update that keeps the
   * rest of its configuration (an own subject an added one covers, e.g. `wfm.clock.*` under
   * `wfm.clock.>`, gives way to it: the server refuses overlapping subjects in one stream, and
   * nothing the stream captured is lost). A failed update throws a NatsError naming the stream,
   * the subjects and the `nats stream edit` command that adds them by hand. `false`: the stream is
   * used as it is and `onMissingSubjects` decides (tools that inspect and must not change anything).
   * @defaultValue `true`
   */
  addMissingSubjects: boolean;
  /**
   * What to do, when subjects are not added (`addMissingSubjects: false`), about an existing
   * stream that does not capture every contract subject where a gap loses messages — any gap of
   * `WFM_OUT` or `WFM_DLQ`, and `wfm.command.>` in `WFM_IN` (`COMMAND_SUBJECTS`): `'throw'` a
   * StreamMismatchError (a node must not start: what is published there is lost), or only
   * `'report'` it in `missingSubjects` (tools that inspect, tests that make such a stream on
   * purpose). Other gaps in `WFM_IN` are only ever reported (see `PUBLISHED_STREAMS`).
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
  addMissingSubjects: true,
  onMissingSubjects: 'throw',
};

/** What `ensureStreams` found or did for one stream. */
export interface EnsuredStream {
  name: WfmStreamName;
  /**
   * `created` by this call; `updated`: it existed and this call added the contract subjects it
   * lacked (`addedSubjects`); `existing`: used as it is (or another node added them meanwhile).
   */
  action: 'created' | 'existing' | 'updated';
  /** The stream's subjects as the server has them (after the update, if any). */
  subjects: string[];
  /**
   * Contract subjects the stream does not capture (only possible for an existing stream made by
   * someone else, or before the contract grew, with `addMissingSubjects: false`). Messages on
   * them are not stored. Only ever non-empty for `WFM_IN` (never `wfm.command.>`), unless
   * `onMissingSubjects` is `'report'`.
   */
  missingSubjects: string[];
  /** Contract subjects this call added to the existing stream (non-empty only when `updated`). */
  addedSubjects: string[];
  /** The stream's duplicate window as the server has it. */
  duplicateWindowMs: number;
}

/**
 * Creates `WFM_IN`, `WFM_OUT` and `WFM_DLQ` when missing. A stream that exists (a stat source may
 * have created it first) is used as it is, except that contract subjects it lacks are added
 * (`addMissingSubjects`). Safe to run from several nodes at once: a stream another node creates
 * or updates meanwhile is taken as it then is.
 * @throws RangeError for invalid options, before anything is asked of the server.
 * @throws NatsError when JetStream cannot be asked or refuses to create a stream (its `kind`,
 *   `errCode` and `transient` say why: e.g. `api` 10074 for replicas > 1 on a server that is not
 *   clustered, `api` 10065 when another stream already captures the subjects), or refuses to add
 *   missing subjects to an existing one (then the message names the stream, the subjects and the
 *   `nats stream edit … --subjects …` command that adds them by hand); `cause` is what nats.js
 *   threw.
 * @throws StreamMismatchError (only with `addMissingSubjects: false`, unless
 *   `onMissingSubjects: 'report'`) when `WFM_OUT` or `WFM_DLQ` exists without capturing every
 *   subject of the contract, or `WFM_IN` without `wfm.command.>`, naming each stream and subject;
 *   the other streams are ensured first.
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
    .map((s) => ({ stream: s.name, missingSubjects: fatalGap(s.name, s.missingSubjects) }))
    .filter((g) => g.missingSubjects.length > 0);
  if (gaps.length > 0 && o.onMissingSubjects === 'throw') throw new StreamMismatchError(gaps);
  return result;
}

/** The subjects of a gap that lose messages (see `PUBLISHED_STREAMS`, `COMMAND_SUBJECTS`). */
function fatalGap(name: WfmStreamName, missing: string[]): string[] {
  return PUBLISHED_STREAMS.includes(name) ? missing : missing.filter((m) => COMMAND_SUBJECTS.includes(m));
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
  if (typeof o.addMissingSubjects !== 'boolean') {
    throw new RangeError(`addMissingSubjects must be true or false, got ${String(o.addMissingSubjects)}`);
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
  if (existing !== undefined)
    return o.addMissingSubjects ? addMissing(jsm, name, existing) : describe(name, existing);
  try {
    const created = await jsm.streams.add({
      name,
      subjects: [...WFM_STREAMS[name]],
      storage: o.storage === 'memory' ? StorageType.Memory : StorageType.File,
      num_replicas: o.replicas,
      duplicate_window: nanos(duplicateWindowMs),
    });
    return describe(name, created, 'created');
  } catch (err) {
    // Another node (or the stat source) created it between our info and add: use theirs.
    const raced = await streamInfo(jsm, name);
    if (raced !== undefined)
      return o.addMissingSubjects ? addMissing(jsm, name, raced) : describe(name, raced);
    throw natsErrorFrom(err, `cannot create stream ${name}`);
  }
}

/**
 * Adds to an existing stream exactly the contract subjects it does not capture, keeping the rest
 * of its configuration (`streams.update` merges into the config it reads first).
 */
async function addMissing(
  jsm: JetStreamManager,
  name: WfmStreamName,
  info: StreamInfo,
): Promise<EnsuredStream> {
  const missing = missingFrom(name, info);
  if (missing.length === 0) return describe(name, info);
  try {
    const updated = await jsm.streams.update(name, { subjects: withSubjects(info, missing) });
    return describe(name, updated, 'updated', missing);
  } catch (err) {
    // Another node may have added them between our info and update (its update won, or ours
    // conflicted with it): what counts is that they are there now.
    const now = await streamInfo(jsm, name).catch(() => undefined);
    if (now !== undefined && missingFrom(name, now).length === 0) return describe(name, now);
    throw await updateFailure(jsm, name, now ?? info, err);
  }
}

/**
 * The NatsError of a refused update: what failed, why, and how to add the subjects by hand
 * (`nats stream edit --subjects` replaces the list, so the command gives the whole of it).
 */
async function updateFailure(
  jsm: JetStreamManager,
  name: WfmStreamName,
  info: StreamInfo,
  err: unknown,
): Promise<NatsError> {
  const missing = missingFrom(name, info);
  const e = natsErrorFrom(err, `cannot add ${missing.join(', ')} to stream ${name}`);
  const owners =
    e.kind === 'api' && e.errCode === JS_STREAM_SUBJECT_OVERLAP
      ? await capturingStreams(jsm, name, missing)
      : [];
  const who = owners.map((n) => `stream ${n}`).join(', ');
  const verb = owners.length > 1 ? 'capture' : 'captures';
  const first = owners.length > 0 ? `${who} already ${verb} them: remove them there, then ` : '';
  const command = `nats stream edit ${name} --subjects '${withSubjects(info, missing).join(',')}'`;
  return new NatsError(`${e.message}; ${first}add them by hand with: ${command}`, {
    cause: err,
    kind: e.kind,
    ...(e.apiCode !== undefined ? { apiCode: e.apiCode } : {}),
    ...(e.errCode !== undefined ? { errCode: e.errCode } : {}),
  });
}

/** Best effort: the other streams whose subjects overlap `subjects` (none when they cannot be listed). */
async function capturingStreams(jsm: JetStreamManager, name: string, subjects: string[]): Promise<string[]> {
  const found = new Set<string>();
  try {
    for (const subject of subjects) {
      for await (const n of jsm.streams.names(subject)) if (n !== name) found.add(n);
    }
  } catch {
    // Only a hint: the error says what matters without it.
  }
  return [...found].sort();
}

async function streamInfo(jsm: JetStreamManager, name: string): Promise<StreamInfo | undefined> {
  try {
    return await jsm.streams.info(name);
  } catch (err) {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw natsErrorFrom(err, `cannot read stream ${name}`);
  }
}

/**
 * The stream's subjects with `added` appended. A subject of its own that an added one covers
 * (`wfm.clock.*` under `wfm.clock.>`) is dropped: the server refuses subjects of one stream that
 * overlap (API error 10052), and the stream still captures everything it did.
 */
function withSubjects(info: StreamInfo, added: readonly string[]): string[] {
  const kept = (info.config.subjects ?? []).filter((have) => !added.some((a) => subjectCovers(a, have)));
  return [...kept, ...added];
}

function missingFrom(name: WfmStreamName, info: StreamInfo): string[] {
  const subjects = info.config.subjects ?? [];
  return WFM_STREAMS[name].filter((want) => !subjects.some((have) => subjectCovers(have, want)));
}

function describe(
  name: WfmStreamName,
  info: StreamInfo,
  action: EnsuredStream['action'] = 'existing',
  added: string[] = [],
): EnsuredStream {
  return {
    name,
    action,
    subjects: info.config.subjects ?? [],
    missingSubjects: missingFrom(name, info),
    addedSubjects: added,
    duplicateWindowMs: millis(info.config.duplicate_window ?? 0),
  };
}
