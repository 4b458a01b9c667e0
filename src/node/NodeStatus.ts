import type { SiteRef } from '../config/index.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** One site as `GET /api/status` shows it. */
export interface SiteStatus {
  tenant: string;
  site: string;
  businessUnit: string;
  name: string;
  statServer: string;
  role: 'primary' | 'backup';
  /** The lifecycle actor's state. */
  state: unknown;
  processedSeq: number;
  checkpointSeq: number;
  siteTime: number;
  agents: number;
}

/** `GET /api/status` and the `status` admin reply. */
export interface NodeStatus {
  nodeId: string;
  tenant: string;
  sites: SiteStatus[];
}

/**
 * A site as the status shows it. `floorSeq` is the checkpoint of the node's lane for input no
 * site owns: that lane needs `WFM_IN` back to it, so a site reports no more, and purging below
 * every site's `checkpointSeq` stays safe (DESIGN.md "Running it").
 */
export function siteStatus(tenant: string, ref: SiteRef, site: SiteRuntime, floorSeq: number): SiteStatus {
  const supervisor = site.supervisor;
  return {
    tenant,
    site: site.site,
    businessUnit: ref.businessUnit,
    name: ref.name,
    statServer: ref.statServer,
    role: site.role,
    state: site.state,
    processedSeq: site.position,
    checkpointSeq: Math.min(site.checkpointSeq, floorSeq),
    siteTime: supervisor?.siteTime ?? -1,
    agents: supervisor?.agentCount ?? 0,
  };
}
