import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DumpFileError } from '../../src/errors.ts';
import {
  type DumpContents,
  readDumpFile,
  removeDumpFile,
  writeDumpFile,
} from '../../src/persistence/index.ts';
import { DUMP_TENANT, dumpOf, dumpSite } from '../helpers/dumpWriteChild.ts';
import { transferRecord } from './intervalSinkContract.ts';

const CHILD = fileURLToPath(new URL('../helpers/dumpWriteChild.ts', import.meta.url));
// The tsx loader runs inside the child itself, so SIGKILL hits the process that writes the file.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

let dir: string;
let path: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wfm-dump-'));
  path = join(dir, 'data', 'DBDumpFile.json');
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Two sites, records with null percentages and several presences. */
function sample(): DumpContents {
  return { tenant: DUMP_TENANT, node: 'node-a', sites: [dumpSite(1, 3), dumpSite(2, 2, 'S2')] };
}

/** {@link sample} with an applied transfer between S1's first two rows and a refused one after S2's. */
function withTransfers(): DumpContents {
  const dump = sample();
  const s1 = dump.sites[0]!;
  const s2 = dump.sites[1]!;
  // dumpSite's rows are consecutive: a transfer goes at the place of a row moved one up.
  s1.rows.splice(1, 0, {
    tenant: DUMP_TENANT,
    outSeq: s1.rows[1]!.outSeq,
    transfer: transferRecord('d1', 'agent-1', 'agent-2'),
  });
  for (const row of s1.rows.slice(2)) row.outSeq += 1;
  s2.rows.push({ tenant: DUMP_TENANT, outSeq: s2.upTo, transfer: transferRecord('d2', 'A', 'Z', 'refused') });
  return dump;
}

async function expectRefused(attempt: Promise<unknown>, pattern: RegExp): Promise<void> {
  const error = await attempt.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(DumpFileError);
  expect(error).toMatchObject({ code: 'WFM_DUMP_FILE_INVALID', path });
  expect((error as Error).message).toMatch(pattern);
}

/** Rewrites the file's JSON with `change` applied (the stored checksum is kept as it was). */
// biome-ignore lint/suspicious/noExplicitAny: the edits reach into arbitrary parsed JSON
function edit(change: (dump: any) => void): (text: string) => string {
  return (text) => {
    const dump = JSON.parse(text);
    change(dump);
    return JSON.stringify(dump);
  };
}

