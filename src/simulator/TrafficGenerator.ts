import { ID_PATTERN } from '../domain/index.ts';
import { ConfigError } from '../errors.ts';
import { type AgentSpec, agentMessages } from './agentMessages.ts';
import { InvalidInputMixer } from './invalidInput.ts';
import { HOUR, MINUTE } from './planShift.ts';
import { SeededRandom } from './SeededRandom.ts';
import type { SimulatedMessage, TrafficMessage } from './SimulatedMessage.ts';

/**
 * Options of `TrafficGenerator`. `Invalid` is the type of `invalidEvery`: left out (the
 * default), the generator makes valid traffic only and says so in its message type.
 */
export interface TrafficGeneratorOptions<Invalid extends number | undefined = undefined> {
  /** Tenant id of every subject. */
  tenant: string;
  /** Site ids; each gets `agentsPerSite` agents and its own clock. */
  sites: readonly string[];
  /** Agents per site (0 to 99999). */
  agentsPerSite: number;
  /** Any finite number; the same seed always gives the same messages. */
  seed: number;
  /** Event time (epoch ms) of the first message. */
  startTs: number;
  /**
   * The sites' interval length: shift starts are placed on this grid (on whole hours when it
   * is longer than an hour).
   * @defaultValue 15
   */
  intervalMinutes?: number;
  /**
   * Key of the reason code inside `reasons`.
   * @defaultValue 'ReasonCode'
   */
  reasonCodeKeyName?: string;
  /**
   * Event time between two `wfm.clock.T.S` ticks of a site; 0 sends none.
   * @defaultValue 1000
   */
  tickMs?: number;
  /**
   * Mixes invalid input into the traffic: message N, 2N, 3N… (counting from 1) is one the
   * aggregator must refuse (`InvalidMessage`: truncated JSON, an unknown statistic, a bad
   * status, a state update older than its agent's last, a message for a site not among
   * `sites`), of a kind picked from a seeded stream of its own. The valid messages are exactly
   * those made without this option, in the same order. An integer ≥ 2; needs agents.
   * @defaultValue undefined (none)
   */
  invalidEvery?: Invalid;
}

const defaultTrafficGeneratorOptions = {
  intervalMinutes: 15,
  reasonCodeKeyName: 'ReasonCode',
  tickMs: 1000,
} satisfies Partial<TrafficGeneratorOptions>;

/**
 * What a generator made with `invalidEvery` of type `Invalid` yields: `SimulatedMessage` when it
 * was left out, else `TrafficMessage` (which includes `InvalidMessage`).
 */
export type TrafficMessageOf<Invalid extends number | undefined> = [Invalid] extends [undefined]
  ? SimulatedMessage
  : TrafficMessage;

type ResolvedOptions = Required<Omit<TrafficGeneratorOptions, 'invalidEvery'>> & {
  invalidEvery: number | undefined;
};

/** One simulated agent: where it publishes. */
export interface SimulatedAgent {
  site: string;
  agentId: string;
}

const ID = ID_PATTERN;

/**
 * Something that produces messages in order: its next message's `ts` and, among sources with
 * the same `ts`, a fixed `order`, so ties are broken the same way every run.
 */
interface Source {
  head: SimulatedMessage;
  order: number;
  /** Index of its agent in `TrafficGenerator.agents`; undefined for a clock. */
  agent?: number;
  advance(): void;
}

/**
 * A Stat Server stand-in: a pure, seeded, endless generator of `WFM_IN` traffic for a tenant's
 * sites — each agent's schedule for the day, state changes with reason codes and call types,
 * and a clock tick per site every `tickMs` — in non-decreasing event time. No I/O, no clock.
 *
 * Every working agent logs in within the first hour; shifts start between three hours before
 * and 45 minutes after `startTs` and run 8 hours; each later day repeats with new randomness.
 * Messages with equal `ts` come agents first (site by site, in agent order), then clocks, and
 * one agent's messages with the same `ts` (a state and its reason) are never split.
 *
 * With `invalidEvery`, invalid input is mixed in (see the option); an invalid message gets the
 * event time of the message before it, so the traffic stays in non-decreasing event time.
 */
