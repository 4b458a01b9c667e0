import { describe, expect, it } from 'vitest';
import { type SiteSnapshot, SiteSupervisor } from '../../src/actors/index.ts';
import { decodeInput, defaultDecodeOptions } from '../../src/domain/index.ts';
import {
  act,
  adherenceOut,
  clockMsg,
  gcOut,
  intervalOut,
  reasonMsg,
  SiteScenario,
  scheduleMsg,
  stateMsg,
  TENANT,
  utc,
} from '../helpers/agentScenario.ts';

const none = { outputs: [], dlq: [] };

describe('SiteSupervisor: DESIGN.md worked example, driven by clock ticks', () => {
  it('publishes each output with the message that caused it', () => {
    const s = new SiteScenario();
    expect(s.schedule('A1', utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')])).toEqual(
      none,
    );
    expect(s.state('A1', 'Ready', utc(9, 58))).toEqual({
      outputs: [
        gcOut('A1', 'ON_QUEUE', 'IDLE', utc(9, 58), 2),
        adherenceOut(
          'A1',
          {
            state: 'Unscheduled',
            scheduled: null,
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(9, 58),
            ts: utc(9, 58),
            seq: 2,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(s.clock(utc(9, 59))).toEqual(none);
    expect(s.clock(utc(10, 0))).toEqual({
      outputs: [
        adherenceOut('A1', {
          state: 'InAdherence',
          scheduled: 'OnQueueWork',
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 0),
          seq: 4,
        }),
      ],
      dlq: [],
    });
    expect(s.clock(utc(10, 1))).toEqual({
      outputs: [
        intervalOut('A1', {
          intervalStart: utc(9, 45),
          secondsByPresence: { ON_QUEUE: 120 },
          adherenceScheduleSecs: 0,
          exceptionDurationSecs: 0,
          adherencePercentage: null,
          conformanceScheduleSecs: 0,
          conformanceActualSecs: 120,
          conformancePercentage: null,
          sourceSeq: 5,
        }),
      ],
      dlq: [],
    });
    expect(s.state('A1', 'NotReady', utc(10, 5))).toEqual({
      outputs: [
        gcOut('A1', 'BUSY', 'OFF_QUEUE', utc(10, 5), 6),
        adherenceOut(
          'A1',
          {
            state: 'OutOfAdherence',
            scheduled: 'OnQueueWork',
            actual: 'OffQueueWork',
            impact: 'Negative',
            since: utc(10, 5),
            ts: utc(10, 5),
            seq: 6,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(s.state('A1', 'Ready', utc(10, 5, 40))).toEqual({
      outputs: [
        gcOut('A1', 'ON_QUEUE', 'IDLE', utc(10, 5, 40), 7),
        adherenceOut(
          'A1',
          {
            state: 'InAdherence',
            scheduled: 'OnQueueWork',
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 5, 40),
            ts: utc(10, 5, 40),
            seq: 7,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(s.clock(utc(10, 10))).toEqual(none);
    expect(s.reason('A1', 'Meal', utc(10, 14, 30))).toEqual(none);
    expect(s.state('A1', 'NotReady', utc(10, 14, 30))).toEqual({
      outputs: [
        gcOut('A1', 'MEAL', 'OFF_QUEUE', utc(10, 14, 30), 10),
        adherenceOut(
          'A1',
          {
            state: 'OutOfAdherence',
            scheduled: 'OnQueueWork',
            actual: 'Meal',
            impact: 'Negative',
            since: utc(10, 14, 30),
            ts: utc(10, 14, 30),
            seq: 10,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(s.clock(utc(10, 15))).toEqual(none);
    expect(s.clock(utc(10, 15, 59, 999))).toEqual(none);
    expect(s.clock(utc(10, 16))).toEqual({
      outputs: [
        intervalOut('A1', {
          intervalStart: utc(10, 0),
          secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
          adherenceScheduleSecs: 900,
          exceptionDurationSecs: 30,
          adherencePercentage: 96.67,
          conformanceScheduleSecs: 900,
          conformanceActualSecs: 830,
          conformancePercentage: 92.22,
          sourceSeq: 13,
        }),
      ],
      dlq: [],
    });
    expect(s.state('A1', 'Ready', utc(10, 16))).toEqual({
      outputs: [
        gcOut('A1', 'ON_QUEUE', 'IDLE', utc(10, 16), 14),
        adherenceOut(
          'A1',
          {
            state: 'InAdherence',
            scheduled: 'OnQueueWork',
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 16),
            ts: utc(10, 16),
            seq: 14,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(s.clock(utc(10, 30))).toEqual({
      outputs: [
        adherenceOut('A1', {
          state: 'Unscheduled',
          scheduled: null,
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 30),
          ts: utc(10, 30),
          seq: 15,
        }),
      ],
      dlq: [],
    });
    expect(s.clock(utc(10, 31))).toEqual({
      outputs: [
        intervalOut('A1', {
          intervalStart: utc(10, 15),
          secondsByPresence: { MEAL: 60, ON_QUEUE: 840 },
          adherenceScheduleSecs: 900,
          exceptionDurationSecs: 60,
          adherencePercentage: 93.33,
          conformanceScheduleSecs: 900,
          conformanceActualSecs: 840,
          conformancePercentage: 93.33,
          sourceSeq: 16,
        }),
      ],
      dlq: [],
    });
  });

  it('the 10:00 record also comes out with the stat message that first reaches 10:16:00', () => {
    const s = new SiteScenario();
    s.schedule('A1', utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    s.state('A1', 'Ready', utc(9, 58));
    s.clock(utc(10, 1));
    s.state('A1', 'NotReady', utc(10, 5));
    s.state('A1', 'Ready', utc(10, 5, 40));
    s.reason('A1', 'Meal', utc(10, 14, 30));
    s.state('A1', 'NotReady', utc(10, 14, 30));
    expect(s.clock(utc(10, 15, 59))).toEqual(none);
    expect(s.state('A1', 'Ready', utc(10, 16)).outputs).toEqual([
      intervalOut('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 30,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 830,
        conformancePercentage: 92.22,
        sourceSeq: 9,
      }),
      gcOut('A1', 'ON_QUEUE', 'IDLE', utc(10, 16), 9, 1),
      adherenceOut(
        'A1',
        {
          state: 'InAdherence',
          scheduled: 'OnQueueWork',
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 16),
          ts: utc(10, 16),
          seq: 9,
        },
        2,
      ),
    ]);
  });
});

describe('SiteSupervisor: site event time', () => {
  it('is the greatest ts of stat and clock messages; schedules carry none', () => {
    const s = new SiteScenario();
    expect(s.sup.siteTime).toBe(-1);
    s.schedule('A1', utc(10, 0), utc(12, 0), []);
    expect(s.sup.siteTime).toBe(-1);
    s.clock(utc(10, 0));
    expect(s.sup.siteTime).toBe(utc(10, 0));
    s.state('A1', 'Ready', utc(10, 5));
    expect(s.sup.siteTime).toBe(utc(10, 5));
    s.clock(utc(10, 1));
    expect(s.sup.siteTime).toBe(utc(10, 5));
    s.reason('B1', 'Meal', utc(10, 7));
    expect(s.sup.siteTime).toBe(utc(10, 7));
    s.state('A1', 'NotReady', utc(10, 6));
    expect(s.sup.siteTime).toBe(utc(10, 7));
  });

  it('a rejected message does not move it', () => {
    const s = new SiteScenario();
    s.clock(utc(10, 0));
    s.send({ subject: 'wfm.clock.T1.S1', data: '{"ts":"x"}' });
    expect(s.sup.siteTime).toBe(utc(10, 0));
  });

  it('a late stat message leaves it (and its agent) unchanged and goes to the DLQ', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 5));
    expect(s.state('A1', 'NotReady', utc(10, 4))).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 2,
          ordinal: 0,
          subject: 'wfm.stat.T1.S1.A1',
          reason: 'late',
          detail: `ts ${utc(10, 4)} is older than the agent's last accepted ts ${utc(10, 5)}`,
        },
      ],
    });
    expect(s.sup.siteTime).toBe(utc(10, 5));
    expect(s.reason('A1', 'Meal', utc(10, 4, 59))).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 3,
          ordinal: 0,
          subject: 'wfm.stat.T1.S1.A1',
          reason: 'late',
          detail: `ts ${utc(10, 4, 59)} is older than the agent's last accepted ts ${utc(10, 5)}`,
        },
      ],
    });
    // Nothing changed: the next NotReady is plain BUSY.
    expect(s.state('A1', 'NotReady', utc(10, 6)).outputs[0]).toEqual(
      gcOut('A1', 'BUSY', 'OFF_QUEUE', utc(10, 6), 4),
    );
  });
});

describe('SiteSupervisor: deadlines', () => {
  it('a clock tick past schedule boundaries reports each at its time; outputs are numbered in the order produced', () => {
    const s = new SiteScenario();
    s.schedule('A1', utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 5), 'OnQueueWork'),
      act(utc(10, 5), utc(10, 10), 'Break'),
      act(utc(10, 10), utc(10, 15), 'OnQueueWork'),
    ]);
    // B1 first: agents due at the same time are still advanced in agentId order.
    s.state('B1', 'Ready', utc(10, 0));
    s.state('A1', 'Ready', utc(10, 0));
    expect(s.clock(utc(10, 16))).toEqual({
      outputs: [
        adherenceOut(
          'A1',
          {
            state: 'OutOfAdherence',
            scheduled: 'Break',
            actual: 'OnQueueWork',
            impact: 'Positive',
            since: utc(10, 5),
            ts: utc(10, 5),
            seq: 4,
          },
          0,
        ),
        adherenceOut(
          'A1',
          {
            state: 'InAdherence',
            scheduled: 'OnQueueWork',
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 10),
            ts: utc(10, 10),
            seq: 4,
          },
          1,
        ),
        adherenceOut(
          'A1',
          {
            state: 'Unscheduled',
            scheduled: null,
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 15),
            ts: utc(10, 15),
            seq: 4,
          },
          2,
        ),
        intervalOut(
          'A1',
          {
            intervalStart: utc(10, 0),
            secondsByPresence: { ON_QUEUE: 900 },
            adherenceScheduleSecs: 900,
            exceptionDurationSecs: 300,
            adherencePercentage: 66.67,
            conformanceScheduleSecs: 600,
            conformanceActualSecs: 900,
            conformancePercentage: 150,
            sourceSeq: 4,
          },
          3,
        ),
        intervalOut(
          'B1',
          {
            intervalStart: utc(10, 0),
            secondsByPresence: { ON_QUEUE: 900 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 900,
            conformancePercentage: null,
            sourceSeq: 4,
          },
          4,
        ),
      ],
      dlq: [],
    });
  });

  it('two intervals closing in one message get ordinals 0 and 1', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    const record = (start: number, ordinal: number) =>
      intervalOut(
        'A1',
        {
          intervalStart: start,
          secondsByPresence: { ON_QUEUE: 900 },
          adherenceScheduleSecs: 0,
          exceptionDurationSecs: 0,
          adherencePercentage: null,
          conformanceScheduleSecs: 0,
          conformanceActualSecs: 900,
          conformancePercentage: null,
          sourceSeq: 2,
        },
        ordinal,
      );
    expect(s.clock(utc(10, 31))).toEqual({
      outputs: [record(utc(10, 0), 0), record(utc(10, 15), 1)],
      dlq: [],
    });
  });

  it('agents only scheduled (never seen in a stat) have no deadlines', () => {
    const s = new SiteScenario();
    s.schedule('A1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    expect(s.clock(utc(12, 0))).toEqual(none);
    expect(s.sup.agentCount).toBe(1);
  });

  it('an agent first seen with a ts the site has passed is advanced at once', () => {
    const s = new SiteScenario();
    s.clock(utc(10, 20));
    expect(s.state('A1', 'Ready', utc(10, 0))).toEqual({
      outputs: [
        gcOut('A1', 'ON_QUEUE', 'IDLE', utc(10, 0), 2),
        adherenceOut(
          'A1',
          {
            state: 'Unscheduled',
            scheduled: null,
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 0),
            ts: utc(10, 0),
            seq: 2,
          },
          1,
        ),
        intervalOut(
          'A1',
          {
            intervalStart: utc(10, 0),
            secondsByPresence: { ON_QUEUE: 900 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 900,
            conformancePercentage: null,
            sourceSeq: 2,
          },
          2,
        ),
      ],
      dlq: [],
    });
  });

  it('a schedule received for a known agent fires boundaries the site time has already passed', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    s.clock(utc(10, 10));
    expect(s.schedule('A1', utc(10, 0), utc(11, 0), [act(utc(10, 5), utc(10, 30), 'Break')])).toEqual({
      outputs: [
        adherenceOut(
          'A1',
          {
            state: 'OutOfAdherence',
            scheduled: 'Break',
            actual: 'OnQueueWork',
            impact: 'Positive',
            since: utc(10, 5),
            ts: utc(10, 5),
            seq: 3,
          },
          0,
        ),
      ],
      dlq: [],
    });
  });

  it('an event older than the time a deadline advanced its agent to takes effect at that time', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    // B1 moves the site to 10:20: A1's 10:00 interval closes (deadline 10:16).
    expect(s.state('B1', 'Ready', utc(10, 20)).outputs.map((o) => [o.kind, o.agentId])).toEqual([
      ['gc', 'B1'],
      ['adherence', 'B1'],
      ['interval', 'A1'],
    ]);
    // 10:10 is after A1's last ts (10:00) but before 10:16: not late, applied at 10:16.
    const r = s.state('A1', 'NotReady', utc(10, 10));
    expect(r.dlq).toEqual([]);
    expect(r.outputs.map((o) => o.kind)).toEqual(['gc', 'adherence']);
    expect(r.outputs[1]).toEqual(
      adherenceOut(
        'A1',
        {
          state: 'Unscheduled',
          scheduled: null,
          actual: 'OffQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 16),
          seq: 3,
        },
        1,
      ),
    );
    expect(s.clock(utc(10, 31))).toEqual({
      outputs: [
        intervalOut('A1', {
          intervalStart: utc(10, 15),
          secondsByPresence: { ON_QUEUE: 60, BUSY: 840 },
          adherenceScheduleSecs: 0,
          exceptionDurationSecs: 0,
          adherencePercentage: null,
          conformanceScheduleSecs: 0,
          conformanceActualSecs: 60,
          conformancePercentage: null,
          sourceSeq: 4,
        }),
        intervalOut(
          'B1',
          {
            intervalStart: utc(10, 15),
            secondsByPresence: { ON_QUEUE: 600 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 600,
            conformancePercentage: null,
            sourceSeq: 4,
          },
          1,
        ),
      ],
      dlq: [],
    });
  });
});

describe('SiteSupervisor: agent ids', () => {
  it('ids that are Object.prototype names are agents like any other, advanced in agentId order', () => {
    const s = new SiteScenario();
    const ids = ['toString', '__proto__', 'constructor', 'hasOwnProperty'];
    for (const id of ids) s.state(id, 'Ready', utc(10, 0));
    const r = s.clock(utc(10, 16));
    expect(r.outputs.map((o) => [o.kind, o.agentId, o.ordinal])).toEqual([
      ['interval', '__proto__', 0],
      ['interval', 'constructor', 1],
      ['interval', 'hasOwnProperty', 2],
      ['interval', 'toString', 3],
    ]);
    expect(s.sup.agentCount).toBe(4);
    expect(s.sup.capture().agents.map(([id]) => id)).toEqual(ids);
  });
});

describe('SiteSupervisor: sequence numbers and the DLQ', () => {
  it('ignores messages at or below the last processed seq', () => {
    const sup = new SiteSupervisor({ tenant: TENANT, site: 'S1' });
    const m = stateMsg('A1', 'Ready', null, utc(10, 0));
    const decoded = decodeInput(m.subject, m.data, defaultDecodeOptions);
    expect(sup.process(5, m.subject, decoded).outputs).toHaveLength(2);
    expect(sup.seq).toBe(5);
    expect(sup.process(5, m.subject, decoded)).toEqual(none);
    expect(sup.process(4, m.subject, decoded)).toEqual(none);
    expect(sup.process(0, m.subject, decoded)).toEqual(none);
    expect(sup.seq).toBe(5);
    const n = stateMsg('A1', 'NotReady', null, utc(10, 1));
    const next = sup.process(9, n.subject, decodeInput(n.subject, n.data, defaultDecodeOptions));
    expect(next.outputs[0]).toEqual(gcOut('A1', 'BUSY', 'OFF_QUEUE', utc(10, 1), 9));
    expect(sup.seq).toBe(9);
  });

  it('a rejected decode becomes a DLQ entry and still consumes its seq', () => {
    const s = new SiteScenario();
    expect(s.send({ subject: 'wfm.stat.T1.S1.A1', data: '{"statistic":"CurrentState"' })).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 1,
          ordinal: 0,
          subject: 'wfm.stat.T1.S1.A1',
          reason: 'invalid_json',
          detail: (() => {
            try {
              JSON.parse('{"statistic":"CurrentState"');
              return '';
            } catch (err) {
              return (err as Error).message;
            }
          })(),
        },
      ],
    });
    expect(s.sup.seq).toBe(1);
    expect(s.send({ subject: 'wfm.bogus', data: '{}' })).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 2,
          ordinal: 0,
          subject: 'wfm.bogus',
          reason: 'bad_subject',
          detail: 'not an input subject: wfm.bogus',
        },
      ],
    });
    expect(s.send(stateMsg('A1', 'Ready', 'Video' as never, utc(10, 0)))).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 3,
          ordinal: 0,
          subject: 'wfm.stat.T1.S1.A1',
          reason: 'bad_call_type',
          detail: '/callType must be equal to constant',
        },
      ],
    });
    expect(s.sup.agentCount).toBe(0);
  });
});

