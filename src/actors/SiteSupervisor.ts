import type { InspectionEvent } from 'xstate';
import {
  type AgentContext,
  type AgentInput,
  type AgentOptions,
  type AgentStep,
  applyAgentInput,
  type Decoded,
  optionsFingerprint,
  type ResolvedAgentOptions,
  resolveAgentOptions,
  TimeProfile,
  type TransferCommand,
  type TransferRecord,
} from '../domain/index.ts';
import { AgentInputLog } from './AgentInputLog.ts';
import { SiteAgents } from './SiteAgents.ts';
import { type SiteResult, SiteResultCollector } from './siteResult.ts';
import {
  readSiteState,
  SITE_STATE_VERSION,
  type SiteCapture,
  type SiteCaptureStream,
  type SiteSnapshot,
  type SiteState,
} from './siteSnapshot.ts';

/**
 * A stat or clock `ts` further than this past the site's event time is refused (`bad_ts`): it is
 * a clock error, and accepting it would close a month of intervals for every agent at once.
 */
export const MAX_FORWARD_JUMP_MS = 31 * 24 * 3_600_000;

/** Options of a `SiteSupervisor` beyond the agents' own. */
export interface SiteSupervisorOptions {
  /**
   * Send every step to its agent's actor, not only the steps that move its statechart. The
   * outputs and snapshots are the same either way (a property test holds them equal); this is
   * the reference the fast path is checked against.
   * @defaultValue false
   */
  feedEveryStep?: boolean;
  /**
   * Test seam: the function that computes one agent step. Tests pass a wrapper that throws for a
   * chosen agent and input to exercise the supervisor's failure handling; production code never
   * sets it.
   * @defaultValue `applyAgentInput`
   */
  applyStep?: (
    context: AgentContext,
    input: AgentInput,
    seq: number,
    options: ResolvedAgentOptions,
  ) => AgentStep;
  /** xstate `inspect` observer of the agent actors. @defaultValue undefined */
  inspect?: (event: InspectionEvent) => void;
}

/**
 * One site: routes each decoded input to its agent's actor (created on first sight), advances
 * the site's event time from stat and clock messages, advances agents whose deadlines that time
 * has reached (schedule boundaries, interval closes), and collects outputs in input order.
 * Processing is synchronous and uses event time only, so it is a pure function of the input.
 */
export class SiteSupervisor {
  /**
   * The options in force: those given, with, after a restore, the time-profile history
   * continued with the given grid (see `TimeProfile.switchTo`).
   */
  readonly options: ResolvedAgentOptions;
  /** `optionsFingerprint` of the options given. */
  readonly optionsFingerprint: string;
  /** The fingerprint found in the restored site state; null when not restored. */
  readonly restoredOptionsFingerprint: string | null = null;
  readonly #agents: SiteAgents;
  readonly #inputs = new AgentInputLog();
  #seq = 0;
  #siteTime = -1;
  #emptyActivitiesDropped = 0;
  // Per-message collection; reset at the start of every process() call.
  readonly #result: SiteResultCollector;

  constructor(
    options: Partial<AgentOptions> & Pick<AgentOptions, 'tenant' | 'site'>,
    snapshot?: SiteSnapshot,
    { feedEveryStep = false, applyStep = applyAgentInput, inspect }: SiteSupervisorOptions = {},
  ) {
    const resolved = resolveAgentOptions(options);
    this.optionsFingerprint = optionsFingerprint(resolved);
    this.#result = new SiteResultCollector(resolved.tenant, resolved.site);
    if (snapshot === undefined) {
      this.options = resolved;
      this.#agents = new SiteAgents(resolved, this.#result, feedEveryStep, applyStep, inspect);
      return;
    }
    const site = readSiteState(resolved, snapshot.site);
    this.restoredOptionsFingerprint = site.optionsFingerprint;
    // Time already accounted keeps the grid it was accounted on; a changed grid applies from the
    // next boundary (DESIGN.md "Running it": restart).
    const profile = new TimeProfile(site.profiles).switchTo(
      resolved.intervalMinutes,
      resolved.offsetMinutes,
      site.siteTime,
    );
    this.options = { ...resolved, profile };
    this.#agents = new SiteAgents(this.options, this.#result, feedEveryStep, applyStep, inspect);
    try {
      this.#restore(snapshot.seq, site, snapshot.agents);
    } catch (err) {
      // A snapshot refused half-way: the actors made before it must not outlive this attempt.
      this.stop();
      throw err;
    }
  }