export class TrafficGenerator<Invalid extends number | undefined = undefined> {
  /** Every simulated agent, site by site. */
  readonly agents: readonly SimulatedAgent[];
  private readonly heap: Source[] = [];
  private readonly invalidEvery: number;
  private readonly mixer: InvalidInputMixer | undefined;
  /** Messages `next()` has returned. */
  private count = 0;

  constructor(options: TrafficGeneratorOptions<Invalid>) {
    const o: ResolvedOptions = {
      ...defaultTrafficGeneratorOptions,
      ...options,
      invalidEvery: options.invalidEvery,
    };
    validate(o);
    // Shifts start on the interval grid, at most hourly, so long intervals still give every
    // agent a shift around startTs.
    const gridMs = Math.min(o.intervalMinutes, 60) * MINUTE;
    // The first schedule day starts 4 h before the grid slot containing startTs, so shift
    // offsets of 1 h to 4 h 45 min put every first login within the first hour.
    const firstDay = Math.floor(o.startTs / gridMs) * gridMs - 4 * HOUR;
    const offsets = shiftOffsets(gridMs);
    const agents: SimulatedAgent[] = [];
    let order = 0;
    for (const site of o.sites) {
      for (let n = 1; n <= o.agentsPerSite; n++) {
        const agentId = `${site.slice(0, 57)}-${String(n).padStart(4, '0')}`;
        agents.push({ site, agentId });
        const rng = new SeededRandom(SeededRandom.derive(o.seed, o.tenant, site, n));
        const spec: AgentSpec = {
          agentId,
          statSubject: `wfm.stat.${o.tenant}.${site}.${agentId}`,
          scheduleSubject: `wfm.schedule.${o.tenant}.${site}.${agentId}`,
          rng,
          reasonCodeKeyName: o.reasonCodeKeyName,
          startTs: o.startTs,
          firstDay,
          shiftOffset: rng.pick(offsets),
          gridMs,
        };
        this.heap.push(agentSource(spec, order++, agents.length - 1));
      }
      if (o.tickMs > 0)
        this.heap.push(clockSource(`wfm.clock.${o.tenant}.${site}`, o.startTs, o.tickMs, order++));
    }
    this.agents = agents;
    for (let i = (this.heap.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
    this.invalidEvery = o.invalidEvery ?? 0;
    this.mixer =
      o.invalidEvery === undefined
        ? undefined
        : new InvalidInputMixer(o.tenant, o.sites, agents, o.seed, o.startTs);
  }

  /** `ts` of the message `next()` will return. */
  peekTs(): number {
    return this.invalidDue() ? this.mixer!.ts : this.heap[0]!.head.ts;
  }

  /** The next message in event-time order; the stream never ends. */
  next(): TrafficMessageOf<Invalid> {
    const invalid = this.invalidDue();
    this.count++;
    if (invalid) return this.mixer!.make() as TrafficMessageOf<Invalid>;
    const top = this.heap[0]!;
    const message = top.head;
    this.mixer?.saw(message, top.agent);
    top.advance();
    this.siftDown(0);
    return message;
  }

  /** Every message with `ts < untilTs`, continuing from where the generator is. */
  *messages(untilTs: number): Generator<TrafficMessageOf<Invalid>, void, undefined> {
    while (this.peekTs() < untilTs) yield this.next();
  }

  /** True when the message `next()` returns is an invalid one. */
  private invalidDue(): boolean {
    return this.mixer !== undefined && (this.count + 1) % this.invalidEvery === 0;
  }

  private siftDown(index: number): void {
    const heap = this.heap;
    const n = heap.length;
    const item = heap[index]!;
    let i = index;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= n) break;
      const right = left + 1;
      const child = right < n && before(heap[right]!, heap[left]!) ? right : left;
      if (!before(heap[child]!, item)) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}

function before(a: Source, b: Source): boolean {
  return a.head.ts < b.head.ts || (a.head.ts === b.head.ts && a.order < b.order);
}

function agentSource(spec: AgentSpec, order: number, agent: number): Source {
  const stream = agentMessages(spec);
  const source: Source = {
    head: stream.next().value,
    order,
    agent,
    advance() {
      source.head = stream.next().value;
    },
  };
  return source;
}

function clockSource(subject: string, startTs: number, tickMs: number, order: number): Source {
  const tick = (ts: number): SimulatedMessage => ({ kind: 'clock', subject, ts, payload: { ts } });
  const source: Source = {
    head: tick(startTs),
    order,
    advance() {
      source.head = tick(source.head.ts + tickMs);
    },
  };
  return source;
}

/** Usual shift starts: grid steps from 1 h to 4 h 45 min into the first schedule day. */
function shiftOffsets(gridMs: number): number[] {
  const offsets: number[] = [];
  for (let t = Math.ceil(HOUR / gridMs) * gridMs; t <= 4 * HOUR + 45 * MINUTE; t += gridMs) offsets.push(t);
  return offsets.length > 0 ? offsets : [4 * HOUR];
}

function validate(o: ResolvedOptions): void {
  if (typeof o.tenant !== 'string' || !ID.test(o.tenant)) {
    throw new ConfigError('tenant', 'must be 1 to 64 characters A-Z, a-z, 0-9, "_" or "-"');
  }
  if (!Array.isArray(o.sites) || o.sites.length === 0)
    throw new ConfigError('sites', 'must list at least one site');
  const seen = new Set<string>();
  o.sites.forEach((site, i) => {
    if (typeof site !== 'string' || !ID.test(site)) {
      throw new ConfigError(`sites[${i}]`, 'must be 1 to 64 characters A-Z, a-z, 0-9, "_" or "-"');
    }
    if (seen.has(site)) throw new ConfigError(`sites[${i}]`, `duplicate site "${site}"`);
    seen.add(site);
  });
  if (!Number.isInteger(o.agentsPerSite) || o.agentsPerSite < 0 || o.agentsPerSite > 99_999) {
    throw new ConfigError('agentsPerSite', `must be an integer from 0 to 99999 (got ${o.agentsPerSite})`);
  }
  if (typeof o.seed !== 'number' || !Number.isFinite(o.seed))
    throw new ConfigError('seed', 'must be a finite number');
  if (!Number.isSafeInteger(o.startTs) || o.startTs < 0) {
    throw new ConfigError('startTs', `must be a non-negative integer epoch ms (got ${o.startTs})`);
  }
  if (!Number.isInteger(o.intervalMinutes) || o.intervalMinutes < 1 || 1440 % o.intervalMinutes !== 0) {
    throw new ConfigError(
      'intervalMinutes',
      `must divide 1440 evenly, e.g. 5, 10, 15, 30 or 60 (got ${o.intervalMinutes})`,
    );
  }
  if (typeof o.reasonCodeKeyName !== 'string' || o.reasonCodeKeyName === '') {
    throw new ConfigError('reasonCodeKeyName', 'must be a non-empty string');
  }
  if (!Number.isSafeInteger(o.tickMs) || o.tickMs < 0) {
    throw new ConfigError('tickMs', `must be a non-negative integer (got ${o.tickMs})`);
  }
  if (o.tickMs === 0 && o.agentsPerSite === 0) {
    throw new ConfigError('agentsPerSite', 'with tickMs 0 and no agents there is nothing to generate');
  }
  if (o.invalidEvery !== undefined) {
    if (!Number.isSafeInteger(o.invalidEvery) || o.invalidEvery < 2) {
      throw new ConfigError('invalidEvery', `must be an integer of at least 2 (got ${o.invalidEvery})`);
    }
    if (o.agentsPerSite === 0) {
      throw new ConfigError('invalidEvery', 'needs agents: invalid input is about agents');
    }
  }
}
