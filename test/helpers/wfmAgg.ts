import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { cliArgs } from '../../src/dev/index.ts';

const run = promisify(execFile);

/** What one CLI run printed and its exit code. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

// The runner's own WFM_* settings (a database URL, a data dir) must not reach the CLI under test.
const BASE_ENV = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('WFM_')));

/**
 * Runs `wfm-agg …args` as a child process to its end — the CLI as shipped: `bin/wfm-agg.js` runs
 * the compiled `dist/` (rebuilt by the global setup) — with `CI=true` (no TTY output) and `env`
 * on top of this process's environment minus its `WFM_*` variables; a non-zero exit is a result,
 * not a throw.
 */
export async function wfmAgg(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await run(process.execPath, cliArgs(args), {
      env: { ...BASE_ENV, CI: 'true', ...env },
      maxBuffer: 64 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as CliResult;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
