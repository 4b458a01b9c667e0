import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * A single clock tick whose ts is in microseconds instead of milliseconds (a valid integer under
 * MAX_SAFE_INTEGER, so the decoder accepts it) must not stall the site: "bad input never crashes
 * a node". Run in a child process so that a site stuck advancing ~1.9e9 intervals one by one is
 * killed instead of blocking the test runner.
 */
const dir = mkdtempSync(join(tmpdir(), 'wfm-far-future-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const actors = fileURLToPath(new URL('../../src/actors/index.ts', import.meta.url));
const domain = fileURLToPath(new URL('../../src/domain/index.ts', import.meta.url));

describe('SiteSupervisor: a clock tick far in the future', () => {
  it('is processed promptly (ts in microseconds by mistake)', () => {
    const script = join(dir, 'farFuture.ts');
    writeFileSync(
      script,
      `import { SiteSupervisor } from ${JSON.stringify(actors)};
import { decodeInput, defaultDecodeOptions } from ${JSON.stringify(domain)};
const sup = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
const t0 = Date.UTC(2024, 0, 15, 10, 0);
const stat = 'wfm.stat.T1.S1.A1';
const state = JSON.stringify({ statistic: 'CurrentState', agentId: 'A1', status: 'Ready', callType: null, ts: t0 });
sup.process(1, stat, decodeInput(stat, state, defaultDecodeOptions));
const clock = 'wfm.clock.T1.S1';
const r = sup.process(2, clock, decodeInput(clock, JSON.stringify({ ts: t0 * 1000 }), defaultDecodeOptions));
console.log(JSON.stringify({ outputs: r.outputs.length, dlq: r.dlq.map((d) => d.reason) }));
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 15_000,
      killSignal: 'SIGKILL',
    });
    expect({ signal: child.signal, status: child.status }).toEqual({ signal: null, status: 0 });
  });
});
