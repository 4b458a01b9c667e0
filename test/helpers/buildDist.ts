/**
 * vitest global setup: builds `dist/` when a source file is newer than the last build, so tests
 * that start the CLI as a child process (`bin/wfm-agg.js` runs the compiled JavaScript, as shipped)
 * run what the sources say. `npm ci` / `npm install` built it already (npm's `prepare`).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build.mjs', import.meta.url));
  execFileSync(process.execPath, [script, '--if-stale'], { stdio: 'inherit' });
}