describe('SiteSupervisor: options', () => {
  it('mappedReasons [Break]: Meal maps to BUSY, Break to BREAK', () => {
    const s = new SiteScenario({ mappedReasons: ['Break'] });
    s.reason('A1', 'Meal', utc(10, 0));
    expect(s.state('A1', 'NotReady', utc(10, 0)).outputs[0]).toEqual(
      gcOut('A1', 'BUSY', 'OFF_QUEUE', utc(10, 0), 2),
    );
    expect(s.reason('A1', 'Break', utc(10, 1)).outputs[0]).toEqual(
      gcOut('A1', 'BREAK', 'OFF_QUEUE', utc(10, 1), 3),
    );
  });

  it('reasonCodeKeyName "Reason" is honoured end to end', () => {
    const s = new SiteScenario({}, { reasonCodeKeyName: 'Reason' });
    s.send(reasonMsg('A1', { Reason: 'Training', ReasonCode: 'Meal' }, utc(10, 0)));
    expect(s.state('A1', 'NotReady', utc(10, 0)).outputs[0]).toEqual(
      gcOut('A1', 'TRAINING', 'OFF_QUEUE', utc(10, 0), 2),
    );
    // The default key is ignored: reason null → BUSY.
    expect(s.send(reasonMsg('A1', { ReasonCode: 'Meal' }, utc(10, 1))).outputs[0]).toEqual(
      gcOut('A1', 'BUSY', 'OFF_QUEUE', utc(10, 1), 3),
    );
  });

  it('invalid options throw at construction', () => {
    expect(() => new SiteSupervisor({ tenant: TENANT, site: 'S1', intervalMinutes: 7 })).toThrow(RangeError);
  });
});

