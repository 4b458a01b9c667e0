/**
 * B1 (issue #4): a failed checkpoint commit must not lose agents. Before the fix, the agents a
 * checkpoint captured left the dirty set before the commit; when the commit failed they were never
 * written again, and the next commit moved the seq past their stale snapshots — a node restarted
 * from it then missed input it would never read again.
 *
 * Here a site's commits fail in the middle of the traffic (an I/O error, as a full disk gives),
 * later ones succeed, then the node "crashes": its final commit fails too, so the next node starts
 * from a checkpoint written after a failed one. `WFM_OUT` and `WFM_DLQ` must equal an undisturbed
 * run's. The same with a real disk failure: LevelDB's directory made unwritable mid-run.
 */
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LevelCheckpointStore } from '../../src/persistence/index.ts';
import { TrafficGenerator, type TrafficMessage } from '../../src/simulator/index.ts';
import { FailingCheckpointStore } from '../helpers/FailingCheckpointStore.ts';
import { makeStoreDirUnwritable, unwritableDirSupport } from '../helpers/makeStoreDirUnwritable.ts';
import { expectSameRun, NodeRun, type RunOutput, undisturbedRun } from '../helpers/nodeRun.ts';

const SITES = ['S1', 'S2'];
const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function traffic(): TrafficMessage[] {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: SITES,
    agentsPerSite: 15,
    seed: 31337,
    startTs: START_TS,
    tickMs: 5000,
    invalidEvery: 40,
  });
  return [...generator.messages(START_TS + 2 * 3_600_000)];
}

function slices<T>(items: readonly T[], count: number): T[][] {
  const size = Math.ceil(items.length / count);
  return Array.from({ length: count }, (_, i) => items.slice(i * size, (i + 1) * size));
}

describe('a checkpoint commit that fails loses no agent', () => {
  const messages = traffic();
  let expected: RunOutput;
  let run: NodeRun | undefined;

  beforeAll(async () => {
    expected = await undisturbedRun(messages, SITES);
  }, 120_000);

  afterEach(async () => {
    await run?.close();
    run = undefined;
  });

  // Streamed: every capture of more than 3 agents reaches the store as a stream, staged 2 a batch.
  it.each([
    ['whole captures', {}, {}],
    ['streamed captures', { captureChunk: 3 }, { stageAbove: 2, stageBatch: 2 }],
  ])(
    'commits failing mid-run, then a crash: the restarted node writes exactly the undisturbed outputs (%s)',
    async (_, nodeOptions, storeOptions) => {
      run = await NodeRun.open();
      const parts = slices(messages, 5);
      const store = new FailingCheckpointStore(
        new LevelCheckpointStore({ location: join(run.dataDir, 'checkpoints'), ...storeOptions }),
      );
      await run.startNode({ config: run.config(SITES), store, ...nodeOptions });
      await run.publish(parts[0]!);
      await run.caughtUp();
      await sleep(300); // a checkpoint of everything so far

      // S1's next commits fail while agents change, then commits work again.
      store.failCommits((c) => c.key.site === 'S1');
      await run.publish(parts[1]!);
      await run.caughtUp();
      await sleep(500);
      const failedS1 = store.failed.filter((f) => f.key.site === 'S1').length;
      expect(failedS1).toBeGreaterThan(0);
      store.heal();
      await run.publish(parts[2]!);
      await run.caughtUp();
      await sleep(500); // successful checkpoints after the failed ones
      expect(
        store.committed.filter((c) => c.key.site === 'S1' && c.index > store.failed.at(-1)!.index).length,
      ).toBeGreaterThan(0);

      // A crash: nothing after this is committed (the final checkpoint of stop() fails).
      store.failCommits(() => true);
      await run.stopNode();

      await run.startNode({ config: run.config(SITES) });
      await run.publish([...parts[3]!, ...parts[4]!]);
      await run.settled();
      expectSameRun(expected, await run.read());
    },
    180_000,
  );

  it('an agent that changed only before a failed commit is not lost when a later commit succeeds', async () => {
    // Handmade so that the agent in question changes only while commits fail: a1 goes Not Ready
    // then, b1 alone changes afterwards (a successful commit), the node crashes, and a1's reason
    // after the restart must give BREAK — only true if a1 was restored Not Ready.
    const T = (s: number) => Date.UTC(2026, 0, 5, 9, 0, s);
    const stat = (agentId: string, status: string, s: number): TrafficMessage => ({
      kind: 'stat',
      subject: `wfm.stat.T1.S1.${agentId}`,
      ts: T(s),
      payload: { statistic: 'CurrentState', agentId, status, callType: null, ts: T(s) } as never,
    });
    const phases: TrafficMessage[][] = [
      [stat('a1', 'Ready', 0), stat('b1', 'Ready', 0)],
      [stat('a1', 'NotReady', 10)],
      [stat('b1', 'NotReady', 20)],
      [
        {
          kind: 'stat',
          subject: 'wfm.stat.T1.S1.a1',
          ts: T(30),
          payload: {
            statistic: 'CurrentStateReason',
            agentId: 'a1',
            reasons: { ReasonCode: 'Break' },
            ts: T(30),
          },
        },
      ],
    ];
    const small = await undisturbedRun(phases.flat(), ['S1']);
    expect(small.out.filter((r) => (r.data as { presence?: string }).presence === 'BREAK')).toHaveLength(1);

    run = await NodeRun.open();
    const store = new FailingCheckpointStore(
      new LevelCheckpointStore({ location: join(run.dataDir, 'checkpoints') }),
    );
    await run.startNode({ config: run.config(['S1']), store });
    await run.publish(phases[0]!);
    await run.caughtUp();
    await sleep(500);
    store.failCommits((c) => c.key.site === 'S1');
    await run.publish(phases[1]!);
    await run.caughtUp();
    await sleep(500);
    expect(store.failed.some((f) => f.agents.has('a1'))).toBe(true);
    store.heal();
    await run.publish(phases[2]!);
    await run.caughtUp();
    await sleep(500);
    const last = store.committed.filter((c) => c.key.site === 'S1').at(-1)!;
    expect(last.seq).toBe(run.published);
    store.failCommits(() => true); // the crash
    await run.stopNode();

    await run.startNode({ config: run.config(['S1']) });
    await run.publish(phases[3]!);
    await run.settled();
    expectSameRun(small, await run.read());
  }, 60_000);

  it('a real disk failure (LevelDB directory unwritable) mid-run, healed, then a restart', async (context) => {
    const unsupported = await unwritableDirSupport();
    if (unsupported !== null) context.skip(`cannot make a directory unwritable here: ${unsupported}`);
    run = await NodeRun.open();
    const parts = slices(messages, 4);
    await run.startNode({ config: run.config(SITES) });
    await run.publish(parts[0]!);
    await run.caughtUp();
    await sleep(300);

    const dir = await makeStoreDirUnwritable(join(run.dataDir, 'checkpoints'));
    try {
      await run.publish(parts[1]!);
      await run.caughtUp();
      await sleep(600);
      const failures = [...run.node!.sites.values()].reduce((n, s) => n + s.counters.checkpointFailures, 0);
      expect(failures).toBeGreaterThan(0);
    } finally {
      await dir.restore();
    }
    await run.publish(parts[2]!);
    await run.caughtUp();
    await sleep(600);
    await run.stopNode();

    await run.startNode({ config: run.config(SITES) });
    await run.publish(parts[3]!);
    await run.settled();
    expectSameRun(expected, await run.read());
  }, 180_000);
});
