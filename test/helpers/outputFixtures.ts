/**
 * Outputs and dead letters as the stream tests publish and read them back (Publisher, readStoredIds,
 * the message builders): any site and tenant, fixed contents. What those tests check is where a
 * message goes and what identifies it (subject, `Nats-Msg-Id`, `Wfm-Source-Seq`, `Wfm-Site`), so
 * only the fields that feed those are parameters. Built on the site-level outputs of
 * `agentScenario.ts`, restamped with the test's site.
 */
import type { DeadLetter } from '../../src/streams/index.ts';
import {
  adherenceOut,
  gcOut,
  intervalOut,
  type OutputOf,
  type RecordFields,
  TENANT,
} from './agentScenario.ts';

const encoder = new TextEncoder();

/** The epoch ms the fixtures' timestamps count from (`ts` is this plus the source seq). */
export const FIXTURE_EPOCH = 1_700_000_000_000;

/** The interval start of `intervalOutput` unless given. */
export const FIXTURE_INTERVAL_START = 1_700_000_100_000;

/** A gc output of `agentId` at `site`: ON_QUEUE / IDLE at `FIXTURE_EPOCH + sourceSeq`. */
export function gcOutput(
  site: string,
  agentId: string,
  sourceSeq: number,
  ordinal = 0,
  tenant = TENANT,
): OutputOf<'gc'> {
  return {
    ...gcOut(agentId, 'ON_QUEUE', 'IDLE', FIXTURE_EPOCH + sourceSeq, sourceSeq, ordinal),
    tenant,
    site,
  };
}

/** An adherence output of `agentId` at `site`: out of adherence (Meal during OnQueueWork). */
export function adherenceOutput(
  site: string,
  agentId: string,
  sourceSeq: number,
  ordinal = 0,
): OutputOf<'adherence'> {
  const fields = {
    state: 'OutOfAdherence',
    scheduled: 'OnQueueWork',
    actual: 'Meal',
    impact: 'Negative',
    since: FIXTURE_EPOCH,
    ts: FIXTURE_EPOCH + sourceSeq,
    seq: sourceSeq,
  } as const;
  return { ...adherenceOut(agentId, fields, ordinal), site };
}

/** A closed 15-minute interval record of `agentId` at `site` (its payload names the site too). */
export function intervalOutput(
  site: string,
  agentId: string,
  sourceSeq: number,
  intervalStart = FIXTURE_INTERVAL_START,
): OutputOf<'interval'> {
  const fields: RecordFields = {
    intervalStart,
    secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 30,
    adherencePercentage: 96.67,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 830,
    conformancePercentage: 92.22,
    sourceSeq,
  };
  const out = intervalOut(agentId, fields);
  return { ...out, site, payload: { ...out.payload, site } };
}

/** An `invalid_json` dead letter of input `seq` at `site` (a truncated CurrentState). */
export function deadLetter(site: string, seq: number, ordinal = 0): DeadLetter {
  return {
    tenant: TENANT,
    site,
    reason: 'invalid_json',
    subject: `wfm.stat.${TENANT}.${site}.a1`,
    seq,
    ordinal,
    data: encoder.encode('{"statistic":"CurrentState",'),
    detail: 'Unexpected end of JSON input',
  };
}

/** A refused transfer's audit record at `site` (from `a1` to `a2`), caused by input `sourceSeq`. */
export function transferOutput(site: string, id: string, sourceSeq: number): OutputOf<'transfer'> {
  return {
    kind: 'transfer',
    tenant: TENANT,
    site,
    agentId: 'a2',
    ordinal: 0,
    payload: {
      id,
      from: 'a1',
      to: 'a2',
      requestedBy: 'ops@admin',
      requestedAt: FIXTURE_EPOCH,
      appliedAt: FIXTURE_EPOCH + sourceSeq,
      result: 'refused',
      reason: 'unknown agent a1',
      counts: null,
      sourceSeq,
    },
  };
}
