// Builds what ships: bundles src/ into dist/cli/ with esbuild, then copies the files a bundle
// does not hold (the web UI's static files). Run by `npm run build` and by npm's `prepare` (so
// `npm install` / `npm ci` leave a runnable CLI), and with `--if-stale` before the tests, so tests
// that start `bin/wfm-agg.js` run what the sources say. Type checking is `npm run typecheck`'s.
//
// Why a bundle, not tsc's one file per module: Node's ES module loader spent ~700 ms of a node's
// start resolving and compiling ~1,200 files (typebox alone is 709), a seventh of a 100k-agent
// restart. The packages that are many small pure-JS files are bundled; those that find files
// of their own at run time (native addons, worker-thread transports, optional natives) stay
// external and load from node_modules.
//
// Everything lands in dist/cli/ — the entries, their shared chunks, the web UI's files — because
// bundled code resolves `import.meta.url` against the file it landed in: httpServer.ts finds
// `./public/`, NodeBeacon.ts `./beaconWorkerMain.js` and demoCommand.ts `../../bin/` from there,
// as they do from src/<folder>/ under tsx.
//
// The build goes to a temp dir renamed into place, and a lock dir keeps two builds (two vitest
// runs) from interleaving.
import {
  cpSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
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

/**
 * Packages loaded from node_modules at run time: native addons (level), packages that start
 * workers or load optional modules by path (pino's transports, pg's pg-native, ws's bufferutil).
 * They are exactly package.json's `dependencies`: everything else the CLI uses is in the bundle,
 * so an installed package fetches only these (test/cli/package.test.ts runs the packed CLI with
 * nothing else installed).
 */
const EXTERNAL = Object.keys(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).dependencies);

function stale() {
  if (!existsSync(stamp)) return true;
  const built = statSync(stamp).mtimeMs;
  const inputs = ['src', 'tsconfig.json', 'package.json', join('scripts', 'build.mjs')].map((p) => join(root, p));
  return inputs.some(
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
    const esbuild = createRequire(import.meta.url)('esbuild');
    esbuild.buildSync({
      absWorkingDir: root,
      entryPoints: { 'cli/main': 'src/cli/main.ts', 'cli/beaconWorkerMain': 'src/streams/beaconWorkerMain.ts' },
      outdir: out,
      chunkNames: 'cli/[name]-[hash]',
      bundle: true,
      // Each command's module stays a chunk loaded when it runs: `wfm-agg --help` loads none.
      splitting: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      sourcemap: true,
      logLevel: 'warning',
      external: EXTERNAL,
      // Bundled CommonJS (rxjs, xstate) calls require() for Node's built-ins.
      banner: {
        js: "import { createRequire as __wfmCreateRequire } from 'node:module'; const require = __wfmCreateRequire(import.meta.url);",
      },
    });
    cpSync(join(root, 'src', 'web', 'public'), join(out, 'cli', 'public'), { recursive: true });
    writeFileSync(join(out, '.built'), `${new Date().toISOString()}\n`);
    rmSync(dist, { recursive: true, force: true });
    renameSync(out, dist);
  }
} finally {
  rmSync(lock, { recursive: true, force: true });
}
