/**
 * Reading and writing the node's streams from a test: every message of a stream in order
 * (`WFM_OUT`, `WFM_DLQ`), publishing generated traffic to `WFM_IN`, an exact comparison of two
 * runs' outputs or dead letters that says how many were lost, doubled or different, and the dead
 * letters a traffic set must produce.
 */
import { isDeepStrictEqual } from 'node:util';
import { DeliverPolicy, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection, Subscription } from '@nats-io/transport-node';
import { type TrafficMessage, wireText } from '../../src/simulator/index.ts';

/** One stored message as a test compares it. */
export interface StreamRecord {
  /** Stream sequence (differs between runs; never compared). */
  seq: number;
  subject: string;
  /** The payload, parsed as JSON. */
  data: unknown;
  /** The `Nats-Msg-Id` header, or undefined when it has none. */
  msgId: string | undefined;
}

const decoder = new TextDecoder();

function parsed(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return { unparsable: text };
  }
}

/**
 * Every message of `stream` from its first to its last sequence at the time of the call, in
 * stream order, over an ordered consumer.
 */
export async function readStream(
  js: JetStreamClient,
  jsm: JetStreamManager,
  stream: string,
): Promise<StreamRecord[]> {
  const info = await jsm.streams.info(stream);
  const { messages: count, last_seq: lastSeq, first_seq: firstSeq } = info.state;
  if (count === 0) return [];
  const consumer = await js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: firstSeq,
  });
  const records: StreamRecord[] = [];
  try {
    while (records.length === 0 || records[records.length - 1]!.seq < lastSeq) {
      const before = records.length;
      const seen = records.length === 0 ? firstSeq - 1 : records[records.length - 1]!.seq;
      // Never ask for more than is left: a fetch that cannot be filled waits for its expiry.
      const batch = await consumer.fetch({ max_messages: Math.min(1000, lastSeq - seen), expires: 5000 });
      for await (const m of batch) {
        if (m.seq > lastSeq) break;
        const data = parsed(decoder.decode(m.data));
        records.push({ seq: m.seq, subject: m.subject, data, msgId: m.headers?.get('Nats-Msg-Id') });
      }
      if (records.length === before) {
        throw new Error(`reading ${stream}: stalled at ${records.length} of ${count} messages`);
      }
    }
  } finally {
    await consumer.delete().catch(() => undefined);
  }
  return records;
}

/** How {@link publishMessages} publishes. */
export interface PublishMessagesOptions {
  /**
   * Index of `messages[0]` in the whole traffic set: message `i` gets `Nats-Msg-Id`
   * `in-${firstIndex + i}` and must be stored as `WFM_IN` sequence `firstIndex + i + 1`.
   * @defaultValue `0`
   */
  firstIndex: number;
  /**
   * `'window'`: up to `window` publishes in flight, any failure throws (fast; for a server that
   * stays up). `'retry'`: one at a time, each retried until acked (survives a NATS restart and
   * keeps the stream order exact: the `Nats-Msg-Id` drops a re-send the server already stored).
   * @defaultValue `'window'`
   */
  mode: 'window' | 'retry';
  /**
   * Publishes in flight in `'window'` mode.
   * @defaultValue `512`
   */
  window: number;
  /**
   * Ack timeout of each publish, ms.
   * @defaultValue `5000`
   */
  timeoutMs: number;
  /**
   * `'retry'` mode gives up after this long without an ack for one message.
   * @defaultValue `30_000`
   */
  retryForMs: number;
  /** Called after each failed attempt in `'retry'` mode. */
  onRetry?: (index: number, error: unknown) => void;
}

const defaultPublishMessagesOptions: PublishMessagesOptions = {
  firstIndex: 0,
  mode: 'window',
  window: 512,
  timeoutMs: 5000,
  retryForMs: 30_000,
};

const encoder = new TextEncoder();

/**
 * Publishes generated messages to `WFM_IN` in order, awaiting every ack, and checks that message
 * `i` landed at sequence `firstIndex + i + 1` (so a fresh stream holds exactly the traffic set,
 * in order, with no duplicate). Resolves with the last sequence.
 */
