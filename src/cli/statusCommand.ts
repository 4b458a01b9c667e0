import { createInbox } from '@nats-io/transport-node';
import {
  type ConfigOverrides,
  defaultSiteConfig,
  listSites,
  loadConfig,
  natsConnectOptions,
} from '../config/index.ts';
import { adminSubject, type NodeStatus, type SiteStatus } from '../node/index.ts';
import { connectNats } from '../streams/index.ts';

/** Flags of `wfm-agg status`. */
export interface StatusFlags {
  config?: string;
  nats?: string;
  tenant?: string;
  json?: boolean;
  waitMs: string;
}

/**
 * Asks every running node of the tenant for its status over NATS request/reply and prints the
 * cluster: the live nodes, then one row per site (primary, backups, sequences, backup lag).
 * Exits 1 when no node answers or a site has no primary; `--json` prints the raw replies.
 */
export async function statusCommand(flags: StatusFlags): Promise<void> {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  if (flags.tenant !== undefined) {
    overrides.tenant = { id: flags.tenant };
    overrides.businessUnits = [
      { id: 'any', name: 'any', sites: [{ ...defaultSiteConfig, id: 'any', name: 'any' }] },
    ];
  }
  const config = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), overrides });
  const nc = await connectNats(natsConnectOptions(config, 'wfm-agg status'));
  // Every node answers the same request: collect replies on one inbox for a short while.
  const inbox = createInbox();
  const replies: NodeStatus[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (_err, msg) => {
      replies.push(msg.json<NodeStatus>());
    },
  });
  nc.publish(adminSubject(config.tenant.id, 'status'), '', { reply: inbox });
  await new Promise((r) => setTimeout(r, Number(flags.waitMs)));
  sub.unsubscribe();
  await nc.drain();
  replies.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
    return;
  }
  if (replies.length === 0) {
    process.stdout.write(`no node of tenant ${config.tenant.id} answered\n`);
    process.exitCode = 1;
    return;
  }
  // With the cluster's own configuration, a site no answering node hosts shows too (as leaderless).
  const configured = flags.config !== undefined && flags.tenant === undefined ? listSites(config) : [];
  const report = clusterStatus(
    replies,
    configured.map((ref) => ref.site),
  );
  process.stdout.write(report.text);
  if (report.leaderless.length > 0) {
    const [one] = report.leaderless;
    process.stderr.write(
      report.leaderless.length === 1
        ? `wfm-agg status: site ${one} has no primary\n`
        : `wfm-agg status: sites ${report.leaderless.join(', ')} have no primary\n`,
    );
    process.exitCode = 1;
  }
}

/** One site of the cluster as `wfm-agg status` shows it. */
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

/** The whole cluster as the replies tell it. */
export interface ClusterStatus {
  /** Live nodes: the union of every reply's `nodes`. */
  nodes: string[];
  /** Nodes that answered. */
  answered: string[];
  rows: ClusterSiteRow[];
  /** Sites with no primary. */
  leaderless: string[];
  /** The printed report: a line of nodes, then one table row per site. */
  text: string;
}

/**
 * Folds the nodes' replies into one row per site: its primary, backups, the primary's sequences
 * and the lag of its slowest backup. `expectedSites` (the configuration's) adds a row for a site
 * no answering node hosts.
 */
export function clusterStatus(
  replies: readonly NodeStatus[],
  expectedSites: readonly string[] = [],
): ClusterStatus {
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
  const leaderless = rows.filter((r) => r.primary === null).map((r) => r.site);
  const silent = nodes.filter((n) => !answered.includes(n));
  const lines = [
    `nodes: ${nodes.join(', ')} (answered: ${answered.join(', ')}${silent.length > 0 ? `; silent: ${silent.join(', ')}` : ''})`,
    ...table(
      ['site', 'primary', 'epoch', 'backups', 'processedSeq', 'checkpointSeq', 'backupLag', 'agents'],
      rows.map((r) => [
        r.site,
        r.primary ?? '-',
        r.epoch,
        r.backups.length > 0 ? r.backups.join(',') : '-',
        r.processedSeq ?? '-',
        r.checkpointSeq ?? '-',
        r.backupLag ?? '-',
        r.agents,
      ]),
    ),
    ...rows
      .filter((r) => r.stalePrimaries.length > 0)
      .map(
        (r) =>
          `${r.site}: ${r.stalePrimaries.join(', ')} still ${r.stalePrimaries.length === 1 ? 'reports' : 'report'} primary at an older epoch than ${r.primary} (a takeover under way)`,
      ),
  ];
  return { nodes, answered, rows, leaderless, text: `${lines.join('\n')}\n` };
}

/** Columns padded to their widest cell; numbers right-aligned, text left-aligned. */
function table(header: string[], rows: (string | number)[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const numeric = header.map(
    (_, i) => rows.length > 0 && rows.every((r) => typeof r[i] === 'number' || r[i] === '-'),
  );
  const render = (cells: (string | number)[]) =>
    cells
      .map((cell, i) => (numeric[i] ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [render(header), ...rows.map(render)];
}
