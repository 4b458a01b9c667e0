/**
 * `SiteReplay`: decodes and applies like a node's site (same outputs as a `SiteSupervisor` fed the
 * decoded input), counts dead letters by reason, ignores a sequence it already applied, and runs
 * under exactly the options a live site gets from the configuration (`siteRules`).
 */
import { describe, expect, it } from 'vitest';
import { SiteReplay, SiteSupervisor } from '../../src/actors/index.ts';
import { siteRules } from '../../src/cli/siteRules.ts';
import { listSites } from '../../src/config/index.ts';
import { localNodeConfig } from '../../src/dev/index.ts';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import { siteProcessorFactory } from '../../src/node/index.ts';
import {
  clockMsg,
  reasonMsg,
  scheduleMsg,
  stateMsg,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';

const encoder = new TextEncoder();
const MESSAGES: WireMessage[] = [
  scheduleMsg('A1', utc(10, 0), utc(11, 0), [
    { start: utc(10, 0), end: utc(11, 0), category: 'OnQueueWork' },
  ]),
  stateMsg('A1', 'Ready', null, utc(9, 59)),
  { subject: 'wfm.stat.T1.S1.A1', data: '{"statistic":' },
  reasonMsg('A1', { Code: 'Meal' }, utc(10, 10)),
  stateMsg('A1', 'NotReady', null, utc(10, 10)),
  stateMsg('A1', 'Ready', 'Inbound', utc(10, 5)),
  { subject: 'wfm.stat.T1.S1.A1', data: '[]' },
  clockMsg(utc(10, 20)),
];

describe('SiteReplay', () => {
  it('produces what a supervisor fed the decoded input produces, and counts what it refused', () => {
    const decode = { ...defaultDecodeOptions, reasonCodeKeyName: 'Code' };
    const replay = new SiteReplay({
      agent: { tenant: 'T1', site: 'S1' },
      decode: { reasonCodeKeyName: 'Code' },
    });
    const supervisor = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
    MESSAGES.forEach((m, i) => {
      const expected = supervisor.process(i + 1, m.subject, decodeInput(m.subject, m.data, decode));
      expect(replay.apply({ seq: i + 1, subject: m.subject, data: encoder.encode(m.data) })).toEqual(
        expected,
      );
    });
    // Already applied: nothing, as a site ignores a message at or below its sequence.
    expect(
      replay.apply({ seq: 8, subject: MESSAGES[7]!.subject, data: encoder.encode(MESSAGES[7]!.data) }),
    ).toEqual({
      outputs: [],
      dlq: [],
    });
    expect(replay.applied).toBe(8);
    expect(replay.seqRange).toEqual({ first: 1, last: 8 });
    expect(replay.siteTime).toBe(utc(10, 20));
    expect(replay.dlqByReason).toEqual([
      ['invalid_json', 1],
      ['late', 1],
      ['not_object', 1],
    ]);
    expect(replay.dlqCount).toBe(3);
    replay.stop();
    supervisor.stop();
  });

  it('runs under the options a live site gets from the configuration', () => {
    const config = {
      ...localNodeConfig({
        natsUrl: 'nats://127.0.0.1:1',
        dataDir: '/nonexistent',
        sites: [{ id: 'S1', intervalMinutes: 30, offsetMinutes: 10 }],
      }),
      mappedReasons: ['Break', 'Training'],
      reasonCodeKeyName: 'Code',
      adherence: { adherenceExceptionThresholdSeconds: 90, nonOnQueueActivitiesEquivalent: true },
    };
    const ref = listSites(config)[0]!;
    const live = siteProcessorFactory(() => ({ config, ref }))(null) as SiteSupervisor;
    const rules = siteRules(config, ref);
    expect(rules).toEqual({
      mappedReasons: ['Break', 'Training'],
      adherenceExceptionThresholdSeconds: 90,
      nonOnQueueActivitiesEquivalent: true,
      intervalMinutes: 30,
      offsetMinutes: 10,
      reasonCodeKeyName: 'Code',
    });
    const replay = new SiteReplay({ agent: { tenant: 'T1', site: 'S1', ...rules }, decode: rules });
    expect(replay.optionsFingerprint).toBe(live.optionsFingerprint);
    replay.stop();
    live.stop();
  });
});