export async function publishMessages(
  js: JetStreamClient,
  messages: readonly TrafficMessage[],
  options: Partial<PublishMessagesOptions> = {},
): Promise<number> {
  const o: PublishMessagesOptions = { ...defaultPublishMessagesOptions, ...options };
  const publishOne = async (i: number): Promise<void> => {
    const index = o.firstIndex + i;
    const message = messages[i]!;
    const ack = await js.publish(message.subject, encoder.encode(wireText(message)), {
      msgID: `in-${index}`,
      timeout: o.timeoutMs,
    });
    if (ack.stream !== 'WFM_IN' || ack.seq !== index + 1) {
      throw new Error(
        `message ${index} (${message.subject}) stored as ${ack.stream} seq ${ack.seq}, expected WFM_IN seq ${index + 1}` +
          (ack.duplicate ? ' (duplicate)' : ''),
      );
    }
  };
  if (o.mode === 'window') {
    for (let start = 0; start < messages.length; start += o.window) {
      const end = Math.min(messages.length, start + o.window);
      const pending: Promise<void>[] = [];
      for (let i = start; i < end; i++) pending.push(publishOne(i));
      await Promise.all(pending);
    }
  } else {
    for (let i = 0; i < messages.length; i++) {
      const giveUpAt = Date.now() + o.retryForMs;
      for (;;) {
        try {
          await publishOne(i);
          break;
        } catch (err) {
          if (err instanceof Error && err.message.includes('expected WFM_IN seq')) throw err;
          o.onRetry?.(o.firstIndex + i, err);
          if (Date.now() > giveUpAt) {
            throw new Error(`message ${o.firstIndex + i} got no ack for ${o.retryForMs} ms`, { cause: err });
          }
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }
    }
  }
  return o.firstIndex + messages.length;
}

/** What {@link compareRuns} found. */
export interface RunComparison {
  /** Messages of each run. */
  expectedCount: number;
  actualCount: number;
  /** Expected messages missing from the actual run (counted with multiplicity). */
  lost: number;
  /** Actual messages that equal an expected one but are there more often than expected. */
  doubled: number;
  /** Actual messages equal to no expected one. */
  different: number;
  /**
   * Subjects (or the groups `orderBy` makes) whose message sequence, in stream order, differs
   * from the expected one.
   */
  subjectsOutOfOrder: string[];
  /** True when every count is 0 and every subject matches: the runs are the same. */
  same: boolean;
  /** One line with every count and a few examples, for assertion messages. */
  summary: string;
}

/** Subject, Nats-Msg-Id and payload (keys sorted, so key order never matters). */
function keyOf(record: StreamRecord): string {
  return JSON.stringify([record.subject, record.msgId ?? null, sortKeys(record.data)]);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== 'object' || value === null) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Record<string, unknown>)[key]);
  return out;
}

function groupBy(
  records: readonly StreamRecord[],
  key: (record: StreamRecord) => string,
): Map<string, StreamRecord[]> {
  const map = new Map<string, StreamRecord[]>();
  for (const r of records) {
    const k = key(r);
    const list = map.get(k);
    if (list === undefined) map.set(k, [r]);
    else list.push(r);
  }
  return map;
}

/** Options of {@link compareRuns}. */
export interface CompareRunsOptions {
  /**
   * The groups whose order must match: messages with the same key must come in the same order
   * in both runs; across keys, order is free.
   * @defaultValue the message's subject
   */
  orderBy: (record: StreamRecord) => string;
}

/**
 * Compares two runs' messages of one stream: as multisets of (subject, msgId, payload), and per
 * subject (or `orderBy` group) in stream order. Stream sequences are ignored.
 */
