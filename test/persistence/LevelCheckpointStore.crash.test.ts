import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LevelCheckpointStore, type SiteCheckpoint } from '../../src/persistence/index.ts';
import { CRASH_AGENTS, CRASH_SITE, crashAgentIdsAt } from '../helpers/checkpointCrashChild.ts';

const ROUNDS = 12;
const MAX_KILL_DELAY_MS = 200;
const STAGE_ABOVE = 16;
const CHILD = fileURLToPath(new URL('../helpers/checkpointCrashChild.ts', import.meta.url));
// The tsx loader runs inside the child itself, so SIGKILL hits the process that writes LevelDB
// (the tsx CLI would put a second process in between).
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/** mulberry32: a reproducible kill schedule; the seed is part of every failure message. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ChildRun {
  openedAt: number;
  lastCommitted: number | undefined;
  commits: number;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Starts the child, SIGKILLs it `delayMs` after it reports `open`, and reports what it printed. */
function runChild(
  location: string,
  sync: boolean,
  stageAbove: number | undefined,
  delayMs: number,
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const args = [location, String(sync), ...(stageAbove === undefined ? [] : [String(stageAbove)])];
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { openedAt: -1, lastCommitted: undefined, commits: 0, stderr: '', signal: null };
    let buffered = '';
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      run.stderr += chunk;
    });
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const [word, value] = line.split(' ');
        if (word === 'open') {
          run.openedAt = Number(value);
          setTimeout(() => child.kill('SIGKILL'), delayMs);
        } else if (word === 'committed') {
          run.lastCommitted = Number(value);
          run.commits += 1;
        }
      }
    });
    child.on('error', reject);
    // 'close' (not 'exit'): every byte the child wrote to its pipes has been read by then.
    child.on('close', (_code, signal) => {
      clearTimeout(giveUp);
      run.signal = signal;
      resolve(run);
    });
  });
}

async function loadCheckpoint(location: string): Promise<SiteCheckpoint | null> {
  const store = new LevelCheckpointStore({ location, createIfMissing: true });
  await store.open();
  try {
    return await store.load(CRASH_SITE);
  } finally {
    await store.close();
  }
}

/** Every agent carries the meta seq, and the agent set is exactly the one commit `seq` wrote. */
function expectConsistent(checkpoint: SiteCheckpoint, context: string): void {
  const { seq } = checkpoint;
  expect(checkpoint.site, context).toEqual({ seq });
  expect([...checkpoint.agents.keys()], context).toEqual(crashAgentIdsAt(seq));
  expect(checkpoint.agents.size, context).toBe(CRASH_AGENTS);
  for (const [id, value] of checkpoint.agents) {
    expect(value, `${context}, agent ${id}`).toEqual({ seq });
  }
}

describe('LevelCheckpointStore under SIGKILL', () => {
  let location: string;

  beforeAll(async () => {
    location = join(await mkdtemp(join(tmpdir(), 'wfm-checkpoint-crash-')), 'db');
  });

  afterAll(async () => {
    await rm(join(location, '..'), { recursive: true, force: true });
  });

  it(`loads a whole commit, at least the last one reported, after each of ${ROUNDS} kills`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
    const next = random(seed);
    let totalCommits = 0;
    let stored = 0;
    for (let round = 0; round < ROUNDS; round += 1) {
      // Alternate fsync on and off: both must survive a process kill.
      const sync = round % 2 === 0;
      // Every other pair of rounds stages its commits (200 agents, 16 per batch: 13 batches to
      // stage, one to commit, 13 to move), so kills land in every step of a staged commit too.
      const stageAbove = round % 4 >= 2 ? STAGE_ABOVE : undefined;
      const delayMs = Math.floor(next() * MAX_KILL_DELAY_MS);
      const context = `seed ${seed}, round ${round}, sync ${sync}, stageAbove ${stageAbove ?? 'default'}, kill after ${delayMs} ms`;
      const run = await runChild(location, sync, stageAbove, delayMs);
      expect(run.signal, `${context}: child stderr:\n${run.stderr}`).toBe('SIGKILL');
      expect(run.openedAt, `${context}: the child resumes from the stored seq`).toBe(stored);

      const checkpoint = await loadCheckpoint(location);
      if (run.lastCommitted === undefined) {
        // Killed before its first commit resolved: the stored checkpoint is the old one or one newer.
        expect(checkpoint?.seq ?? 0, context).toBeGreaterThanOrEqual(stored);
      } else {
        expect(checkpoint, context).not.toBeNull();
        expect(checkpoint!.seq, context).toBeGreaterThanOrEqual(run.lastCommitted);
      }
      if (checkpoint !== null) {
        expectConsistent(checkpoint, context);
        // A commit the child started but did not report may have landed, but no more than that.
        expect(checkpoint.seq, context).toBeLessThanOrEqual((run.lastCommitted ?? stored) + 1);
        stored = checkpoint.seq;
      }
      totalCommits += run.commits;
    }
    // The kills must have interrupted real work, not idle children.
    expect(totalCommits, `seed ${seed}`).toBeGreaterThan(ROUNDS);
    expect(stored, `seed ${seed}`).toBeGreaterThan(0);
  }, 180_000);
});
