import { performance } from 'node:perf_hooks';
import type { JetStreamManager, StoredMsg } from '@nats-io/jetstream';
import {
  createAgentMachine,
  createElectionMachine,
  createSiteMachine,
  type SiteSupervisor,
} from '../actors/index.ts';
import {
  type AgentContext,
  agentInputSubjects,
  type IntervalRecord,
  localDayStart,
  toIntervalRecord,
} from '../domain/index.ts';
import type { ClusterSites, NodeStatus, SiteCounters, SiteStatus } from '../node/index.ts';
import { type AgentPage, AgentPageCollector, type AgentQuery, type AgentRow } from './agentQuery.ts';
import { blankAgentRow, fillAgentRow, outOfAdherenceSecs } from './agentRow.ts';

/** One site of what the visualizer reads: its supervisor (null while it restores) and counters. */
export interface VisualizedSite {
  readonly supervisor: SiteSupervisor | null;
  readonly counters: SiteCounters;
}

/** What the visualizer reads of a node; `WfmNode` provides it. */
export interface VisualizedNode {
  status(): NodeStatus;
  /** The sites hosted here (primary or backup), by id. */
  readonly sites: ReadonlyMap<string, VisualizedSite>;
  /** Every `WFM_IN` input at or before this has been routed. */
  readonly processedSeq: number;
  /** Reads `WFM_IN` messages by sequence (an agent's inputs) and the stream's last sequence (lag). */
  readonly streamManager: JetStreamManager;
  /** Every site of the cluster from every live node (absent: this node's sites only). */
  clusterSites?(): Promise<ClusterSites>;
}

/** One site as `GET /api/sites` and the `status` event show it: these fields of its status. */
export type VisualizedSiteStatus = Pick<
  SiteStatus,
  | 'site'
  | 'role'
  | 'epoch'
  | 'leader'
  | 'replicas'
  | 'state'
  | 'election'
  | 'siteTime'
  | 'agents'
  | 'processedSeq'
  | 'checkpointSeq'
>;

/** One input of an agent as `GET /api/agents/:site/:agentId` shows it: the message as stored. */
export interface AgentInputEntry {
  seq: number;
  subject: string;
  /** The `WFM_IN` message's text, as stored (JSON text the browser parses or shows). */
  data: string;
}

/** The figures of an agent's newest open interval, accounted up to `accountedTo`. */
export type OpenIntervalFigures = Omit<IntervalRecord, 'sourceSeq'> & {
  /** Event time up to which the agent's time is accounted (its last input or deadline). */
  accountedTo: number;
  /** Time of the running out-of-adherence stretch not yet past the exception threshold. */
  pendingExceptionSecs: number;
};

/** `GET /api/agents/:site/:agentId`. */
export interface AgentDetail {
  site: string;
  agentId: string;
  role: 'primary' | 'backup';
  /** The agent actor's statechart value, e.g. `{ presence: 'onQueue', adherence: 'inAdherence' }`. */
  value: unknown;
  context: AgentContext;
  /** The agent's last inputs, oldest first (its input log, and after a restart its last stored ones: see `#history`). */
  history: AgentInputEntry[];
  interval: OpenIntervalFigures | null;
}

/** The `status` event of `GET /api/events`. */
export interface VisualizerStatusEvent {
  nodeId: string;
  nodes: string[];
  sites: VisualizedSiteStatus[];
  /** Per second since the previous tick, over the hosted sites (null before a second tick). */
  rates: { eventsPerSec: number | null; outputsPerSec: number | null };
  /** `WFM_IN` messages not yet routed by this node (null: NATS unreachable). */
  lag: number | null;
  /** Inputs refused by the hosted sites since this node started, by reason. */
  dlq: Record<string, number>;
  /**
   * Seconds since a hosted site with unsaved input was last seen to advance its checkpoint
   * (the largest over the sites; 0 when every site's checkpoint is at its position; null while
   * no advance has been seen since the first client connected).
   */
  checkpointAgeSecs: number | null;
  database: NodeStatus['database'];
  /**
   * Every site of the cluster — its primary, backups, sequences, backup lag — as every live node
   * answered this tick (null: the node cannot ask the others).
   */
  cluster: ClusterSites | null;
}

/** The `agents` event of `GET /api/events`. */
export interface VisualizerAgentsEvent {
  /** `site/agentId` of agents touched since the previous tick, at most 500. */
  changed: string[];
  more?: true;
}

/** The machines' definitions as JSON: states nested with `key`, `type`, `states`, `on`. */
export interface MachineDefinitions {
  agent: unknown;
  site: unknown;
  election: unknown;
}

let cachedMachines: MachineDefinitions | null = null;

/**
 * The agent, site and election machines' definitions (XState `machine.definition`, through
 * JSON so inline functions are gone), computed once.
 */
