import {
  clockSchema,
  currentStateReasonSchema,
  currentStateSchema,
  scheduleSchema,
  transferCommandSchema,
} from './inputSchemas.ts';
import { parseSubject } from './subjects.ts';
import {
  ACTIVITY_CATEGORIES,
  type Activity,
  type ActivityCategory,
  type InputEvent,
  type Rejection,
  type RejectionReason,
  type SubjectAddress,
} from './types.ts';

/** Options of {@link decodeInput}. */
export interface DecodeOptions {
  /**
   * Key of the reason in `CurrentStateReason.reasons` (Genesys option ReasonCodeKeyName).
   * @defaultValue `"ReasonCode"`
   */
  reasonCodeKeyName: string;
  /**
   * Largest payload accepted, in bytes; larger ones go to the DLQ as `too_large`.
   * @defaultValue 65536
   */
  maxPayloadBytes: number;
}

export const defaultDecodeOptions: DecodeOptions = {
  reasonCodeKeyName: 'ReasonCode',
  maxPayloadBytes: 65_536,
};

export type Decoded =
  | { ok: true; address: SubjectAddress; event: InputEvent }
  | { ok: false; address: SubjectAddress | null; rejection: Rejection };

const decoder = new TextDecoder('utf-8', { fatal: true });
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function reject(address: SubjectAddress | null, reason: RejectionReason, detail: string): Decoded {
  return { ok: false, address, rejection: { reason, detail } };
}

/**
 * Validates one `WFM_IN` message into a typed event, or says precisely why it is refused.
 * Never throws: every failure becomes a {@link Rejection} for the DLQ.
 */
