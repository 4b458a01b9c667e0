import type { NodeStatus, SiteStatus } from './NodeStatus.ts';

/** One site of the cluster as the nodes' status replies tell it (`wfm-agg status`, the web UI). */
export interface ClusterSiteRow {
  site: string;
  /** The node whose reply says primary (the newest epoch when several do); null: none. */
  primary: string | null;
  /** The primary's epoch, or with no primary the newest lease epoch a backup follows. */
  epoch: number;
  /** Nodes hosting the site as backup. */
  backups: string[];
  /** The primary's sequences (null with no primary). */
  processedSeq: number | null;
  checkpointSeq: number | null;
  /** How far the slowest backup's processedSeq is behind the primary's (null: no primary or no backup). */
  backupLag: number | null;
  agents: number;
  /** Other nodes that still report primary with an older epoch (a takeover under way). */
  stalePrimaries: string[];
}

/** The whole cluster as the nodes' status replies tell it. */
export interface ClusterSites {
  /** Live nodes: the union of every reply's `nodes`. */
  nodes: string[];
  /** Nodes that answered. */
  answered: string[];
  /** One row per site, by site id. */
  rows: ClusterSiteRow[];
  /** Sites with no primary. */
  leaderless: string[];
}

/**
 * Folds the nodes' status replies into one row per site: its primary, backups, the primary's
 * sequences and the lag of its slowest backup. `expectedSites` (the configuration's) adds a row
 * for a site no answering node hosts.
 */
export function clusterSites(
  replies: readonly NodeStatus[],
  expectedSites: readonly string[] = [],
): ClusterSites {
  const answered = replies.map((r) => r.nodeId).sort();
  const nodes = [...new Set([...replies.flatMap((r) => r.nodes), ...answered])].sort();
  const hosts = new Map<string, { node: string; site: SiteStatus }[]>();
  for (const site of expectedSites) hosts.set(site, []);
  for (const reply of replies) {
    for (const site of reply.sites) {
      const list = hosts.get(site.site) ?? [];
      list.push({ node: reply.nodeId, site });
      hosts.set(site.site, list);
    }
  }
  const rows: ClusterSiteRow[] = [...hosts.keys()].sort().map((site) => {
    const all = hosts.get(site)!;
    const claimants = all
      .filter((h) => h.site.role === 'primary')
      .sort((a, b) => b.site.epoch - a.site.epoch);
    const primary = claimants[0];
    const backups = all.filter((h) => h.site.role === 'backup');
    const lags =
      primary === undefined ? [] : backups.map((b) => primary.site.processedSeq - b.site.processedSeq);
    return {
      site,
      primary: primary?.node ?? null,
      epoch: primary?.site.epoch ?? Math.max(0, ...all.map((h) => h.site.epoch)),
      backups: backups.map((b) => b.node).sort(),
      processedSeq: primary?.site.processedSeq ?? null,
      checkpointSeq: primary?.site.checkpointSeq ?? null,
      backupLag: lags.length > 0 ? Math.max(0, ...lags) : null,
      agents: primary?.site.agents ?? Math.max(0, ...all.map((h) => h.site.agents)),
      stalePrimaries: claimants.slice(1).map((c) => c.node),
    };
  });
  return { nodes, answered, rows, leaderless: rows.filter((r) => r.primary === null).map((r) => r.site) };
}