  /**
   * Whether the options given differ from those the restored state was computed under (false
   * when not restored): the node logs it. A changed time profile applies from the next interval
   * boundary; other options from the next input.
   */
  get restoredOptionsChanged(): boolean {
    return (
      this.restoredOptionsFingerprint !== null && this.restoredOptionsFingerprint !== this.optionsFingerprint
    );
  }

  /** Last applied `WFM_IN` sequence. */
  get seq(): number {
    return this.#seq;
  }

  /** The site's event time: the greatest `ts` seen on its stat and clock subjects (-1: none yet). */
  get siteTime(): number {
    return this.#siteTime;
  }

  /**
   * Agent steps taken (inputs and deadlines applied to agents) and how many of them moved a
   * statechart, i.e. were sent to the actor as an event; since this supervisor was made.
   */
  get stepCounts(): { steps: number; transitions: number } {
    return this.#agents.stepCounts;
  }

  /** Restored agents whose actor is made on their first use, not yet used (see RestingAgents). */
  get restingAgents(): number {
    return this.#agents.restingCount;
  }

  /**
   * Scheduled activities with start = end dropped from the schedules this supervisor applied
   * (they cover no time), since it was made.
   */
  get emptyActivitiesDropped(): number {
    return this.#emptyActivitiesDropped;
  }

  /** Agents quarantined after a deadline step threw, sorted; each leaves it with its next own input. */
  get quarantined(): string[] {
    return this.#agents.quarantined;
  }

  /** The current context of `agentId`, or undefined when the site has had no input for it. */
  agentContext(agentId: string): AgentContext | undefined {
    return this.#agents.context(agentId);
  }

  /** `agentId`'s statechart value and current context, or undefined when the site has had no input for it. */
  agent(agentId: string): { value: unknown; context: AgentContext } | undefined {
    return this.#agents.agent(agentId);
  }

  /** Number of agents seen. */
  get agentCount(): number {
    return this.#agents.size;
  }

