/**
 * The three report formats, character by character, for a small input: DESIGN.md's worked example
 * (interval 10:00 local at a Paris site) with the intervals before and after it.
 */
import { describe, expect, it } from 'vitest';
import { formatCsv, formatJson, formatReport, formatTable } from '../../src/cli/formatReport.ts';
import { type IntervalRecord, type IntervalReport, intervalReport } from '../../src/domain/index.ts';

const base = { site: 'paris', agentId: 'A1', intervalMinutes: 15, sourceSeq: 7 };
const records: IntervalRecord[] = [
  {
    ...base,
    intervalStart: Date.parse('2026-01-05T08:45:00Z'),
    secondsByPresence: { ON_QUEUE: 120 },
    adherenceScheduleSecs: 0,
    exceptionDurationSecs: 0,
    adherencePercentage: null,
    conformanceScheduleSecs: 0,
    conformanceActualSecs: 120,
    conformancePercentage: null,
  },
  {
    ...base,
    intervalStart: Date.parse('2026-01-05T09:00:00Z'),
    secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 30,
    adherencePercentage: 96.67,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 830,
    conformancePercentage: 92.22,
  },
  {
    ...base,
    intervalStart: Date.parse('2026-01-05T09:15:00Z'),
    secondsByPresence: { MEAL: 60, ON_QUEUE: 840 },
    adherenceScheduleSecs: 900,
    exceptionDurationSecs: 60,
    adherencePercentage: 93.33,
    conformanceScheduleSecs: 900,
    conformanceActualSecs: 840,
    conformancePercentage: 93.33,
  },
];
const zoneOf = () => 'Europe/Paris';
// Totals by hand: schedule 1800, exception 90 → (1 − 90/1800) × 100 = 95; conformance
// 1790/1800 × 100 = 99.444… → 99.44; ON_QUEUE 120 + 830 + 840 = 1790, BUSY 40, MEAL 90.
const report = intervalReport(records, zoneOf);

describe('formatReport', () => {
  it('table: intervals in local time, then the totals; only presences with time get a column', () => {
    expect(formatTable(report, zoneOf)).toBe(
      [
        'site   agent  start                   min  sched  exception  adherence%  confSched  confActual  conformance%  BUSY  MEAL  ON_QUEUE',
        'paris  A1     2026-01-05T09:45+01:00   15      0          0           -          0         120             -     0     0       120',
        'paris  A1     2026-01-05T10:00+01:00   15    900         30       96.67        900         830         92.22    40    30       830',
        'paris  A1     2026-01-05T10:15+01:00   15    900         60       93.33        900         840         93.33     0    60       840',
        '',
        'totals per agent and local day',
        'site   agent  day         intervals  sched  exception  adherence%  confSched  confActual  conformance%  BUSY  MEAL  ON_QUEUE',
        'paris  A1     2026-01-05          3   1800         90       95.00       1800        1790         99.44    40    90      1790',
        '',
      ].join('\n'),
    );
  });

  it('table: says so when there is nothing', () => {
    expect(formatTable({ intervals: [], totals: [] }, zoneOf)).toBe('no interval records\n');
  });

  it('csv: a header, interval rows in UTC, total rows; CRLF line ends', () => {
    const presences = 'OFFLINE,BUSY,BREAK,MEAL,MEETING,TRAINING,ON_QUEUE'
      .split(',')
      .map((p) => `secondsByPresence.${p}`)
      .join(',');
    expect(formatCsv(report)).toBe(
      [
        `row,site,agentId,intervalStart,intervalMinutes,day,intervals,adherenceScheduleSecs,exceptionDurationSecs,adherencePercentage,conformanceScheduleSecs,conformanceActualSecs,conformancePercentage,${presences}`,
        'interval,paris,A1,2026-01-05T08:45:00Z,15,2026-01-05,,0,0,,0,120,,0,0,0,0,0,0,120',
        'interval,paris,A1,2026-01-05T09:00:00Z,15,2026-01-05,,900,30,96.67,900,830,92.22,0,40,0,30,0,0,830',
        'interval,paris,A1,2026-01-05T09:15:00Z,15,2026-01-05,,900,60,93.33,900,840,93.33,0,0,0,60,0,0,840',
        'total,paris,A1,,,2026-01-05,3,1800,90,95,1800,1790,99.44,0,40,0,90,0,0,1790',
        '',
      ].join('\r\n'),
    );
  });

  it('csv: quotes a field with a comma, a quote or a line break, and only then (RFC 4180)', () => {
    const odd: IntervalReport = {
      intervals: [],
      totals: [{ ...report.totals[0]!, site: 'a,"b"', agentId: 'line\nbreak', day: 'plain' }],
    };
    const [, row] = formatCsv(odd).split('\r\n');
    expect(row).toBe('total,"a,""b""","line\nbreak",,,plain,3,1800,90,95,1800,1790,99.44,0,40,0,90,0,0,1790');
  });

  it('json: one object, epoch milliseconds, the report fields as they are', () => {
    const text = formatJson(report);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('\n')).toHaveLength(2);
    expect(JSON.parse(text)).toEqual({
      intervals: records.map(({ sourceSeq: _, ...r }) => ({ ...r, day: '2026-01-05' })),
      totals: [
        {
          site: 'paris',
          agentId: 'A1',
          day: '2026-01-05',
          timeZone: 'Europe/Paris',
          intervals: 3,
          adherenceScheduleSecs: 1800,
          exceptionDurationSecs: 90,
          adherencePercentage: 95,
          conformanceScheduleSecs: 1800,
          conformanceActualSecs: 1790,
          conformancePercentage: 99.44,
          secondsByPresence: { BUSY: 40, MEAL: 90, ON_QUEUE: 1790 },
        },
      ],
    });
    // The exact text of one row: key order is the report's, presences in PRESENCES order.
    expect(text.slice(0, text.indexOf('},{') + 1)).toBe(
      '{"intervals":[{"site":"paris","agentId":"A1","intervalStart":1767602700000,"intervalMinutes":15,' +
        '"day":"2026-01-05","adherenceScheduleSecs":0,"exceptionDurationSecs":0,"adherencePercentage":null,' +
        '"conformanceScheduleSecs":0,"conformanceActualSecs":120,"conformancePercentage":null,' +
        '"secondsByPresence":{"ON_QUEUE":120}}',
    );
    expect(formatJson({ intervals: [], totals: [] })).toBe('{"intervals":[],"totals":[]}\n');
  });

  it('formatReport picks the format', () => {
    expect(formatReport(report, 'csv', zoneOf)).toBe(formatCsv(report));
    expect(formatReport(report, 'json', zoneOf)).toBe(formatJson(report));
    expect(formatReport(report, 'table', zoneOf)).toBe(formatTable(report, zoneOf));
  });
});
