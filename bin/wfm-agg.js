#!/usr/bin/env -S node --max-semi-space-size=64
// The flag lets V8's young-generation semi-spaces grow to 64 MiB (16 by default). A busy node
// allocates ~15 kB per input: with 16 MiB it scavenged every ~1,000 inputs and promoted what was
// still in use then (publishes awaiting their ack among it), which the old generation then had to
// mark and sweep. Measured on 420k inputs: 430 scavenges → 111; a node process +8 % inputs/s (in
// process beside the bench's own heap, ~18 % less CPU per input); 50–130 MiB more RSS (README
// "What ships"). Whoever runs this file as `node bin/wfm-agg.js` passes the same flags
// (src/dev/cliLaunch.ts reads them from line 1).
// Runs the compiled CLI in this very process (signals such as SIGTERM, which drains a node, reach
// it directly). `dist/` is built by `npm install` / `npm ci` (npm's `prepare`) and `npm run build`.
import { existsSync } from 'node:fs';

const main = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('wfm-agg: dist/ is missing: run `npm run build` (npm install does it)\n');
  process.exit(2);
}
await import(main.href);