export function machineDefinitions(): MachineDefinitions {
  cachedMachines ??= JSON.parse(
    JSON.stringify({
      agent: createAgentMachine().definition,
      site: createSiteMachine().definition,
      election: createElectionMachine().definition,
    }),
  ) as MachineDefinitions;
  return cachedMachines;
}

/** Most inputs an agent's detail lists. */
const HISTORY_MAX = 20;

/**
 * The visualizer's reads of one node: agent rows and details, sites, and the status tick of
 * the event stream (which keeps the counters of the previous tick for its rates).
 */
export class NodeVisualizer {
  readonly #node: VisualizedNode;
  #previous: { at: number; events: Map<string, number>; outputs: Map<string, number> } | null = null;
  readonly #checkpoints = new Map<string, { seq: number; at: number | null }>();

  constructor(node: VisualizedNode) {
    this.#node = node;
  }

  /** Each hosted site's role and IANA time zone. */
  #siteRefs(): Map<string, { role: 'primary' | 'backup'; timeZone: string }> {
    return new Map(this.#node.status().sites.map((s) => [s.site, { role: s.role, timeZone: s.timeZone }]));
  }

  /**
   * `GET /api/agents`: one pass over the hosted agents (of `query.site` only, when given; sites
   * whose supervisor is restoring have none), each row filled into one scratch object and copied
   * only when it is among the page's so far.
   */
  agents(query: AgentQuery): AgentPage {
    const page = new AgentPageCollector(query);
    const refs = this.#siteRefs();
    const scratch = blankAgentRow();
    for (const [id, s] of this.#node.sites) {
      if (query.site !== undefined && id !== query.site) continue;
      const supervisor = s.supervisor;
      if (supervisor === null) continue;
      const ref = refs.get(id);
      const role = ref?.role ?? 'backup';
      const siteTime = supervisor.siteTime;
      // Once per site and read: a time-zone lookup costs microseconds, a pass has 100k rows.
      const dayStart = siteTime < 0 ? siteTime : localDayStart(siteTime, ref?.timeZone ?? 'UTC');
      let context: AgentContext;
      const keep = (row: AgentRow): AgentRow => ({
        ...row,
        outOfAdherenceTodaySecs: outOfAdherenceSecs(context, siteTime, dayStart),
      });
      supervisor.forEachAgentContext((c) => {
        context = c;
        page.offer(fillAgentRow(scratch, id, role, c, siteTime), keep);
      });
    }
    return page.page();
  }

  /** `GET /api/agents/:site/:agentId` (null: no such site here, or no such agent). */
  async agent(site: string, agentId: string): Promise<AgentDetail | null> {
    const supervisor = this.#node.sites.get(site)?.supervisor ?? null;
    if (supervisor === null) return null;
    // A lookup, not a pass over the site's agents: the page asks again each tick its agent changed.
    const found = supervisor.agent(agentId);
    if (found === undefined) return null;
    // Copied now: the actor's context may change while the messages are read.
    const context = structuredClone(found.context);
    const value = structuredClone(found.value);
    const logged = supervisor.inputs.seqs(agentId);
    const applied = supervisor.seq;
    const interval = openInterval(context, supervisor);
    const role = this.#siteRefs().get(site)?.role ?? 'backup';
    const subjects = agentInputSubjects(supervisor.options.tenant, site, agentId);
    const history = await this.#history(logged, applied, subjects);
    return { site, agentId, role, value, context, history, interval };
  }

