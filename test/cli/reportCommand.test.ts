import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseReportTime } from '../../src/cli/reportCommand.ts';
import type { IntervalRecord } from '../../src/domain/index.ts';
import { answerReport, parseReportQuery, reportSubject } from '../../src/node/index.ts';
import {
  type IntervalSink,
  LevelIntervalSink,
  levelIntervalLocation,
  PostgresIntervalSink,
} from '../../src/persistence/index.ts';
import { connectNats } from '../../src/streams/index.ts';
import { NatsServer } from '../helpers/NatsServer.ts';
import { PostgresServer } from '../helpers/PostgresServer.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

// The variables override the configuration file: a developer's own must not leak in.

/** `wfm-agg report …args`. */
const runReport = (args: string[]) => wfmAgg(['report', ...args]);

type Figures = [number, number, number | null, number, number, number | null];
/** A record from its figures: schedule, exception, adherence %, conformance schedule, actual, %. */
function rec(
  site: string,
  agentId: string,
  start: string,
  f: Figures,
  p: IntervalRecord['secondsByPresence'],
) {
  const [adherenceScheduleSecs, exceptionDurationSecs, adherencePercentage] = f;
  const [, , , conformanceScheduleSecs, conformanceActualSecs, conformancePercentage] = f;
  return {
    ...{ site, agentId, intervalStart: Date.parse(start), intervalMinutes: 15, secondsByPresence: p },
    ...{ adherenceScheduleSecs, exceptionDurationSecs, adherencePercentage },
    ...{ conformanceScheduleSecs, conformanceActualSecs, conformancePercentage, sourceSeq: 0 },
  } satisfies IntervalRecord;
}

// The scripted day. paris is UTC+1 in January, tokyo UTC+9. paris A1 09:00Z is DESIGN.md's worked
// example; 09:30Z has one scheduled minute, all exception; 23:00Z is already 6 January in Paris.
const DAY: IntervalRecord[] = [
  rec('paris', 'A1', '2026-01-05T08:45:00Z', [0, 0, null, 0, 120, null], { ON_QUEUE: 120 }),
  rec('paris', 'A1', '2026-01-05T09:00:00Z', [900, 30, 96.67, 900, 830, 92.22], {
    ON_QUEUE: 830,
    BUSY: 40,
    MEAL: 30,
  }),
  rec('paris', 'A1', '2026-01-05T09:15:00Z', [900, 60, 93.33, 900, 840, 93.33], { MEAL: 60, ON_QUEUE: 840 }),
  rec('paris', 'A1', '2026-01-05T09:30:00Z', [60, 60, 0, 60, 0, 0], { BUSY: 900 }),
  rec('paris', 'A1', '2026-01-05T22:45:00Z', [900, 0, 100, 0, 0, null], { BREAK: 900 }),
  rec('paris', 'A1', '2026-01-05T23:00:00Z', [900, 900, 0, 900, 0, 0], { OFFLINE: 900 }),
  rec('paris', 'A2', '2026-01-05T09:00:00Z', [900, 0, 100, 900, 899.9, 99.99], {
    ON_QUEUE: 899.9,
    BUSY: 0.1,
  }),
  rec('paris', 'A2', '2026-01-05T09:15:00Z', [900, 0, 100, 900, 899.8, 99.98], {
    ON_QUEUE: 899.8,
    BUSY: 0.2,
  }),
  rec('london', 'A1', '2026-01-05T09:00:00Z', [900, 0, 100, 900, 900, 100], { ON_QUEUE: 900 }),
  rec('tokyo', 'A3', '2026-01-05T16:00:00Z', [900, 0, 100, 900, 900, 100], { ON_QUEUE: 900 }),
].map((r, i) => ({ ...r, sourceSeq: 100 + i }));

const HEADER =
  'row,site,agentId,intervalStart,intervalMinutes,day,intervals,adherenceScheduleSecs,exceptionDurationSecs,' +
  'adherencePercentage,conformanceScheduleSecs,conformanceActualSecs,conformancePercentage,' +
  'secondsByPresence.OFFLINE,secondsByPresence.BUSY,secondsByPresence.BREAK,secondsByPresence.MEAL,' +
  'secondsByPresence.MEETING,secondsByPresence.TRAINING,secondsByPresence.ON_QUEUE';
