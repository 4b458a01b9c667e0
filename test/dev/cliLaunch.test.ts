/**
 * How the CLI is started (src/dev/cliLaunch.ts): `bin/wfm-agg.js`'s shebang names the V8 flags
 * node runs it with; run as a program the kernel passes them, and `cliArgs` passes the same ones
 * to `node bin/wfm-agg.js`. A node started either way runs with them (heapFlags.test.ts checks
 * what a started node logs).
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CLI_BIN, cliArgs, cliNodeFlags } from '../../src/dev/index.ts';

const run = promisify(execFile);

// Preloaded into the child: prints the flags node was started with, before the CLI runs.
const PRINT_FLAGS = '--import=data:text/javascript,console.error(`flags:${process.execArgv.join()}`)';

async function flagsOf(command: string, args: string[]): Promise<string> {
  const { stderr } = await run(command, args, { env: { ...process.env, NODE_OPTIONS: PRINT_FLAGS } });
  const line = stderr.split('\n').find((l) => l.startsWith('flags:'));
  if (line === undefined) throw new Error(`no flags printed: ${stderr}`);
  return line.slice('flags:'.length);
}

describe('cliLaunch', () => {
  it('reads the flags from the shebang of bin/wfm-agg.js', () => {
    expect(readFileSync(CLI_BIN, 'utf8').split('\n')[0]).toBe(
      '#!/usr/bin/env -S node --max-semi-space-size=64',
    );
    expect(cliNodeFlags()).toEqual(['--max-semi-space-size=64']);
    expect(cliArgs(['status', '--json'])).toEqual(['--max-semi-space-size=64', CLI_BIN, 'status', '--json']);
  });

  it('run as a program, bin/wfm-agg.js gets them from the kernel', async () => {
    expect(await flagsOf(CLI_BIN, ['--help'])).toBe('--max-semi-space-size=64');
  });

  it('run as node bin/wfm-agg.js through cliArgs, the same ones', async () => {
    expect(await flagsOf(process.execPath, cliArgs(['--help']))).toBe('--max-semi-space-size=64');
    // Without them, none: what cliArgs is for.
    expect(await flagsOf(process.execPath, [CLI_BIN, '--help'])).toBe('');
  });

  it('npm run bench runs with them too: its in-process node is measured as a shipped node runs', () => {
    const scripts = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).scripts;
    expect(scripts.bench.split(' ')).toEqual(expect.arrayContaining([...cliNodeFlags()]));
  });
});