export function compareRuns(
  expected: readonly StreamRecord[],
  actual: readonly StreamRecord[],
  label = 'messages',
  options: Partial<CompareRunsOptions> = {},
): RunComparison {
  const orderBy = options.orderBy ?? ((r: StreamRecord) => r.subject);
  const counts = new Map<string, { expected: number; actual: number; example: StreamRecord }>();
  for (const r of expected) {
    const key = keyOf(r);
    const c = counts.get(key);
    if (c === undefined) counts.set(key, { expected: 1, actual: 0, example: r });
    else c.expected++;
  }
  for (const r of actual) {
    const key = keyOf(r);
    const c = counts.get(key);
    if (c === undefined) counts.set(key, { expected: 0, actual: 1, example: r });
    else c.actual++;
  }
  let lost = 0;
  let doubled = 0;
  let different = 0;
  const examples: string[] = [];
  const example = (what: string, r: StreamRecord): void => {
    if (examples.length < 5)
      examples.push(`${what} ${r.subject} ${r.msgId ?? '-'} ${JSON.stringify(r.data)}`);
  };
  for (const c of counts.values()) {
    if (c.expected > c.actual) {
      lost += c.expected - c.actual;
      example('lost', c.example);
    } else if (c.actual > c.expected) {
      if (c.expected === 0) {
        different += c.actual;
        example('different', c.example);
      } else {
        doubled += c.actual - c.expected;
        example('doubled', c.example);
      }
    }
  }
  const want = groupBy(expected, orderBy);
  const got = groupBy(actual, orderBy);
  const subjectsOutOfOrder: string[] = [];
  for (const subject of new Set([...want.keys(), ...got.keys()])) {
    const a = (want.get(subject) ?? []).map((r) => [r.msgId, r.data]);
    const b = (got.get(subject) ?? []).map((r) => [r.msgId, r.data]);
    if (!isDeepStrictEqual(a, b)) subjectsOutOfOrder.push(subject);
  }
  subjectsOutOfOrder.sort();
  const firstOutOfOrder = subjectsOutOfOrder[0];
  if (firstOutOfOrder !== undefined) {
    // From just before the first position where they part, not the whole (maybe long) list.
    const a = want.get(firstOutOfOrder) ?? [];
    const b = got.get(firstOutOfOrder) ?? [];
    let at = 0;
    while (
      at < a.length &&
      at < b.length &&
      isDeepStrictEqual([a[at]!.msgId, a[at]!.data], [b[at]!.msgId, b[at]!.data])
    )
      at++;
    const from = Math.max(0, at - 2);
    const ids = (records: StreamRecord[]) => {
      const shown = records.slice(from, at + 6).map((r) => `${r.msgId ?? '-'}@${r.seq}`);
      return `${from > 0 ? '… ' : ''}${shown.join(' ')}${records.length > at + 6 ? ' …' : ''} (${records.length} in all)`;
    };
    examples.push(
      `${firstOutOfOrder} parts at position ${at + 1}; expected (msgId@seq): ${ids(a)}`,
      `${firstOutOfOrder} parts at position ${at + 1}; actual   (msgId@seq): ${ids(b)}`,
    );
  }
  const same =
    lost === 0 &&
    doubled === 0 &&
    different === 0 &&
    subjectsOutOfOrder.length === 0 &&
    expected.length === actual.length;
  const groups = options.orderBy === undefined ? 'subject(s)' : 'group(s)';
  const summary =
    `${label}: expected ${expected.length}, got ${actual.length}; lost ${lost}, doubled ${doubled}, ` +
    `different ${different}; ${subjectsOutOfOrder.length} ${groups} differ in sequence` +
    (subjectsOutOfOrder.length > 0 ? ` (e.g. ${subjectsOutOfOrder.slice(0, 3).join(', ')})` : '') +
    (examples.length > 0 ? `\n  ${examples.join('\n  ')}` : '');
  return {
    expectedCount: expected.length,
    actualCount: actual.length,
    lost,
    doubled,
    different,
    subjectsOutOfOrder,
    same,
    summary,
  };
}

/**
 * Where a dead letter's order is defined: the site of the input it refuses (a site's input is
 * applied in stream order), or `(no site)` when its subject names none (or is `bad_subject`). Dead letters of different
 * sites may interleave differently from one run to the next.
 */
export function deadLetterSite(record: StreamRecord): string {
  const { subject, reason } = (record.data ?? {}) as { subject?: unknown; reason?: unknown };
  // A subject the node refused to read names no site it could trust.
  if (reason === 'bad_subject') return '(no site)';
  const match = typeof subject === 'string' ? /^wfm\.[a-z]+\.[^.]+\.([^.]+)/.exec(subject) : null;
  return match === null ? '(no site)' : `site ${match[1]}`;
}

/**
 * Compares two runs' `WFM_DLQ` as {@link compareRuns} does `WFM_OUT`: every dead letter (subject,
 * `Nats-Msg-Id`, body with its reason, input seq and text) lost, doubled or different, and the
 * order of each site's dead letters — unless `ordered` is false: across the death of a stream's
 * leader a site's dead letters may be stored out of order (the Publisher keeps them pipelined).
 */
