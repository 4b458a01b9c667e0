/**
 * The web UI's cluster view shows the whole cluster, not only the sites of the node it is opened
 * on (DESIGN.md: "nodes, which sites each leads and backs"): three `wfm-agg node` processes and
 * three sites with one backup each, so a node hosts two sites and one it does not; its
 * `GET /api/cluster` and its page in a real Chromium show every site's primary and backup as the
 * nodes themselves report them, and after the SIGKILL of another node, the site led again.
 */
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterSites } from '../../src/node/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { type NodeStatusJson, waitFor } from '../helpers/NodeProcess.ts';
import { type StandbyNats, standbyNats } from '../helpers/standbyTraffic.ts';

const SITES = ['S1', 'S2', 'S3'];
const NODES = ['a', 'b', 'c'];

/** Per site, from each node's own `/api/status`: its primary and its backups. */
function fromStatuses(statuses: Map<string, NodeStatusJson>) {
  const bySite = new Map<string, { primary: string | null; backups: string[] }>();
  for (const site of SITES) bySite.set(site, { primary: null, backups: [] });
  for (const [node, st] of [...statuses].sort(([x], [y]) => x.localeCompare(y)))
    for (const s of st.sites) {
      const entry = bySite.get(s.site)!;
      if (s.role === 'primary') entry.primary = node;
      else entry.backups.push(node);
    }
  return bySite;
}

const rowsOf = (cluster: ClusterSites) =>
  new Map(cluster.rows.map((r) => [r.site, { primary: r.primary, backups: r.backups }]));

describe('web UI: the cluster view', () => {
  let nats: StandbyNats;
  let cluster: ClusterRun;
  let browser: Browser;

  beforeAll(async () => {
    nats = await standbyNats(false);
    cluster = new ClusterRun({
      natsUrl: nats.server.url,
      sites: SITES,
      extraConfig: { leaseSeconds: 3, standbyReplicas: 1 },
    });
    await Promise.all(NODES.map((id) => cluster.start(id)));
    browser = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await cluster?.stop();
    await nats?.close();
  });

  it('shows every site of the cluster on a node that hosts only some, and follows a takeover', async () => {
    await cluster.waitAllLed({ timeoutMs: 60_000, preferred: true });
    // Three sites with two copies each on three nodes: some node hosts fewer than all.
    const statuses = await cluster.statuses();
    const [observer] = [...statuses].find(([, st]) => st.sites.length < SITES.length)!;
    const hostedHere = statuses.get(observer)!.sites.map((s) => s.site);
    const elsewhere = SITES.filter((s) => !hostedHere.includes(s));
    expect(elsewhere.length).toBeGreaterThan(0);
    const url = cluster.node(observer).url!;
    const clusterOf = async () => (await (await fetch(`${url}/api/cluster`)).json()) as ClusterSites;

    const seen = await clusterOf();
    expect(seen.answered).toEqual(NODES);
    expect(seen.nodes).toEqual(NODES);
    expect(seen.leaderless).toEqual([]);
    expect(rowsOf(seen)).toEqual(fromStatuses(await cluster.statuses()));

    // The page shows the sites this node does not host, with their primary and backup.
    const page = await browser.newPage();
    await page.goto(`${url}/#/cluster`);
    for (const site of elsewhere) {
      const row = page.locator(`#cluster-sites tr[data-site="${site}"]`);
      await row.waitFor({ timeout: 15_000 });
      const expected = rowsOf(seen).get(site)!;
      expect(await row.locator('td').nth(1).textContent()).toBe(expected.primary);
      expect(await row.locator('td').nth(3).textContent()).toBe(expected.backups.join(', '));
    }
    const leads = (n: string) => page.locator(`#nodes tr[data-node="${n}"] td`).nth(1).textContent();
    for (const n of NODES)
      expect(await leads(n)).toBe(
        seen.rows
          .filter((r) => r.primary === n)
          .map((r) => r.site)
          .join(', ') || '—',
      );

    // Another node dies: the view leaves it out and shows its sites led by the survivors.
    const victim = NODES.find((n) => n !== observer)!;
    await cluster.node(victim).kill();
    const after = await waitFor(
      async () => {
        const c = await clusterOf();
        return c.answered.length === 2 && c.rows.every((r) => r.primary !== null && r.primary !== victim)
          ? c
          : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, describe: () => `every site led by the survivors of ${victim}` },
    );
    expect(after.answered).toEqual(NODES.filter((n) => n !== victim));
    expect(after.rows.map((r) => r.site)).toEqual(SITES);
    for (const site of SITES) {
      const row = page.locator(`#cluster-sites tr[data-site="${site}"] td`).nth(1);
      await expect.poll(() => row.textContent(), { timeout: 15_000 }).not.toBe(victim);
    }
    await page.close();
  }, 150_000);
});
