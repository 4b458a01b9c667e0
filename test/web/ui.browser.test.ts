/**
 * The visualizer in a real headless Chromium against real parts: a nats-server, an in-process
 * WfmNode and its HTTP server. Inputs go in through `WFM_IN`; what the page shows comes from the
 * node's API and its SSE stream. Screenshots land in `test-artifacts/` (not in git).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { createLogger } from '../../src/logging/index.ts';
import { WfmNode } from '../../src/node/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { startHttpServer } from '../../src/web/index.ts';
import { reasonMsg, stateMsg } from '../helpers/agentScenario.ts';
import { launchChromium } from '../helpers/chromium.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

const T = (h: number, m: number, s = 0) => Date.UTC(2026, 0, 5, h, m, s);
const XSS = '<img src=x onerror=window.__xss=1>';
const ARTIFACTS = 'test-artifacts';

let server: NatsServer;
let wire: WfmWire;
let node: WfmNode;
let http: Awaited<ReturnType<typeof startHttpServer>>;
let browser: Browser;
let page: Page;
let dataDir: string;
/** WFM_IN seq of the input that took agent `late` out of adherence. */
let breakSeq: number;

async function api<R = unknown>(path: string): Promise<R> {
  const res = await fetch(`${http.url}${path}`);
  return (await res.json()) as R;
}

const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `ui-${name}.png`), fullPage: true });

/** In the page: the focused element's tag and the agent of the grid row it is in. */
const FOCUSED = `(() => {
  const el = document.activeElement;
  return el.tagName + ' ' + el.closest('tr')?.dataset.agent;
})()`;

/** The labels of the lit atomic states of one statechart on the page. */
const litLeaves = (chart: string) =>
  page.$$eval(`#${chart} g.state.active:not(.compound):not(.parallel):not(.root) > text.label`, (els) =>
    els.map((e) => e.textContent),
  );

beforeAll(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  server = await NatsServer.start();
  wire = await WfmWire.connect(server.url);
  await ensureStreams(wire.jsm);
  dataDir = mkdtempSync(join(tmpdir(), 'wfm-ui-'));
  const config = localNodeConfig({ natsUrl: server.url, dataDir, sites: ['S1'] });
  node = await WfmNode.start({ config, nodeId: 'n1', logger: createLogger({ level: 'silent' }) });
  http = await startHttpServer(node, { port: 0 });

  // Three agents: on queue as scheduled, on a break though scheduled on queue, and one whose
  // reason code is markup.
  for (const a of ['ontime', 'late']) {
    await wire.publish(`wfm.schedule.T1.S1.${a}`, {
      agentId: a,
      from: T(9, 0),
      to: T(12, 0),
      activities: [{ start: T(9, 0), end: T(12, 0), category: 'OnQueueWork' }],
    });
  }
  await wire.send(stateMsg('ontime', 'Ready', null, T(10, 0)));
  await wire.send(stateMsg('late', 'Ready', null, T(10, 0)));
  await wire.send(reasonMsg('late', 'Break', T(10, 1)));
  breakSeq = await wire.send(stateMsg('late', 'NotReady', null, T(10, 1)));
  await wire.send(reasonMsg('evil', XSS, T(10, 2)));
  await wire.send(stateMsg('evil', 'NotReady', null, T(10, 2)));
  await wire.publish('wfm.clock.T1.S1', { ts: T(10, 3) });
  await wire.until(async () => {
    const page = await api<{ total: number; rows: { agentId: string; presence: string | null }[] }>(
      '/api/agents?limit=50',
    );
    return page.total === 3 && page.rows.every((r) => r.presence !== null);
  }, 30_000);

  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('pageerror', (err) => console.error('page error:', err.message));
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await http?.close();
  await node?.stop();
  await wire?.close();
  await server?.stop();
  if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
});

