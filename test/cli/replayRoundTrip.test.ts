import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localNodeConfig } from '../../src/dev/index.ts';
import { type IntervalRecord, parseSubject } from '../../src/domain/index.ts';
import { TrafficGenerator, type TrafficMessage, wireText } from '../../src/simulator/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { NodeRun, type RunOutput } from '../helpers/nodeRun.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

// The variables override the configuration file: a developer's own must not leak in.

const START = Date.UTC(2026, 0, 5, 7, 0, 0);
const HOUR = 3_600_000;
const iso = (ts: number) => new Date(ts).toISOString().replace('.000Z', 'Z');

/** Six hours of two sites, a clock tick every 5 s, every 97th message invalid. */
function traffic(): TrafficMessage[] {
  const g = new TrafficGenerator({
    tenant: 'T1',
    sites: ['S1', 'S2'],
    agentsPerSite: 12,
    seed: 13,
    startTs: START,
    tickMs: 5000,
    invalidEvery: 97,
  });
  const messages: TrafficMessage[] = [];
  while (g.peekTs() < START + 6 * HOUR) messages.push(g.next());
  return messages;
}

/** One input as published, described for the expectations. */
interface Input {
  subject: string;
  data: string;
  /** `stat`, `schedule`, `clock`, `invalid` or `command`. */
  kind: string;
  ts: number;
  statistic?: string;
  status?: string;
}

const TRANSFER_AT = START + 2 * HOUR;
const TRANSFER = {
  subject: 'wfm.command.T1.S1',
  data: JSON.stringify({
    command: 'transfer',
    ...{ id: 'tr-1', from: 'S1-0001', to: 'S1-0002', ts: TRANSFER_AT, requestedBy: 'test' },
  }),
};

/** The traffic with an operator's transfer of S1-0001's data to S1-0002 two hours in. */
function inputs(messages: readonly TrafficMessage[], at: number): Input[] {
  const described: Input[] = messages.map((m) => ({
    subject: m.subject,
    data: wireText(m),
    kind: m.kind,
    ts: m.ts,
    ...(m.kind === 'stat' ? { statistic: m.payload.statistic } : {}),
    ...(m.kind === 'stat' && 'status' in m.payload ? { status: m.payload.status } : {}),
  }));
  described.splice(at, 0, { ...TRANSFER, kind: 'command', ts: TRANSFER_AT });
  return described;
}

const isS1 = (m: { subject: string }) => {
  const a = parseSubject(m.subject);
  return a !== null && a.tenant === 'T1' && a.site === 'S1';
};

