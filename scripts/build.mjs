// Builds what ships: compiles src/ to dist/ with tsc (tsconfig.build.json), then copies the files
// tsc does not emit (the web UI's static files). Run by `npm run build` and by npm's `prepare`
// (so `npm install` / `npm ci` leave a runnable CLI), and with `--if-stale` before the tests, so
// tests that start `bin/wfm-agg.js` run what the sources say.
//
// The build goes to a temp dir renamed into place, and a lock dir keeps two builds (two vitest
// runs) from interleaving.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(root, 'dist');
const stamp = join(dist, '.built');
const lock = join(root, '.build-lock');

/** Newest modification time (ms) of any file under `dir`. */
function newest(dir) {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

function stale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  return [join(root, 'src'), join(root, 'tsconfig.json'), join(root, 'tsconfig.build.json')].some(
    (p) => (statSync(p).isDirectory() ? newest(p) : statSync(p).mtimeMs) > built,
  );
}

function acquire() {
  const deadline = Date.now() + 180_000;
  for (;;) {
    try {
      mkdirSync(lock);
      return;
    } catch (err) {
      if (err.code !== 'EEXIST') throw err;
      // A lock older than the longest build is a killed build's.
      if (Date.now() - statSync(lock).mtimeMs > 180_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`another build holds ${lock}`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
    }
  }
}

if (process.argv.includes('--if-stale') && !stale()) process.exit(0);
acquire();
try {
  if (!process.argv.includes('--if-stale') || stale()) {
    const out = join(root, `.dist-${process.pid}`);
    rmSync(out, { recursive: true, force: true });
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    // --noCheck: emit only; `npm run typecheck` checks types (a type error must not leave no CLI).
    execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--noCheck', '--outDir', out], {
      stdio: 'inherit',
      cwd: root,
    });
    cpSync(join(root, 'src', 'web', 'public'), join(out, 'web', 'public'), { recursive: true });
    writeFileSync(join(out, '.built'), `${new Date().toISOString()}\n`);
    rmSync(dist, { recursive: true, force: true });
    renameSync(out, dist);
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