// By hand. paris A1 on 5 January: schedule 0+900+900+60+900 = 2760, exception 0+30+60+60+0 = 150
// → (1 − 150/2760) × 100 = 94.57 (the average of the four percentages would be 72.5); conformance
// 1790/1860 = 96.24; BUSY 40+900, BREAK 900, MEAL 30+60, ON_QUEUE 120+830+840. On 6 January (from
// 23:00Z): 0 % and 0 %. A2: 1799.7/1800 = 99.98, BUSY 0.1+0.2 = 0.3.
const PARIS_CSV = [
  HEADER,
  'interval,paris,A1,2026-01-05T08:45:00Z,15,2026-01-05,,0,0,,0,120,,0,0,0,0,0,0,120',
  'interval,paris,A1,2026-01-05T09:00:00Z,15,2026-01-05,,900,30,96.67,900,830,92.22,0,40,0,30,0,0,830',
  'interval,paris,A1,2026-01-05T09:15:00Z,15,2026-01-05,,900,60,93.33,900,840,93.33,0,0,0,60,0,0,840',
  'interval,paris,A1,2026-01-05T09:30:00Z,15,2026-01-05,,60,60,0,60,0,0,0,900,0,0,0,0,0',
  'interval,paris,A1,2026-01-05T22:45:00Z,15,2026-01-05,,900,0,100,0,0,,0,0,900,0,0,0,0',
  'interval,paris,A1,2026-01-05T23:00:00Z,15,2026-01-06,,900,900,0,900,0,0,900,0,0,0,0,0,0',
  'interval,paris,A2,2026-01-05T09:00:00Z,15,2026-01-05,,900,0,100,900,899.9,99.99,0,0.1,0,0,0,0,899.9',
  'interval,paris,A2,2026-01-05T09:15:00Z,15,2026-01-05,,900,0,100,900,899.8,99.98,0,0.2,0,0,0,0,899.8',
  'total,paris,A1,,,2026-01-05,5,2760,150,94.57,1860,1790,96.24,0,940,900,90,0,0,1790',
  'total,paris,A1,,,2026-01-06,1,900,900,0,900,0,0,900,0,0,0,0,0,0',
  'total,paris,A2,,,2026-01-05,2,1800,0,100,1800,1799.7,99.98,0,0.3,0,0,0,0,1799.7',
  '',
].join('\r\n');

/** Stores the scripted day in `sink`, one batch per site. */
async function fill(sink: IntervalSink): Promise<void> {
  await sink.open();
  for (const site of ['paris', 'london', 'tokyo']) {
    const rows = DAY.filter((r) => r.site === site).map((record) => ({
      tenant: 'T1',
      outSeq: record.sourceSeq,
      record,
    }));
    await sink.write({ tenant: 'T1', site, epoch: 1, rows, upTo: rows.at(-1)!.outSeq });
  }
}

let dir: string;
let pgServer: PostgresServer;
const config = (name: string, extra: object = {}) => {
  const file = join(dir, `${name}.json`);
  const sites = (ids: string[], zone: string) => ids.map((id) => ({ id, timeZone: zone }));
  const businessUnits = [
    { id: 'emea', sites: [...sites(['paris'], 'Europe/Paris'), ...sites(['london'], 'Europe/London')] },
    { id: 'apac', sites: sites(['tokyo'], 'Asia/Tokyo') },
    { id: 'empty', sites: [] },
  ];
  writeFileSync(
    file,
    JSON.stringify({ tenant: { id: 'T1' }, dataDir: join(dir, 'level'), businessUnits, ...extra }),
  );
  return file;
};
const DAY_RANGE = ['--from', '2026-01-05', '--to', '2026-01-07'];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'wfm-report-'));
  const level = new LevelIntervalSink({ location: levelIntervalLocation(join(dir, 'level')) });
  await fill(level);
  await level.close();
  pgServer = await PostgresServer.start();
  const pg = new PostgresIntervalSink({ url: pgServer.url });
  await fill(pg);
  await pg.close();
  config('level');
  config('pg', { database: pgServer.url });
}, 120_000);

