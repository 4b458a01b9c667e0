import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  act,
  clockMsg,
  reasonMsg,
  scheduleMsg,
  stateMsg,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';
import { NodeRun } from '../helpers/nodeRun.ts';
import { readStream } from '../helpers/outputs.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

// The day (site S1, UTC, 15-minute intervals, threshold 60 s in the configuration). Scheduled
// OnQueueWork 10:00–10:30. Ready from 09:58; NotReady 10:05:00–10:05:40 (40 s); NotReady with
// reason Meal 10:14:30–10:16:00 (90 s); NotReady 10:20:00–10:23:00 (180 s); Ready after. A stat
// with a bad status (dead-lettered), clock ticks at 10:34 and 10:50.
const SCRIPT: WireMessage[] = [
  scheduleMsg('A1', utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]),
  stateMsg('A1', 'Ready', null, utc(9, 58)),
  {
    subject: 'wfm.stat.T1.S1.A1',
    data: JSON.stringify({
      statistic: 'CurrentState',
      agentId: 'A1',
      status: 'Away',
      callType: null,
      ts: utc(10, 1),
    }),
  },
  stateMsg('A1', 'NotReady', null, utc(10, 5)),
  stateMsg('A1', 'Ready', null, utc(10, 5, 40)),
  reasonMsg('A1', 'Meal', utc(10, 14, 30)),
  stateMsg('A1', 'NotReady', null, utc(10, 14, 30)),
  reasonMsg('A1', null, utc(10, 16)),
  stateMsg('A1', 'Ready', null, utc(10, 16)),
  stateMsg('A1', 'NotReady', null, utc(10, 20)),
  stateMsg('A1', 'Ready', null, utc(10, 23)),
  clockMsg(utc(10, 34)),
  clockMsg(utc(10, 50)),
];

const CSV_HEADER =
  'row,site,agentId,intervalStart,intervalMinutes,day,intervals,adherenceScheduleSecs,exceptionDurationSecs,' +
  'adherencePercentage,conformanceScheduleSecs,conformanceActualSecs,conformancePercentage,' +
  'secondsByPresence.OFFLINE,secondsByPresence.BUSY,secondsByPresence.BREAK,secondsByPresence.MEAL,' +
  'secondsByPresence.MEETING,secondsByPresence.TRAINING,secondsByPresence.ON_QUEUE';
// By hand. 09:45: Ready 09:58–10:00, nothing scheduled. 10:00: ON_QUEUE 300 + 530 = 830, BUSY 40,
// MEAL 30; the 90 s stretch from 10:14:30 is an exception at 60 s (30 s of it here), not at 120 s.
// 10:15: MEAL 60, ON_QUEUE 240 + 420 = 660, BUSY 180; exception 60 + 180 = 240 at 60 s, 180 at 120 s.
const AT_60 = [
  CSV_HEADER,
  'interval,S1,A1,2024-01-15T09:45:00Z,15,2024-01-15,,0,0,,0,120,,0,0,0,0,0,0,120',
  'interval,S1,A1,2024-01-15T10:00:00Z,15,2024-01-15,,900,30,96.67,900,830,92.22,0,40,0,30,0,0,830',
  'interval,S1,A1,2024-01-15T10:15:00Z,15,2024-01-15,,900,240,73.33,900,660,73.33,0,180,0,60,0,0,660',
  // (1 − 270/1800) × 100 = 85; 1610/1800 = 89.44.
  'total,S1,A1,,,2024-01-15,3,1800,270,85,1800,1610,89.44,0,220,0,90,0,0,1610',
  '',
].join('\r\n');
const AT_120 = [
  CSV_HEADER,
  'interval,S1,A1,2024-01-15T09:45:00Z,15,2024-01-15,,0,0,,0,120,,0,0,0,0,0,0,120',
  'interval,S1,A1,2024-01-15T10:00:00Z,15,2024-01-15,,900,0,100,900,830,92.22,0,40,0,30,0,0,830',
  'interval,S1,A1,2024-01-15T10:15:00Z,15,2024-01-15,,900,180,80,900,660,73.33,0,180,0,60,0,0,660',
  'total,S1,A1,,,2024-01-15,3,1800,180,90,1800,1610,89.44,0,220,0,90,0,0,1610',
  '',
].join('\r\n');

