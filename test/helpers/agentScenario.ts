/**
 * Builders and drivers shared by the domain and actor tests: wire messages (JSON text, as on
 * `WFM_IN`), a driver for the pure agent core, a driver for a SiteSupervisor, and builders of the
 * exact outputs the tests expect.
 */
import { type SiteResult, type SiteSnapshot, SiteSupervisor } from '../../src/actors/index.ts';
import {
  type Activity,
  type ActivityCategory,
  type ActualCategory,
  type AdherenceOutput,
  type AdherenceState,
  type AgentContext,
  type AgentOptions,
  type AgentOutput,
  type AgentStatus,
  advanceAgent,
  applyReasonUpdate,
  applyScheduleUpdate,
  applyStateUpdate,
  type CallType,
  type DecodeOptions,
  decodeInput,
  defaultDecodeOptions,
  type GcStateOutput,
  type Impact,
  type IntervalRecord,
  initialAgentContext,
  nextDeadline,
  type Output,
  type Presence,
  type Rejection,
  type ResolvedAgentOptions,
  type RoutingStatus,
  resolveAgentOptions,
} from '../../src/domain/index.ts';

export const TENANT = 'T1';
export const SITE = 'S1';

/** 2024-01-15 hh:mm:ss.ms UTC in epoch ms. */
export function utc(h: number, m: number, s = 0, ms = 0): number {
  return Date.UTC(2024, 0, 15, h, m, s, ms);
}

export const SECOND = 1000;
export const MINUTE = 60_000;

// ---------------------------------------------------------------------------------------------
// Wire messages
// ---------------------------------------------------------------------------------------------

/** One `WFM_IN` message as it travels: subject and UTF-8 JSON text. */
export interface WireMessage {
  subject: string;
  data: string;
}

export function statSubject(agentId: string, tenant = TENANT, site = SITE): string {
  return `wfm.stat.${tenant}.${site}.${agentId}`;
}

export function scheduleSubject(agentId: string, tenant = TENANT, site = SITE): string {
  return `wfm.schedule.${tenant}.${site}.${agentId}`;
}

export function clockSubject(tenant = TENANT, site = SITE): string {
  return `wfm.clock.${tenant}.${site}`;
}

export function stateMsg(
  agentId: string,
  status: AgentStatus,
  callType: CallType | null,
  ts: number,
): WireMessage {
  return {
    subject: statSubject(agentId),
    data: JSON.stringify({ statistic: 'CurrentState', agentId, status, callType, ts }),
  };
}

/** A `CurrentStateReason`; a string or null is sent as `{ReasonCode: reason}` / `{}`. */
export function reasonMsg(
  agentId: string,
  reason: string | null | Record<string, string>,
  ts: number,
): WireMessage {
  const reasons = reason === null ? {} : typeof reason === 'string' ? { ReasonCode: reason } : reason;
  return {
    subject: statSubject(agentId),
    data: JSON.stringify({ statistic: 'CurrentStateReason', agentId, reasons, ts }),
  };
}

export function scheduleMsg(agentId: string, from: number, to: number, activities: Activity[]): WireMessage {
  return { subject: scheduleSubject(agentId), data: JSON.stringify({ agentId, from, to, activities }) };
}

export function clockMsg(ts: number): WireMessage {
  return { subject: clockSubject(), data: JSON.stringify({ ts }) };
}

export function act(start: number, end: number, category: ActivityCategory): Activity {
  return { start, end, category };
}

// ---------------------------------------------------------------------------------------------
// Site driver
// ---------------------------------------------------------------------------------------------

export type SiteOptions = Partial<Omit<AgentOptions, 'tenant' | 'site'>>;

/** Feeds wire messages (decoded with decodeInput) to a SiteSupervisor, numbering them 1, 2, 3, … */
export class SiteScenario {
  readonly sup: SiteSupervisor;
  readonly decodeOptions: DecodeOptions;
  seq = 0;