  /**
   * Applies one decoded input. Messages at or below the last applied seq are ignored (they were
   * applied before a restart), which makes replays after a crash harmless.
   */
  process(seq: number, subject: string, decoded: Decoded): SiteResult {
    if (seq <= this.#seq) return { outputs: [], dlq: [] };
    this.#seq = seq;
    this.#result.begin(seq, subject);
    if (!decoded.ok) {
      this.#result.reject(decoded.rejection);
    } else {
      const event = decoded.event;
      if (event.type === 'transfer') {
        this.#transfer(seq, event);
        return this.#result.result();
      }
      if (
        event.type !== 'schedule' &&
        this.#siteTime >= 0 &&
        event.ts > this.#siteTime + MAX_FORWARD_JUMP_MS
      ) {
        this.#result.reject({
          reason: 'bad_ts',
          detail: `ts ${event.ts} jumps more than 31 days past the site's event time ${this.#siteTime}`,
        });
        return this.#result.result();
      }
      if (event.type === 'clock') {
        this.#advanceSiteTime(event.ts);
      } else {
        if (event.type !== 'schedule') this.#advanceSiteTime(event.ts);
        else if (event.emptyActivitiesDropped) this.#emptyActivitiesDropped += event.emptyActivitiesDropped;
        this.#agents.apply(event.agentId, event, seq);
        this.#inputs.record(event.agentId, seq);
      }
      this.#agents.fireDeadlines(this.#siteTime, seq);
    }
    const result = this.#result.result();
    // An agent a deadline moved (its output names it) logs the input whose time moved it.
    for (const output of result.outputs) this.#inputs.record(output.agentId, seq);
    return result;
  }

  /**
   * Per agent, the `WFM_IN` sequences of its last inputs (and of inputs whose event time fired
   * one of its deadlines with an output), and the agents touched since the visualizer last
   * asked. Not persisted: empty after a restart or rebuild (see {@link AgentInputLog}).
   */
  get inputs(): AgentInputLog {
    return this.#inputs;
  }

  /**
   * The state to persist now, serialized at capture: seq, site state, and every agent changed
   * since the last capture as JSON text — so input can go on changing the live actors while the
   * checkpoint is written, and nothing in flight changes what is written. The dirty set is
   * taken; when the commit of this capture fails, {@link markDirty} puts its agents back.
   */
  capture(): SiteCapture {
    const agents = this.#agents.capture();
    return { seq: this.#seq, site: this.#siteState(), agents };
  }

  /** Agents a capture would serialize now. */
  get dirtyCount(): number {
    return this.#agents.dirtyCount;
  }

  /**
   * {@link capture} as a stream (see `SiteAgents.captureStream`): the seq, the site state and the
   * dirty agents are taken now, synchronously; the agents' JSON is made as the stream is read,
   * `chunk` at a time with `pause()` between, while input may go on.
   */
  captureStream(chunk: number, pause: () => Promise<void>): SiteCaptureStream {
    const seq = this.#seq;
    const site = this.#siteState();
    return { seq, site, ...this.#agents.captureStream(chunk, pause) };
  }

  /**
   * Puts agents back in the dirty set, so the next capture writes them again: a caller whose
   * commit of a capture failed calls it with that capture's agents (B1). Ids of agents this
   * supervisor does not hold are ignored.
   */
  markDirty(agentIds: Iterable<string>): void {
    this.#agents.markDirty(agentIds);
  }

  /** Calls `visit` with every agent's current context (the visualizer's grid: no object per agent). */
  forEachAgentContext(visit: (context: AgentContext) => void): void {
    this.#agents.forEachContext(visit);
  }

  /**
   * Every agent's current context and statechart value, as objects (tests and tools; the
   * visualizer's grid passes use {@link forEachAgentContext}, which makes none).
   */
  agents(): IterableIterator<{ agentId: string; value: unknown; context: AgentContext }> {
    return this.#agents.entries();
  }

  /** Stops every agent actor, then the site's root actor. Calling it again does nothing. */
  stop(): void {
    this.#agents.stop();
  }

  /**
   * Applies a transfer command in stream order (DESIGN "User data transfer"): refused, with its
   * reason in the audit record and nothing changed, when an agent is not the site's or both are
   * one; else both agents' data moves per the policy. It happens at the site's event time (the
   * command's own `ts` is the admin's clock: recorded, not used), so it is a pure function of the
   * input like everything else. The audit record is the message's last output.
   */
  #transfer(seq: number, command: TransferCommand): void {
    const { id, from, to, requestedBy } = command;
    const refusal =
      from === to
        ? `an agent cannot be transferred to itself (${from})`
        : !this.#agents.has(from)
          ? `unknown agent ${from}: site ${this.options.site} has had no input for it`
          : !this.#agents.has(to)
            ? `unknown agent ${to}: site ${this.options.site} has had no input for it`
            : this.#agents.context(to)!.audit.some((e) => e.id === id)
              ? `transfer ${id} was applied already (the command is stored twice)`
              : null;
    const at = this.#siteTime >= 0 ? this.#siteTime : command.ts;
    let counts: TransferRecord['counts'] = null;
    if (refusal === null) {
      counts = this.#agents.transfer(from, to, at, { type: 'transfer', id, from, to, at, sourceSeq: seq });
      this.#inputs.record(from, seq);
      this.#inputs.record(to, seq);
    }
    const record: TransferRecord = {
      id,
      from,
      to,
      requestedBy,
      requestedAt: command.ts,
      appliedAt: at,
      result: refusal === null ? 'applied' : 'refused',
      reason: refusal,
      counts,
      sourceSeq: seq,
    };
    this.#result.collect(to, [{ kind: 'transfer', payload: record }]);
  }

  #siteState(): SiteState {
    return {
      v: SITE_STATE_VERSION,
      siteTime: this.#siteTime,
      quarantined: this.quarantined,
      optionsFingerprint: this.optionsFingerprint,
      profiles: this.options.profile.entries.map((e) => ({ ...e })),
    };
  }

  #advanceSiteTime(ts: number): void {
    if (ts > this.#siteTime) this.#siteTime = ts;
  }

  #restore(seq: number, site: SiteState, agents: SiteSnapshot['agents']): void {
    this.#seq = seq;
    this.#siteTime = site.siteTime;
    this.#agents.restore(site.quarantined, agents);
  }
}
