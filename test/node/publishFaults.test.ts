/**
 * B2 (issue #4): one lost publish must never become a permanent gap. A site's outputs are refused
 * in the middle of a stream of good ones — an error ack (`WFM_OUT` refuses messages above a size:
 * interval records fail while GC and adherence outputs land) and a no-responders reply (`WFM_OUT`
 * stops capturing `wfm.interval.>` for a while: 503) — while traffic keeps coming; then the
 * problem goes away, the node is restarted, and `WFM_OUT` and `WFM_DLQ` must equal an undisturbed
 * run's: 0 lost, 0 doubled, 0 different. The streams' duplicate windows are 100 ms, so the
 * server's `Nats-Msg-Id` dedupe cannot hide a re-sent message: only the sites' own reading of
 * what is stored can. And a `WFM_OUT` that misses an output subject keeps the node from starting.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TrafficGenerator, type TrafficMessage } from '../../src/simulator/index.ts';
import { NodeRun, type RunOutput, undisturbedRun } from '../helpers/nodeRun.ts';
import { compareDeadLetters, compareRuns } from '../helpers/outputs.ts';

const SITES = ['S1', 'S2'];
const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);

function traffic(): TrafficMessage[] {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: SITES,
    agentsPerSite: 15,
    seed: 4242,
    startTs: START_TS,
    tickMs: 5000,
    invalidEvery: 40,
  });
  return [...generator.messages(START_TS + 3 * 3_600_000)];
}

function slices<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, i) => items.slice(i * size, (i + 1) * size));
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

describe('a site whose publishes are refused mid-stream loses and doubles nothing', () => {
  const messages = traffic();
  let expected: RunOutput;

  beforeAll(async () => {
    expected = await undisturbedRun(messages, SITES);
    expect(expected.out.filter((r) => r.subject.startsWith('wfm.interval.')).length).toBeGreaterThan(50);
    expect(expected.dlq.length).toBeGreaterThan(10);
  }, 120_000);

  let run: NodeRun | undefined;
  afterAll(async () => {
    await run?.close();
  });

  it('error acks, then a 503, then a restart: the streams equal the undisturbed run', async () => {
    run = await NodeRun.open();
    const parts = slices(messages, 6);
    await run.startNode({ config: run.config(SITES) });
    await run.publish(parts[0]!);
    await run.caughtUp();

    // Error acks: every interval record is larger than this, every GC/adherence output smaller.
    const info = await run.jsm.streams.info('WFM_OUT');
    await run.jsm.streams.update('WFM_OUT', { ...info.config, max_msg_size: 330 });
    await run.publish(parts[1]!);
    await sleep(1500); // checkpoints fail, the sites rebuild, fail again, back off
    await run.jsm.streams.update('WFM_OUT', { ...info.config, max_msg_size: -1 });
    await run.publish(parts[2]!);
    await run.caughtUp();

    // No responders: interval records go to a subject no stream captures for a while.
    await run.jsm.streams.update('WFM_OUT', {
      ...info.config,
      subjects: info.config.subjects.filter((s) => s !== 'wfm.interval.>'),
    });
    await run.publish(parts[3]!);
    await sleep(1500);
    await run.jsm.streams.update('WFM_OUT', info.config);
    await run.publish(parts[4]!);
    await run.caughtUp();

    const rebuilds = [...run.node!.sites.values()].reduce((n, s) => n + s.counters.rebuilds, 0);
    expect(rebuilds, run.log.slice(-10).join('')).toBeGreaterThan(0);

    // Restart the node, then the rest of the traffic.
    await run.stopNode();
    await run.startNode({ config: run.config(SITES) });
    await run.publish(parts[5]!);
    await run.settled();

    const actual = await run.read();
    const outputs = compareRuns(expected.out, actual.out, 'outputs');
    expect(outputs.lost, outputs.summary).toBe(0);
    expect(outputs.doubled, outputs.summary).toBe(0);
    expect(outputs.different, outputs.summary).toBe(0);
    const letters = compareDeadLetters(expected.dlq, actual.dlq);
    expect(letters.same, letters.summary).toBe(true);
  }, 180_000);

  it('a refusal that ends before the flush: every failed site rebuilds, each subject in order', async () => {
    // The gap closes (WFM_OUT takes large messages again) while the site, which notices a failed
    // publish only at its next flush, goes on applying input: an agent's later interval records
    // must not be stored ahead of the refused ones, which the rebuilt site re-sends first. No
    // checkpoint runs by itself here, so the test decides when the site flushes.
    await run?.close();
    run = await NodeRun.open();
    const parts = slices(messages, 4);
    await run.startNode({ config: run.config(SITES), checkpointEveryMs: 600_000 });
    await run.publish(parts[0]!);
    await run.settled();

    const info = await run.jsm.streams.info('WFM_OUT');
    await run.jsm.streams.update('WFM_OUT', { ...info.config, max_msg_size: 330 });
    await run.publish(parts[1]!);
    await run.caughtUp();
    await sleep(500); // the refusals are answered (error acks take milliseconds)
    await run.jsm.streams.update('WFM_OUT', { ...info.config, max_msg_size: -1 });
    await run.publish(parts[2]!);
    await run.caughtUp();
    // The flush reports the refusals: the sites rebuild and re-send from their gaps.
    await run.node!.checkpoint().catch(() => undefined);
    await run.publish(parts[3]!);
    await run.settled();

    // Each site's flush took its own failure away: each must rebuild, or its gap is never re-sent.
    for (const site of SITES)
      expect(run.node!.sites.get(site)!.counters.rebuilds, `${site}: ${run.log.slice(-10).join('')}`).toBe(1);
    const outputs = compareRuns(expected.out, (await run.read()).out, 'outputs');
    expect(outputs.same, outputs.summary).toBe(true);
  }, 180_000);
});

describe('a WFM_OUT that misses an output subject', () => {
  it('gets the subject added when the node starts (an older WFM_OUT, before wfm.transfer.> joined the contract)', async () => {
    const run = await NodeRun.open();
    try {
      const info = await run.jsm.streams.info('WFM_OUT');
      await run.jsm.streams.update('WFM_OUT', {
        ...info.config,
        subjects: ['wfm.gc.>', 'wfm.adherence.>', 'wfm.interval.>'],
      });
      const node = await run.startNode({ config: run.config(['S1']) });
      await node.stop();
      const after = await run.jsm.streams.info('WFM_OUT');
      expect(after.config.subjects).toEqual([
        'wfm.gc.>',
        'wfm.adherence.>',
        'wfm.interval.>',
        'wfm.transfer.>',
      ]);
    } finally {
      await run.close();
    }
  }, 60_000);
});
