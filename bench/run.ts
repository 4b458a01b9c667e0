/**
 * `npm run bench [-- <name-prefix>]`: runs every bench/*.bench.ts (or those whose file name starts
 * with the prefix) in turn, shows progress on stderr, prints one table on stdout at the end and
 * writes every row with the machine it ran on to `bench/results/<ISO time>.json` and
 * `bench/results/latest.json` (written after each bench, so an interrupted run keeps what it
 * measured). Each bench module default-exports `() => Promise<BenchRow[]>`; a bench that throws
 * becomes one row saying so, and the others still run.
 *
 * Benches that start node processes run the compiled CLI (bin/wfm-agg.js → dist/), so dist/ is
 * rebuilt first when a source is newer than it (as the tests do).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { resolveNatsServerBinary } from '../src/dev/index.ts';
import { type BenchRow, formatRows, judge, progress } from './BenchRow.ts';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const only = process.argv[2];
const files = readdirSync(here)
  .filter((f) => f.endsWith('.bench.ts') && (only === undefined || f.startsWith(only)))
  .sort();
if (files.length === 0) {
  process.stderr.write(`bench: no bench/*.bench.ts starts with ${JSON.stringify(only)}\n`);
  process.exit(2);
}

function run(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }).trim();
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`;
  }
}

function natsServerVersion(): string {
  try {
    return run(resolveNatsServerBinary(process.env.NATS_SERVER_BIN ?? 'nats-server'), ['--version']);
  } catch (err) {
    return `unknown (${err instanceof Error ? err.message : String(err)})`;
  }
}

/**
 * As an object, not an array: `biome check bench` (npm run lint) checks bench/results/ too, and
 * its formatter puts a short array on one line where JSON.stringify does not, while it keeps
 * objects as written. The results hold no array of plain values, so they pass the check.
 */
function loadAverage(): { '1m': number; '5m': number; '15m': number } {
  const [a = 0, b = 0, c = 0] = loadavg().map((l) => Math.round(l * 100) / 100);
  return { '1m': a, '5m': b, '15m': c };
}

// Interrupted, exit through process.exit so the 'exit' hooks of NatsServer and NodeProcess kill
// the servers and nodes the benches started (a signal's default action would leave them running).
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

const started = new Date();
const cpuList = cpus();
const machine = {
  cpus: cpuList.length,
  cpuModel: cpuList[0]?.model ?? 'unknown',
  memoryBytes: totalmem(),
  freeMemoryBytesAtStart: freemem(),
  node: process.version,
  v8: process.versions.v8,
  natsServer: natsServerVersion(),
  platform: `${platform()} ${release()}`,
  loadAverageAtStart: loadAverage(),
};
const git = {
  commit: run('git', ['rev-parse', 'HEAD']),
  dirtyFiles: run('git', ['status', '--porcelain', '--untracked-files=no'])
    .split('\n')
    .filter((l) => l !== '').length,
};
progress(
  'bench',
  `${files.length} bench(es): ${files.join(', ')}; ${machine.cpus} × ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}, ${machine.natsServer}, load ${Object.values(machine.loadAverageAtStart).join(' ')}`,
);
progress('bench', 'building dist/ if a source is newer (node processes run the compiled CLI)');
execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs'), '--if-stale'], {
  cwd: root,
  stdio: 'inherit',
});

const resultsDir = join(here, 'results');
const stamp = started.toISOString().replace(/:/g, '-');
const resultFile = join(resultsDir, `${stamp}.json`);
const rows: BenchRow[] = [];
const benches: {
  file: string;
  seconds: number;
  /** Mean of the 1-min load average sampled every 5 s while it ran (other work shares the cores). */
  meanLoad: number;
  error?: string;
}[] = [];
const loadRows: BenchRow[] = [];

function save(finished: boolean): void {
  mkdirSync(resultsDir, { recursive: true });
  const body = {
    startedAt: started.toISOString(),
    finishedAt: finished ? new Date().toISOString() : null,
    filter: only ?? null,
    machine: { ...machine, loadAverageNow: loadAverage() },
    git,
    benches,
    rows: rows.map((r) => ({ ...r, met: judge(r) ?? null })),
  };
  const text = `${JSON.stringify(body, null, 2)}\n`;
  for (const file of [resultFile, join(resultsDir, 'latest.json')]) {
    writeFileSync(`${file}.tmp`, text);
    renameSync(`${file}.tmp`, file);
  }
}

for (const [i, file] of files.entries()) {
  const name = file.replace(/\.bench\.ts$/, '');
  progress('bench', `(${i + 1}/${files.length}) ${name}: starting`);
  const t0 = performance.now();
  const loads = [loadavg()[0]!];
  const sampler = setInterval(() => loads.push(loadavg()[0]!), 5000).unref();
  const took = () => Math.round((performance.now() - t0) / 100) / 10;
  const meanLoad = () => Math.round((loads.reduce((a, b) => a + b, 0) / loads.length) * 100) / 100;
  try {
    const mod = (await import(pathToFileURL(join(here, file)).href)) as {
      default: () => Promise<BenchRow[]>;
    };
    const got = await mod.default();
    rows.push(...got);
    clearInterval(sampler);
    benches.push({ file, seconds: took(), meanLoad: meanLoad() });
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0]! : String(err);
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    rows.push({
      bench: name,
      scenario: `FAILED: ${message.slice(0, 200)}`,
      value: Number.NaN,
      unit: 'error',
      met: false,
    });
    clearInterval(sampler);
    benches.push({ file, seconds: took(), meanLoad: meanLoad(), error: message });
  }
  const done = benches.at(-1)!;
  progress(
    'bench',
    `(${i + 1}/${files.length}) ${name}: done in ${done.seconds} s, mean load ${done.meanLoad}`,
  );
  loadRows.push({
    bench: 'machine',
    scenario: `1-min load average while ${name} ran (${done.seconds} s), mean of samples every 5 s; ${machine.cpus} cores`,
    value: done.meanLoad,
    unit: 'load',
  });
  save(false);
}
rows.push(...loadRows);
save(true);
const missed = rows.filter((r) => judge(r) === false).length;
const withTarget = rows.filter((r) => judge(r) !== undefined).length;
process.stdout.write(
  `\nwfm-aggregator bench, ${started.toISOString()}: ${machine.cpus} × ${machine.cpuModel}, ${(machine.memoryBytes / 2 ** 30).toFixed(1)} GiB, node ${machine.node}, ${machine.natsServer}, load at start ${Object.values(machine.loadAverageAtStart).join(' ')}, now ${Object.values(loadAverage()).join(' ')}\n\n`,
);
process.stdout.write(`${formatRows(rows)}\n\n`);
process.stdout.write(
  `${withTarget - missed} of ${withTarget} targets met. Rows: ${resultFile}${only === undefined ? '' : ` (filter: ${only})`}\n`,
);
// Benches leave no handles by design, but a stray one (a child's pipe) must not hold the run.
process.exit(0);
