import { MINUTE } from './planShift.ts';
import { SeededRandom } from './SeededRandom.ts';
import {
  INVALID_INPUT_REASONS,
  type InvalidInputReason,
  type InvalidMessage,
  type SimulatedMessage,
} from './SimulatedMessage.ts';

/** An agent the traffic simulates. */
interface Agent {
  site: string;
  agentId: string;
}

/** What a broken or misconfigured stat source sends now and then, as it would look on the wire. */
const UNKNOWN_STATISTICS = ['CurrentTargetState', 'ExtendedCurrentStatus', 'AgentLoginDuration'];
const BAD_STATUSES = ['Busy', 'WalkAway', 'ready', 'LoggedIn'];
const LATE_STATUSES = ['Ready', 'NotReady'] as const;
/** How far before the agent's last update a late one is stamped, at most. */
const MAX_LATENESS = 10 * MINUTE;

/**
 * Makes the invalid messages `TrafficGenerator` mixes in (`invalidEvery`): a seeded stream of
 * its own, so the valid traffic around them stays exactly what it is without them. It watches
 * the valid messages go by, to stamp each invalid one with the traffic's current event time and
 * to make a late update really older than what its agent last sent.
 */
export class InvalidInputMixer {
  private readonly rng: SeededRandom;
  private readonly unknownSite: string;
  /** Event time of the last valid message (the traffic's start before the first). */
  private now: number;
  /** `ts` of each agent's last statistic, by agent index; -1 before its first. */
  private readonly lastStatTs: number[];
  /** Indices of agents with a last statistic at `ts` > 0 (so a later one can be older). */
  private readonly withStat: number[] = [];

  constructor(
    private readonly tenant: string,
    sites: readonly string[],
    private readonly agents: readonly Agent[],
    seed: number,
    startTs: number,
  ) {
    this.rng = new SeededRandom(SeededRandom.derive(seed, tenant, 'invalid input'));
    let unknownSite = 'unconfigured';
    while (sites.includes(unknownSite)) unknownSite += '-x';
    this.unknownSite = unknownSite;
    this.now = startTs;
    this.lastStatTs = agents.map(() => -1);
  }

  /** Event time an invalid message made now gets. */
  get ts(): number {
    return this.now;
  }

  /** Notes a valid message as it goes out; `agent` is its agent's index (undefined: a clock tick). */
  saw(message: SimulatedMessage, agent: number | undefined): void {
    this.now = message.ts;
    if (message.kind !== 'stat' || agent === undefined) return;
    if (this.lastStatTs[agent]! <= 0 && message.ts > 0) this.withStat.push(agent);
    this.lastStatTs[agent] = message.ts;
  }

  /** The next invalid message, of a kind picked at random among those possible now. */
  make(): InvalidMessage {
    const kinds = this.withStat.length > 0 ? INVALID_INPUT_REASONS : INVALID_INPUT_REASONS.filter(notLate);
    const reason = this.rng.pick(kinds);
    const ts = this.now;
    if (reason === 'late') {
      const index = this.rng.pick(this.withStat);
      const agent = this.agents[index]!;
      const last = this.lastStatTs[index]!;
      const payload = {
        statistic: 'CurrentState',
        agentId: agent.agentId,
        status: this.rng.pick(LATE_STATUSES),
        callType: null,
        ts: last - this.rng.int(1, Math.min(last, MAX_LATENESS)),
      };
      return this.message(reason, agent, ts, JSON.stringify(payload));
    }
    if (reason === 'unknown_site') {
      const agentId = `${this.unknownSite.slice(0, 57)}-${String(this.rng.int(1, 9999)).padStart(4, '0')}`;
      const payload = { statistic: 'CurrentState', agentId, status: 'Ready', callType: null, ts };
      return this.message(reason, { site: this.unknownSite, agentId }, ts, JSON.stringify(payload));
    }
    const agent = this.rng.pick(this.agents);
    const { agentId } = agent;
    switch (reason) {
      case 'invalid_json': {
        // Cut short, as by an adapter that lost the end of a line: a proper prefix of a JSON
        // object is never JSON.
        const whole = JSON.stringify({
          statistic: 'CurrentState',
          agentId,
          status: 'Ready',
          callType: null,
          ts,
        });
        return this.message(reason, agent, ts, whole.slice(0, this.rng.int(1, whole.length - 1)));
      }
      case 'unknown_statistic': {
        const statistic = this.rng.pick(UNKNOWN_STATISTICS);
        return this.message(reason, agent, ts, JSON.stringify({ statistic, agentId, value: 1, ts }));
      }
      case 'bad_status': {
        const status = this.rng.pick(BAD_STATUSES);
        const payload = { statistic: 'CurrentState', agentId, status, callType: null, ts };
        return this.message(reason, agent, ts, JSON.stringify(payload));
      }
    }
  }

  private message(reason: InvalidInputReason, agent: Agent, ts: number, text: string): InvalidMessage {
    const subject = `wfm.stat.${this.tenant}.${agent.site}.${agent.agentId}`;
    return { kind: 'invalid', subject, ts, reason, text };
  }
}

function notLate(reason: InvalidInputReason): boolean {
  return reason !== 'late';
}
