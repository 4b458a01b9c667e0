import {
  type ConfigOverrides,
  defaultSiteConfig,
  listSites,
  loadConfig,
  natsConnectOptions,
} from '../config/index.ts';
import { adminSubject, type ClusterSites, clusterSites, type NodeStatus } from '../node/index.ts';
import { connectNats, gatherReplies } from '../streams/index.ts';

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
 * cluster: the live nodes, then one row per site (primary, backups, sequences, backup lag). It
 * prints as soon as every node the replies name as live has answered, at the latest after
 * `--wait-ms`.
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
  // Every node answers the same request: collect replies on one inbox until every node a reply
  // names as live has answered, or --wait-ms has passed (a silent node holds it to the end).
  const replies = await gatherReplies(nc, adminSubject(config.tenant.id, 'status'), '', {
    timeoutMs: Number(flags.waitMs),
    parse: (msg) => msg.json<NodeStatus>(),
    enough: (got) => {
      const answered = new Set(got.map((r) => r.nodeId));
      return got.length > 0 && got.every((r) => r.nodes.every((n) => answered.has(n)));
    },
  });
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

/** The whole cluster as `wfm-agg status` prints it. */
export interface ClusterStatus extends ClusterSites {
  /** The printed report: a line of nodes, then one table row per site. */
  text: string;
}

/**
 * The nodes' replies folded into one row per site ({@link clusterSites}) and printed.
 * `expectedSites` (the configuration's) adds a row for a site no answering node hosts.
 */
export function clusterStatus(
  replies: readonly NodeStatus[],
  expectedSites: readonly string[] = [],
): ClusterStatus {
  const cluster = clusterSites(replies, expectedSites);
  const { nodes, answered, rows } = cluster;
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
  return { ...cluster, text: `${lines.join('\n')}\n` };
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
