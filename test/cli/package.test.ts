/**
 * What ships: `npm pack` of this checkout, unpacked in a temp dir, holds the compiled CLI and the
 * web UI but no sources, and runs with nothing installed beside it but its `dependencies` (and
 * theirs, as package-lock.json names them): everything else the CLI uses is in the bundle. A
 * package that needed a devDependency at run time, or a file left out of `files`, fails here.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliArgs } from '../../src/dev/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { stateMsg } from '../helpers/agentScenario.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeHome, NodeProcess } from '../helpers/NodeProcess.ts';
import { WfmWire } from '../helpers/wfmWire.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  dependencies: Record<string, string>;
};
const dependencies = Object.keys(manifest.dependencies).sort();

let dir: string;
/** The unpacked package. */
let pkg: string;
/** Paths in the tarball, as `npm pack` listed them. */
let files: string[];

/** The packages npm installs for a user of this package: package-lock's that are not dev-only. */
function productionPackages(): string[] {
  const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { dev?: boolean; devOptional?: boolean }>;
  };
  return Object.entries(lock.packages)
    .filter(([path, p]) => path.startsWith('node_modules/') && !p.dev && !p.devOptional)
    .map(([path]) => path.slice('node_modules/'.length))
    .filter((name) => !name.includes('/node_modules/')); // nested copies come with their parent
}

/** The bundle's JavaScript, every file of it. */
function bundleText(): string {
  const cli = join(pkg, 'dist', 'cli');
  return readdirSync(cli)
    .filter((f) => f.endsWith('.js'))
    .map((f) => readFileSync(join(cli, f), 'utf8'))
    .join('\n');
}

const MODULE_NAME = /^(@[\w.-]+\/)?[\w.-]+(\/[\w./-]*)?$/;

/** Package names the bundle loads by a bare specifier (imports and requires), builtins left out. */
function loadedPackages(): string[] {
  const names = new Set<string>();
  const builtins = new Set(builtinModules);
  const bare = /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*)["']([^"'./][^"']*)["']/g;
  for (const [, spec] of bundleText().matchAll(bare)) {
    // Only what looks like a module name: `from "` also occurs inside the bundle's strings.
    if (spec === undefined || !MODULE_NAME.test(spec) || spec.startsWith('node:') || builtins.has(spec))
      continue;
    const parts = spec.split('/');
    names.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
  }
  return [...names].sort();
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'wfm-package-'));
  // --ignore-scripts: pack the dist/ the global setup built (prepare would build it again).
  const packed = JSON.parse(
    execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  ) as { filename: string; files: { path: string }[] }[];
  files = packed[0]!.files.map((f) => f.path).sort();
  execFileSync('tar', ['-xzf', join(dir, packed[0]!.filename), '-C', dir]);
  pkg = join(dir, 'package');
  // What `npm install wfm-aggregator` puts beside it: the production packages, nothing else.
  for (const name of productionPackages()) {
    const link = join(pkg, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(ROOT, 'node_modules', name), link);
  }
}, 120_000);

afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

describe('the package as published', () => {
  it('holds the compiled CLI, its worker and the web UI, and no sources', () => {
    for (const path of [
      'bin/wfm-agg.js',
      'dist/cli/main.js',
      'dist/cli/beaconWorkerMain.js',
      'dist/cli/public/index.html',
      'dist/cli/public/app.js',
      'dist/cli/public/statechart.js',
      'dist/cli/public/style.css',
      'README.md',
      'package.json',
    ])
      expect(files).toContain(path);
    expect(files.filter((f) => /^(src|test|bench|scripts|node_modules)\//.test(f))).toEqual([]);
  });

  it('loads at run time exactly its dependencies; tsx, the bundled packages and dev tools are not among them', () => {
    // pino-pretty is loaded through createRequire (only for a terminal's log): named, not imported.
    const loaded = loadedPackages();
    expect(loaded.filter((name) => !dependencies.includes(name))).toEqual([]);
    expect(dependencies.filter((name) => !loaded.includes(name))).toEqual(['pino-pretty']);
    expect(bundleText()).toMatch(/createRequire\)?\(import\.meta\.url\)\(["']pino-pretty["']\)/);
    for (const name of [
      'tsx',
      'esbuild',
      'xstate',
      'rxjs',
      '@nats-io/transport-node',
      'typebox',
      'commander',
    ])
      expect(dependencies).not.toContain(name);
  });

  it('runs with only those installed: --help, and a node that turns an input into its GC output', async () => {
    const bin = join(pkg, 'bin', 'wfm-agg.js');
    const help = execFileSync(process.execPath, cliArgs(['--help'], bin), { cwd: dir, encoding: 'utf8' });
    expect(help).toContain('Usage: wfm-agg');
    const server = await NatsServer.start();
    const wire = await WfmWire.connect(server.url);
    const home = await NodeHome.create({ natsUrl: server.url });
    let node: NodeProcess | undefined;
    try {
      await ensureStreams(wire.jsm);
      node = await NodeProcess.start(home, { bin });
      await wire.send(stateMsg('a1', 'Ready', null, Date.UTC(2026, 0, 5, 9, 0)));
      await wire.until(async () => (await wire.read('WFM_OUT', 'wfm.gc.T1.S1.a1')).length > 0, 30_000);
      expect((await wire.read('WFM_OUT', 'wfm.gc.T1.S1.a1')).map((m) => m.data)).toEqual([
        expect.objectContaining({ agentId: 'a1', presence: 'ON_QUEUE', routingStatus: 'IDLE' }),
      ]);
      expect(await node.stop()).toEqual({ code: 0, signal: null });
    } finally {
      if (node?.running) await node.kill();
      await home.remove();
      await wire.close();
      await server.stop();
    }
  }, 90_000);
});
