import { describe, expect, it } from 'vitest';
import {
  type Decoded,
  type DecodeOptions,
  decodeInput,
  defaultDecodeOptions,
  type SubjectAddress,
} from '../../src/domain/index.ts';
import { utc } from '../helpers/agentScenario.ts';

const opts: DecodeOptions = defaultDecodeOptions;
const STAT = 'wfm.stat.T1.S1.A1';
const SCHED = 'wfm.schedule.T1.S1.A1';
const CLOCK = 'wfm.clock.T1.S1';
const statAddr: SubjectAddress = { kind: 'stat', tenant: 'T1', site: 'S1', agentId: 'A1' };
const schedAddr: SubjectAddress = { kind: 'schedule', tenant: 'T1', site: 'S1', agentId: 'A1' };
const clockAddr: SubjectAddress = { kind: 'clock', tenant: 'T1', site: 'S1' };
const TS = utc(10, 0);

function json(value: unknown): string {
  return JSON.stringify(value);
}

function rejected(address: SubjectAddress | null, reason: string, detail: string): Decoded {
  return { ok: false, address, rejection: { reason, detail } } as Decoded;
}

function state(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { statistic: 'CurrentState', agentId: 'A1', status: 'Ready', callType: null, ts: TS, ...extra };
}

function reasonPayload(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    statistic: 'CurrentStateReason',
    agentId: 'A1',
    reasons: { ReasonCode: 'Meal' },
    ts: TS,
    ...extra,
  };
}

/** What `schedule()` with these activities decodes to: the 10:00–11:00 range of agent A1. */
function decodedSchedule(activities: unknown[], emptyActivitiesDropped: number) {
  return {
    ok: true,
    address: schedAddr,
    event: {
      type: 'schedule',
      agentId: 'A1',
      from: utc(10, 0),
      to: utc(11, 0),
      activities,
      emptyActivitiesDropped,
    },
  };
}

function schedule(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    agentId: 'A1',
    from: utc(10, 0),
    to: utc(11, 0),
    activities: [{ start: utc(10, 0), end: utc(10, 30), category: 'OnQueueWork' }],
    ...extra,
  };
}