afterAll(async () => {
  await pgServer?.destroy();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

// Each run of the binary loads the CLI through tsx: seconds each on a busy machine.
describe('wfm-agg report from either store', { timeout: 180_000 }, () => {
  const cfg = (store: string) => join(dir, `${store}.json`);

  it.each(['level', 'pg'])(
    '%s: a site for two days as CSV (the default off a terminal), value by value',
    async (store) => {
      const { code, stdout, stderr } = await runReport([
        '--config',
        cfg(store),
        '--site',
        'paris',
        ...DAY_RANGE,
      ]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(PARIS_CSV);
    },
  );

  it('JSON from both stores: the same text, epoch ms starts, the totals of a narrower range by hand', async () => {
    // [09:00Z, 10:30+01:00 = 09:30Z): the worked example and the next interval.
    const range = ['--from', '2026-01-05T09:00:00Z', '--to', '2026-01-05T10:30+01:00'];
    const args = ['--site', 'paris', '--agent', 'A1', ...range, '--format', 'json'];
    const [level, pg] = await Promise.all(
      ['level', 'pg'].map((s) => runReport(['--config', cfg(s), ...args])),
    );
    expect(level!.stderr).toBe('');
    expect(pg!.stdout).toBe(level!.stdout);
    const report = JSON.parse(pg!.stdout);
    expect(report.intervals.map((r: IntervalRecord) => r.intervalStart)).toEqual([
      Date.parse('2026-01-05T09:00:00Z'),
      Date.parse('2026-01-05T09:15:00Z'),
    ]);
    // (1 − 90/1800) × 100 = 95; 1670/1800 × 100 = 92.777… → 92.78
    expect(report.totals).toEqual([
      {
        ...{ site: 'paris', agentId: 'A1', day: '2026-01-05', timeZone: 'Europe/Paris', intervals: 2 },
        ...{ adherenceScheduleSecs: 1800, exceptionDurationSecs: 90, adherencePercentage: 95 },
        ...{ conformanceScheduleSecs: 1800, conformanceActualSecs: 1670, conformancePercentage: 92.78 },
        secondsByPresence: { BUSY: 40, MEAL: 90, ON_QUEUE: 1670 },
      },
    ]);
  });

  it('a business unit covers its sites; an agent at one site needs no --site', async () => {
    const args = ['--business-unit', 'emea', ...DAY_RANGE];
    const [unit, pg] = await Promise.all(
      ['level', 'pg'].map((s) => runReport(['--config', cfg(s), ...args])),
    );
    expect(unit!.stderr).toBe('');
    expect(pg!.stdout).toBe(unit!.stdout);
    const totals = unit!.stdout.split('\r\n').filter((l) => l.startsWith('total,'));
    expect(totals).toEqual([
      'total,london,A1,,,2026-01-05,1,900,0,100,900,900,100,0,0,0,0,0,0,900',
      ...PARIS_CSV.split('\r\n').filter((l) => l.startsWith('total,')),
    ]);
    const agent = await runReport(['--config', cfg('level'), '--agent', 'A3', ...DAY_RANGE]);
    expect(agent.stderr).toBe('');
    // 16:00Z is 01:00 on 6 January in Tokyo.
    expect(agent.stdout.split('\r\n').slice(1, 3)).toEqual([
      'interval,tokyo,A3,2026-01-05T16:00:00Z,15,2026-01-06,,900,0,100,900,900,100,0,0,0,0,0,0,900',
      'total,tokyo,A3,,,2026-01-06,1,900,0,100,900,900,100,0,0,0,0,0,0,900',
    ]);
  });

  it('table: the site-local time of each interval, then the totals', async () => {
    const args = [
      '--config',
      cfg('level'),
      '--site',
      'paris',
      '--agent',
      'A1',
      ...DAY_RANGE,
      '--format',
      'table',
    ];
    const table = await runReport(args);
    expect(table.stderr).toBe('');
    const lines = table.stdout.split('\n');
    expect(lines[0]!.split(/\s+/)).toEqual(
      'site agent start min sched exception adherence% confSched confActual conformance% OFFLINE BUSY BREAK MEAL ON_QUEUE'.split(
        ' ',
      ),
    );
    expect(lines[6]!.split(/\s+/)).toEqual(
      'paris A1 2026-01-06T00:00+01:00 15 900 900 0.00 900 0 0.00 900 0 0 0 0'.split(' '),
    );
    expect(lines[8]).toBe('totals per agent and local day');
    expect(lines[10]!.split(/\s+/)).toEqual(
      'paris A1 2026-01-05 5 2760 150 94.57 1860 1790 96.24 0 940 900 90 1790'.split(' '),
    );
  });
});

describe('wfm-agg report refuses with one line and exit code 2', { timeout: 180_000 }, () => {
  const R = DAY_RANGE.join(' ');
  const notATime = (t: string) =>
    `${t} is not a time: give an ISO 8601 timestamp with Z or an offset (2026-01-05T08:00:00Z) or a date (2026-01-05, midnight UTC)`;
  // $DIR: the test's temp dir, made only once the tests run.
  const refusals: [string, string, string][] = [
    ['an unknown site', `--site rome ${R}`, 'unknown site rome: not in the configuration'],
    [
      'an unknown business unit',
      `--business-unit latam ${R}`,
      'unknown business unit latam: not in the configuration',
    ],
    ['a business unit with no sites', `--business-unit empty ${R}`, 'business unit empty has no sites'],
    [
      'a site and a business unit',
      `--site paris --business-unit emea ${R}`,
      'name either --site or --business-unit, not both',
    ],
    ['nothing to report on', R, 'name an --agent, a --site or a --business-unit'],
    [
      'an agent id at two sites',
      `--agent A1 ${R}`,
      'agent A1 has interval records at sites london, paris: name one with --site',
    ],
    [
      '--from not before --to',
      '--site paris --from 2026-01-06 --to 2026-01-05T23:00:00Z',
      '--from 2026-01-06 must be before --to 2026-01-05T23:00:00Z',
    ],
    [
      'a date that does not exist',
      '--site paris --from 2026-02-30 --to 2026-03-02',
      notATime('--from 2026-02-30'),
    ],
    [
      'a time with no zone',
      '--site paris --from 2026-01-05 --to 2026-01-05T10:00',
      notATime('--to 2026-01-05T10:00'),
    ],
    // Opening LevelDB would make an empty store there and print an empty report.
    [
      'a data dir with no interval store',
      `--data-dir $DIR/typo --site paris ${R}`,
      "no interval store at $DIR/typo/intervals: is --data-dir (or dataDir) the node's data directory?",
    ],
  ];
  it.each(refusals)('%s', async (_what, args, message) => {
    const { code, stdout, stderr } = await runReport([
      '--config',
      join(dir, 'level.json'),
      ...args.replace('$DIR', dir).split(' '),
    ]);
    const line = `wfm-agg report: ${message.replace('$DIR', dir)}\n`;
    expect({ code, stdout, stderr }).toEqual({ code: 2, stdout: '', stderr: line });
  });

  it('a database it cannot log in to, never showing the URL or the password', async () => {
    const file = config('badpw', { database: pgServer.urlFor('wfm', 'hunter2') });
    const { code, stdout, stderr } = await runReport(['--config', file, '--site', 'paris', ...DAY_RANGE]);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr.split('\n')).toHaveLength(2);
    expect(stderr).toMatch(/^wfm-agg report: /);
    expect(stderr).not.toContain('hunter2');
    expect(stderr).not.toContain('postgres://');
  });
});

describe('a running node holds the embedded store', { timeout: 180_000 }, () => {
  let nats: NatsServer;
  let held: LevelIntervalSink;
  let file: string;

  beforeAll(async () => {
    nats = await NatsServer.start();
    held = new LevelIntervalSink({ location: levelIntervalLocation(join(dir, 'held')) });
    await fill(held); // and keeps it open, as a node does
    file = config('held', { dataDir: join(dir, 'held'), nats: { servers: [nats.url] } });
  });
  afterAll(async () => {
    await held?.close();
    await nats?.stop();
  });

  /** Nodes answering on the report subject from `sinks`, as WfmNode does. */
  async function nodesAnswering(sinks: IntervalSink[]): Promise<() => Promise<void>> {
    const nc = await connectNats({ servers: [nats.url] });
    const subs: Subscription[] = sinks.map((sink) =>
      nc.subscribe(reportSubject('T1'), {
        callback: (_err, msg) => void answerReport(sink, msg.data, 'T1').then((reply) => msg.respond(reply)),
      }),
    );
    await nc.flush();
    return async () => {
      for (const sub of subs) sub.unsubscribe();
      await nc.drain();
    };
  }

  it('asks the running nodes over NATS and merges their replies into the same report', async () => {
    const stop = await nodesAnswering([held, held]);
    try {
      const { code, stdout, stderr } = await runReport([
        '--config',
        file,
        '--site',
        'paris',
        ...DAY_RANGE,
        '--wait-ms',
        '500',
      ]);
      expect(stderr).toBe('');
      expect(code).toBe(0);
      expect(stdout).toBe(PARIS_CSV);
    } finally {
      await stop();
    }
  });

  it('says so when no node listens, none answers in time, or NATS cannot be reached', async () => {
    const held = `wfm-agg report: the interval store ${levelIntervalLocation(join(dir, 'held'))} is held by a running node`;
    const args = ['--config', file, '--site', 'paris', ...DAY_RANGE, '--wait-ms', '300'];
    // Nobody subscribed: the server says so at once (no responders).
    const nobody = await runReport(args);
    expect(nobody).toEqual({
      code: 2,
      stdout: '',
      stderr: `${held}, and no node of tenant T1 answered on wfm.admin.T1.report\n`,
    });
    // A node that hears but never answers.
    const nc = await connectNats({ servers: [nats.url] });
    nc.subscribe(reportSubject('T1'), { callback: () => {} });
    await nc.flush();
    try {
      expect((await runReport(args)).stderr).toBe(
        `${held}, and no node of tenant T1 answered on wfm.admin.T1.report within 300 ms\n`,
      );
    } finally {
      await nc.drain();
    }
    const down = await runReport([...args, '--nats', 'nats://127.0.0.1:1']);
    expect(down.code).toBe(2);
    expect(down.stderr).toMatch(new RegExp(`^${held}, and NATS cannot be reached to ask it: [^\n]+\n$`));
  });
});

describe('the node side: parseReportQuery and answerReport', () => {
  const bytes = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
  const query = {
    tenant: 'T1',
    sites: ['paris'],
    agentId: 'A2',
    from: Date.parse('2026-01-05'),
    to: Date.parse('2026-01-06'),
  };

  it('answers a query with the records of the sink, in its order', async () => {
    const sink = new LevelIntervalSink({ location: join(dir, 'node-side') });
    await fill(sink);
    try {
      expect(JSON.parse(await answerReport(sink, bytes(query), 'T1'))).toEqual({
        ok: true,
        records: DAY.filter((r) => r.site === 'paris' && r.agentId === 'A2'),
      });
      expect(JSON.parse(await answerReport(sink, bytes(query), 'T1', { maxBytes: 100 }))).toEqual({
        ok: false,
        error: expect.stringMatching(
          /^2 interval records \(\d+ bytes\) do not fit in one reply of at most 100 bytes/,
        ),
      });
      expect(JSON.parse(await answerReport(sink, bytes({ ...query, tenant: 'T2' }), 'T1'))).toEqual({
        ok: false,
        error: 'bad report request: the request is for tenant T2, this node serves tenant T1',
      });
    } finally {
      await sink.close();
    }
  });

  it('refuses what is not a query', () => {
    const refused = (value: unknown) => (parseReportQuery(bytes(value), 'T1') as { error: string }).error;
    expect(parseReportQuery(bytes(query), 'T1')).toEqual(query);
    expect((parseReportQuery(new Uint8Array([0xff]), 'T1') as { error: string }).error).toBe(
      'the request is not UTF-8 JSON',
    );
    expect(refused([1])).toBe('the request is not a JSON object');
    expect(refused({ ...query, shift: 'late' })).toBe('unknown field shift');
    expect(refused({ ...query, from: query.to })).toBe('from must be before to');
    expect(refused({ ...query, to: '2026-01-06' })).toBe('from and to must be integers (epoch milliseconds)');
    expect(refused({ ...query, sites: [] })).toBe('sites must be a non-empty list of site ids');
    expect(refused({ ...query, agentId: 'a b' })).toBe('agentId must be an agent id');
  });
});

describe('parseReportTime', () => {
  it('reads ISO 8601 with Z or an offset, and a bare date as midnight UTC', () => {
    expect(parseReportTime('2026-01-05')).toBe(Date.UTC(2026, 0, 5));
    expect(parseReportTime('2026-01-05T10:30+01:00')).toBe(Date.UTC(2026, 0, 5, 9, 30));
    expect(parseReportTime('2026-01-05T05:30:15.5-03:30')).toBe(Date.UTC(2026, 0, 5, 9, 0, 15, 500));
    expect(parseReportTime('2024-02-29T00:00:00Z')).toBe(Date.UTC(2024, 1, 29));
    for (const bad of [
      '2026-02-29',
      '2026-13-01',
      '2026-01-05T24:00Z',
      '2026-01-05T10:00',
      '5 Jan 2026',
      '2026-01-05T10:00+01:60',
    ]) {
      expect(parseReportTime(bad), bad).toBeUndefined();
    }
  });
});
