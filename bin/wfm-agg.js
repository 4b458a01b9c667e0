#!/usr/bin/env node
// Runs the compiled CLI in this very process (signals such as SIGTERM, which drains a node, reach
// it directly). `dist/` is built by `npm install` / `npm ci` (npm's `prepare`) and `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('wfm-agg: dist/ is missing: run `npm run build` (npm install does it)\n');
  process.exit(2);
}
await import(main.href);