describe('decodeInput: valid payloads', () => {
  it('decodes a CurrentState to a state event', () => {
    expect(decodeInput(STAT, json(state({ status: 'NotReady', callType: 'Inbound' })), opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'state', agentId: 'A1', status: 'NotReady', callType: 'Inbound', ts: TS },
    });
  });

  it('decodes every status and call type', () => {
    for (const status of ['LoggedOff', 'NotReady', 'Ready', 'AfterCallWork'] as const) {
      for (const callType of [null, 'Inbound', 'Outbound', 'Internal', 'Consult'] as const) {
        expect(decodeInput(STAT, json(state({ status, callType })), opts)).toEqual({
          ok: true,
          address: statAddr,
          event: { type: 'state', agentId: 'A1', status, callType, ts: TS },
        });
      }
    }
  });

  it('accepts bytes (Uint8Array) as well as text', () => {
    const bytes = new TextEncoder().encode(json(state()));
    expect(decodeInput(STAT, bytes, opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'state', agentId: 'A1', status: 'Ready', callType: null, ts: TS },
    });
  });

  it('ignores unknown extra fields', () => {
    expect(decodeInput(STAT, json(state({ extra: 1 })), opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'state', agentId: 'A1', status: 'Ready', callType: null, ts: TS },
    });
  });

  it('accepts ts from 2000-01-01 to 2100-01-01 and refuses seconds or microseconds by mistake', () => {
    for (const ts of [946_684_800_000, 4_102_444_800_000]) {
      expect(decodeInput(CLOCK, json({ ts }), opts)).toEqual({
        ok: true,
        address: clockAddr,
        event: { type: 'clock', ts },
      });
    }
    expect(decodeInput(CLOCK, json({ ts: 1_767_600_000 }), opts)).toEqual({
      ok: false,
      address: clockAddr,
      rejection: { reason: 'bad_ts', detail: '/ts must be >= 946684800000' },
    });
    expect(decodeInput(CLOCK, json({ ts: 1_767_600_000_000_000 }), opts)).toEqual({
      ok: false,
      address: clockAddr,
      rejection: { reason: 'bad_ts', detail: '/ts must be <= 4102444800000' },
    });
  });

  it('decodes a CurrentStateReason: the reason is reasons.ReasonCode', () => {
    expect(
      decodeInput(STAT, json(reasonPayload({ reasons: { ReasonCode: 'Meal', Other: 'x' } })), opts),
    ).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: 'Meal', ts: TS },
    });
  });

  it('reasons without the configured key → reason null', () => {
    expect(decodeInput(STAT, json(reasonPayload({ reasons: { Reason: 'Meal' } })), opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: null, ts: TS },
    });
  });

  it('empty reasons → reason null', () => {
    expect(decodeInput(STAT, json(reasonPayload({ reasons: {} })), opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: null, ts: TS },
    });
  });

  it('an empty string reason → reason null', () => {
    expect(decodeInput(STAT, json(reasonPayload({ reasons: { ReasonCode: '' } })), opts)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: null, ts: TS },
    });
  });

  it('honours reasonCodeKeyName ("Reason")', () => {
    const o = { ...opts, reasonCodeKeyName: 'Reason' };
    expect(
      decodeInput(STAT, json(reasonPayload({ reasons: { Reason: 'Break', ReasonCode: 'Meal' } })), o),
    ).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: 'Break', ts: TS },
    });
    expect(decodeInput(STAT, json(reasonPayload({ reasons: { ReasonCode: 'Meal' } })), o)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: null, ts: TS },
    });
  });

  it('a reason key inherited from Object.prototype is not a reason (toString)', () => {
    const o = { ...opts, reasonCodeKeyName: 'toString' };
    expect(decodeInput(STAT, json(reasonPayload({ reasons: {} })), o)).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'reason', agentId: 'A1', reason: null, ts: TS },
    });
  });

  it('decodes a schedule: activities sorted by start, code kept only when present', () => {
    const payload = {
      agentId: 'A1',
      from: utc(9, 0),
      to: utc(12, 0),
      activities: [
        { start: utc(10, 30), end: utc(11, 0), category: 'Meal', code: 'LUNCH' },
        { start: utc(9, 0), end: utc(10, 0), category: 'OnQueueWork' },
        { start: utc(10, 0), end: utc(10, 30), category: 'Break' },
      ],
    };
    expect(decodeInput(SCHED, json(payload), opts)).toEqual({
      ok: true,
      address: schedAddr,
      event: {
        type: 'schedule',
        agentId: 'A1',
        from: utc(9, 0),
        to: utc(12, 0),
        activities: [
          { start: utc(9, 0), end: utc(10, 0), category: 'OnQueueWork' },
          { start: utc(10, 0), end: utc(10, 30), category: 'Break' },
          { start: utc(10, 30), end: utc(11, 0), category: 'Meal', code: 'LUNCH' },
        ],
        emptyActivitiesDropped: 0,
      },
    });
  });

  it('decodes an empty schedule (clears the range)', () => {
    expect(decodeInput(SCHED, json(schedule({ activities: [] })), opts)).toEqual(decodedSchedule([], 0));
  });

  it('accepts activities that touch each other and the range edges', () => {
    const activities = [
      { start: utc(10, 0), end: utc(10, 30), category: 'TimeOff' },
      { start: utc(10, 30), end: utc(11, 0), category: 'Unavailable' },
    ];
    expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(decodedSchedule(activities, 0));
  });

  it('drops activities with start = end (they cover no time) and counts them', () => {
    const activities = [
      { start: utc(10, 30), end: utc(11, 0), category: 'Meal' },
      { start: utc(10, 10), end: utc(10, 10), category: 'Break' },
      { start: utc(10, 0), end: utc(10, 30), category: 'OnQueueWork' },
      { start: utc(11, 0), end: utc(11, 0), category: 'Meeting', code: 'X' },
    ];
    expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
      decodedSchedule(
        [
          { start: utc(10, 0), end: utc(10, 30), category: 'OnQueueWork' },
          { start: utc(10, 30), end: utc(11, 0), category: 'Meal' },
        ],
        2,
      ),
    );
  });

  it('an empty activity is dropped wherever it lies: inside another, outside [from, to), alone', () => {
    const activities = [
      { start: utc(9, 0), end: utc(9, 0), category: 'Break' },
      { start: utc(10, 0), end: utc(10, 30), category: 'OnQueueWork' },
      { start: utc(10, 15), end: utc(10, 15), category: 'Break' },
      { start: utc(12, 0), end: utc(12, 0), category: 'Break' },
    ];
    expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
      decodedSchedule([{ start: utc(10, 0), end: utc(10, 30), category: 'OnQueueWork' }], 3),
    );
    const alone = [{ start: utc(10, 10), end: utc(10, 10), category: 'Break' }];
    expect(decodeInput(SCHED, json(schedule({ activities: alone })), opts)).toEqual(decodedSchedule([], 1));
  });

  it('decodes every activity category', () => {
    const categories = [
      'OnQueueWork',
      'Break',
      'Meal',
      'Meeting',
      'OffQueueWork',
      'TimeOff',
      'Training',
      'Unavailable',
    ];
    const activities = categories.map((category, i) => ({
      start: utc(10, i),
      end: utc(10, i + 1),
      category,
    }));
    expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(decodedSchedule(activities, 0));
  });

  it('decodes a clock tick', () => {
    expect(decodeInput(CLOCK, json({ ts: TS }), opts)).toEqual({
      ok: true,
      address: clockAddr,
      event: { type: 'clock', ts: TS },
    });
  });

  it('ids may use letters, digits, _ and -, up to 64 characters', () => {
    const id = `a-B_9${'x'.repeat(59)}`;
    expect(id).toHaveLength(64);
    expect(decodeInput(`wfm.stat.t-1.s_1.${id}`, json(state({ agentId: id })), opts)).toEqual({
      ok: true,
      address: { kind: 'stat', tenant: 't-1', site: 's_1', agentId: id },
      event: { type: 'state', agentId: id, status: 'Ready', callType: null, ts: TS },
    });
  });
});

