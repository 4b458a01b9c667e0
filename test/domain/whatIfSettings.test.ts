/**
 * `--set KEY=VALUE`: every key parsed to its value, every mistake refused with a sentence that
 * names the key, and the combined check of the time profile.
 */
import { describe, expect, it } from 'vitest';
import { applyWhatIf, describeWhatIf, parseWhatIfSettings, type SiteRules } from '../../src/domain/index.ts';

const RULES: SiteRules = {
  mappedReasons: ['Break', 'Meal', 'Meeting', 'Training'],
  adherenceExceptionThresholdSeconds: 60,
  nonOnQueueActivitiesEquivalent: false,
  intervalMinutes: 15,
  offsetMinutes: 0,
  reasonCodeKeyName: 'ReasonCode',
};

describe('parseWhatIfSettings', () => {
  it('parses every key', () => {
    expect(
      parseWhatIfSettings([
        'adherenceExceptionThresholdSeconds=120',
        'nonOnQueueActivitiesEquivalent=true',
        'mappedReasons=Break, Meal',
        'intervalMinutes=30',
        'offsetMinutes=5',
        'reasonCodeKeyName=Reason=Code',
      ]),
    ).toEqual({
      ok: true,
      value: {
        adherenceExceptionThresholdSeconds: 120,
        nonOnQueueActivitiesEquivalent: true,
        mappedReasons: ['Break', 'Meal'],
        intervalMinutes: 30,
        offsetMinutes: 5,
        reasonCodeKeyName: 'Reason=Code',
      },
    });
    expect(parseWhatIfSettings(['mappedReasons=', 'nonOnQueueActivitiesEquivalent=false'])).toEqual({
      ok: true,
      value: { mappedReasons: [], nonOnQueueActivitiesEquivalent: false },
    });
    expect(parseWhatIfSettings([])).toEqual({ ok: true, value: {} });
  });

  it('refuses naming the key', () => {
    const cases: [string[], string][] = [
      [
        ['leaseSeconds=3'],
        '--set leaseSeconds: unknown key; one of adherenceExceptionThresholdSeconds, nonOnQueueActivitiesEquivalent, mappedReasons, intervalMinutes, offsetMinutes, reasonCodeKeyName',
      ],
      [['=3'], '--set =3: give KEY=VALUE'],
      [['intervalMinutes'], '--set intervalMinutes: give KEY=VALUE'],
      [
        ['adherenceExceptionThresholdSeconds=1.5'],
        '--set adherenceExceptionThresholdSeconds=1.5: must be a whole number of seconds ≥ 0',
      ],
      [
        ['adherenceExceptionThresholdSeconds='],
        '--set adherenceExceptionThresholdSeconds=: must be a whole number of seconds ≥ 0',
      ],
      [
        ['nonOnQueueActivitiesEquivalent=yes'],
        '--set nonOnQueueActivitiesEquivalent=yes: must be true or false',
      ],
      [
        ['mappedReasons=Break,Lunch'],
        '--set mappedReasons=Break,Lunch: "Lunch" is not one of Break, Meal, Meeting, Training (comma-separated)',
      ],
      [['mappedReasons=Meal,Meal'], '--set mappedReasons=Meal,Meal: names a reason twice'],
      [
        ['intervalMinutes=7'],
        '--set intervalMinutes=7: must be a whole number of minutes that divides 1440 (a day), e.g. 5, 10, 15, 30 or 60',
      ],
      [
        ['intervalMinutes=0'],
        '--set intervalMinutes=0: must be a whole number of minutes that divides 1440 (a day), e.g. 5, 10, 15, 30 or 60',
      ],
      [['offsetMinutes=-1'], '--set offsetMinutes=-1: must be a whole number of minutes ≥ 0'],
      [['reasonCodeKeyName='], '--set reasonCodeKeyName=: must not be empty'],
      [['intervalMinutes=30', 'intervalMinutes=60'], '--set intervalMinutes: given twice'],
    ];
    for (const [assignments, error] of cases) {
      expect(parseWhatIfSettings(assignments)).toEqual({ ok: false, error });
    }
  });
});

describe('applyWhatIf', () => {
  it('applies the settings over the rules', () => {
    expect(applyWhatIf(RULES, { adherenceExceptionThresholdSeconds: 300, offsetMinutes: 10 })).toEqual({
      ok: true,
      value: { ...RULES, adherenceExceptionThresholdSeconds: 300, offsetMinutes: 10 },
    });
  });

  it('refuses an offset not below the interval, naming the key that made it so', () => {
    expect(applyWhatIf(RULES, { offsetMinutes: 15 })).toEqual({
      ok: false,
      error: '--set offsetMinutes: offsetMinutes (15) must be less than intervalMinutes (15)',
    });
    expect(
      applyWhatIf({ ...RULES, intervalMinutes: 30, offsetMinutes: 20 }, { intervalMinutes: 15 }),
    ).toEqual({
      ok: false,
      error: '--set intervalMinutes: offsetMinutes (20) must be less than intervalMinutes (15)',
    });
  });
});

describe('describeWhatIf', () => {
  it('says what each setting was, in key order', () => {
    expect(
      describeWhatIf(RULES, {
        reasonCodeKeyName: 'ReasonCode',
        mappedReasons: ['Break'],
        adherenceExceptionThresholdSeconds: 120,
      }),
    ).toEqual([
      'adherenceExceptionThresholdSeconds=120 (was 60)',
      'mappedReasons=Break (was Break,Meal,Meeting,Training)',
      'reasonCodeKeyName=ReasonCode (unchanged)',
    ]);
    expect(describeWhatIf(RULES, {})).toEqual([]);
  });
});
