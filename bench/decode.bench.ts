/**
 * Why the decoder uses the schema library it does: validate one CurrentState payload per call
 * with each candidate, and the whole decodeInput (subject + JSON.parse + schema) on top.
 * Run alone: npx tsx bench/decode.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { Ajv } from 'ajv';
import Type from 'typebox';
import { Compile } from 'typebox/compile';
import * as v from 'valibot';
import { z } from 'zod';
import { decodeInput, defaultDecodeOptions } from '../src/domain/index.ts';
import { type BenchRow, printRows, progress, timeIt } from './BenchRow.ts';

const STATUSES = ['LoggedOff', 'NotReady', 'Ready', 'AfterCallWork'] as const;
const CALLS = ['Inbound', 'Outbound', 'Internal', 'Consult'] as const;

const zodSchema = z.object({
  statistic: z.literal('CurrentState'),
  agentId: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/),
  status: z.enum(STATUSES),
  callType: z.enum(CALLS).nullable(),
  ts: z.number().int().nonnegative(),
});
const valibotSchema = v.object({
  statistic: v.literal('CurrentState'),
  agentId: v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/)),
  status: v.picklist(STATUSES),
  callType: v.nullable(v.picklist(CALLS)),
  ts: v.pipe(v.number(), v.integer(), v.minValue(0)),
});
const tbSchema = Compile(
  Type.Object({
    statistic: Type.Literal('CurrentState'),
    agentId: Type.String({ pattern: '^[A-Za-z0-9_-]{1,64}$' }),
    status: Type.Union(STATUSES.map((s) => Type.Literal(s))),
    callType: Type.Union([...CALLS.map((s) => Type.Literal(s)), Type.Null()]),
    ts: Type.Integer({ minimum: 0 }),
  }),
);
const ajvValidate = new Ajv().compile({
  type: 'object',
  required: ['statistic', 'agentId', 'status', 'callType', 'ts'],
  properties: {
    statistic: { const: 'CurrentState' },
    agentId: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    status: { enum: STATUSES },
    callType: { enum: [...CALLS, null] },
    ts: { type: 'integer', minimum: 0 },
  },
});

const payloads = Array.from({ length: 1000 }, (_, i) =>
  JSON.parse(
    JSON.stringify({
      statistic: 'CurrentState',
      agentId: `agent-${i}`,
      status: STATUSES[i % 4],
      callType: i % 3 === 0 ? null : CALLS[i % 4],
      ts: 1_700_000_000_000 + i,
    }),
  ),
);

const candidates: Record<string, (x: unknown) => boolean> = {
  zod: (x) => zodSchema.safeParse(x).success,
  valibot: (x) => v.safeParse(valibotSchema, x).success,
  'typebox (compiled)': (x) => tbSchema.Check(x),
  ajv: (x) => ajvValidate(x) as boolean,
};

export default async function decodeBench(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const [name, check] of Object.entries(candidates)) {
    progress('decode', `schema check: ${name}`);
    for (let i = 0; i < 50_000; i++) check(payloads[i % 1000]); // warm up the JIT
    const n = 1_000_000;
    let ok = 0;
    const secs = timeIt(() => {
      for (let i = 0; i < n; i++) if (check(payloads[i % 1000])) ok++;
    });
    if (ok !== n) throw new Error(`${name} rejected valid input`);
    rows.push({
      bench: 'decode',
      scenario: `schema check: ${name}`,
      value: Math.round(n / secs),
      unit: 'ops/s',
    });
  }
  progress('decode', 'decodeInput');
  const texts = payloads.map((p) => new TextEncoder().encode(JSON.stringify(p)));
  const subjects = payloads.map((p) => `wfm.stat.T1.S1.${(p as { agentId: string }).agentId}`);
  const n = 300_000;
  const secs = timeIt(() => {
    for (let i = 0; i < n; i++) decodeInput(subjects[i % 1000]!, texts[i % 1000]!, defaultDecodeOptions);
  });
  rows.push({
    bench: 'decode',
    scenario: 'decodeInput (bytes → typed event)',
    value: Math.round(n / secs),
    unit: 'msgs/s',
  });
  return rows;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await decodeBench());
