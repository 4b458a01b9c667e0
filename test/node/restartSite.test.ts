import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type WfmConfig } from '../../src/config/index.ts';
import { TrafficGenerator, type TrafficMessage } from '../../src/simulator/index.ts';
import { NodeRun, type RunOutput, undisturbedRun } from '../helpers/nodeRun.ts';
import { compareDeadLetters, compareRuns, type StreamRecord } from '../helpers/outputs.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);
const SLICE = 40;

function traffic(): TrafficMessage[] {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: ['S1', 'S2'],
    agentsPerSite: 15,
    seed: 99,
    startTs: START_TS,
    tickMs: 2000,
    invalidEvery: 50,
  });
  return [...generator.messages(START_TS + 5 * 3_600_000)];
}

const ofSite = (site: string) => (r: StreamRecord) => r.subject.split('.')[3] === site;
const isInterval = (r: StreamRecord) => r.subject.startsWith('wfm.interval.');
const minutesOf = (r: StreamRecord) => (r.data as { intervalMinutes: number }).intervalMinutes;
const startOf = (r: StreamRecord) => (r.data as { intervalStart: number }).intervalStart;

describe('wfm-agg restart --site under live traffic', () => {
  const messages = traffic();
  let at15: RunOutput;
  let at30: RunOutput;
  let live: NodeRun;
  let configFile: string;

  beforeAll(async () => {
    at15 = await undisturbedRun(messages, ['S1', 'S2']);
    at30 = await undisturbedRun(messages, [{ id: 'S1', intervalMinutes: 30 }, 'S2']);
    live = await NodeRun.open();
    configFile = join(live.dataDir, 'wfm.json');
  }, 180_000);

  afterAll(async () => {
    await live?.close();
  });

  const writeConfig = (config: WfmConfig) => writeFileSync(configFile, JSON.stringify(config));

  it('restarts S1 under its new profile; S2 never pauses; nothing lost or doubled', async () => {
    writeConfig(live.config(['S1', 'S2']));
    const reload = () => loadConfig({ file: configFile, env: {} });
    await live.startNode({ config: reload(), reloadConfig: reload });

    // When S2's outputs arrive, as its subscribers see them.
    const arrivals: number[] = [];
    const sub = live.nc.subscribe('wfm.*.T1.S2.>', { callback: () => void arrivals.push(performance.now()) });

    let halfway = () => {};
    const reachedHalf = new Promise<void>((resolve) => {
      halfway = resolve;
    });
    const half = Math.floor(messages.length * 0.4);
    const publishing = (async () => {
      for (let i = 0; i < messages.length; i += SLICE) {
        await live.publish(messages.slice(i, i + SLICE));
        await new Promise((r) => setTimeout(r, 25));
        if (i < half && i + SLICE >= half) halfway();
      }
    })();
    await reachedHalf;

    writeConfig(live.config([{ id: 'S1', intervalMinutes: 30 }, 'S2']));
    const from = performance.now();
    const restart = await wfmAgg(['restart', '--config', configFile, '--site', 'S1']);
    expect(restart, JSON.stringify(restart)).toMatchObject({ code: 0 });
    expect(restart.stdout).toContain('n1: restarted S1');
    const to = performance.now() + 1500;

    await publishing;
    await live.settled();
    sub.unsubscribe();

    const during = arrivals.filter((t) => t >= from && t <= to);
    const gaps = during.slice(1).map((t, i) => t - during[i]!);
    expect(during.length).toBeGreaterThan(10);
    expect(Math.max(...gaps)).toBeLessThan(1000);

    const actual = await live.read();
    // S2 and S1's GC and adherence outputs: as if nothing happened.
    const notS1Intervals = (r: StreamRecord) => !(ofSite('S1')(r) && isInterval(r));
    const same = compareRuns(at15.out.filter(notS1Intervals), actual.out.filter(notS1Intervals));
    expect(same.same, same.summary).toBe(true);
    // S1's interval records: 15 minutes up to a boundary, 30 from it, each as its own profile says.
    const s1 = actual.out.filter((r) => ofSite('S1')(r) && isInterval(r));
    const switchAt = Math.min(...s1.filter((r) => minutesOf(r) === 30).map(startOf));
    expect(Number.isFinite(switchAt)).toBe(true);
    expect(s1.filter((r) => minutesOf(r) === 15).every((r) => startOf(r) < switchAt)).toBe(true);
    const before = at15.out.filter((r) => ofSite('S1')(r) && isInterval(r) && startOf(r) < switchAt);
    const after = at30.out.filter((r) => ofSite('S1')(r) && isInterval(r) && startOf(r) >= switchAt);
    const intervals = compareRuns([...before, ...after], s1);
    expect(intervals.same, intervals.summary).toBe(true);
    const letters = compareDeadLetters(at15.dlq, actual.dlq);
    expect(letters.same, letters.summary).toBe(true);
  }, 180_000);

  it('wfm-agg status shows each site with its primary, and --json its lifecycle state', async () => {
    const table = await wfmAgg(['status', '--config', configFile]);
    expect(table.code, table.stderr).toBe(0);
    // One row per site: the site, its primary and the lease epoch.
    expect(table.stdout).toMatch(/^S1\s+n1\s+\d+\s/m);
    expect(table.stdout).toMatch(/^S2\s+n1\s+\d+\s/m);
    const json = await wfmAgg(['status', '--config', configFile, '--json']);
    const [reply] = JSON.parse(json.stdout) as {
      nodeId: string;
      sites: { site: string; state: unknown }[];
    }[];
    expect(reply!.nodeId).toBe('n1');
    expect(reply!.sites.map((s) => s.site)).toEqual(['S1', 'S2']);
    // The node checkpoints every 200 ms here, so a site may be caught flushing.
    for (const site of reply!.sites) {
      expect(site.state).toEqual({
        running: { role: 'primary', checkpoints: expect.stringMatching(/^(idle|flushing)$/) },
      });
    }
  }, 60_000);

  it('refuses an unknown site or business unit with a non-zero exit, changing nothing', async () => {
    const before = live.node!.status();
    const site = await wfmAgg(['restart', '--config', configFile, '--site', 'NOPE']);
    expect(site.code).not.toBe(0);
    expect(site.stderr).toContain('unknown site NOPE');
    const unit = await wfmAgg(['restart', '--config', configFile, '--business-unit', 'NOPE']);
    expect(unit.code).not.toBe(0);
    expect(unit.stderr).toContain('unknown business unit NOPE');
    // And a node asked directly refuses too.
    expect(live.node!.restart({ site: 'NOPE' })).toEqual({
      nodeId: 'n1',
      ok: false,
      error: 'unknown site NOPE: not in the configuration',
    });
    const after = live.node!.status();
    expect(after.sites.map((s) => [s.site, s.checkpointSeq])).toEqual(
      before.sites.map((s) => [s.site, s.checkpointSeq]),
    );
    expect(JSON.stringify(after.sites.map((s) => s.state))).not.toContain('restor');
  }, 60_000);

  it('adds a site new to the file without rewinding the others; its earlier input stays unknown_site', async () => {
    const ts = START_TS + 6 * 3_600_000;
    const state = (status: string, at: number) => ({
      statistic: 'CurrentState',
      agentId: 'n1',
      status,
      callType: null,
      ts: at,
    });
    const publishOne = async (payload: unknown) =>
      (await live.js.publish('wfm.stat.T1.S3.n1', JSON.stringify(payload))).seq;
    const before = await publishOne(state('Ready', ts));
    await live.node!.checkpoint();
    const readersBefore = live.log.filter((l) => l.includes('consumer_started')).length;

    writeConfig(live.config([{ id: 'S1', intervalMinutes: 30 }, 'S2', 'S3']));
    const added = await wfmAgg(['restart', '--config', configFile, '--site', 'S3']);
    expect(added, JSON.stringify(added)).toMatchObject({ code: 0 });
    expect(added.stdout).toContain('n1: added S3');
    const after = await publishOne(state('NotReady', ts + 1000));
    live.published = after;
    await live.settled();

    const s3 = live.node!.status().sites.find((s) => s.site === 'S3');
    expect(s3).toMatchObject({ processedSeq: after, checkpointSeq: after, agents: 1 });
    // No site was read again from an earlier point: the reader was never restarted.
    expect(live.log.filter((l) => l.includes('consumer_started')).length).toBe(readersBefore);
    expect(live.log.some((l) => l.includes('retention dropped'))).toBe(false);
    const { out, dlq } = await live.read();
    expect(out.filter((r) => r.subject === 'wfm.gc.T1.S3.n1').map((r) => r.data)).toEqual([
      { agentId: 'n1', presence: 'BUSY', routingStatus: 'OFF_QUEUE', ts: ts + 1000, sourceSeq: after },
    ]);
    expect(dlq.filter((r) => (r.data as { seq: number }).seq === before).map((r) => r.data)).toMatchObject([
      { reason: 'unknown_site', seq: before, detail: 'site S3 is not configured' },
    ]);
  }, 60_000);
});
