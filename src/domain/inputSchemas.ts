import Type from 'typebox';
import { Compile } from 'typebox/compile';
import { ID_PATTERN } from './subjects.ts';
import { ACTIVITY_CATEGORIES, AGENT_STATUSES, CALL_TYPES } from './types.ts';

// Compiled once: TypeBox's JIT validators measured fastest here (bench/decode.bench.ts).
const Id = Type.String({ pattern: ID_PATTERN.source });
// Epoch milliseconds from 2000-01-01 to 2100-01-01: seconds or microseconds by mistake fall
// outside and are refused as bad_ts instead of making the site walk millions of intervals.
export const MIN_TS = 946_684_800_000;
export const MAX_TS = 4_102_444_800_000;
const Ts = Type.Integer({ minimum: MIN_TS, maximum: MAX_TS });

export const currentStateSchema = Compile(
  Type.Object({
    statistic: Type.Literal('CurrentState'),
    agentId: Id,
    status: Type.Union(AGENT_STATUSES.map((s) => Type.Literal(s))),
    callType: Type.Union([...CALL_TYPES.map((c) => Type.Literal(c)), Type.Null()]),
    ts: Ts,
  }),
);

export const currentStateReasonSchema = Compile(
  Type.Object({
    statistic: Type.Literal('CurrentStateReason'),
    agentId: Id,
    reasons: Type.Record(Type.String(), Type.String({ maxLength: 256 }), { maxProperties: 64 }),
    ts: Ts,
  }),
);

export const scheduleSchema = Compile(
  Type.Object({
    agentId: Id,
    from: Ts,
    to: Ts,
    activities: Type.Array(
      Type.Object({
        start: Ts,
        end: Ts,
        category: Type.Union(ACTIVITY_CATEGORIES.map((c) => Type.Literal(c))),
        code: Type.Optional(Type.String({ maxLength: 64 })),
      }),
      { maxItems: 1000 },
    ),
  }),
);

export const clockSchema = Compile(Type.Object({ ts: Ts }));

export const transferCommandSchema = Compile(
  Type.Object({
    command: Type.Literal('transfer'),
    id: Id,
    from: Id,
    to: Id,
    ts: Ts,
    requestedBy: Type.String({ maxLength: 256 }),
  }),
);