describe('export, import and replay reproduce the live outputs', { timeout: 300_000 }, () => {
  const messages = traffic();
  const at = messages.findIndex((m) => m.ts >= TRANSFER_AT);
  // Input i is stored at WFM_IN seq i + 1 (publishMessages checks it).
  const s1 = inputs(messages, at)
    .map((m, i) => ({ m, seq: i + 1 }))
    .filter(({ m }) => isS1(m));
  // Event time as the site follows it: accepted stat and clock messages.
  const moves = (m: Input) => m.kind === 'stat' || m.kind === 'clock';
  let dir: string;
  let live: RunOutput;
  let liveIntervals: IntervalRecord[];
  let server: NatsServer;
  let configA: string;
  let configB: string;
  const file = () => join(dir, 's1.jsonl');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wfm-replay-'));
    const nr = await NodeRun.open();
    try {
      await nr.startNode({ config: nr.config(['S1', 'S2']) });
      await nr.publish(messages.slice(0, at));
      expect((await nr.js.publish(TRANSFER.subject, TRANSFER.data)).seq).toBe(at + 1);
      nr.published += 1;
      await nr.publish(messages.slice(at));
      await nr.settled();
      live = await nr.read();
      configA = join(dir, 'a.json');
      writeFileSync(configA, JSON.stringify(nr.config(['S1', 'S2'])));
      // The node stops; its server and streams stay up for export and --compare.
      await nr.stopNode();
      const exported = await wfmAgg(['export', '--config', configA, '--site', 'S1', '--out', file()]);
      expect(exported).toEqual({
        code: 0,
        stdout: '',
        stderr: `exported ${s1.length} messages of site T1/S1 (seq ${s1[0]!.seq}–${s1.at(-1)!.seq}) to ${file()}\n`,
      });
      // --compare reads this server's WFM_OUT: it stays up until the tests are done.
      stopA = () => nr.close();
    } catch (err) {
      await nr.close();
      throw err;
    }
    liveIntervals = live.out
      .filter((r) => r.subject.startsWith('wfm.interval.T1.S1.'))
      .map((r) => r.data as IntervalRecord);
    server = await NatsServer.start();
    configB = join(dir, 'b.json');
    writeFileSync(
      configB,
      JSON.stringify(localNodeConfig({ natsUrl: server.url, dataDir: join(dir, 'b'), sites: ['S1', 'S2'] })),
    );
  }, 240_000);

  let stopA: () => Promise<void> = async () => undefined;

  afterAll(async () => {
    await stopA();
    await server?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('the live run covers what the issue asks for', () => {
    const kinds = new Set(s1.map(({ m }) => m.statistic ?? m.kind));
    expect([...kinds].sort()).toEqual([
      'CurrentState',
      'CurrentStateReason',
      'clock',
      'command',
      'invalid',
      'schedule',
    ]);
    const statuses = new Set(s1.flatMap(({ m }) => (m.status === undefined ? [] : [m.status])));
    expect([...statuses].sort()).toEqual(['AfterCallWork', 'LoggedOff', 'NotReady', 'Ready']);
    expect(liveIntervals.length).toBeGreaterThan(100);
  });

  it('export writes the header and every message of the site, in stream order, as published', () => {
    const lines = readFileSync(file(), 'utf8').split('\n');
    expect(lines.at(-1)).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({
      format: 'wfm-agg-input',
      version: 1,
      ...{ tenant: 'T1', site: 'S1', from: null, to: null },
      ...{ firstSeq: s1[0]!.seq, lastSeq: s1.at(-1)!.seq },
    });
    expect(lines.slice(1, -1)).toEqual(
      s1.map(({ m, seq }) => JSON.stringify({ seq, subject: m.subject, data: m.data })),
    );
  });

  it('replay of the file prints exactly the interval records the live node published, and its dead letters', async () => {
    const replayed = await wfmAgg(['replay', '--config', configA, '--input', file(), '--format', 'json']);
    expect(replayed.code).toBe(0);
    expect(
      replayed.stdout
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l)),
    ).toEqual(liveIntervals);
    // The live node's dead letters of S1's input, by reason.
    const reasons = new Map<string, number>();
    for (const letter of live.dlq.map((r) => r.data as { reason: string; subject: string })) {
      if (isS1(letter)) reasons.set(letter.reason, (reasons.get(letter.reason) ?? 0) + 1);
    }
    const dlq = [...reasons].sort(([a], [b]) => (a < b ? -1 : 1));
    const total = dlq.reduce((n, [, k]) => n + k, 0);
    const siteTime = Math.max(...s1.flatMap(({ m }) => (moves(m) ? [m.ts] : [])));
    expect(replayed.stderr).toBe(
      [
        `replayed ${s1.length} messages of site T1/S1 (seq ${s1[0]!.seq}–${s1.at(-1)!.seq}) under the configuration's rules`,
        `dead letters (as the live node publishes them): ${total} (${dlq.map(([r, n]) => `${r} ${n}`).join(', ')})`,
        `input ends at event time ${iso(siteTime)}: intervals ending after ${iso(siteTime - 60_000)} are still open and not reported`,
        '',
      ].join('\n'),
    );
    expect(dlq.map(([r]) => r)).toEqual(['bad_status', 'invalid_json', 'late', 'unknown_statistic']);
  });

  it('--compare with no --set reports no difference', async () => {
    const compared = await wfmAgg([
      'replay',
      '--config',
      configA,
      '--site',
      'S1',
      '--compare',
      '--format',
      'json',
    ]);
    expect(compared.code).toBe(0);
    const lines = compared.stdout
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(1);
    const { total } = lines[0] as { total: Record<string, unknown> };
    // The history as the database holds it: the transfer deleted S1-0002's earlier rows (and gave
    // it S1-0001's, as many as S1-0001 loses).
    const deleted = liveIntervals.filter((r) => r.agentId === 'S1-0002' && r.sourceSeq < at + 1).length;
    expect(deleted).toBeGreaterThan(0);
    expect(total).toMatchObject({
      beforeIntervals: liveIntervals.length - deleted,
      afterIntervals: liveIntervals.length - deleted,
      changed: 0,
      added: 0,
      removed: 0,
    });
    expect(total.after).toEqual(total.before);
  });

  it('replay prints the report as report prints the database, the transfer applied where it happened', async () => {
    const transfers = live.out.filter((r) => r.subject === 'wfm.transfer.T1.S1').map((r) => r.data);
    expect(transfers).toMatchObject([{ id: 'tr-1', from: 'S1-0001', to: 'S1-0002', result: 'applied' }]);
    const day = ['--from', '2026-01-05', '--to', '2026-01-06', '--format', 'csv'];
    const report = await wfmAgg(['report', '--config', configA, '--site', 'S1', ...day]);
    expect(report.code).toBe(0);
    // Rows S1-0001 wrote before the transfer are S1-0002's now; it has rows of its own after it.
    const rows = report.stdout.split('\r\n').filter((l) => l.startsWith('interval,S1,S1-0001,'));
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((l) => Date.parse(l.split(',')[3]!) >= TRANSFER_AT - 15 * 60_000)).toBe(true);
    const replayed = await wfmAgg(['replay', '--config', configA, '--input', file(), ...day]);
    expect(replayed.code).toBe(0);
    expect(replayed.stdout).toBe(report.stdout);
  });

  it('import into a fresh nats-server stores the same messages; a replay from there equals the live outputs', async () => {
    const imported = await wfmAgg(['import', '--config', configB, file()]);
    expect(imported).toEqual({
      code: 0,
      stdout: `imported ${s1.length} messages of site T1/S1 into WFM_IN (WFM_IN seq 1–${s1.length})\n`,
      stderr: '',
    });
    // The same subjects and bytes, now at seq 1…n.
    const again = await wfmAgg(['export', '--config', configB, '--site', 'S1']);
    expect(again.code).toBe(0);
    expect(again.stdout.split('\n').slice(0, -1)).toEqual([
      JSON.stringify({
        ...{ format: 'wfm-agg-input', version: 1, tenant: 'T1', site: 'S1', from: null, to: null },
        ...{ firstSeq: 1, lastSeq: s1.length },
      }),
      ...s1.map(({ m }, i) => JSON.stringify({ seq: i + 1, subject: m.subject, data: m.data })),
    ]);
    const replayed = await wfmAgg(['replay', '--config', configB, '--site', 'S1', '--format', 'json']);
    expect(replayed.code).toBe(0);
    // sourceSeq is the input's WFM_IN sequence: on the new server, its place among S1's messages.
    const newSeq = new Map(s1.map(({ seq }, i) => [seq, i + 1]));
    expect(
      replayed.stdout
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l)),
    ).toEqual(liveIntervals.map((r) => ({ ...r, sourceSeq: newSeq.get(r.sourceSeq) })));
  });

  it('an export for a range replays exactly the live records of that range', async () => {
    const from = START + HOUR;
    const to = START + 3 * HOUR;
    const out = join(dir, 'range.jsonl');
    const exported = await wfmAgg([
      'export',
      '--config',
      configA,
      '--site',
      'S1',
      '--from',
      iso(from),
      '--to',
      iso(to),
      '--out',
      out,
    ]);
    // The prefix ends before the first message moving the site's event time to --to + 900 s.
    const end = s1.findIndex(({ m }) => moves(m) && m.ts >= to + 900_000);
    const prefix = s1.slice(0, end);
    expect(exported).toEqual({
      code: 0,
      stdout: '',
      stderr: `exported ${prefix.length} messages of site T1/S1 (seq ${prefix[0]!.seq}–${prefix.at(-1)!.seq}) to ${out}\n`,
    });
    expect(JSON.parse(readFileSync(out, 'utf8').split('\n')[0]!)).toEqual({
      ...{ format: 'wfm-agg-input', version: 1, tenant: 'T1', site: 'S1', from, to },
      ...{ firstSeq: prefix[0]!.seq, lastSeq: prefix.at(-1)!.seq },
    });
    const replayed = await wfmAgg(['replay', '--config', configA, '--input', out, '--format', 'json']);
    expect(replayed.code).toBe(0);
    const expected = liveIntervals.filter((r) => r.intervalStart >= from && r.intervalStart < to);
    expect(expected.length).toBeGreaterThan(50);
    expect(
      replayed.stdout
        .split('\n')
        .slice(0, -1)
        .map((l) => JSON.parse(l)),
    ).toEqual(expected);
  });
});
