/**
 * The throughput scenario's node processes (#12: "the node with checkpoints on, and with the
 * database sink and a backup node on"): the backlog already in `WFM_IN`, read by `wfm-agg node`
 * processes — the compiled CLI that ships, each in its own process as deployed — either one node
 * alone, or a cluster of two where every site has a hot backup on the other node, optionally with
 * PostgreSQL as the interval sink.
 *
 * Timed from the first input any node takes until `WFM_OUT` holds every output the backlog makes
 * (the count the in-process node published from the same backlog: each input processed and its
 * outputs acknowledged), so the rate is comparable with the in-process node's and the I/O floor's.
 * Then the interval history's lag: until every site's history writer has written all it read.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { NodeHome, NodeProcess, type SiteStatusJson } from '../test/helpers/NodeProcess.ts';
import { storedOutputs } from './nodeBench.ts';

/** What one {@link nodeProcessRun} measured. */
export interface NodeProcessRunResult {
  /** Input messages per second, from the first input taken to every output stored. */
  rate: number;
  /** Seconds from every output stored until every site's interval history had caught up. */
  historyLagSeconds: number;
  /** Who led each site at the end and how many backups it had, e.g. `S1 c2 (+1 backup), S2 c1 (+1 backup)`. */
  roles: string;
  /** Rows in PostgreSQL's `agent_interval` at the end (null: no database). */
  databaseRows: number | null;
}

/** Options of {@link nodeProcessRun}. */
export interface NodeProcessRunOptions {
  /**
   * A NATS server whose `WFM_IN` holds the backlog and on which no node ran before: a site's lease
   * carries its last holder's mark (what it knew stored in `WFM_OUT`), so a node taking over
   * from an earlier run would rightly publish nothing up to that mark, even into an emptied
   * `WFM_OUT`.
   */
  natsUrl: string;
  /** Sites of tenant T1 the backlog is for. */
  sites: string[];
  /** Input messages in the backlog. */
  messages: number;
  /** Outputs the backlog makes (a node's count from the same backlog). */
  outputs: number;
  /** Node ids: one (alone, no standby) or two (`standbyReplicas: 1`). */
  nodeIds: readonly string[];
  /** PostgreSQL URL of an empty database for the interval sink; null: the embedded LevelDB. */
  database: string | null;
  /** The nodes' `leaseSeconds` (see throughput.bench.ts). */
  leaseSeconds: number;
  /** Progress lines. */
  say: (text: string) => void;
}

const DEADLINE_MS = 15 * 60_000;

/**
 * Starts the nodes, times them from the first input any of them takes to the last output stored,
 * waits for the interval history, stops them (SIGTERM) and removes their homes.
 * @throws Error when `WFM_OUT` ends up holding more outputs than expected (a double), or after 15
 * minutes without all of them.
 */
export async function nodeProcessRun(o: NodeProcessRunOptions): Promise<NodeProcessRunResult> {
  const extraConfig = {
    leaseSeconds: o.leaseSeconds,
    standbyReplicas: o.nodeIds.length - 1,
    database: o.database,
  };
  const homes: NodeHome[] = [];
  const nodes: NodeProcess[] = [];
  try {
    for (const nodeId of o.nodeIds) {
      const home = await NodeHome.create({ natsUrl: o.natsUrl, sites: o.sites, extraConfig });
      homes.push(home);
      nodes.push(NodeProcess.spawn(home, { nodeId, stopTimeoutMs: 120_000 }));
    }
    await Promise.all(nodes.map((n) => n.ready));
    const deadline = performance.now() + DEADLINE_MS;
    const statuses = async (): Promise<SiteStatusJson[]> =>
      (await Promise.all(nodes.map((n) => n.status()))).flatMap((s) => s.sites);
    while (!(await statuses()).some((s) => s.processedSeq > 0)) {
      if (performance.now() > deadline) throw new Error(`no node took input\n${nodes.map((n) => n.log)}`);
      await sleep(20);
    }
    const started = performance.now();
    for (let shown = started; ; ) {
      const stored = await storedOutputs(o.natsUrl);
      if (stored > o.outputs) throw new Error(`WFM_OUT holds ${stored} outputs, ${o.outputs} expected`);
      if (stored === o.outputs) break;
      if (performance.now() > deadline)
        throw new Error(`WFM_OUT holds ${stored} of ${o.outputs} outputs\n${nodes.map((n) => n.log)}`);
      if (performance.now() - shown > 10_000) {
        shown = performance.now();
        o.say(`${stored} of ${o.outputs} outputs stored`);
      }
      await sleep(50);
    }
    const stored = performance.now();
    for (;;) {
      const sites = await statuses();
      const writing = sites.filter((s) => s.history !== null);
      const caughtUp = writing.every((s) => (s.history as { backlog?: number }).backlog === 0);
      if (writing.length === o.sites.length && caughtUp) break;
      if (performance.now() > deadline)
        throw new Error(`interval history not caught up: ${JSON.stringify(writing.map((s) => s.history))}`);
      await sleep(100);
    }
    const historyLagSeconds = (performance.now() - stored) / 1000;
    const sites = await statuses();
    const roles = o.sites
      .map((site) => {
        const leader = sites.find((s) => s.site === site && s.role === 'primary')?.leader ?? 'none';
        const backups = sites.filter((s) => s.site === site && s.role === 'backup').length;
        return backups === 0 ? `${site} ${leader}` : `${site} ${leader} (+${backups} backup)`;
      })
      .join(', ');
    return {
      rate: o.messages / ((stored - started) / 1000),
      historyLagSeconds,
      roles,
      databaseRows: o.database === null ? null : await countRows(o.database),
    };
  } finally {
    await Promise.all(nodes.map((n) => n.stop().catch(() => n.kill())));
    await Promise.all(homes.map((h) => h.remove()));
  }
}

async function countRows(database: string): Promise<number> {
  const client = new pg.Client({ connectionString: database });
  await client.connect();
  try {
    return (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM agent_interval')).rows[0]!.n;
  } finally {
    await client.end();
  }
}