describe('decodeInput: rejections', () => {
  describe('bad_subject', () => {
    it.each([
      'wfm.stat.T1.S1',
      'wfm.stat.T1.S1.A1.extra',
      'wfm.schedule.T1.S1',
      'wfm.clock.T1.S1.A1',
      'wfm.clock.T1',
      'wfm.gc.T1.S1.A1',
      'other.stat.T1.S1.A1',
      'wfm.stat.T1.S1.A*1',
      'wfm.stat.T1.S 1.A1',
      `wfm.stat.T1.S1.${'a'.repeat(65)}`,
      'wfm.stat..S1.A1',
      '',
    ])('%j', (subject) => {
      expect(decodeInput(subject, json(state()), opts)).toEqual(
        rejected(null, 'bad_subject', `not an input subject: ${subject}`),
      );
    });

    it('cuts a long subject to 200 characters in the detail', () => {
      const subject = `x${'y'.repeat(300)}`;
      expect(decodeInput(subject, '{}', opts)).toEqual(
        rejected(null, 'bad_subject', `not an input subject: ${subject.slice(0, 200)}`),
      );
    });
  });

  it('too_large: a payload over maxPayloadBytes (counted in UTF-8 bytes)', () => {
    const text = json(state());
    const size = Buffer.byteLength(text);
    expect(decodeInput(STAT, text, { ...opts, maxPayloadBytes: size })).toEqual({
      ok: true,
      address: statAddr,
      event: { type: 'state', agentId: 'A1', status: 'Ready', callType: null, ts: TS },
    });
    expect(decodeInput(STAT, text, { ...opts, maxPayloadBytes: size - 1 })).toEqual(
      rejected(statAddr, 'too_large', `payload of ${size} bytes exceeds ${size - 1}`),
    );
    // "é" is two bytes in UTF-8: 12 characters but 16 bytes.
    expect('{"a":"éééé"}').toHaveLength(12);
    expect(decodeInput(STAT, '{"a":"éééé"}', { ...opts, maxPayloadBytes: 14 })).toEqual(
      rejected(statAddr, 'too_large', 'payload of 16 bytes exceeds 14'),
    );
    expect(
      decodeInput(STAT, new TextEncoder().encode('{"a":"éééé"}'), { ...opts, maxPayloadBytes: 15 }),
    ).toEqual(rejected(statAddr, 'too_large', 'payload of 16 bytes exceeds 15'));
  });

  it('too_large: the default limit is 65536 bytes', () => {
    const text = json(reasonPayload({ pad: 'x'.repeat(70_000) }));
    expect(decodeInput(STAT, text, opts)).toEqual(
      rejected(statAddr, 'too_large', `payload of ${Buffer.byteLength(text)} bytes exceeds 65536`),
    );
  });

  describe('invalid_json', () => {
    it.each(['{', '', 'nope', '{"a":1,}', "{'a':1}"])('%j', (text) => {
      let message = '';
      try {
        JSON.parse(text);
      } catch (err) {
        message = (err as Error).message;
      }
      expect(decodeInput(STAT, text, opts)).toEqual(rejected(statAddr, 'invalid_json', message));
    });

    it('bytes that are not UTF-8', () => {
      const decoded = decodeInput(STAT, new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]), opts);
      expect(decoded).toEqual(
        rejected(statAddr, 'invalid_json', 'The encoded data was not valid for encoding utf-8'),
      );
    });
  });

  describe('not_object', () => {
    it('an array', () => {
      expect(decodeInput(STAT, '[1,2]', opts)).toEqual(
        rejected(statAddr, 'not_object', 'payload is an array'),
      );
    });
    it('a number', () => {
      expect(decodeInput(STAT, '5', opts)).toEqual(rejected(statAddr, 'not_object', 'payload is number'));
    });
    it('a string', () => {
      expect(decodeInput(CLOCK, '"x"', opts)).toEqual(rejected(clockAddr, 'not_object', 'payload is string'));
    });
    it('null (the detail names null, not "object")', () => {
      expect(decodeInput(STAT, 'null', opts)).toEqual(rejected(statAddr, 'not_object', 'payload is null'));
    });
  });

  describe('unknown_statistic', () => {
    it('an unknown statistic name', () => {
      expect(decodeInput(STAT, json(state({ statistic: 'TotalTalkTime' })), opts)).toEqual(
        rejected(
          statAddr,
          'unknown_statistic',
          'statistic TotalTalkTime is not CurrentState or CurrentStateReason',
        ),
      );
    });
    it('no statistic at all', () => {
      expect(decodeInput(STAT, json({ agentId: 'A1', ts: TS }), opts)).toEqual(
        rejected(
          statAddr,
          'unknown_statistic',
          'statistic undefined is not CurrentState or CurrentStateReason',
        ),
      );
    });
    it('a statistic of the wrong case', () => {
      expect(decodeInput(STAT, json(state({ statistic: 'currentstate' })), opts)).toEqual(
        rejected(
          statAddr,
          'unknown_statistic',
          'statistic currentstate is not CurrentState or CurrentStateReason',
        ),
      );
    });
  });

  describe('bad_status', () => {
    it.each(['Busy', 'ready', '', 5, null])('status %j', (status) => {
      const decoded = decodeInput(STAT, json(state({ status })), opts);
      expect(decoded.ok).toBe(false);
      expect(decoded).toMatchObject({ address: statAddr, rejection: { reason: 'bad_status' } });
    });
    it('exact detail', () => {
      expect(decodeInput(STAT, json(state({ status: 'Busy' })), opts)).toEqual(
        rejected(statAddr, 'bad_status', '/status must be equal to constant'),
      );
    });
  });

  describe('bad_call_type', () => {
    it.each(['Video', 'inbound', '', 3, false])('callType %j', (callType) => {
      expect(decodeInput(STAT, json(state({ callType })), opts)).toMatchObject({
        ok: false,
        address: statAddr,
        rejection: { reason: 'bad_call_type' },
      });
    });
    it('exact detail', () => {
      expect(decodeInput(STAT, json(state({ callType: 'Video' })), opts)).toEqual(
        rejected(statAddr, 'bad_call_type', '/callType must be equal to constant'),
      );
    });
  });

  describe('bad_reasons', () => {
    it('reasons is a string', () => {
      expect(decodeInput(STAT, json(reasonPayload({ reasons: 'Meal' })), opts)).toEqual(
        rejected(statAddr, 'bad_reasons', '/reasons must be object'),
      );
    });
    it('reasons is an array', () => {
      expect(decodeInput(STAT, json(reasonPayload({ reasons: ['Meal'] })), opts)).toEqual(
        rejected(statAddr, 'bad_reasons', '/reasons must be object'),
      );
    });
    it('reasons is null', () => {
      expect(decodeInput(STAT, json(reasonPayload({ reasons: null })), opts)).toMatchObject({
        ok: false,
        rejection: { reason: 'bad_reasons' },
      });
    });
    it('a reason value that is not a string', () => {
      expect(decodeInput(STAT, json(reasonPayload({ reasons: { ReasonCode: 5 } })), opts)).toEqual(
        rejected(statAddr, 'bad_reasons', '/reasons/ReasonCode must be string'),
      );
    });
    it('a reason value longer than 256 characters', () => {
      expect(
        decodeInput(STAT, json(reasonPayload({ reasons: { ReasonCode: 'x'.repeat(257) } })), opts),
      ).toMatchObject({ ok: false, address: statAddr, rejection: { reason: 'bad_reasons' } });
    });
    it('more than 64 reasons', () => {
      const reasons = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v']));
      expect(decodeInput(STAT, json(reasonPayload({ reasons })), opts)).toMatchObject({
        ok: false,
        address: statAddr,
        rejection: { reason: 'bad_reasons' },
      });
    });
  });

  describe('agent_mismatch', () => {
    it('a stat payload for another agent than the subject', () => {
      expect(decodeInput(STAT, json(state({ agentId: 'B2' })), opts)).toEqual(
        rejected(statAddr, 'agent_mismatch', 'agentId B2 on subject for A1'),
      );
    });
    it('a schedule payload for another agent than the subject', () => {
      expect(decodeInput(SCHED, json(schedule({ agentId: 'B2' })), opts)).toEqual(
        rejected(schedAddr, 'agent_mismatch', 'agentId B2 on subject for A1'),
      );
    });
    it('agent ids are case-sensitive', () => {
      expect(decodeInput(STAT, json(reasonPayload({ agentId: 'a1' })), opts)).toEqual(
        rejected(statAddr, 'agent_mismatch', 'agentId a1 on subject for A1'),
      );
    });
  });

  describe('bad_ts', () => {
    it('negative', () => {
      expect(decodeInput(STAT, json(state({ ts: -1 })), opts)).toEqual(
        rejected(statAddr, 'bad_ts', '/ts must be >= 946684800000'),
      );
    });
    it('a float', () => {
      expect(decodeInput(STAT, json(state({ ts: TS + 0.5 })), opts)).toEqual(
        rejected(statAddr, 'bad_ts', '/ts must be integer'),
      );
    });
    it('a string', () => {
      expect(decodeInput(STAT, json(state({ ts: String(TS) })), opts)).toEqual(
        rejected(statAddr, 'bad_ts', '/ts must be integer'),
      );
    });
    it('above Number.MAX_SAFE_INTEGER', () => {
      expect(decodeInput(CLOCK, '{"ts":9007199254740993}', opts)).toMatchObject({
        ok: false,
        address: clockAddr,
        rejection: { reason: 'bad_ts' },
      });
    });
    it('on a reason and on a clock tick', () => {
      expect(decodeInput(STAT, json(reasonPayload({ ts: -5 })), opts)).toEqual(
        rejected(statAddr, 'bad_ts', '/ts must be >= 946684800000'),
      );
      expect(decodeInput(CLOCK, json({ ts: 1.25 }), opts)).toEqual(
        rejected(clockAddr, 'bad_ts', '/ts must be integer'),
      );
    });
    it('missing on a CurrentState', () => {
      const { ts: _ts, ...payload } = state();
      expect(decodeInput(STAT, json(payload), opts)).toMatchObject({
        ok: false,
        address: statAddr,
        rejection: { reason: 'bad_ts' },
      });
    });
    it('missing on a CurrentStateReason', () => {
      const { ts: _ts, ...payload } = reasonPayload();
      expect(decodeInput(STAT, json(payload), opts)).toMatchObject({
        ok: false,
        address: statAddr,
        rejection: { reason: 'bad_ts' },
      });
    });
    it('missing on a clock tick', () => {
      expect(decodeInput(CLOCK, '{}', opts)).toMatchObject({
        ok: false,
        address: clockAddr,
        rejection: { reason: 'bad_ts' },
      });
    });
  });

  describe('bad_schedule', () => {
    it('from equal to to', () => {
      expect(
        decodeInput(SCHED, json(schedule({ from: utc(10, 0), to: utc(10, 0), activities: [] })), opts),
      ).toEqual(rejected(schedAddr, 'bad_schedule', `from ${utc(10, 0)} is not before to ${utc(10, 0)}`));
    });
    it('from after to', () => {
      expect(
        decodeInput(SCHED, json(schedule({ from: utc(11, 0), to: utc(10, 0), activities: [] })), opts),
      ).toEqual(rejected(schedAddr, 'bad_schedule', `from ${utc(11, 0)} is not before to ${utc(10, 0)}`));
    });
    it('an activity starting before from', () => {
      const activities = [{ start: utc(9, 59), end: utc(10, 30), category: 'Break' }];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', 'activity 0 lies outside [from, to)'),
      );
    });
    it('an activity ending after to', () => {
      const activities = [
        { start: utc(10, 0), end: utc(10, 30), category: 'Break' },
        { start: utc(10, 30), end: utc(11, 1), category: 'Meal' },
      ];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', 'activity 1 lies outside [from, to)'),
      );
    });
    it('an activity with start after end (index after sorting)', () => {
      const activities = [
        { start: utc(10, 30), end: utc(10, 40), category: 'Meal' },
        { start: utc(10, 20), end: utc(10, 10), category: 'Break' },
      ];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', 'activity 0 ends before it starts'),
      );
    });
    it('an activity with start after end, beside an empty one', () => {
      const activities = [
        { start: utc(10, 5), end: utc(10, 5), category: 'Meal' },
        { start: utc(10, 20), end: utc(10, 10), category: 'Break' },
      ];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', 'activity 1 ends before it starts'),
      );
    });
    it('overlapping activities (index after sorting)', () => {
      const activities = [
        { start: utc(10, 20), end: utc(10, 40), category: 'Meal' },
        { start: utc(10, 0), end: utc(10, 30), category: 'Break' },
      ];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', 'activity 1 overlaps the one before it'),
      );
    });
    it('an unknown category', () => {
      const activities = [{ start: utc(10, 0), end: utc(10, 30), category: 'Lunch' }];
      expect(decodeInput(SCHED, json(schedule({ activities })), opts)).toEqual(
        rejected(schedAddr, 'bad_schedule', '/activities/0/category must be equal to constant'),
      );
    });
    it('activities not an array', () => {
      expect(decodeInput(SCHED, json(schedule({ activities: {} })), opts)).toMatchObject({
        ok: false,
        address: schedAddr,
        rejection: { reason: 'bad_schedule' },
      });
    });
    it('a non-integer from', () => {
      expect(decodeInput(SCHED, json(schedule({ from: 'x' })), opts)).toMatchObject({
        ok: false,
        address: schedAddr,
        rejection: { reason: 'bad_schedule' },
      });
    });
  });

  describe('bad_payload', () => {
    it('__proto__ key at the top level', () => {
      const text = `{"__proto__":{"polluted":true},"statistic":"CurrentState","agentId":"A1","status":"Ready","callType":null,"ts":${TS}}`;
      expect(decodeInput(STAT, text, opts)).toEqual(
        rejected(statAddr, 'bad_payload', 'forbidden key __proto__'),
      );
      expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    });
    it('__proto__ key nested in reasons', () => {
      const text = `{"statistic":"CurrentStateReason","agentId":"A1","reasons":{"__proto__":"x"},"ts":${TS}}`;
      expect(decodeInput(STAT, text, opts)).toEqual(
        rejected(statAddr, 'bad_payload', 'forbidden key __proto__'),
      );
    });
    it('__proto__ key nested in a schedule activity', () => {
      const text = `{"agentId":"A1","from":0,"to":10,"activities":[{"start":0,"end":5,"category":"Break","__proto__":{}}]}`;
      expect(decodeInput(SCHED, text, opts)).toEqual(
        rejected(schedAddr, 'bad_payload', 'forbidden key __proto__'),
      );
    });
    it('constructor and prototype keys', () => {
      expect(decodeInput(CLOCK, `{"ts":1,"constructor":{"prototype":{}}}`, opts)).toEqual(
        rejected(clockAddr, 'bad_payload', 'forbidden key constructor'),
      );
      expect(decodeInput(CLOCK, `{"ts":1,"x":{"prototype":1}}`, opts)).toEqual(
        rejected(clockAddr, 'bad_payload', 'forbidden key prototype'),
      );
    });
    it('missing agentId (stat)', () => {
      const { agentId: _a, ...payload } = state();
      expect(decodeInput(STAT, json(payload), opts)).toEqual(
        rejected(statAddr, 'bad_payload', '(payload) must have required properties agentId'),
      );
    });
    it('missing agentId (schedule)', () => {
      const { agentId: _a, ...payload } = schedule();
      expect(decodeInput(SCHED, json(payload), opts)).toMatchObject({
        ok: false,
        address: schedAddr,
        rejection: { reason: 'bad_payload' },
      });
    });
    it('agentId that is not a string', () => {
      expect(decodeInput(STAT, json(state({ agentId: 7 })), opts)).toEqual(
        rejected(statAddr, 'bad_payload', '/agentId must be string'),
      );
    });
  });
});