  /**
   * The inputs an agent's detail lists, oldest first, as `WFM_IN` stores them: those of the agent's
   * input log, and — while that holds fewer than {@link HISTORY_MAX}, as after a restart or a
   * restore, when it starts empty (see `AgentInputLog`) — the last message stored on each of the
   * agent's two input subjects, when the site has applied it. Without them a supervisor who opened
   * an agent after a restart saw none of its inputs until its next one.
   */
  async #history(logged: number[], applied: number, subjects: string[]): Promise<AgentInputEntry[]> {
    const streams = this.#node.streamManager.streams;
    const found = new Map<number, StoredMsg>();
    if (logged.length < HISTORY_MAX) {
      const lasts = await Promise.all(
        // NATS unreachable: the log alone, as before.
        subjects.map((subject) => streams.getMessage('WFM_IN', { last_by_subj: subject }).catch(() => null)),
      );
      for (const msg of lasts) if (msg !== null && msg.seq <= applied) found.set(msg.seq, msg);
    }
    const seqs = [...new Set([...logged, ...found.keys()])].sort((a, b) => a - b).slice(-HISTORY_MAX);
    const messages = await Promise.all(
      seqs.map((seq) => found.get(seq) ?? streams.getMessage('WFM_IN', { seq })),
    );
    const history: AgentInputEntry[] = [];
    for (const msg of messages)
      if (msg !== null) history.push({ seq: msg.seq, subject: msg.subject, data: msg.string() });
    return history;
  }

  /** `GET /api/sites`. */
  sites(): VisualizedSiteStatus[] {
    return this.#node.status().sites.map(siteSummary);
  }

  /** The `status` event: rates since the previous call, lag, DLQ, checkpoint age. */
  async statusEvent(): Promise<VisualizerStatusEvent> {
    const status = this.#node.status();
    const now = performance.now();
    const events = new Map<string, number>();
    const outputs = new Map<string, number>();
    const dlq: Record<string, number> = {};
    for (const [id, s] of this.#node.sites) {
      const c = s.counters;
      events.set(id, c.events);
      outputs.set(
        id,
        Object.values(c.outputs).reduce((sum, n) => sum + n, 0),
      );
      for (const [reason, n] of Object.entries(c.dlqByReason)) dlq[reason] = (dlq[reason] ?? 0) + (n ?? 0);
    }
    const previous = this.#previous;
    this.#previous = { at: now, events, outputs };
    const rate = (current: Map<string, number>, before: Map<string, number> | undefined) => {
      if (previous === null || before === undefined || now <= previous.at) return null;
      let delta = 0;
      // A site new since the last tick (or counting from a rebuild) adds nothing yet.
      for (const [id, n] of current) delta += Math.max(0, n - (before.get(id) ?? n));
      return Math.round((delta / ((now - previous.at) / 1000)) * 10) / 10;
    };
    // Both ask NATS: at once, so a slow answer delays the tick once.
    const [lag, cluster] = await Promise.all([this.#lag(), this.cluster()]);
    return {
      nodeId: status.nodeId,
      nodes: status.nodes,
      sites: status.sites.map(siteSummary),
      rates: {
        eventsPerSec: rate(events, previous?.events),
        outputsPerSec: rate(outputs, previous?.outputs),
      },
      lag,
      dlq,
      checkpointAgeSecs: this.#checkpointAge(status, now),
      database: status.database,
      cluster,
    };
  }

  /** `GET /api/cluster`: every site of the cluster from every live node (null: not available). */
  async cluster(): Promise<ClusterSites | null> {
    return (await this.#node.clusterSites?.()) ?? null;
  }

  /** `WFM_IN` messages not yet routed here (null: NATS unreachable). */
  async #lag(): Promise<number | null> {
    try {
      const info = await this.#node.streamManager.streams.info('WFM_IN');
      return Math.max(0, info.state.last_seq - this.#node.processedSeq);
    } catch {
      // NATS unreachable: lag unknown; the rest still goes out.
      return null;
    }
  }

  #checkpointAge(status: NodeStatus, now: number): number | null {
    let age: number | null = null;
    let unknown = false;
    const seen = new Set<string>();
    for (const s of status.sites) {
      seen.add(s.site);
      let tracked = this.#checkpoints.get(s.site);
      if (tracked === undefined) {
        tracked = { seq: s.checkpointSeq, at: null };
        this.#checkpoints.set(s.site, tracked);
      } else if (tracked.seq !== s.checkpointSeq) {
        tracked.seq = s.checkpointSeq;
        tracked.at = now;
      }
      if (s.checkpointSeq >= s.processedSeq) age = Math.max(age ?? 0, 0);
      else if (tracked.at === null) unknown = true;
      else age = Math.max(age ?? 0, Math.round((now - tracked.at) / 100) / 10);
    }
    for (const site of this.#checkpoints.keys()) if (!seen.has(site)) this.#checkpoints.delete(site);
    return unknown ? null : age;
  }

  /**
   * The `agents` event: agents touched since the previous call as `site/agentId`, at most
   * `max`, and whether there were more (each site's touched set is emptied).
   */
  changedAgents(max = 500): VisualizerAgentsEvent {
    const changed: string[] = [];
    let more = false;
    for (const [id, s] of this.#node.sites) {
      const supervisor = s.supervisor;
      if (supervisor === null) continue;
      const taken = supervisor.inputs.takeChanged();
      for (const agentId of taken.ids) {
        if (changed.length < max) changed.push(`${id}/${agentId}`);
        else more = true;
      }
      if (taken.more) more = true;
    }
    return more ? { changed, more: true } : { changed };
  }
}

function siteSummary(s: NodeStatus['sites'][number]): VisualizedSiteStatus {
  return {
    site: s.site,
    role: s.role,
    epoch: s.epoch,
    leader: s.leader,
    replicas: s.replicas,
    state: s.state,
    election: s.election,
    siteTime: s.siteTime,
    agents: s.agents,
    processedSeq: s.processedSeq,
    checkpointSeq: s.checkpointSeq,
  };
}

function openInterval(context: AgentContext, supervisor: SiteSupervisor): OpenIntervalFigures | null {
  const acc = context.intervals.at(-1);
  if (acc === undefined) return null;
  const { sourceSeq: _, ...figures } = toIntervalRecord(context.agentId, acc, 0, supervisor.options);
  return { ...figures, accountedTo: context.acctTs, pendingExceptionSecs: acc.pendingMs / 1000 };
}
