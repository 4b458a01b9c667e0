/**
 * Child process of `test/persistence/LevelCheckpointStore.crash.test.ts`: commits checkpoints as
 * fast as it can until the parent SIGKILLs it.
 *
 *   node --import tsx test/helpers/checkpointCrashChild.ts LOCATION SYNC [STAGE_ABOVE]
 *
 * Prints `open <seq>` once the stored checkpoint is loaded, then `committed <seq>` after every
 * commit has resolved. Commit k sets seq k, site state `{ seq: k }` and writes every agent of
 * {@link crashAgentIdsAt}(k) as `{ seq: k }`, removing the agents that left the set since the
 * previous commit; every fifth iteration is a no-op re-commit of the same seq.
 */

import { pathToFileURL } from 'node:url';
import { LevelCheckpointStore, type SiteKey } from '../../src/persistence/index.ts';

/** The one site the child checkpoints. */
export const CRASH_SITE: SiteKey = { tenant: 'T1', site: 'crash' };

const POOL = 220;
/** Agents present after every commit. */
export const CRASH_AGENTS = 200;

function agentId(index: number): string {
  return `agent-${String(index).padStart(3, '0')}`;
}

/** The agents a checkpoint with this seq holds: a window of 200 that moves by 7 per commit. */
export function crashAgentIdsAt(seq: number): string[] {
  const skipFrom = (seq * 7) % POOL;
  const ids: string[] = [];
  for (let offset = POOL - CRASH_AGENTS; offset < POOL; offset += 1) {
    ids.push(agentId((skipFrom + offset) % POOL));
  }
  return ids.sort();
}

async function main(location: string, sync: boolean, stageAbove: number | undefined): Promise<void> {
  // A small stageAbove stages in batches as small: several batches per staged commit.
  const store = new LevelCheckpointStore({ location, sync, stageAbove, stageBatch: stageAbove });
  await store.open();
  const loaded = await store.load(CRASH_SITE);
  let seq = loaded?.seq ?? 0;
  let present = new Set(loaded?.agents.keys() ?? []);
  process.stdout.write(`open ${seq}\n`);
  for (let iteration = 1; ; iteration += 1) {
    if (iteration % 5 === 0) {
      await store.commit(CRASH_SITE, { seq, site: { seq }, agents: [] });
    } else {
      seq += 1;
      const next = new Set(crashAgentIdsAt(seq));
      const value = { seq };
      await store.commit(CRASH_SITE, {
        seq,
        site: { seq },
        agents: [...next].map((id) => [id, value] as [string, unknown]),
        removedAgents: [...present].filter((id) => !next.has(id)),
      });
      present = next;
    }
    // stdout to a pipe is synchronous on Linux: once written, the parent sees the line even if
    // this process is killed right after.
    process.stdout.write(`committed ${seq}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [location, sync, stageAbove] = process.argv.slice(2);
  if (location === undefined || (sync !== 'true' && sync !== 'false')) {
    process.stderr.write('usage: checkpointCrashChild.ts LOCATION true|false [STAGE_ABOVE]\n');
    process.exit(2);
  }
  main(location, sync === 'true', stageAbove === undefined ? undefined : Number(stageAbove)).catch(
    (error: unknown) => {
      process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
      process.exit(1);
    },
  );
}
