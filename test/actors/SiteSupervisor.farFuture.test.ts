import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { MAX_FORWARD_JUMP_MS } from '../../src/actors/index.ts';

/**
 * The supervisor's own guard against a far-future `ts` (MAX_FORWARD_JUMP_MS), not the decoder's:
 * the events are built by hand, so a `ts` the decoder would refuse (microseconds by mistake)
 * reaches the supervisor. Without the guard the site would walk ~1.9e9 intervals for the Ready
 * agent; it runs in a child process so that such a regression is killed and fails the test
 * instead of blocking the runner.
 */
const dir = mkdtempSync(join(tmpdir(), 'wfm-far-future-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const actors = fileURLToPath(new URL('../../src/actors/index.ts', import.meta.url));
const T0 = Date.UTC(2024, 0, 15, 10, 0);
const DAY = 86_400_000;

const script = `import { MAX_FORWARD_JUMP_MS, SiteSupervisor } from ${JSON.stringify(actors)};
const sup = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
const t0 = ${T0};
const stat = (agentId, ts) => ({
  ok: true,
  address: { kind: 'stat', tenant: 'T1', site: 'S1', agentId },
  event: { type: 'state', agentId, status: 'Ready', callType: null, ts },
});
const clock = (ts) => ({ ok: true, address: { kind: 'clock', tenant: 'T1', site: 'S1' }, event: { type: 'clock', ts } });
const out = [];
const step = (seq, subject, decoded) => {
  const r = sup.process(seq, subject, decoded);
  out.push({
    outputs: r.outputs.length,
    kinds: [...new Set(r.outputs.map((o) => o.kind))],
    dlq: r.dlq,
    siteTime: sup.siteTime,
    agents: sup.agentCount,
  });
};
step(1, 'wfm.stat.T1.S1.A1', stat('A1', t0));
step(2, 'wfm.clock.T1.S1', clock(t0 * 1000));
step(3, 'wfm.stat.T1.S1.B1', stat('B1', t0 * 1000));
step(4, 'wfm.clock.T1.S1', clock(t0 + MAX_FORWARD_JUMP_MS + 1));
step(5, 'wfm.clock.T1.S1', clock(t0 + MAX_FORWARD_JUMP_MS));
console.log(JSON.stringify(out));
`;

describe('SiteSupervisor: a stat or clock ts further than MAX_FORWARD_JUMP_MS past the site time', () => {
  it('is refused by the supervisor itself as bad_ts (site time and agents unchanged); the limit itself is accepted', () => {
    expect(MAX_FORWARD_JUMP_MS).toBe(31 * DAY);
    const file = join(dir, 'farFuture.ts');
    writeFileSync(file, script);
    const child = spawnSync(process.execPath, ['--import', 'tsx', file], {
      encoding: 'utf8',
      // A guard against a walk of a month of intervals, not a speed limit: generous for a busy CI.
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    expect({ signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({
      signal: null,
      status: 0,
      stderr: '',
    });
    const refused = (seq: number, subject: string, ts: number) => ({
      outputs: 0,
      kinds: [],
      dlq: [
        {
          tenant: 'T1',
          seq,
          ordinal: 0,
          subject,
          reason: 'bad_ts',
          detail: `ts ${ts} jumps more than 31 days past the site's event time ${T0}`,
        },
      ],
      siteTime: T0,
      agents: 1,
    });
    expect(JSON.parse(child.stdout)).toEqual([
      { outputs: 2, kinds: ['gc', 'adherence'], dlq: [], siteTime: T0, agents: 1 },
      refused(2, 'wfm.clock.T1.S1', T0 * 1000),
      // A stat far ahead is refused before its agent is made.
      refused(3, 'wfm.stat.T1.S1.B1', T0 * 1000),
      refused(4, 'wfm.clock.T1.S1', T0 + 31 * DAY + 1),
      // Exactly 31 days: accepted; A1's intervals close up to the one starting 31 d − 30 min
      // (its close, end + 60 s, is the last at or before the new site time): 31 × 96 − 1 records.
      { outputs: 31 * 96 - 1, kinds: ['interval'], dlq: [], siteTime: T0 + 31 * DAY, agents: 1 },
    ]);
  }, 90_000);
});