describe('visualizer in a browser', () => {
  it('shows the published agents in the RTA grid, coloured by adherence', async () => {
    await page.goto(`${http.url}/`);
    expect(new URL(page.url()).hash).toBe('#/agents');
    for (const a of ['ontime', 'late', 'evil']) await page.waitForSelector(`tr[data-agent="S1/${a}"]`);
    const row = (a: string) => page.locator(`tr[data-agent="S1/${a}"]`);
    expect(await row('ontime').getAttribute('class')).toContain('adh-in');
    expect(await row('ontime').locator('td').nth(2).textContent()).toBe('ON_QUEUE');
    expect(await row('late').getAttribute('class')).toContain('adh-out-neg');
    expect(await row('late').locator('td').nth(2).textContent()).toBe('BREAK');
    expect(await row('late').locator('td.adh').textContent()).toBe('OutOfAdherence');
    // Time in state: 10:01 → the 10:03 clock tick.
    expect(await row('late').locator('td').nth(6).textContent()).toBe('02:00');
    expect(await page.locator('#range').textContent()).toBe('1–3 of 3');
    // Severity first: the agent out of adherence with Negative impact heads the grid.
    expect(await page.locator('#agents tbody tr').first().getAttribute('data-agent')).toBe('S1/late');
    await shot('agents');
  });

  it('filters by adherence state', async () => {
    await page.selectOption('#f-state', 'InAdherence');
    await page.locator('#range', { hasText: /^1–1 of 1$/ }).waitFor();
    expect(await page.locator('#agents tbody tr').getAttribute('data-agent')).toBe('S1/ontime');
    await page.selectOption('#f-state', '');
    await page.locator('#range', { hasText: /^1–3 of 3$/ }).waitFor();
  });

  it('shows a state change published after the page loaded, without a reload', async () => {
    let reloaded = false;
    page.once('load', () => {
      reloaded = true;
    });
    await wire.send(stateMsg('ontime', 'NotReady', null, T(10, 4)));
    const row = page.locator('tr[data-agent="S1/ontime"]');
    await row.and(page.locator('.adh-out-neg')).waitFor({ timeout: 15_000 });
    expect(await row.locator('td').nth(2).textContent()).toBe('BUSY');
    expect(await row.locator('td.adh').textContent()).toBe('OutOfAdherence');
    expect(reloaded).toBe(false);
    await shot('agents-live');
  });

  it('keeps the keyboard on the row it was on while the grid refreshes live', async () => {
    const evil = page.locator('tr[data-agent="S1/evil"]');
    await evil.focus();
    // A change of another agent on the same page refetches the page and redraws its rows.
    const fetched = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/agents');
    await wire.send(stateMsg('ontime', 'Ready', null, T(10, 4, 30)));
    await fetched;
    await page.locator('tr[data-agent="S1/ontime"].adh-in').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(FOCUSED)).toBe('TR S1/evil');
    // And on the agent's link, when that is where it was.
    await evil.locator('a').focus();
    const again = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/agents');
    await wire.send(stateMsg('ontime', 'NotReady', null, T(10, 4, 45)));
    await again;
    await page.locator('tr[data-agent="S1/ontime"].adh-out-neg').waitFor({ timeout: 15_000 });
    expect(await page.evaluate(FOCUSED)).toBe('A S1/evil');
  });

  it('redraws live in place: the same rows, only changed cells rewritten, a text selection kept', async () => {
    // Remember each row element, and select the top agent's id as a supervisor copying it would.
    await page.evaluate(`(() => {
      window.__rows = new Map([...document.querySelectorAll('tr[data-agent]')].map((tr) => [tr.dataset.agent, tr]));
      window.__late = document.querySelector('tr[data-agent="S1/late"] td.adh').firstChild;
      const range = document.createRange();
      range.selectNodeContents(document.querySelector('tr[data-agent="S1/late"] td.agent-id a'));
      getSelection().removeAllRanges();
      getSelection().addRange(range);
    })()`);
    expect(await page.locator('#agents tbody tr').first().getAttribute('data-agent')).toBe('S1/late');
    const fetched = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/agents');
    await wire.send(stateMsg('ontime', 'Ready', null, T(10, 4, 55)));
    await fetched;
    await page.locator('tr[data-agent="S1/ontime"].adh-in').waitFor({ timeout: 15_000 });
    expect(await page.locator('tr[data-agent="S1/ontime"] td.adh').textContent()).toBe('InAdherence');
    expect(
      await page.evaluate(`(() => {
        const rows = [...document.querySelectorAll('tr[data-agent]')];
        return {
          same: rows.length === 3 && rows.every((tr) => window.__rows.get(tr.dataset.agent) === tr),
          // An unchanged cell keeps its very text node.
          lateText: document.querySelector('tr[data-agent="S1/late"] td.adh').firstChild === window.__late,
          selected: getSelection().toString(),
        };
      })()`),
    ).toEqual({ same: true, lateText: true, selected: 'late' });
    await page.evaluate('getSelection().removeAllRanges()');
  });

  it('opens an agent: its statechart lit, and the input that put it there', async () => {
    await page.locator('tr[data-agent="S1/late"] td').first().click();
    await page.waitForSelector('#chart-agent svg.statechart');
    expect(new URL(page.url()).hash).toBe('#/agent/S1/late');
    expect((await litLeaves('chart-agent')).sort()).toEqual(['break', 'outOfAdherence']);
    // Every state of the agent machine is drawn, lit or not.
    const drawn = await page.$$eval('#chart-agent g.state > text.label', (els) =>
      els.map((e) => e.textContent),
    );
    expect(drawn).toEqual(
      expect.arrayContaining(['presence', 'adherence', 'onQueue', 'inAdherence', 'unknown']),
    );
    // The site's lifecycle and election charts light the leading primary's states. (Within them
    // the states move on their own: checkpoints idle/flushing every 5 s, holding/renewing every
    // 250 ms, so the chart may be a tick apart from any one /api/sites answer.)
    const site = await litLeaves('chart-site');
    expect(site).toContain('primary');
    expect(site.filter((l) => l !== 'primary').every((l) => ['idle', 'flushing'].includes(l))).toBe(true);
    const election = await litLeaves('chart-election');
    expect(election).toHaveLength(1);
    expect(['holding', 'renewing']).toContain(election[0]);
    // The input that took it out of adherence is listed with its seq and data.
    const rows = page.locator('#history tbody tr');
    const seqs = await rows.locator('td:first-child').allTextContents();
    expect(seqs).toContain(String(breakSeq));
    const cause = rows.nth(seqs.indexOf(String(breakSeq)));
    expect(await cause.getAttribute('class')).toContain('cause');
    const data = await cause.locator('pre').textContent();
    expect(JSON.parse(data!)).toMatchObject({
      statistic: 'CurrentState',
      agentId: 'late',
      status: 'NotReady',
    });
    expect(await page.locator('.card', { hasText: 'adherence' }).first().textContent()).toContain(
      'OutOfAdherence',
    );
    await shot('agent');
  });

  it('refreshes the open agent live', async () => {
    const seq = await wire.send(stateMsg('late', 'Ready', null, T(10, 5)));
    await page
      .locator('#history td:first-child', { hasText: new RegExp(`^${seq}$`) })
      .waitFor({ timeout: 15_000 });
    expect((await litLeaves('chart-agent')).sort()).toEqual(['inAdherence', 'onQueue']);
    // The Break stretch 10:01–10:05 against scheduled on-queue work ended: one exception, kept by
    // the actor with what it started as; and one login session, still open.
    const exception = page.locator('#exceptions tbody tr');
    await exception.first().waitFor({ timeout: 15_000 });
    expect(await exception.first().locator('td').allTextContents()).toEqual([
      '2026-01-05 10:01:00 UTC',
      '2026-01-05 10:05:00 UTC',
      'OnQueueWork',
      'Break',
      'Negative',
    ]);
    expect(await page.locator('#sessions tbody tr td').allTextContents()).toEqual([
      '2026-01-05 10:00:00 UTC',
      'logged in now',
    ]);
    expect(await page.locator('#agent').textContent()).toContain('no transfers');
  });

  it('shows a reason code made of markup as text, and runs none of it', async () => {
    await page.goto(`${http.url}/#/agents`);
    const row = page.locator('tr[data-agent="S1/evil"]');
    await row.waitFor();
    expect(await row.locator('td.reason').textContent()).toContain(XSS);
    await page.goto(`${http.url}/#/agent/S1/evil`);
    await page.waitForSelector('#history');
    expect(await page.locator('.card', { hasText: 'reason' }).first().textContent()).toContain(XSS);
    expect(await page.locator('#history').textContent()).toContain(XSS);
    expect(await page.locator('img').count()).toBe(0);
    expect(await page.evaluate('window.__xss')).toBeUndefined();
    await shot('xss');
  });

  it('shows the cluster live: this node, its sites, rates and DLQ', async () => {
    await wire.publish('wfm.stat.T1.S1.bad', '{not json');
    await page.goto(`${http.url}/#/cluster`);
    const row = page.locator('#sites tr[data-site="S1"]');
    await row.waitFor({ timeout: 15_000 });
    expect(await row.locator('td').nth(1).textContent()).toBe('primary');
    expect(await page.locator('.card', { hasText: 'node' }).first().textContent()).toContain('n1');
    // Which node leads and backs which site.
    const leads = page.locator('#nodes tr[data-node="n1"] td');
    expect(await leads.allTextContents()).toEqual(['n1', 'S1', '—']);
    await page.locator('#dlq').waitFor({ timeout: 15_000 });
    await shot('cluster');
  });

  it('pages through the grid 50 agents at a time', async () => {
    for (let i = 0; i < 60; i++) {
      const a = `p${String(i).padStart(2, '0')}`;
      await wire.send(stateMsg(a, 'Ready', null, T(10, 6)));
    }
    await wire.until(async () => (await api<{ total: number }>('/api/agents?limit=1')).total >= 63, 30_000);
    const { total } = await api<{ total: number }>('/api/agents?limit=1');
    const requests: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/api/agents?')) requests.push(r.url());
    });
    await page.goto(`${http.url}/#/agents`);
    await page.locator('#range', { hasText: new RegExp(`^1–50 of ${total}$`) }).waitFor();
    expect(await page.locator('#agents tbody tr').count()).toBe(50);
    expect(await page.locator('#prev').isDisabled()).toBe(true);
    await page.click('#next');
    await page.locator('#range', { hasText: new RegExp(`^51–${total} of ${total}$`) }).waitFor();
    expect(await page.locator('#agents tbody tr').count()).toBe(total - 50);
    expect(await page.locator('#next').isDisabled()).toBe(true);
    await page.click('#prev');
    await page.locator('#range', { hasText: new RegExp(`^1–50 of ${total}$`) }).waitFor();
    // The browser asks for one page at a time, never for every agent.
    expect(requests.length).toBeGreaterThan(0);
    for (const url of requests) expect(new URL(url).searchParams.get('limit')).toBe('50');
  });

  it('answers an unknown agent with a message, not a blank page', async () => {
    await page.goto(`${http.url}/#/agent/S1/nobody`);
    await page.locator('#agent .error').waitFor();
    expect(await page.locator('#agent .error').textContent()).toContain('S1/nobody');
  });
});