describe('dump file', () => {
  it('reads as null when there is none, and removing none is no error', async () => {
    expect(await readDumpFile(path, DUMP_TENANT)).toBeNull();
    await removeDumpFile(path);
    await removeDumpFile(join(dir, 'no-such-dir', 'dump.json'));
  });

  it('round-trips exactly, in the documented format, creating the directory', async () => {
    await writeDumpFile(path, sample());
    expect(await readDumpFile(path, DUMP_TENANT)).toEqual(sample());
    const stored = JSON.parse(await readFile(path, 'utf8'));
    expect(Object.keys(stored)).toEqual(['format', 'version', 'tenant', 'node', 'sites', 'checksum']);
    expect(stored).toMatchObject({ format: 'wfm-agg-dbdump', version: 2, tenant: 'T1', node: 'node-a' });
    expect(stored.checksum).toMatch(/^[0-9a-f]{64}$/);
    expect(await readdir(join(dir, 'data'))).toEqual(['DBDumpFile.json']);
    // The checksum is over the values: the same dump reformatted still reads.
    await writeFile(path, JSON.stringify(stored, null, 2));
    expect(await readDumpFile(path, DUMP_TENANT)).toEqual(sample());
    await removeDumpFile(path);
    expect(await readdir(join(dir, 'data'))).toEqual([]);
  });

  it('round-trips transfers at their place among the rows', async () => {
    await writeDumpFile(path, withTransfers());
    const read = await readDumpFile(path, DUMP_TENANT);
    expect(read).toEqual(withTransfers());
    expect(read?.sites[0]?.rows.map((row) => ('transfer' in row ? row.transfer.id : row.outSeq))).toEqual([
      10_000_001,
      'd1',
      10_000_003,
      10_000_004,
    ]);
  });

  it('reads a version 1 file (interval rows only) and appends to it as version 2', async () => {
    await writeDumpFile(path, sample());
    // A version 1 build wrote the same text but the version: the checksum does not cover it.
    await writeFile(path, (await readFile(path, 'utf8')).replace('"version":2', '"version":1'));
    expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(1);
    expect(await readDumpFile(path, DUMP_TENANT)).toEqual(sample());
    await writeDumpFile(path, { ...withTransfers(), sites: withTransfers().sites.slice(1) });
    expect(JSON.parse(await readFile(path, 'utf8')).version).toBe(2);
    expect((await readDumpFile(path, DUMP_TENANT))?.sites).toEqual([
      ...sample().sites,
      withTransfers().sites[1],
    ]);
  });

  it('refuses a version 1 file holding a transfer, and a damaged transfer, keeping the file', async () => {
    await writeDumpFile(path, withTransfers());
    const good = await readFile(path, 'utf8');
    await writeFile(path, good.replace('"version":2', '"version":1'));
    await expectRefused(
      readDumpFile(path, DUMP_TENANT),
      /sites\[0\]\.rows\[1\]\.transfer: expected none: version 1/,
    );
    await writeFile(path, edit((d) => (d.sites[0].rows[1].transfer.to = 'not an id'))(good));
    await expectRefused(
      readDumpFile(path, DUMP_TENANT),
      /rows\[1\]\.transfer: to "not an id" does not match/,
    );
    await writeFile(path, edit((d) => (d.sites[1].rows[2].transfer.requestedBy = 'mallory'))(good));
    await expectRefused(readDumpFile(path, DUMP_TENANT), /checksum mismatch/);
    await writeFile(path, edit((d) => delete d.sites[0].rows[1].transfer)(good));
    await expectRefused(readDumpFile(path, DUMP_TENANT), /rows\[1\]\.record: expected an object/);
  });

  it('appends to a valid dump of the same tenant, also for writes started together', async () => {
    await writeDumpFile(path, sample());
    await Promise.all([
      writeDumpFile(path, dumpOf(3, 4)),
      writeDumpFile(path, { ...dumpOf(4, 1), node: 'n2' }),
    ]);
    const read = await readDumpFile(path, DUMP_TENANT);
    expect(read).toEqual({
      tenant: 'T1',
      node: 'n2',
      sites: [...sample().sites, dumpSite(3, 4), dumpSite(4, 1)],
    });
  });

  it('refuses to write contents it could not read back, writing nothing', async () => {
    const bad = sample();
    bad.sites[0]!.rows.reverse();
    await expect(writeDumpFile(path, bad)).rejects.toThrow(
      /sites\[0\]\.rows\[1\]\.outSeq: expected an integer/,
    );
    const badTransfer = withTransfers();
    Object.assign(badTransfer.sites[0]!.rows[1]!, { transfer: transferRecord('d1', 'agent-1', 'agent-1') });
    await expect(writeDumpFile(path, badTransfer)).rejects.toThrow(
      /sites\[0\]\.rows\[1\]\.transfer: applied from agent-1 to itself/,
    );
    const both = withTransfers();
    Object.assign(both.sites[0]!.rows[1]!, { record: sample().sites[0]!.rows[0]! });
    await expect(writeDumpFile(path, both)).rejects.toThrow(
      /rows\[1\]: expected an interval row or a transfer, not both/,
    );
    await expect(writeDumpFile(path, { ...sample(), tenant: '' })).rejects.toBeInstanceOf(TypeError);
    expect(await readDumpFile(path, DUMP_TENANT)).toBeNull();
  });

  const corruptions: [string, (text: string) => string, RegExp, string?][] = [
    ['truncated JSON', (text) => text.slice(0, Math.floor(text.length / 2)), /not complete JSON, truncated/],
    ['an empty file', () => '', /not complete JSON/],
    ['not an object', () => '[1,2]', /top level: expected a JSON object/],
    ['another format', edit((d) => (d.format = 'backup')), /format "backup", not a wfm-agg-dbdump file/],
    ['a foreign JSON file', () => '{"users":[]}', /format none, not a wfm-agg-dbdump file/],
    [
      'another version',
      edit((d) => (d.version = 3)),
      /version 3 is not supported; this build reads versions 1 and 2/,
    ],
    [
      'an edited value',
      edit((d) => (d.sites[1].rows[0].record.adherenceScheduleSecs += 1)),
      /checksum mismatch/,
    ],
    ['an edited checksum', edit((d) => (d.checksum = 'f'.repeat(64))), /checksum mismatch/],
    ['another tenant', (text) => text, /tenant T1 is not this node's tenant T9/, 'T9'],
    ['a non-integer outSeq', edit((d) => (d.sites[0].rows[1].outSeq = 'x')), /sites\[0\]\.rows\[1\]\.outSeq/],
    ['rows out of order', edit((d) => d.sites[0].rows.reverse()), /sites\[0\]\.rows\[1\]\.outSeq/],
    [
      'a row without agentId',
      edit((d) => delete d.sites[1].rows[1].record.agentId),
      /rows\[1\]\.record\.agentId/,
    ],
    [
      'a string intervalStart',
      edit((d) => (d.sites[0].rows[2].record.intervalStart = '2024-01-01')),
      /sites\[0\]\.rows\[2\]\.record\.intervalStart: expected a finite number, got "2024-01-01"/,
    ],
    ['a row of another site', edit((d) => (d.sites[1].rows[0].record.site = 'S1')), /the entry's site S2/],
    [
      'a row without record',
      edit((d) => delete d.sites[0].rows[0].record),
      /rows\[0\]\.record: expected an object/,
    ],
  ];

  it.each(corruptions)(
    'refuses %s with DumpFileError and keeps the file byte for byte',
    async (_, corrupt, why, tenant) => {
      await writeDumpFile(path, sample());
      await writeFile(path, corrupt(await readFile(path, 'utf8')));
      const before = await readFile(path);
      await expectRefused(readDumpFile(path, tenant ?? DUMP_TENANT), why);
      // Writing onto it refuses too, for the same reason, and leaves no tmp file behind.
      await expectRefused(
        writeDumpFile(path, { tenant: tenant ?? DUMP_TENANT, node: 'node-a', sites: [] }),
        why,
      );
      expect(await readFile(path)).toEqual(before);
      expect(await readdir(join(dir, 'data'))).toEqual(['DBDumpFile.json']);
    },
  );

  it('ignores a leftover tmp file of a crashed write; the next write or removal deletes it', async () => {
    const leftover = `${path}.4242.tmp`;
    await writeDumpFile(path, dumpOf(1, 1));
    await removeDumpFile(path);
    await writeFile(leftover, '{"format":"wfm-agg-dbdump","version":1,"tenant":"T1","sites":[{"ep');
    expect(await readDumpFile(path, DUMP_TENANT)).toBeNull();
    await writeDumpFile(path, sample());
    expect(await readdir(join(dir, 'data'))).toEqual(['DBDumpFile.json']);

    await writeFile(leftover, 'garbage');
    await writeFile(`${path}.bak`, 'not ours');
    await writeFile(join(dir, 'data', 'other.json.77.tmp'), 'not ours either');
    expect(await readDumpFile(path, DUMP_TENANT)).toEqual(sample());
    await removeDumpFile(path);
    expect((await readdir(join(dir, 'data'))).sort()).toEqual(['DBDumpFile.json.bak', 'other.json.77.tmp']);
  });

  it('round-trips a 100k-row dump', async () => {
    const big = dumpOf(7, 100_000);
    await writeDumpFile(path, big);
    const read = await readDumpFile(path, DUMP_TENANT);
    expect(read?.sites[0]?.rows).toHaveLength(100_000);
    expect(read).toEqual(big);
  }, 60_000);
});

interface ChildRun {
  wrote: number;
  stderr: string;
  signal: NodeJS.Signals | null;
}

/** Starts the child, SIGKILLs it `delayMs` after it reports `ready`, and reports what it printed. */
function runChild(file: string, rows: number, delayMs: number): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX_LOADER, CHILD, file, String(rows)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const run: ChildRun = { wrote: 0, stderr: '', signal: null };
    const giveUp = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      run.stderr += chunk;
    });
    child.stdout.on('data', (chunk: string) => {
      if (chunk.includes('ready')) setTimeout(() => child.kill('SIGKILL'), delayMs);
      run.wrote += chunk.match(/wrote/g)?.length ?? 0;
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearTimeout(giveUp);
      run.signal = signal;
      resolve(run);
    });
  });
}