  constructor(
    options: SiteOptions = {},
    decodeOptions: Partial<DecodeOptions> = {},
    snapshot?: SiteSnapshot,
  ) {
    this.sup = new SiteSupervisor({ tenant: TENANT, site: SITE, ...options }, snapshot);
    this.decodeOptions = { ...defaultDecodeOptions, ...decodeOptions };
    if (snapshot !== undefined) this.seq = snapshot.seq;
  }

  send(message: WireMessage): SiteResult {
    this.seq++;
    return this.sup.process(
      this.seq,
      message.subject,
      decodeInput(message.subject, message.data, this.decodeOptions),
    );
  }

  state(agentId: string, status: AgentStatus, ts: number, callType: CallType | null = null): SiteResult {
    return this.send(stateMsg(agentId, status, callType, ts));
  }

  reason(agentId: string, reason: string | null, ts: number): SiteResult {
    return this.send(reasonMsg(agentId, reason, ts));
  }

  schedule(agentId: string, from: number, to: number, activities: Activity[]): SiteResult {
    return this.send(scheduleMsg(agentId, from, to, activities));
  }

  clock(ts: number): SiteResult {
    return this.send(clockMsg(ts));
  }
}

/** Processes `messages` as seqs `firstSeq`, `firstSeq + 1`, …; returns each message's result. */
export function feed(
  sup: SiteSupervisor,
  messages: readonly WireMessage[],
  firstSeq = 1,
  decodeOptions: DecodeOptions = defaultDecodeOptions,
): SiteResult[] {
  return messages.map((m, i) =>
    sup.process(firstSeq + i, m.subject, decodeInput(m.subject, m.data, decodeOptions)),
  );
}

// ---------------------------------------------------------------------------------------------
// Agent core driver
// ---------------------------------------------------------------------------------------------

/** Drives one agent through the pure core, numbering inputs 1, 2, 3, … as their sourceSeq. */
export class AgentHarness {
  readonly options: ResolvedAgentOptions;
  ctx: AgentContext;
  seq = 0;
  lastRejection: Rejection | null = null;

  constructor(options: SiteOptions = {}, agentId = 'A1') {
    this.options = resolveAgentOptions({ tenant: TENANT, site: SITE, ...options });
    this.ctx = initialAgentContext(agentId);
  }

  get agentId(): string {
    return this.ctx.agentId;
  }

  #take(step: { context: AgentContext; outputs: AgentOutput[]; rejection: Rejection | null }): AgentOutput[] {
    this.ctx = step.context;
    this.lastRejection = step.rejection;
    return step.outputs;
  }

  state(status: AgentStatus, ts: number, callType: CallType | null = null): AgentOutput[] {
    this.seq++;
    return this.#take(
      applyStateUpdate(
        this.ctx,
        { type: 'state', agentId: this.agentId, status, callType, ts },
        this.seq,
        this.options,
      ),
    );
  }

  reason(reason: string | null, ts: number): AgentOutput[] {
    this.seq++;
    return this.#take(
      applyReasonUpdate(
        this.ctx,
        { type: 'reason', agentId: this.agentId, reason, ts },
        this.seq,
        this.options,
      ),
    );
  }

  schedule(from: number, to: number, activities: Activity[]): AgentOutput[] {
    this.seq++;
    return this.#take(
      applyScheduleUpdate(
        this.ctx,
        { type: 'schedule', agentId: this.agentId, from, to, activities },
        this.seq,
        this.options,
      ),
    );
  }

  /** Advances the agent to `at` as a site deadline would (a clock tick message). */
  advance(at: number): AgentOutput[] {
    this.seq++;
    return this.#take(advanceAgent(this.ctx, at, this.seq, this.options));
  }

  deadline(): number | null {
    return nextDeadline(this.ctx, this.options);
  }
}

// ---------------------------------------------------------------------------------------------
// Expected outputs
// ---------------------------------------------------------------------------------------------

export function gcPayload(
  agentId: string,
  presence: Presence,
  routingStatus: RoutingStatus,
  ts: number,
  sourceSeq: number,
) {
  return { agentId, presence, routingStatus, ts, sourceSeq };
}

