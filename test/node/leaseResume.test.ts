/**
 * DESIGN guarantee 2 on a busy node: a node whose main thread stalls past its lease permit stops
 * writing (its permit ran out), then re-takes its own lease — nobody held it meanwhile — and
 * writes on from its outbox without reading `WFM_OUT` again: a "resumed" takeover. Reading
 * everything after an old mark on an already overloaded node had made each re-take slower than
 * the permit (under four test files at once a node led nothing for minutes). The streams must
 * still equal an undisturbed run's: 0 lost, 0 doubled, 0 different (100 ms duplicate windows, so
 * the server's dedupe hides nothing).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/NodeProcess.ts';
import { expectSameRun, NodeRun, type RunOutput, undisturbedRun } from '../helpers/nodeRun.ts';
import { standbyTraffic } from '../helpers/standbyTraffic.ts';

const SITES = ['S1', 'S2'];

/** Blocks this thread — the in-process node's too — for `ms`, as a long synchronous task would. */
function stall(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // Busy: no timer, no socket read, no renewal runs meanwhile.
  }
}

describe('a node that stalls past its lease permit', () => {
  const messages = standbyTraffic({ sites: SITES, agentsPerSite: 15, hours: 3, seed: 777 });
  let expected: RunOutput;
  let run: NodeRun | undefined;

  beforeAll(async () => {
    expected = await undisturbedRun(messages, SITES);
  }, 120_000);

  afterAll(async () => {
    await run?.close();
  });

  it('re-takes its own lease and writes on from its outbox, reading nothing; the streams equal the undisturbed run', async () => {
    run = await NodeRun.open();
    const node = await run.startNode({ config: run.config(SITES) });
    const third = Math.ceil(messages.length / 3);
    await run.publish(messages.slice(0, third));
    await run.caughtUp();
    const sites = () => SITES.map((s) => node.sites.get(s)!.counters);
    const hotBefore = sites().map((c) => c.hotTakeovers);
    expect(hotBefore).toEqual([1, 1]); // each site's first lease read what the streams held

    // The next third arrives; halfway through applying it, the main thread stalls for 1.5 s:
    // three permits (500 ms at the 3 s lease), with outputs in flight and more held.
    const publishing = run.publish(messages.slice(third, 2 * third));
    await waitFor(() => (node.status().sites.every((s) => s.processedSeq > third + 100) ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => JSON.stringify(node.status().sites),
    });
    // A site whose renewal timer runs first once a stall ends can renew in time (a localhost round
    // trip can beat its 1 ms permit timer) and lose nothing; stall again, up to three times, until
    // a lease was lost.
    for (let i = 0; i < 3; i++) {
      stall(1500);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      if (sites().some((c) => c.leasesLost > 0)) break;
    }
    await publishing;
    await run.publish(messages.slice(2 * third));
    await run.settled();

    const counters = sites();
    // A site that renewed in time lost nothing (the compare-and-set proves nobody claimed
    // meanwhile): at least one site lost its lease, and every lease lost was re-taken by a resume.
    const log = run.log.slice(-10).join('');
    expect(Math.max(...counters.map((c) => c.leasesLost)), log).toBeGreaterThan(0);
    for (const c of counters) expect(c.resumedLeases, log).toBe(c.leasesLost);
    // No read of WFM_OUT after the first: every re-take resumed.
    expect(counters.map((c) => c.hotTakeovers)).toEqual(hotBefore);
    expect(counters.map((c) => c.coldTakeovers)).toEqual([0, 0]);

    expectSameRun(expected, await run.read());
  }, 180_000);
});