describe('SiteSupervisor: state, snapshots and restore', () => {
  it('agents() shows each agent with its statechart value and context', () => {
    const s = new SiteScenario();
    s.state('A1', 'NotReady', utc(10, 0), 'Internal');
    s.schedule('B1', utc(10, 0), utc(11, 0), []);
    const agents = [...s.sup.agents()];
    expect(agents.map((a) => [a.agentId, a.value])).toEqual([
      ['A1', { presence: 'busy', adherence: 'unscheduled' }],
      ['B1', { presence: 'unknown', adherence: 'unknown' }],
    ]);
    expect(agents[0]!.context.gc).toEqual({ presence: 'BUSY', routingStatus: 'COMMUNICATING' });
    expect(s.sup.agentCount).toBe(2);
  });

  it('stepCounts: only steps that move presence or adherence are sent to the actor', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0)); // unknown -> onQueue, unscheduled: moves
    s.state('A1', 'Ready', utc(10, 1), 'Inbound'); // routing only: adopted
    s.state('A1', 'AfterCallWork', utc(10, 2)); // nothing visible to the statechart: adopted
    s.state('A1', 'NotReady', utc(10, 3)); // onQueue -> busy: moves
    expect(s.sup.stepCounts).toEqual({ steps: 4, transitions: 2 });
    expect([...s.sup.agents()][0]!.context.status).toBe('NotReady');
  });

  it('capture returns the site state and only the agents changed since the previous capture', () => {
    const s = new SiteScenario();
    s.state('A1', 'Ready', utc(10, 0));
    s.state('B1', 'Ready', utc(10, 0));
    const site = (siteTime: number) => ({
      v: 1,
      siteTime,
      quarantined: [],
      optionsFingerprint: s.sup.optionsFingerprint,
      profiles: [{ from: null, intervalMinutes: 15, offsetMinutes: 0 }],
    });
    const first = s.sup.capture();
    expect(first.seq).toBe(2);
    expect(first.site).toEqual(site(utc(10, 0)));
    expect(first.agents.map(([id]) => id)).toEqual(['A1', 'B1']);
    expect(s.sup.capture()).toEqual({ seq: 2, site: site(utc(10, 0)), agents: [] });
    s.clock(utc(10, 5));
    expect(s.sup.capture()).toEqual({ seq: 3, site: site(utc(10, 5)), agents: [] });
    s.state('B1', 'NotReady', utc(10, 6));
    expect(s.sup.capture().agents.map(([id]) => id)).toEqual(['B1']);
    // A deadline tick changes both agents.
    s.clock(utc(10, 16));
    expect(s.sup.capture().agents.map(([id]) => id)).toEqual(['A1', 'B1']);
  });

  it('a supervisor restored from a snapshot continues exactly like the original', () => {
    const a = new SiteScenario();
    a.schedule('A1', utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]);
    a.state('A1', 'Ready', utc(9, 58));
    a.clock(utc(10, 1));
    a.state('A1', 'NotReady', utc(10, 5));
    a.state('A1', 'Ready', utc(10, 5, 40));
    a.reason('A1', 'Meal', utc(10, 14, 30));
    a.state('A1', 'NotReady', utc(10, 14, 30));
    // As a checkpoint store keeps it: JSON text, loaded back as parsed JSON.
    const captured = a.sup.capture();
    const snapshot: SiteSnapshot = {
      seq: captured.seq,
      site: JSON.parse(JSON.stringify(captured.site)),
      agents: new Map(captured.agents.map(([id, json]) => [id, JSON.parse(json)])),
    };
    const b = new SiteScenario({}, {}, snapshot);
    expect(b.sup.seq).toBe(7);
    expect(b.sup.siteTime).toBe(utc(10, 14, 30));
    expect([...b.sup.agents()]).toEqual([...a.sup.agents()]);
    const rest = [clockMsg(utc(10, 16)), stateMsg('A1', 'Ready', null, utc(10, 16)), clockMsg(utc(10, 31))];
    const fromA = rest.map((m) => a.send(m));
    const fromB = rest.map((m) => b.send(m));
    expect(fromB).toEqual(fromA);
    expect(fromA[0]!.outputs).toEqual([
      intervalOut('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 830, BUSY: 40, MEAL: 30 },
        adherenceScheduleSecs: 900,
        exceptionDurationSecs: 30,
        adherencePercentage: 96.67,
        conformanceScheduleSecs: 900,
        conformanceActualSecs: 830,
        conformancePercentage: 92.22,
        sourceSeq: 8,
      }),
    ]);
    // Replaying already-applied messages into the restored supervisor is harmless.
    expect(
      b.sup.process(3, rest[0]!.subject, decodeInput(rest[0]!.subject, rest[0]!.data, defaultDecodeOptions)),
    ).toEqual(none);
    a.sup.stop();
    b.sup.stop();
  });
});