export function gcCore(
  agentId: string,
  presence: Presence,
  routingStatus: RoutingStatus,
  ts: number,
  sourceSeq: number,
): AgentOutput {
  return { kind: 'gc', payload: gcPayload(agentId, presence, routingStatus, ts, sourceSeq) };
}

export interface AdherenceFields {
  state: AdherenceState;
  scheduled: ActivityCategory | null;
  actual: ActualCategory;
  impact: Impact;
  since: number;
  ts: number;
  seq: number;
}

export function adherencePayload(agentId: string, f: AdherenceFields): AdherenceOutput {
  return {
    agentId,
    adherenceState: f.state,
    scheduledCategory: f.scheduled,
    actualCategory: f.actual,
    impact: f.impact,
    since: f.since,
    ts: f.ts,
    sourceSeq: f.seq,
  };
}

export function adherenceCore(agentId: string, f: AdherenceFields): AgentOutput {
  return { kind: 'adherence', payload: adherencePayload(agentId, f) };
}

export interface RecordFields {
  intervalStart: number;
  secondsByPresence: Partial<Record<Presence, number>>;
  adherenceScheduleSecs: number;
  exceptionDurationSecs: number;
  adherencePercentage: number | null;
  conformanceScheduleSecs: number;
  conformanceActualSecs: number;
  conformancePercentage: number | null;
  sourceSeq: number;
}

/** A full interval record; only `site` and `intervalMinutes` are filled in. */
export function intervalRecord(agentId: string, f: RecordFields, intervalMinutes = 15): IntervalRecord {
  return {
    agentId,
    site: SITE,
    intervalStart: f.intervalStart,
    intervalMinutes,
    secondsByPresence: f.secondsByPresence,
    adherenceScheduleSecs: f.adherenceScheduleSecs,
    exceptionDurationSecs: f.exceptionDurationSecs,
    adherencePercentage: f.adherencePercentage,
    conformanceScheduleSecs: f.conformanceScheduleSecs,
    conformanceActualSecs: f.conformanceActualSecs,
    conformancePercentage: f.conformancePercentage,
    sourceSeq: f.sourceSeq,
  };
}

export function intervalCore(agentId: string, f: RecordFields, intervalMinutes = 15): AgentOutput {
  return { kind: 'interval', payload: intervalRecord(agentId, f, intervalMinutes) };
}

/** The site-level output of one kind. */
export type OutputOf<K extends Output['kind']> = Extract<Output, { kind: K }>;

/** Site-level outputs (tenant, site and ordinal stamped: the output's position among its message's). */
export function gcOut(
  agentId: string,
  presence: Presence,
  routingStatus: RoutingStatus,
  ts: number,
  sourceSeq: number,
  ordinal = 0,
): OutputOf<'gc'> {
  return {
    kind: 'gc',
    tenant: TENANT,
    site: SITE,
    agentId,
    ordinal,
    payload: gcPayload(agentId, presence, routingStatus, ts, sourceSeq),
  };
}

export function adherenceOut(agentId: string, f: AdherenceFields, ordinal = 0): OutputOf<'adherence'> {
  return {
    kind: 'adherence',
    tenant: TENANT,
    site: SITE,
    agentId,
    ordinal,
    payload: adherencePayload(agentId, f),
  };
}

export function intervalOut(
  agentId: string,
  f: RecordFields,
  ordinal = 0,
  intervalMinutes = 15,
): OutputOf<'interval'> {
  return {
    kind: 'interval',
    tenant: TENANT,
    site: SITE,
    agentId,
    ordinal,
    payload: intervalRecord(agentId, f, intervalMinutes),
  };
}

type PayloadOf<K extends AgentOutput['kind']> = K extends 'gc'
  ? GcStateOutput
  : K extends 'adherence'
    ? AdherenceOutput
    : IntervalRecord;

/** Only the payloads of the outputs of one kind, in order. */
export function ofKind<K extends AgentOutput['kind']>(
  outputs: readonly AgentOutput[],
  kind: K,
): PayloadOf<K>[] {
  const payloads: PayloadOf<K>[] = [];
  for (const o of outputs) if (o.kind === kind) payloads.push(o.payload as PayloadOf<K>);
  return payloads;
}