const summary = (rules: string, compared?: string) =>
  [
    `replayed 12 messages of site T1/S1 (seq 1–12) under ${rules}`,
    'dead letters (as the live node publishes them): 1 (bad_status 1)',
    `input ends at event time 2024-01-15T10:34:00Z: intervals ending after ${rules.includes('=120') ? '2024-01-15T10:32:00Z' : rules.includes('=200') ? '2024-01-15T10:30:40Z' : '2024-01-15T10:33:00Z'} are still open and not reported`,
    ...(compared === undefined
      ? []
      : [`compared the intervals that end by ${compared} (closed under both rules)`]),
    '',
  ].join('\n');

describe('replay what-ifs on a scripted day', { timeout: 240_000 }, () => {
  let nr: NodeRun;
  let dir: string;
  let config: string;
  let day: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'wfm-whatif-'));
    nr = await NodeRun.open();
    await nr.startNode({ config: nr.config(['S1']) });
    for (const m of SCRIPT) await nr.js.publish(m.subject, m.data);
    nr.published = SCRIPT.length;
    await nr.caughtUp();
    await nr.stopNode();
    config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify(nr.config(['S1'])));
    day = join(dir, 'day.jsonl');
    // --to 10:30 + 300 s: the export ends before the 10:50 tick, the first to reach 10:35.
    const range = ['--from', '2024-01-15T09:45:00Z', '--to', '2024-01-15T10:30:00Z'];
    const exported = await wfmAgg([
      'export',
      '--config',
      config,
      '--site',
      'S1',
      ...range,
      '--margin',
      '300',
      '--out',
      day,
    ]);
    expect(exported).toEqual({
      code: 0,
      stdout: '',
      stderr: `exported 12 messages of site T1/S1 (seq 1–12) to ${day}\n`,
    });
  }, 180_000);

  afterAll(async () => {
    await nr?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('under the configured rules the replay prints the hand-computed figures the node wrote', async () => {
    const replayed = await wfmAgg(['replay', '--config', config, '--input', day, '--format', 'csv']);
    expect(replayed).toEqual({ code: 0, stdout: AT_60, stderr: summary("the configuration's rules") });
    const live = (await readStream(nr.js, nr.jsm, 'WFM_OUT')).filter((r) =>
      r.subject.startsWith('wfm.interval.'),
    );
    // What the node wrote for these intervals (the 10:30 one closed with the 10:50 tick, after the export).
    expect(live.map((r) => (r.data as { intervalStart: number }).intervalStart)).toEqual([
      utc(9, 45),
      utc(10, 0),
      utc(10, 15),
      utc(10, 30),
    ]);
  });

  it('a higher threshold removes the exceptions below it and keeps the longer one', async () => {
    const set = ['--set', 'adherenceExceptionThresholdSeconds=120'];
    const replayed = await wfmAgg(['replay', '--config', config, '--input', day, ...set, '--format', 'csv']);
    expect(replayed).toEqual({
      code: 0,
      stdout: AT_120,
      stderr: summary('adherenceExceptionThresholdSeconds=120 (was 60)'),
    });
  });

  it('--compare lists exactly the intervals that change, before and after, and the totals', async () => {
    const set = ['--set', 'adherenceExceptionThresholdSeconds=120'];
    const compared = await wfmAgg([
      'replay',
      '--config',
      config,
      '--input',
      day,
      ...set,
      '--compare',
      '--format',
      'csv',
    ]);
    expect(compared).toEqual({
      code: 0,
      stdout: [
        'row,site,agentId,intervalStart,intervalMinutes,change,fields,intervalsBefore,intervalsAfter,differing,' +
          'adherenceScheduleSecsBefore,adherenceScheduleSecsAfter,exceptionDurationSecsBefore,exceptionDurationSecsAfter,' +
          'adherencePercentageBefore,adherencePercentageAfter,conformanceScheduleSecsBefore,conformanceScheduleSecsAfter,' +
          'conformanceActualSecsBefore,conformanceActualSecsAfter,conformancePercentageBefore,conformancePercentageAfter',
        'difference,S1,A1,2024-01-15T10:00:00Z,15,changed,exceptionDurationSecs adherencePercentage,,,,900,900,30,0,96.67,100,900,900,830,830,92.22,92.22',
        'difference,S1,A1,2024-01-15T10:15:00Z,15,changed,exceptionDurationSecs adherencePercentage,,,,900,900,240,180,73.33,80,900,900,660,660,73.33,73.33',
        'total,,,,,,,3,3,2,1800,1800,270,180,85,90,1800,1800,1610,1610,89.44,89.44',
        '',
      ].join('\r\n'),
      stderr: summary('adherenceExceptionThresholdSeconds=120 (was 60)', '2024-01-15T10:32:00Z'),
    });
  });

  it('--compare from WFM_IN as a table: a 200 s threshold leaves no exception', async () => {
    const compared = await wfmAgg([
      ...['replay', '--config', config, '--site', 'S1', '--from', '2024-01-15T09:45:00Z'],
      ...['--to', '2024-01-15T10:30:00Z', '--set', 'adherenceExceptionThresholdSeconds=200'],
      ...['--compare', '--format', 'table'],
    ]);
    expect(compared).toEqual({
      code: 0,
      stdout: [
        'site   agent  start                   min  change   adherence% before   after  conformance% before  after  exception s before  after  fields',
        'S1     A1     2024-01-15T10:00+00:00   15  changed              96.67  100.00                92.22  92.22                  30      0  exceptionDurationSecs,adherencePercentage',
        'S1     A1     2024-01-15T10:15+00:00   15  changed              73.33  100.00                73.33  73.33                 240      0  exceptionDurationSecs,adherencePercentage',
        'total                                      2 of 3               85.00  100.00                89.44  89.44                 270      0  intervals: 3 before, 3 after',
        '',
      ].join('\n'),
      stderr: summary('adherenceExceptionThresholdSeconds=200 (was 60)', '2024-01-15T10:30:40Z'),
    });
  });

  /** The export with five bad lines among the good ones (lines 4, 7, 8, 9 and 10). */
  function withBadLines(): string {
    const lines = readFileSync(day, 'utf8').split('\n').slice(0, -1);
    const bad = join(dir, 'bad.jsonl');
    const s2 = JSON.stringify({ seq: 90, subject: 'wfm.stat.T1.S2.A1', data: '{}' });
    const t2 = JSON.stringify({ seq: 91, subject: 'wfm.clock.T2.S1', data: '{}' });
    const text = [
      ...lines.slice(0, 3),
      'not json',
      ...lines.slice(3, 5),
      s2,
      lines[2],
      t2,
      '[1]',
      ...lines.slice(5),
    ];
    writeFileSync(bad, `${text.join('\n')}\n`);
    return bad;
  }
  const BAD_LINES = [
    `line 4: not JSON (Unexpected token 'o', "not json" is not valid JSON); skipped`,
    'line 7: subject wfm.stat.T1.S2.A1 is not an input of site T1/S1; skipped',
    'line 8: seq 2 does not follow seq 4; skipped',
    'line 9: subject wfm.clock.T2.S1 is not an input of site T1/S1; skipped',
    'line 10: not a JSON object; skipped',
  ];

  it('bad lines are reported with their numbers and skipped; the rest replays as before', async () => {
    const bad = withBadLines();
    const replayed = await wfmAgg(['replay', '--config', config, '--input', bad, '--format', 'csv']);
    expect(replayed).toEqual({
      code: 0,
      stdout: AT_60,
      stderr: [
        ...BAD_LINES.map((l) => `${bad} ${l}`),
        summary("the configuration's rules").replace(
          '\ninput ends',
          `\nskipped 5 bad lines of ${bad}\ninput ends`,
        ),
      ].join('\n'),
    });
  });

  it('a file with a bad header is refused whole by replay and import', async () => {
    const lines = readFileSync(day, 'utf8').split('\n');
    const bad = join(dir, 'header.jsonl');
    writeFileSync(
      bad,
      [JSON.stringify({ ...JSON.parse(lines[0]!), version: 2 }), ...lines.slice(1)].join('\n'),
    );
    expect(await wfmAgg(['replay', '--config', config, '--input', bad])).toEqual({
      code: 2,
      stdout: '',
      stderr: `wfm-agg replay: ${bad} line 1: header: version 2 is not supported; this build reads 1\n`,
    });
    const before = (await nr.jsm.streams.info('WFM_IN')).state.messages;
    expect(await wfmAgg(['import', '--config', config, bad])).toEqual({
      code: 2,
      stdout: '',
      stderr: `wfm-agg import: ${bad} line 1: header: version 2 is not supported; this build reads 1\n`,
    });
    expect((await nr.jsm.streams.info('WFM_IN')).state.messages).toBe(before);
  });

  it('--set mistakes are refused naming the key, with exit code 2', async () => {
    const cases: [string[], string][] = [
      [
        ['--set', 'threshold=5'],
        '--set threshold: unknown key; one of adherenceExceptionThresholdSeconds, nonOnQueueActivitiesEquivalent, mappedReasons, intervalMinutes, offsetMinutes, reasonCodeKeyName',
      ],
      [
        ['--set', 'adherenceExceptionThresholdSeconds=-5'],
        '--set adherenceExceptionThresholdSeconds=-5: must be a whole number of seconds ≥ 0',
      ],
      [
        ['--set', 'mappedReasons=Break,Coaching'],
        '--set mappedReasons=Break,Coaching: "Coaching" is not one of Break, Meal, Meeting, Training (comma-separated)',
      ],
      [
        ['--set', 'offsetMinutes=15'],
        '--set offsetMinutes: offsetMinutes (15) must be less than intervalMinutes (15)',
      ],
      [['--set', 'nonOnQueueActivitiesEquivalent'], '--set nonOnQueueActivitiesEquivalent: give KEY=VALUE'],
    ];
    for (const [set, error] of cases) {
      expect(await wfmAgg(['replay', '--config', config, '--input', day, ...set])).toEqual({
        code: 2,
        stdout: '',
        stderr: `wfm-agg replay: ${error}\n`,
      });
    }
  });
  it('import skips bad lines the same way and stores the rest in order', async () => {
    const bad = withBadLines();
    const before = (await nr.jsm.streams.info('WFM_IN')).state.last_seq;
    expect(await wfmAgg(['import', '--config', config, bad])).toEqual({
      code: 0,
      stdout: `imported 12 messages of site T1/S1 into WFM_IN (WFM_IN seq ${before + 1}–${before + 12}); 5 bad lines skipped\n`,
      stderr: BAD_LINES.map((l) => `${bad} ${l}\n`).join(''),
    });
    const stored = (await readStream(nr.js, nr.jsm, 'WFM_IN')).slice(-12);
    expect(stored.map((r) => [r.subject, r.data])).toEqual(
      SCRIPT.slice(0, 12).map((m) => [m.subject, JSON.parse(m.data)]),
    );
    expect(stored.map((r) => r.msgId)).toEqual(SCRIPT.slice(0, 12).map((_, i) => `import:T1.S1:${i + 1}`));
  });
});
