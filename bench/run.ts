/**
 * `npm run bench`: runs every bench/*.bench.ts in turn and prints one table.
 * Each bench module default-exports `() => Promise<BenchRow[]>`.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchRow, printRows } from './BenchRow.ts';

const here = dirname(fileURLToPath(import.meta.url));
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (only === undefined || f.startsWith(only)))
  .sort();
const rows: BenchRow[] = [];
for (const file of files) {
  process.stderr.write(`bench: ${file}\n`);
  const mod = (await import(pathToFileURL(join(here, file)).href)) as { default: () => Promise<BenchRow[]> };
  rows.push(...(await mod.default()));
}
printRows(rows);
