import type { SiteRef } from '../config/index.ts';
import type { DatabaseState } from './DatabaseHealth.ts';
import type { IntervalHistory, SiteHistoryStatus } from './IntervalHistory.ts';
import type { NodeCluster } from './NodeCluster.ts';
import type { SiteElection } from './SiteElection.ts';
import type { SiteRuntime } from './SiteRuntime.ts';
import { UNROUTED_LANE } from './UnroutedProcessor.ts';

/** One site as `GET /api/status` shows it. */
export interface SiteStatus {
  tenant: string;
  site: string;
  businessUnit: string;
  name: string;
  statServer: string;
  /** The site's IANA time zone (its local day: `report`'s days, the web UI's "today"). */
  timeZone: string;
  /** This node's part: `primary` only while it holds the lease and writes. */
  role: 'primary' | 'backup';
  /** The lease epoch this node holds (primary), or the epoch of the lease it follows (backup). */
  epoch: number;
  /** The node holding the site's lease as last seen (null: none yet). */
  leader: string | null;
  /** The site's replicas by the cluster's placement, preferred primary first. */
  replicas: readonly string[];
  /** The lifecycle actor's state. */
  state: unknown;
  /** The election actor's state. */
  election: unknown;
  processedSeq: number;
  checkpointSeq: number;
  siteTime: number;
  agents: number;
  /** This node's writing of the site's interval history (null: another node writes it). */
  history: SiteHistoryStatus | null;
}

/** `GET /api/status` and the `status` admin reply. */
export interface NodeStatus {
  nodeId: string;
  tenant: string;
  /** The live nodes of the cluster as this node sees them. */
  nodes: string[];
  /** The interval sink: PostgreSQL or the embedded LevelDB, and how it is doing. */
  database: { sink: 'postgres' | 'level'; state: DatabaseState } | null;
  sites: SiteStatus[];
}

/** `GET /api/status`: the sites this node hosts (the unrouted lane's checkpoint bounds theirs). */
export function nodeStatus(
  nodeId: string,
  tenant: string,
  refs: ReadonlyMap<string, SiteRef>,
  cluster: NodeCluster | null,
  history: IntervalHistory | null,
): NodeStatus {
  const lanes = cluster?.lanes;
  const database = history === null ? null : { sink: history.sink, state: history.state };
  if (lanes == null) return { nodeId, tenant, nodes: [], database, sites: [] };
  const floor = lanes.get(UNROUTED_LANE)?.checkpointSeq ?? Number.POSITIVE_INFINITY;
  const sites: SiteStatus[] = [];
  for (const [lane, h] of lanes.lanes) {
    const ref = refs.get(lane);
    if (ref !== undefined)
      sites.push({
        ...siteStatus(tenant, ref, h.runtime, floor, h.election, lanes.replicas(lane)),
        history: history?.site(lane) ?? null,
      });
  }
  return { nodeId, tenant, nodes: [...cluster!.nodes], database, sites };
}

/**
 * A site as the status shows it. `floorSeq` is the checkpoint of the node's lane for input no
 * site owns: that lane needs `WFM_IN` back to it, so a site reports no more, and purging below
 * every site's `checkpointSeq` stays safe (DESIGN.md "Running it").
 */
export function siteStatus(
  tenant: string,
  ref: SiteRef,
  site: SiteRuntime,
  floorSeq: number,
  election: SiteElection,
  replicas: readonly string[],
): Omit<SiteStatus, 'history'> {
  const supervisor = site.supervisor;
  return {
    tenant,
    site: site.site,
    businessUnit: ref.businessUnit,
    name: ref.name,
    statServer: ref.statServer,
    timeZone: ref.timeZone,
    ...laneStatus(site, election),
    replicas,
    checkpointSeq: Math.min(site.checkpointSeq, floorSeq),
    siteTime: supervisor?.siteTime ?? -1,
    agents: supervisor?.agentCount ?? 0,
  };
}

/** A lane's leadership and progress (a site's, or the lane of input no site owns). */
export type LaneStatus = Pick<
  SiteStatus,
  'role' | 'epoch' | 'leader' | 'state' | 'election' | 'processedSeq'
>;

/** What {@link siteStatus} shows of any lane's lease and lifecycle. */
export function laneStatus(site: SiteRuntime, election: SiteElection): LaneStatus {
  const lease = election.lease.record;
  const leading = election.leading;
  return {
    role: leading && site.role === 'primary' ? 'primary' : 'backup',
    epoch: leading ? election.epoch : (lease?.epoch ?? 0),
    leader: lease === null || lease.released ? null : lease.node,
    state: site.state,
    election: election.actor.getSnapshot().value,
    processedSeq: site.position,
  };
}
