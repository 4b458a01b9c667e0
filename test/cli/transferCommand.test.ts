import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IntervalReportRow, TransferRecord } from '../../src/domain/index.ts';
import {
  act,
  clockMsg,
  MINUTE,
  scheduleMsg,
  stateMsg,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';
import { NodeRun } from '../helpers/nodeRun.ts';
import { wfmAgg } from '../helpers/wfmAgg.ts';

/** An input of site S2 (agentScenario's builders address S1). */
function onS2(message: WireMessage): WireMessage {
  return { ...message, subject: message.subject.replace('.S1.', '.S2.') };
}

describe('wfm-agg transfer against a running node', () => {
  let nr: NodeRun;
  let configFile: string;
  const published: number[] = [];

  async function send(message: WireMessage): Promise<void> {
    published.push((await nr.js.publish(message.subject, message.data)).seq);
  }

  /** Every input sent applied and its outputs stored (processed is not enough: see NodeRun.settled). */
  async function caughtUp(): Promise<void> {
    nr.published = published[published.length - 1]!;
    await nr.settled(20_000);
  }

  async function commands(): Promise<number> {
    const info = await nr.jsm.streams.info('WFM_IN', { subjects_filter: 'wfm.command.>' });
    return Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0);
  }

  async function outCount(): Promise<number> {
    return (await nr.jsm.streams.info('WFM_OUT')).state.messages;
  }

  async function rows(): Promise<IntervalReportRow[]> {
    const r = await wfmAgg([
      'report',
      '--config',
      configFile,
      '--site',
      'S1',
      '--from',
      new Date(utc(0, 0)).toISOString(),
      '--to',
      new Date(utc(23, 59)).toISOString(),
      '--format',
      'json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    return JSON.parse(r.stdout).intervals as IntervalReportRow[];
  }

  beforeAll(async () => {
    nr = await NodeRun.open();
    const config = nr.config(['S1', 'S2']);
    configFile = join(nr.dataDir, 'wfm.json');
    writeFileSync(configFile, JSON.stringify(config));
    await nr.startNode({ config });
    const day = [act(utc(10, 0), utc(11, 0), 'OnQueueWork')];
    await send(scheduleMsg('A1', utc(10, 0), utc(11, 0), day));
    await send(scheduleMsg('B1', utc(10, 0), utc(11, 0), day));
    await send(stateMsg('A1', 'Ready', null, utc(9, 58)));
    await send(stateMsg('B1', 'Ready', null, utc(9, 59)));
    await send(onS2(stateMsg('C2', 'Ready', null, utc(9, 58))));
    await send(stateMsg('B1', 'NotReady', null, utc(10, 5)));
    for (let t = utc(10, 6); t <= utc(10, 16, 1); t += MINUTE) await send(clockMsg(t));
    await send(clockMsg(utc(10, 16, 1)));
    await caughtUp();
  }, 60_000);

  afterAll(async () => {
    await nr?.close();
  });

  it('--dry-run prints every data type with its policy and counts, and changes nothing', async () => {
    const before = { commands: await commands(), out: await outCount() };
    const r = await wfmAgg([
      'transfer',
      '--config',
      configFile,
      '--from',
      'A1',
      '--to',
      'B1',
      '--dry-run',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const printed = JSON.parse(r.stdout);
    expect(printed.dryRun).toBe(true);
    expect(printed.site).toBe('S1');
    expect(
      printed.plan.map((p: { type: string; policy: string; moved: number; targetHad: number }) => [
        p.type,
        p.policy,
        p.moved,
        p.targetHad,
      ]),
    ).toEqual([
      ['liveState', 'overwrite', 1, 1],
      ['schedule', 'overwrite', 1, 1],
      ['intervalHistory', 'overwrite', 1, 1],
      ['exceptions', 'overwrite', 0, 0],
      ['loginSessions', 'combine', 1, 1],
      ['auditEvents', 'combine', 0, 0],
    ]);
    // Interval 09:45 and 10:00 of each agent closed by 10:16:01: two rows each in the database.
    expect(printed.rows).toEqual({ source: 2, target: 2 });
    const table = await wfmAgg([
      'transfer',
      '--config',
      configFile,
      '--from',
      'A1',
      '--to',
      'B1',
      '--dry-run',
    ]);
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout).toContain('dry run: transfer A1 → B1 on site S1 would do (nothing changed):');
    expect(table.stdout).toMatch(/Agent Real Time States\s+overwrite\s+1\s+1\s+no \(deleted\)/);
    expect(table.stdout).toMatch(/Login State\s+combine\s+1\s+1\s+yes/);
    expect(await commands()).toBe(before.commands);
    expect(await outCount()).toBe(before.out);
  }, 60_000);

  it.each([
    [['--from', 'A1', '--to', 'A1'], 2, 'an agent cannot be transferred to itself (A1)'],
    [['--from', 'X9', '--to', 'B1'], 1, 'unknown agent X9: no site has had input for it'],
    [['--from', 'A1', '--to', 'X9'], 1, 'unknown agent X9: no site has had input for it'],
    [
      ['--from', 'A1', '--to', 'C2'],
      1,
      'A1 is on site S1 and C2 on site S2: a transfer stays within one site',
    ],
    [['--from', 'A.1', '--to', 'B1'], 2, '--from must be an agent id'],
  ])(
    'refuses %j with exit %i and a clear message, changing nothing',
    async (args, code, message) => {
      const before = { commands: await commands(), out: await outCount() };
      const r = await wfmAgg(['transfer', '--config', configFile, ...args]);
      expect(r.code).toBe(code);
      expect(r.stderr).toContain(message);
      expect(await commands()).toBe(before.commands);
      expect(await outCount()).toBe(before.out);
    },
    60_000,
  );

  it('moves A1 to B1 once, in stream order, under live traffic: outputs, audit record and database rows', async () => {
    const rowsBefore = await rows();
    const a1Rows = rowsBefore.filter((r) => r.agentId === 'A1');
    expect(a1Rows.map((r) => r.intervalStart)).toEqual([utc(9, 45), utc(10, 0)]);
    // Live traffic at both sites while the transfer is asked for.
    let live = true;
    const traffic = (async () => {
      for (let s = 2; live && s < 50; s++) await send(clockMsg(utc(10, 16, s)));
    })();
    const r = await wfmAgg(['transfer', '--config', configFile, '--from', 'A1', '--to', 'B1', '--json']);
    live = false;
    await traffic;
    expect(r.code, r.stderr).toBe(0);
    const record = JSON.parse(r.stdout).record as TransferRecord;
    expect(record).toMatchObject({ from: 'A1', to: 'B1', result: 'applied', reason: null });
    expect(record.requestedBy).toMatch(/@/);
    await caughtUp();
    const stored = await readOut(nr, record.sourceSeq);
    // The transfer's outputs, in order: A1 left with nothing, B1 with A1's state, then the audit record.
    expect(stored.map((m) => [m.subject, m.data])).toEqual([
      [
        'wfm.gc.T1.S1.A1',
        {
          agentId: 'A1',
          presence: 'OFFLINE',
          routingStatus: 'OFF_QUEUE',
          ts: record.appliedAt,
          sourceSeq: record.sourceSeq,
        },
      ],
      [
        'wfm.adherence.T1.S1.A1',
        {
          agentId: 'A1',
          adherenceState: 'Unscheduled',
          scheduledCategory: null,
          actualCategory: 'Offline',
          impact: 'Neutral',
          since: record.appliedAt,
          ts: record.appliedAt,
          sourceSeq: record.sourceSeq,
        },
      ],
      [
        'wfm.gc.T1.S1.B1',
        {
          agentId: 'B1',
          presence: 'ON_QUEUE',
          routingStatus: 'IDLE',
          ts: record.appliedAt,
          sourceSeq: record.sourceSeq,
        },
      ],
      [
        'wfm.adherence.T1.S1.B1',
        {
          agentId: 'B1',
          adherenceState: 'InAdherence',
          scheduledCategory: 'OnQueueWork',
          actualCategory: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: record.appliedAt,
          sourceSeq: record.sourceSeq,
        },
      ],
      ['wfm.transfer.T1.S1', record],
    ]);
    // The database: B1's own rows are gone, A1's are B1's now, nothing else changed.
    const deadline = Date.now() + 15_000;
    let after = await rows();
    while (after.some((r) => r.agentId === 'A1') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      after = await rows();
    }
    expect(after.filter((r) => r.agentId === 'A1')).toEqual([]);
    expect(after.filter((r) => r.agentId === 'B1')).toEqual(a1Rows.map((r) => ({ ...r, agentId: 'B1' })));
    // The audit log shows it.
    const audit = await wfmAgg([
      'report',
      '--config',
      configFile,
      '--transfers',
      '--site',
      'S1',
      '--format',
      'json',
    ]);
    expect(audit.code, audit.stderr).toBe(0);
    const transfers = JSON.parse(audit.stdout).transfers as (TransferRecord & {
      rowsMoved: number;
      rowsDeleted: number;
    })[];
    expect(transfers).toHaveLength(1);
    expect(transfers[0]).toMatchObject({ ...record, rowsMoved: 2, rowsDeleted: 2 });
    // A second transfer from A1 now finds nothing to move but is still valid; from A1 to itself is not.
    const again = await wfmAgg(['transfer', '--config', configFile, '--from', 'A1', '--to', 'A1']);
    expect(again.code).toBe(2);
  }, 90_000);
});

/** Every `WFM_OUT` message caused by input `sourceSeq`, in stream order. */
async function readOut(nr: NodeRun, sourceSeq: number): Promise<{ subject: string; data: unknown }[]> {
  const info = await nr.jsm.streams.info('WFM_OUT');
  const found: { subject: string; data: unknown }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
    const m = await nr.jsm.streams.getMessage('WFM_OUT', { seq }).catch(() => null);
    if (m === null) continue;
    const data = m.json<{ sourceSeq?: number }>();
    if (data.sourceSeq === sourceSeq) found.push({ subject: m.subject, data });
  }
  return found;
}
