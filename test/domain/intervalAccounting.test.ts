import { describe, expect, it } from 'vitest';
import {
  emptyInterval,
  isReportable,
  resolveAgentOptions,
  toIntervalRecord,
} from '../../src/domain/index.ts';
import { utc } from '../helpers/agentScenario.ts';

const options = resolveAgentOptions({ tenant: 'T1', site: 'S1' });

describe('intervalAccounting', () => {
  it('emptyInterval', () => {
    expect(emptyInterval(utc(10, 0))).toEqual({
      start: utc(10, 0),
      presenceMs: {},
      schedMs: 0,
      excMs: 0,
      pendingMs: 0,
      confSchedMs: 0,
    });
  });

  it('isReportable: scheduled time or non-OFFLINE time', () => {
    expect(isReportable(emptyInterval(0))).toBe(false);
    expect(isReportable({ ...emptyInterval(0), presenceMs: { OFFLINE: 900_000 } })).toBe(false);
    expect(isReportable({ ...emptyInterval(0), presenceMs: { OFFLINE: 900_000, BUSY: 0 } })).toBe(false);
    expect(isReportable({ ...emptyInterval(0), presenceMs: { OFFLINE: 899_999, BUSY: 1 } })).toBe(true);
    expect(isReportable({ ...emptyInterval(0), presenceMs: { OFFLINE: 900_000 }, schedMs: 1 })).toBe(true);
  });

  it('toIntervalRecord: ms → s, percentages to 2 decimals, zero presences left out', () => {
    const acc = {
      start: utc(10, 0),
      presenceMs: { ON_QUEUE: 830_000, BUSY: 40_000, MEAL: 30_000, BREAK: 0 },
      schedMs: 900_000,
      excMs: 30_000,
      pendingMs: 0,
      confSchedMs: 900_000,
    };
    expect(toIntervalRecord('A1', acc, 42, options)).toEqual({
      agentId: 'A1',
      site: 'S1',
      intervalStart: utc(10, 0),
      intervalMinutes: 15,
      secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
      adherenceScheduleSecs: 900,
      exceptionDurationSecs: 30,
      adherencePercentage: 96.67,
      conformanceScheduleSecs: 900,
      conformanceActualSecs: 830,
      conformancePercentage: 92.22,
      sourceSeq: 42,
    });
  });

  it('toIntervalRecord: nothing scheduled → both percentages null', () => {
    const acc = { ...emptyInterval(utc(9, 45)), presenceMs: { ON_QUEUE: 120_000 } };
    expect(toIntervalRecord('A1', acc, 7, options)).toEqual({
      agentId: 'A1',
      site: 'S1',
      intervalStart: utc(9, 45),
      intervalMinutes: 15,
      secondsByPresence: { ON_QUEUE: 120 },
      adherenceScheduleSecs: 0,
      exceptionDurationSecs: 0,
      adherencePercentage: null,
      conformanceScheduleSecs: 0,
      conformanceActualSecs: 120,
      conformancePercentage: null,
      sourceSeq: 7,
    });
  });

  it('toIntervalRecord: sub-second times, conformance above 100, adherence never below 0', () => {
    const acc = {
      start: 0,
      presenceMs: { ON_QUEUE: 1500, BUSY: 1 },
      schedMs: 1000,
      excMs: 2000,
      pendingMs: 0,
      confSchedMs: 1000,
    };
    expect(toIntervalRecord('A1', acc, 1, options)).toEqual({
      agentId: 'A1',
      site: 'S1',
      intervalStart: 0,
      intervalMinutes: 15,
      secondsByPresence: { ON_QUEUE: 1.5, BUSY: 0.001 },
      adherenceScheduleSecs: 1,
      exceptionDurationSecs: 2,
      adherencePercentage: 0,
      conformanceScheduleSecs: 1,
      conformanceActualSecs: 1.5,
      conformancePercentage: 150,
      sourceSeq: 1,
    });
  });

  it('toIntervalRecord: scheduled but no OnQueueWork → conformance null, adherence computed', () => {
    const acc = { ...emptyInterval(0), presenceMs: { BREAK: 900_000 }, schedMs: 900_000 };
    expect(toIntervalRecord('A1', acc, 1, options)).toMatchObject({
      adherencePercentage: 100,
      conformanceScheduleSecs: 0,
      conformanceActualSecs: 0,
      conformancePercentage: null,
    });
  });
});
