/**
 * Child process of `test/persistence/DumpFile.test.ts`: writes large dump files over and over
 * until the parent SIGKILLs it, so the kill lands in the middle of a write most of the time.
 *
 *   node --import tsx test/helpers/dumpWriteChild.ts PATH ROWS
 *
 * Prints `ready` once loaded, then `wrote <gen>` after each write has resolved. Write `gen` adds
 * {@link dumpSite}(gen, ROWS) to the file (merged onto a dump already there); after every even
 * generation the file is removed (`removed <gen>`), so it holds one to a few entries at a time.
 */

import { pathToFileURL } from 'node:url';
import type { IntervalRecord } from '../../src/domain/index.ts';
// DumpFile.ts itself, not the persistence index: the child starts faster without LevelDB and pg.
import {
  type DumpContents,
  type DumpedSite,
  removeDumpFile,
  writeDumpFile,
} from '../../src/persistence/DumpFile.ts';
import type { StoredInterval } from '../../src/persistence/IntervalSink.ts';

/** The tenant and node of every dump the child writes. */
export const DUMP_TENANT = 'T1';
export const DUMP_NODE = 'node-a';

/** A plausible interval record; every field depends on `seed`, so rows differ from each other. */
export function dumpRecord(site: string, seed: number): IntervalRecord {
  return {
    agentId: `agent-${seed % 997}`,
    site,
    intervalStart: 1_700_000_000_000 + seed * 900_000,
    intervalMinutes: 15,
    secondsByPresence: { ON_QUEUE: seed % 600, BREAK: 900 - (seed % 600) },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: seed % 61,
    adherencePercentage: seed % 3 === 0 ? null : (seed % 1000) / 10,
    conformanceScheduleSecs: 600,
    conformanceActualSecs: seed % 601,
    conformancePercentage: seed % 5 === 0 ? null : 12.5,
    sourceSeq: 10 * seed + 1,
  };
}

/** Entry `gen` of site S1: `rows` rows directly above position `gen * 10^7`; its epoch is `gen`. */
export function dumpSite(gen: number, rows: number, site = 'S1'): DumpedSite {
  const from = gen * 10_000_000;
  const stored: StoredInterval[] = [];
  for (let i = 1; i <= rows; i++) {
    stored.push({ tenant: DUMP_TENANT, outSeq: from + i, record: dumpRecord(site, from + i) });
  }
  return { site, epoch: gen, from, upTo: from + rows + 5, rows: stored };
}

/** A dump of one entry: {@link dumpSite}(gen, rows). */
export function dumpOf(gen: number, rows: number): DumpContents {
  return { tenant: DUMP_TENANT, node: DUMP_NODE, sites: [dumpSite(gen, rows)] };
}

async function main(path: string, rows: number): Promise<void> {
  process.stdout.write('ready\n');
  for (let gen = 1; ; gen++) {
    await writeDumpFile(path, dumpOf(gen, rows));
    // stdout to a pipe is synchronous on Linux: the parent sees the line even after a kill.
    process.stdout.write(`wrote ${gen}\n`);
    if (gen % 2 === 0) {
      await removeDumpFile(path);
      process.stdout.write(`removed ${gen}\n`);
    }
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [path, rows] = process.argv.slice(2);
  if (path === undefined || !(Number(rows) > 0)) {
    process.stderr.write('usage: dumpWriteChild.ts PATH ROWS\n');
    process.exit(2);
  }
  main(path, Number(rows)).catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