export function compareDeadLetters(
  expected: readonly StreamRecord[],
  actual: readonly StreamRecord[],
  options: { ordered?: boolean } = {},
): RunComparison {
  if (options.ordered === false) {
    const byId = (records: readonly StreamRecord[]) =>
      [...records].sort((a, b) =>
        (a.msgId ?? '') < (b.msgId ?? '') ? -1 : (a.msgId ?? '') > (b.msgId ?? '') ? 1 : 0,
      );
    return compareRuns(byId(expected), byId(actual), 'WFM_DLQ', { orderBy: deadLetterSite });
  }
  return compareRuns(expected, actual, 'WFM_DLQ', { orderBy: deadLetterSite });
}

/** The part of a `WFM_DLQ` message that a traffic set decides (`detail` is the node's prose). */
export interface DeadLetterFacts {
  reason: string;
  subject: string;
  seq: number;
  payload: string;
}

/**
 * The dead letters `traffic`, published to a fresh `WFM_IN` from sequence `firstSeq`, must
 * produce: one per invalid message, with its reason, subject, sequence and text, in `seq` order.
 */
export function expectedDeadLetters(traffic: readonly TrafficMessage[], firstSeq = 1): DeadLetterFacts[] {
  return traffic.flatMap((m, i) =>
    m.kind === 'invalid'
      ? [{ reason: m.reason, subject: m.subject, seq: firstSeq + i, payload: m.text }]
      : [],
  );
}

/** The {@link DeadLetterFacts} of stored `WFM_DLQ` messages, in `seq` order. */
export function deadLetterFacts(records: readonly StreamRecord[]): DeadLetterFacts[] {
  return records
    .map((r) => {
      const { reason, subject, seq, payload } = r.data as DeadLetterFacts;
      return { reason, subject, seq, payload };
    })
    .sort((a, b) => a.seq - b.seq);
}

/**
 * Messages stored more than once: each (subject, `Nats-Msg-Id`, payload) that occurs more than
 * once, with how often, and each `Nats-Msg-Id` that more than one message carries (or missing).
 */
export function storedMoreThanOnce(records: readonly StreamRecord[]): {
  duplicates: { record: StreamRecord; count: number }[];
  sharedMsgIds: { msgId: string | undefined; count: number }[];
} {
  const byKey = new Map<string, { record: StreamRecord; count: number }>();
  const byId = new Map<string | undefined, number>();
  for (const r of records) {
    const key = keyOf(r);
    const entry = byKey.get(key);
    if (entry === undefined) byKey.set(key, { record: r, count: 1 });
    else entry.count++;
    byId.set(r.msgId, (byId.get(r.msgId) ?? 0) + 1);
  }
  return {
    duplicates: [...byKey.values()].filter((e) => e.count > 1),
    sharedMsgIds: [...byId]
      .filter(([msgId, count]) => count > 1 || !msgId)
      .map(([msgId, count]) => ({ msgId, count })),
  };
}

/** What {@link watchSent} has seen. */
export interface SentWatch {
  /** Every message seen so far, in arrival order (`seq` is its position, from 1). */
  readonly records: StreamRecord[];
  /** Stops watching. */
  stop(): void;
}

/**
 * Watches `subjects` over core NATS: every message anyone publishes there, as sent, including a
 * re-send the stream drops as a duplicate (nats-server's duplicate window is at least 100 ms, so
 * a stream alone cannot show a message published twice in quick succession).
 */
export function watchSent(nc: NatsConnection, subjects: readonly string[]): SentWatch {
  const records: StreamRecord[] = [];
  const subscriptions: Subscription[] = subjects.map((subject) =>
    nc.subscribe(subject, {
      callback: (err, m) => {
        if (err !== null) return;
        const data = parsed(decoder.decode(m.data));
        records.push({
          seq: records.length + 1,
          subject: m.subject,
          data,
          msgId: m.headers?.get('Nats-Msg-Id'),
        });
      },
    }),
  );
  return {
    records,
    stop: () => {
      for (const s of subscriptions) s.unsubscribe();
    },
  };
}