describe('dump file under SIGKILL', () => {
  const ROUNDS = 12;
  const ROWS = 5_000;

  it(`holds no file or a whole dump after each of ${ROUNDS} kills mid-write`, async () => {
    const seed = Number(process.env.CRASH_SEED ?? Date.now() % 2 ** 31);
    let state = seed;
    // A reproducible kill schedule (LCG); the seed is in every failure message.
    const next = () => {
      state = (Math.imul(state, 1103515245) + 12345) >>> 0;
      return state / 2 ** 32;
    };
    const seen = { dumps: 0, leftovers: 0, wrote: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const delayMs = Math.floor(next() * 1000);
      const context = `seed ${seed}, round ${round}, kill after ${delayMs} ms`;
      const run = await runChild(path, ROWS, delayMs);
      expect(run.signal, `${context}: child stderr:\n${run.stderr}`).toBe('SIGKILL');
      seen.wrote += run.wrote;
      const names = await readdir(join(dir, 'data')).catch(() => [] as string[]);
      if (names.some((name) => name.endsWith('.tmp'))) seen.leftovers++;
      // Never a partial file: either none, or one that passes every check.
      const dump = await readDumpFile(path, DUMP_TENANT).catch((error: Error) => {
        throw new Error(`${context}: ${error.message}`, { cause: error });
      });
      if (dump === null) continue;
      seen.dumps++;
      expect(dump.sites.length, context).toBeGreaterThan(0);
      for (const entry of dump.sites) {
        // The checksum held, so the rows are the ones written; here: whole entries of the child's.
        const { rows, ...head } = dumpSite(entry.epoch, ROWS);
        expect({ ...entry, rows: undefined }, context).toEqual({ ...head, rows: undefined });
        expect(entry.rows.length, context).toBe(ROWS);
        expect([entry.rows[0], entry.rows.at(-1)], context).toEqual([rows[0], rows.at(-1)]);
      }
    }
    // The kills must have hit writes in progress and left whole dumps, not idle children only.
    expect(seen.wrote, `seed ${seed}`).toBeGreaterThan(0);
    expect(seen.leftovers, `seed ${seed}`).toBeGreaterThan(0);
    expect(seen.dumps, `seed ${seed}`).toBeGreaterThan(0);
    await removeDumpFile(path);
    expect(await readdir(join(dir, 'data'))).toEqual([]);
  }, 180_000);
});
