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
    // Each move of its election is in the log, with the lease it saw.
    const moves = () =>
      run!.log
        .map((line) => JSON.parse(line) as { msg: string; site?: string; from?: string; to?: string })
        .filter((l) => l.msg === 'election state' && l.site === 'S1')
        .map((l) => `${l.from} → ${l.to}`);
    // A new site restores before it may lead: it waits in catchingUp unless restored by its turn.
    expect([
      [
        'following → candidate',
        'candidate → catchingUp',
        'catchingUp → campaigning',
        'campaigning → leading',
      ],
      ['following → candidate', 'candidate → campaigning', 'campaigning → leading'],
    ]).toContainEqual(moves());
    const taken = moves().length;
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
    // Refused, it follows; the lease the leader holds is vacant, so it claims at once.
    expect(moves().slice(taken)).toEqual([
      'leading → following',
      'following → candidate',
      'candidate → campaigning',
      'campaigning → leading',
    ]);
    const warning = run.log.find((line) => line.includes('the lease watcher showed a revision'));
    expect(warning).toBeDefined();
    expect(JSON.parse(warning!)).toMatchObject({ site: 'S1', leader: 0 });
    expect(JSON.parse(warning!).watched).toBeGreaterThanOrEqual(before!.seq);
    const after = await run.jsm.streams.getMessage('KV_WFM_LEADER', { last_by_subj: subject });
    expect(after?.seq).toBeGreaterThan(before!.seq);
  }, 60_000);
});