export function decodeInput(subject: string, data: Uint8Array | string, options: DecodeOptions): Decoded {
  const address = parseSubject(subject);
  if (address === null) return reject(null, 'bad_subject', `not an input subject: ${subject.slice(0, 200)}`);
  const size = typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
  if (size > options.maxPayloadBytes) {
    return reject(address, 'too_large', `payload of ${size} bytes exceeds ${options.maxPayloadBytes}`);
  }
  let value: unknown;
  try {
    value = JSON.parse(typeof data === 'string' ? data : decoder.decode(data));
  } catch (err) {
    return reject(address, 'invalid_json', (err as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    const kind = value === null ? 'null' : Array.isArray(value) ? 'an array' : typeof value;
    return reject(address, 'not_object', `payload is ${kind}`);
  }
  const forbidden = findForbiddenKey(value, 0);
  if (forbidden !== null) return reject(address, 'bad_payload', `forbidden key ${forbidden}`);
  const record = value as Record<string, unknown>;
  if (address.kind === 'clock') return decodeClock(address, record);
  if (address.kind === 'command') return decodeCommand(address, record);
  if ('agentId' in record && record.agentId !== address.agentId && typeof record.agentId === 'string') {
    return reject(
      address,
      'agent_mismatch',
      `agentId ${record.agentId.slice(0, 64)} on subject for ${address.agentId}`,
    );
  }
  return address.kind === 'stat' ? decodeStat(address, record, options) : decodeSchedule(address, record);
}

function findForbiddenKey(value: object, depth: number): string | null {
  if (depth > 8) return null;
  // for…in, not Object.keys: no array per object of every input. A parsed payload's keys are all
  // its own (JSON.parse makes even "__proto__" an own key), and Object.prototype has no enumerable ones.
  for (const key in value) {
    if (FORBIDDEN_KEYS.has(key)) return key;
    const child = (value as Record<string, unknown>)[key];
    if (typeof child === 'object' && child !== null) {
      const found = findForbiddenKey(child, depth + 1);
      if (found !== null) return found;
    }
  }
  return null;
}

/** Maps the first schema error to the most precise reason code (by the field it is about). */
function schemaRejection(
  address: SubjectAddress,
  errors: Iterable<{ instancePath: string; message: string; params?: unknown }>,
): Decoded {
  for (const error of errors) {
    // A missing property is reported on its parent; name the property itself.
    const missing = (error.params as { requiredProperties?: string[] } | undefined)?.requiredProperties?.[0];
    const field =
      error.instancePath === '' && missing !== undefined ? missing : (error.instancePath.split('/')[1] ?? '');
    const detail = `${error.instancePath || '(payload)'} ${error.message}`;
    const reason: RejectionReason =
      field === 'status'
        ? 'bad_status'
        : field === 'callType'
          ? 'bad_call_type'
          : field === 'ts'
            ? 'bad_ts'
            : field === 'reasons'
              ? 'bad_reasons'
              : field === 'from' || field === 'to' || field === 'activities'
                ? 'bad_schedule'
                : 'bad_payload';
    return reject(address, reason, detail);
  }
  return reject(address, 'bad_payload', 'payload does not match the contract');
}

function decodeClock(address: SubjectAddress, record: Record<string, unknown>): Decoded {
  if (!clockSchema.Check(record)) return schemaRejection(address, clockSchema.Errors(record));
  return { ok: true, address, event: { type: 'clock', ts: record.ts } };
}

function decodeCommand(address: SubjectAddress, record: Record<string, unknown>): Decoded {
  if (record.command !== 'transfer') {
    if (record.command === undefined) return reject(address, 'bad_command', 'the command field is missing');
    const shown = typeof record.command === 'string' ? record.command.slice(0, 64) : String(record.command);
    return reject(address, 'bad_command', `unknown command ${shown}`);
  }
  if (!transferCommandSchema.Check(record)) {
    const first = [...transferCommandSchema.Errors(record)][0];
    const detail =
      first === undefined
        ? 'does not match the contract'
        : `${first.instancePath || '(payload)'} ${first.message}`;
    return reject(address, 'bad_command', `transfer command ${detail}`);
  }
  const { id, from, to, ts, requestedBy } = record;
  return { ok: true, address, event: { type: 'transfer', id, from, to, ts, requestedBy } };
}

function decodeStat(
  address: SubjectAddress,
  record: Record<string, unknown>,
  options: DecodeOptions,
): Decoded {
  const agentId = address.agentId!;
  if (record.statistic === 'CurrentState') {
    if (!currentStateSchema.Check(record)) return schemaRejection(address, currentStateSchema.Errors(record));
    const { status, callType, ts } = record;
    return { ok: true, address, event: { type: 'state', agentId, status, callType, ts } };
  }
  if (record.statistic === 'CurrentStateReason') {
    if (!currentStateReasonSchema.Check(record)) {
      return schemaRejection(address, currentStateReasonSchema.Errors(record));
    }
    const reasons = record.reasons;
    const key = options.reasonCodeKeyName;
    const reason = Object.hasOwn(reasons, key) ? (reasons[key] ?? null) : null;
    return {
      ok: true,
      address,
      event: { type: 'reason', agentId, reason: reason === '' ? null : reason, ts: record.ts },
    };
  }
  const shown =
    typeof record.statistic === 'string' ? record.statistic.slice(0, 64) : String(record.statistic);
  return reject(address, 'unknown_statistic', `statistic ${shown} is not CurrentState or CurrentStateReason`);
}

const CATEGORY = new Map<string, ActivityCategory>(ACTIVITY_CATEGORIES.map((c) => [c, c]));

function decodeSchedule(address: SubjectAddress, record: Record<string, unknown>): Decoded {
  if (!scheduleSchema.Check(record)) return schemaRejection(address, scheduleSchema.Errors(record));
  const { from, to } = record;
  if (from >= to) return reject(address, 'bad_schedule', `from ${from} is not before to ${to}`);
  const sorted = record.activities
    .map((a) => {
      // The category as the one shared constant, not the parsed copy each schedule brings: an
      // agent keeps its schedule, and 100k agents would keep 100k copies of "OnQueueWork".
      const category = CATEGORY.get(a.category) ?? a.category;
      return a.code === undefined ? { start: a.start, end: a.end, category } : { ...a, category };
    })
    .sort((a, b) => a.start - b.start);
  // An activity with start = end covers no time (DESIGN.md): it is dropped and counted, wherever
  // it lies, and never refuses the schedule. Indexes in details are of the sorted list.
  const activities: Activity[] = [];
  let previousEnd = from;
  for (const [i, a] of sorted.entries()) {
    if (a.start === a.end) continue;
    if (a.start > a.end) return reject(address, 'bad_schedule', `activity ${i} ends before it starts`);
    if (a.start < from || a.end > to)
      return reject(address, 'bad_schedule', `activity ${i} lies outside [from, to)`);
    if (a.start < previousEnd)
      return reject(address, 'bad_schedule', `activity ${i} overlaps the one before it`);
    previousEnd = a.end;
    activities.push(a);
  }
  return {
    ok: true,
    address,
    event: {
      type: 'schedule',
      agentId: address.agentId!,
      from,
      to,
      activities,
      emptyActivitiesDropped: sorted.length - activities.length,
    },
  };
}
