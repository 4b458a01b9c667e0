/**
 * DESIGN guarantee 2 on a busy node: a node whose main thread stalls past its lease permit stops
 * writing (its permit ran out), then re-takes its own lease — nobody held it meanwhile — and
 * writes on from its outbox without reading `WFM_OUT` again: a "resumed" takeover. Reading
 * everything after an old mark on an already overloaded node had made each re-take slower than
 * the permit (under four test files at once a node led nothing for minutes). The streams must
 * still equal an undisturbed run's: 0 lost, 0 doubled, 0 different (100 ms duplicate windows, so
 * the server's dedupe hides nothing).
 */
import { isDeepStrictEqual } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InspectionEvent } from 'xstate';
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
    // Stalls the thread as a site's election starts a renewal: the permit runs out while the
    // renewal is in flight, whichever of its timers or its answer comes first once the stall ends.
    // (A stall at any other moment can end with the renewal timer first and the renewal answered
    // before the 1 ms permit timer — in time, as its compare-and-set proves — losing nothing.)
    const armed = new Set<string>();
    const inspect = (event: InspectionEvent) => {
      if (event.type !== '@xstate.snapshot') return;
      const id = (event.actorRef as { id?: string }).id ?? '';
      const site = id.startsWith('election:') ? id.slice('election:'.length) : '';
      const snapshot = event.snapshot as { value?: unknown };
      if (!armed.has(site) || !isDeepStrictEqual(snapshot.value, { leading: 'renewing' })) return;
      armed.delete(site);
      stall(1500);
    };
    const node = await run.startNode({ config: run.config(SITES), inspect });
    const third = Math.ceil(messages.length / 3);
    await run.publish(messages.slice(0, third));
    await run.caughtUp();
    const sites = () => SITES.map((s) => node.sites.get(s)!.counters);
    const hotBefore = sites().map((c) => c.hotTakeovers);
    expect(hotBefore).toEqual([1, 1]); // each site's first lease read what the streams held
    // A loaded machine can stall the node past a permit while it starts, too: count from here.
    const before = sites().map((c) => ({ lost: c.leasesLost, resumed: c.resumedLeases }));

    // The next third arrives; halfway through applying it, the main thread stalls for 1.5 s as a
    // site renews, then as the other does: three permits (500 ms at the 3 s lease) each time, with
    // outputs in flight and more held.
    const publishing = run.publish(messages.slice(third, 2 * third));
    await waitFor(() => (node.status().sites.every((s) => s.processedSeq > third + 100) ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => JSON.stringify(node.status().sites),
    });
    // One site at a time, each stall its own: two sites renewing together would stall 3 s at once.
    for (const [i, site] of SITES.entries()) {
      armed.add(site);
      const releadAfterLoss = () => {
        const lane = node.status().sites.find((s) => s.site === site);
        return !armed.has(site) && sites()[i]!.leasesLost > before[i]!.lost && lane?.role === 'primary';
      };
      await waitFor(() => (releadAfterLoss() ? true : undefined), {
        timeoutMs: 20_000,
        describe: () => `${site}: ${JSON.stringify(sites()[i])}`,
      });
    }
    await publishing;
    await run.publish(messages.slice(2 * third));
    await run.settled();

    const counters = sites();
    // Every site lost its lease and re-took it by resuming. (A re-take cut short by the next loss —
    // a loaded machine stalls the node again — completes neither kind: at most one per loss.)
    const log = `${JSON.stringify(counters)}\n${run.log.slice(-10).join('')}`;
    const lost = counters.map((c, i) => c.leasesLost - before[i]!.lost);
    const resumed = counters.map((c, i) => c.resumedLeases - before[i]!.resumed);
    for (const [i, n] of lost.entries()) {
      expect(n, log).toBeGreaterThan(0);
      expect(resumed[i], log).toBeGreaterThan(0);
      expect(resumed[i], log).toBeLessThanOrEqual(n);
    }
    // No read of WFM_OUT after the first: every re-take resumed.
    expect(
      counters.map((c) => c.hotTakeovers),
      log,
    ).toEqual(hotBefore);
    expect(
      counters.map((c) => c.coldTakeovers),
      log,
    ).toEqual([0, 0]);

    expectSameRun(expected, await run.read());
  }, 180_000);
});
