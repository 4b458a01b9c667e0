/**
 * The cluster view through a takeover: two `wfm-agg node` processes share one site; a browser
 * watches the backup's page while the primary is killed with SIGKILL, and sees the backup become
 * primary live (no reload). Screenshots land in `test-artifacts/` (not in git).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureStreams } from '../../src/streams/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

const LEASE_SECONDS = 3;
const ARTIFACTS = 'test-artifacts';

let server: NatsServer;
let wire: WfmWire;
let cluster: ClusterRun;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await NatsServer.start();
  wire = await WfmWire.connect(server.url);
  await ensureStreams(wire.jsm);
  cluster = new ClusterRun({
    natsUrl: server.url,
    sites: ['S1'],
    extraConfig: { leaseSeconds: LEASE_SECONDS, standbyReplicas: 1 },
  });
  await Promise.all(['a', 'b'].map((id) => cluster.start(id)));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
  await wire?.close();
  await server?.stop();
});

describe('visualizer through a takeover', () => {
  it("shows the backup taking over when the primary is killed, on the backup's page, live", async () => {
    // The preferred primary: a first leader that hands the site over would swap the two below.
    const leaders = await cluster.waitAllLed({ timeoutMs: 30_000, preferred: true });
    const primary = leaders.get('S1')!;
    const backup = primary === 'a' ? 'b' : 'a';
    const seq = await wire.publish('wfm.stat.T1.S1.x1', {
      statistic: 'CurrentState',
      agentId: 'x1',
      status: 'Ready',
      callType: null,
      ts: Date.UTC(2026, 0, 5, 10, 0),
    });
    await cluster.waitCaughtUp(seq, 30_000);

    // The backup's own actors are current: its grid shows the agent, read from a backup.
    await page.goto(`${cluster.node(backup).url}/#/agents`);
    const agent = page.locator('tr[data-agent="S1/x1"]');
    await agent.waitFor({ timeout: 15_000 });
    expect(await agent.locator('td').first().textContent()).toContain('backup');

    await page.goto(`${cluster.node(backup).url}/#/cluster`);
    const row = page.locator('#sites tr[data-site="S1"]');
    await row.locator('td:nth-child(2)', { hasText: /^backup$/ }).waitFor({ timeout: 15_000 });
    expect(await row.locator('td').nth(3).textContent()).toBe(primary);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-takeover-before.png'), fullPage: true });

    let reloaded = false;
    page.once('load', () => {
      reloaded = true;
    });
    const killedAt = Date.now();
    await cluster.node(primary).kill();
    await row.locator('td:nth-child(2)', { hasText: /^primary$/ }).waitFor({ timeout: 20_000 });
    const tookMs = Date.now() - killedAt;
    expect(await row.locator('td').nth(3).textContent()).toBe(backup);
    expect(reloaded).toBe(false);
    // Within the lease, plus the SSE tick and slack for a loaded machine.
    expect(tookMs).toBeLessThan(LEASE_SECONDS * 1000 + 5000);
    await page.screenshot({ path: join(ARTIFACTS, 'ui-takeover-after.png'), fullPage: true });
  });
});
