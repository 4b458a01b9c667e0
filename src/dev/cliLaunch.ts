import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The CLI as it ships: `bin/wfm-agg.js`, which runs the compiled `dist/cli/main.js`. The same path
 * from `src/dev/` and from `dist/dev/` (both sit two levels below the package root).
 */
export const CLI_BIN = fileURLToPath(new URL('../../bin/wfm-agg.js', import.meta.url));

// `#!/usr/bin/env -S node <flags>`: how bin/wfm-agg.js names the flags node runs it with.
const SHEBANG = /^#!\/usr\/bin\/env -S node((?: --[a-z0-9-]+=[0-9]+)*)\n/;

let flags: readonly string[] | undefined;

/**
 * The V8 flags `bin/wfm-agg.js` runs node with, read from its shebang line, which owns them: run
 * as a program (`npx wfm-agg`, an installed `wfm-agg`, `./bin/wfm-agg.js`) the kernel starts
 * node with them; whoever starts it as `node bin/wfm-agg.js …` passes them through
 * {@link cliArgs}, so a node runs the same way however it was started. They cannot be set once a
 * process runs (V8 sizes its heap at start).
 */
export function cliNodeFlags(): readonly string[] {
  if (flags === undefined) {
    const match = SHEBANG.exec(readFileSync(CLI_BIN, 'utf8'));
    if (match === null)
      throw new Error(`${CLI_BIN} must start with "#!/usr/bin/env -S node" and its flags (--name=number)`);
    flags = match[1]!.split(' ').filter((flag) => flag !== '');
  }
  return flags;
}

/**
 * `process.execPath`'s arguments that run `wfm-agg …args` as the shebang would; `bin`: another
 * copy of the CLI (an unpacked package), run with this checkout's flags.
 */
export function cliArgs(args: readonly string[], bin: string = CLI_BIN): string[] {
  return [...cliNodeFlags(), bin, ...args];
}
