/**
 * A real disk-write failure for LevelDB, even for root: tests here run as root, which ignores
 * permission bits (`chmod a-w` changes nothing), and LevelDB appends to log files it already holds
 * open, which a read-only directory would not stop anyway. The immutable attribute does both:
 * `chattr +i` on the directory and on every file in it makes the next write to an already open
 * file fail with EPERM (LevelDB: `LEVEL_IO_ERROR`, "IO error: …/000003.log: Operation not
 * permitted") and any new file impossible, for every process and for root. It works on a
 * directory another process writes (a node under test) as well as on one this process writes.
 *
 * Needs `chattr` (e2fsprogs), CAP_LINUX_IMMUTABLE (root in a container usually has it) and a
 * filesystem with the attribute (ext4, xfs, btrfs; tmpfs since Linux 6.0).
 * {@link unwritableDirSupport} says whether this machine has all three.
 */

import { execFile, execFileSync } from 'node:child_process';
import { appendFile, mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A directory made unwritable by {@link makeStoreDirUnwritable}. */
export interface UnwritableDir {
  /** The directory, as an absolute path. */
  readonly dir: string;
  /** Everything made immutable: the directory, then the files and directories under it. */
  readonly paths: readonly string[];
  /** Makes every path writable again. Idempotent; call it in `finally` or `afterEach`. */
  restore(): Promise<void>;
}

// Paths still immutable, so a test that dies without restore() leaves no directory `rm -rf`
// cannot remove.
const immutable = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    if (immutable.size === 0) return;
    try {
      execFileSync('chattr', ['-i', ...immutable], { stdio: 'ignore' });
    } catch {
      // Nothing more can be done while exiting.
    }
  });
}

async function listTree(dir: string): Promise<string[]> {
  const paths = [dir];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) paths.push(...(await listTree(path)));
    else paths.push(path);
  }
  return paths;
}

async function chattr(flag: '+i' | '-i', paths: readonly string[]): Promise<void> {
  try {
    // Absolute paths never start with '-', so chattr cannot read one as an option.
    await run('chattr', [flag, ...paths]);
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new Error(
      `chattr ${flag} failed: ${stderr || (error as Error).message} (needs the chattr command, CAP_LINUX_IMMUTABLE and a filesystem with the immutable attribute)`,
      { cause: error },
    );
  }
}

/**
 * Makes `dir` (a LevelDB data directory) unwritable until `restore()`: the next write into any
 * of its files fails with EPERM, and no file can be created, renamed or removed in it. Reads keep
 * working. Throws when this machine cannot do it (see {@link unwritableDirSupport}).
 *
 * @example
 * ```ts
 * const unwritable = await makeStoreDirUnwritable(location);
 * try {
 *   await expect(store.commit(key, next)).rejects.toThrow(CheckpointError);
 * } finally {
 *   await unwritable.restore();
 * }
 * ```
 */
export async function makeStoreDirUnwritable(dir: string): Promise<UnwritableDir> {
  const absolute = resolve(dir);
  const paths = await listTree(absolute);
  installExitHook();
  try {
    await chattr('+i', paths);
  } catch (error) {
    // chattr stops at the first path it cannot change: undo whatever it did change.
    await chattr('-i', paths).catch(() => undefined);
    throw error;
  }
  for (const path of paths) immutable.add(path);
  let restored = false;
  return {
    dir: absolute,
    paths,
    async restore(): Promise<void> {
      if (restored) return;
      await chattr('-i', paths);
      restored = true;
      for (const path of paths) immutable.delete(path);
    },
  };
}

/**
 * Whether {@link makeStoreDirUnwritable} works here: `null` when it does, else the reason it
 * does not. Tries it on a scratch directory under `parent` (default: the OS temp directory, which
 * should be on the filesystem the tests' stores use), with a file held open for appending as
 * LevelDB holds its log.
 */
export async function unwritableDirSupport(parent: string = tmpdir()): Promise<string | null> {
  const dir = await mkdtemp(join(parent, 'wfm-unwritable-probe-'));
  const file = join(dir, 'probe.log');
  let unwritable: UnwritableDir | undefined;
  const handle = await open(file, 'a');
  try {
    unwritable = await makeStoreDirUnwritable(dir);
    const append = await handle.appendFile('x').then(
      () => null,
      (error: NodeJS.ErrnoException) => error.code ?? String(error),
    );
    if (append === null) return 'chattr +i was accepted, but writes to an open file still succeed';
    const create = await appendFile(join(dir, 'new'), 'x').then(
      () => null,
      (error: NodeJS.ErrnoException) => error.code ?? String(error),
    );
    if (create === null) return 'chattr +i was accepted, but files can still be created in the directory';
    return null;
  } catch (error) {
    return error instanceof Error ? error.message : String(error);
  } finally {
    await handle.close();
    await unwritable?.restore();
    await rm(dir, { recursive: true, force: true });
  }
}
