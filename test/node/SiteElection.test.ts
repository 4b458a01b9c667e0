/**
 * A site's election follows the bucket stream's leader, not its watcher, when the two disagree.
 * On nats-server 2.9.10 a replica of `KV_WFM_LEADER` diverged from its leader after server kills
 * (the chaos test, under load): the nodes' watchers, reading from it, showed a lease revision the
 * leader never had, every compare-and-set naming it was refused, and both nodes of a site followed
 * a lease nobody held for 240 s. The same disagreement is made here on one server: the site's lease
 * is purged from the stream behind the watcher's back (no KV marker, so no watcher hears of it).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/NodeProcess.ts';
import { NodeRun } from '../helpers/nodeRun.ts';

describe('SiteElection', () => {
  let run: NodeRun | undefined;
  afterEach(async () => {
    await run?.close();
    run = undefined;
  });

  it('leads again when its lease revision is gone from the stream leader, naming both revisions', async () => {
    run = await NodeRun.open();
    const node = await run.startNode({ config: run.config(['S1']) });
    const s1 = () => node.status().sites.find((s) => s.site === 'S1');
    const leading = await waitFor(() => (s1()?.role === 'primary' ? s1() : undefined), {
      timeoutMs: 20_000,
      describe: () => JSON.stringify(s1()),
    });
    const subject = '$KV.WFM_LEADER.T1.S1';
    const before = await run.jsm.streams.getMessage('KV_WFM_LEADER', { last_by_subj: subject });
    expect(before?.seq).toBeGreaterThan(0);
    await run.jsm.streams.purge('KV_WFM_LEADER', { filter: subject });

    // Its next renewal names the revision it saw and is refused: it reads the leader's (none)
    // and claims the vacant lease anew.
    await waitFor(() => (s1()?.role === 'primary' && s1()!.epoch > leading.epoch ? true : undefined), {
      timeoutMs: 20_000,
      describe: () => `${JSON.stringify(s1())}\n${run!.log.slice(-10).join('')}`,
    });
    const warning = run.log.find((line) => line.includes('the lease watcher showed a revision'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ site: 'S1', leader: 0 });
    expect(JSON.parse(warning!).watched).toBeGreaterThanOrEqual(before!.seq);
    const after = await run.jsm.streams.getMessage('KV_WFM_LEADER', { last_by_subj: subject });
    expect(after?.seq).toBeGreaterThan(before!.seq);
  }, 60_000);
});