describe('SiteSupervisor: empty activities', () => {
  it('a schedule with an activity of start = end is applied without it, and the activity is counted', () => {
    const s = new SiteScenario();
    expect(
      s.schedule('A1', utc(10, 0), utc(11, 0), [
        act(utc(10, 0), utc(11, 0), 'OnQueueWork'),
        act(utc(10, 30), utc(10, 30), 'Break'),
      ]),
    ).toEqual(none);
    expect(s.sup.emptyActivitiesDropped).toBe(1);
    // Scheduled, not Unscheduled: the schedule was applied.
    expect(s.state('A1', 'Ready', utc(10, 5)).outputs[1]).toEqual(
      adherenceOut(
        'A1',
        {
          state: 'InAdherence',
          scheduled: 'OnQueueWork',
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 5),
          ts: utc(10, 5),
          seq: 2,
        },
        1,
      ),
    );
    s.schedule('B1', utc(10, 0), utc(11, 0), [
      act(utc(10, 0), utc(10, 0), 'Break'),
      act(utc(11, 0), utc(11, 0), 'Meal'),
    ]);
    expect(s.sup.emptyActivitiesDropped).toBe(3);
    // A replayed message (seq already applied) is not counted again.
    const m = scheduleMsg('B1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(10, 0), 'Break')]);
    s.sup.process(3, m.subject, decodeInput(m.subject, m.data, defaultDecodeOptions));
    expect(s.sup.emptyActivitiesDropped).toBe(3);
  });
});
