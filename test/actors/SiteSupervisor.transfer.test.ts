import { describe, expect, it } from 'vitest';
import {
  type SiteCapture,
  type SiteResult,
  type SiteSnapshot,
  SiteSupervisor,
} from '../../src/actors/index.ts';
import {
  type AgentContext,
  decodeInput,
  defaultDecodeOptions,
  initialAgentContext,
  type TransferRecord,
} from '../../src/domain/index.ts';
import { MAX_TS } from '../../src/domain/inputSchemas.ts';
import {
  act,
  adherenceOut,
  clockMsg,
  feed,
  gcOut,
  intervalOut,
  type OutputOf,
  SITE,
  scheduleMsg,
  stateMsg,
  TENANT,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';

const COMMAND_SUBJECT = `wfm.command.${TENANT}.${SITE}`;
const REQUESTED_AT = utc(12, 0); // the admin's clock: later than the stream's event time

function commandMsg(from: string, to: string, id = 'X1', ts = REQUESTED_AT): WireMessage {
  return {
    subject: COMMAND_SUBJECT,
    data: JSON.stringify({ command: 'transfer', id, from, to, ts, requestedBy: 'ops@admin' }),
  };
}

function site(snapshot?: SiteSnapshot): SiteSupervisor {
  return new SiteSupervisor({ tenant: TENANT, site: SITE }, snapshot);
}

/** Processes one message as `seq`. */
function send(sup: SiteSupervisor, seq: number, m: WireMessage): SiteResult {
  return sup.process(seq, m.subject, decodeInput(m.subject, m.data, defaultDecodeOptions));
}

/** A capture as a checkpoint store gives it back: the site state and agent snapshots parsed. */
function loaded(capture: SiteCapture): SiteSnapshot & { agents: Map<string, unknown> } {
  return {
    seq: capture.seq,
    site: JSON.parse(JSON.stringify(capture.site)),
    agents: new Map(capture.agents.map(([id, json]) => [id, JSON.parse(json)])),
  };
}

function contexts(sup: SiteSupervisor): Record<string, AgentContext> {
  const all: Record<string, AgentContext> = {};
  for (const { agentId, context } of sup.agents()) all[agentId] = structuredClone(context);
  return all;
}

const NO_COUNTS = null;
const countsOf = (
  c: Record<
    'liveState' | 'schedule' | 'intervalHistory' | 'exceptions' | 'loginSessions' | 'auditEvents',
    [number, number]
  >,
): NonNullable<TransferRecord['counts']> => ({
  liveState: { policy: 'overwrite', moved: c.liveState[0], targetHad: c.liveState[1] },
  schedule: { policy: 'overwrite', moved: c.schedule[0], targetHad: c.schedule[1] },
  intervalHistory: { policy: 'overwrite', moved: c.intervalHistory[0], targetHad: c.intervalHistory[1] },
  exceptions: { policy: 'overwrite', moved: c.exceptions[0], targetHad: c.exceptions[1] },
  loginSessions: { policy: 'combine', moved: c.loginSessions[0], targetHad: c.loginSessions[1] },
  auditEvents: { policy: 'combine', moved: c.auditEvents[0], targetHad: c.auditEvents[1] },
});

function transferOut(
  record: Omit<TransferRecord, 'requestedBy' | 'requestedAt'> & { requestedAt?: number },
  ordinal = 0,
): OutputOf<'transfer'> {
  const { id, from, to, appliedAt, result, reason, counts, sourceSeq } = record;
  return {
    kind: 'transfer',
    tenant: TENANT,
    site: SITE,
    agentId: to,
    ordinal,
    payload: {
      id,
      from,
      to,
      requestedBy: 'ops@admin',
      requestedAt: record.requestedAt ?? REQUESTED_AT,
      appliedAt,
      result,
      reason,
      counts,
      sourceSeq,
    },
  };
}

/** A1 on queue from 10:00, B1 Not Ready from 10:02, the site's event time at 10:05. */
const before = [
  stateMsg('A1', 'Ready', null, utc(10, 0)),
  stateMsg('B1', 'NotReady', null, utc(10, 2)),
  clockMsg(utc(10, 5)),
];

describe('SiteSupervisor: a transfer command between two known agents', () => {
  it("publishes the source's GC state and adherence, then the target's, then the transfer record", () => {
    const sup = site();
    feed(sup, before);
    const result = send(sup, 4, commandMsg('A1', 'B1'));
    expect(result.dlq).toEqual([]);
    expect(result.outputs).toEqual([
      gcOut('A1', 'OFFLINE', 'OFF_QUEUE', utc(10, 5), 4, 0),
      adherenceOut(
        'A1',
        {
          state: 'Unscheduled',
          scheduled: null,
          actual: 'Offline',
          impact: 'Neutral',
          since: utc(10, 5),
          ts: utc(10, 5),
          seq: 4,
        },
        1,
      ),
      gcOut('B1', 'ON_QUEUE', 'IDLE', utc(10, 5), 4, 2),
      adherenceOut(
        'B1',
        {
          state: 'Unscheduled',
          scheduled: null,
          actual: 'OnQueueWork',
          impact: 'Neutral',
          since: utc(10, 0),
          ts: utc(10, 5),
          seq: 4,
        },
        3,
      ),
      transferOut(
        {
          id: 'X1',
          from: 'A1',
          to: 'B1',
          appliedAt: utc(10, 5),
          result: 'applied',
          reason: null,
          // Neither open interval has accounted time yet (both are accounted up to their last input).
          counts: countsOf({
            liveState: [1, 1],
            schedule: [0, 0],
            intervalHistory: [0, 0],
            exceptions: [0, 0],
            loginSessions: [1, 1],
            auditEvents: [0, 0],
          }),
          sourceSeq: 4,
        },
        4,
      ),
    ]);
    expect(sup.agentContext('A1')).toEqual({ ...initialAgentContext('A1'), lastTs: utc(10, 0) });
    const b1 = sup.agentContext('B1')!;
    expect(b1.status).toBe('Ready');
    expect(b1.gc).toEqual({ presence: 'ON_QUEUE', routingStatus: 'IDLE' });
    expect(b1.acctTs).toBe(utc(10, 0));
    expect(b1.lastTs).toBe(utc(10, 2));
    expect(b1.sessions).toEqual([
      { start: utc(10, 0), end: null },
      { start: utc(10, 2), end: utc(10, 5) },
    ]);
    expect(b1.audit).toEqual([
      { type: 'transfer', id: 'X1', from: 'A1', to: 'B1', at: utc(10, 5), sourceSeq: 4 },
    ]);
    // The statecharts follow: A1 knows nothing, B1 is on queue.
    const values = Object.fromEntries([...sup.agents()].map((a) => [a.agentId, a.value]));
    expect(values).toEqual({
      A1: { presence: 'unknown', adherence: 'unknown' },
      B1: { presence: 'onQueue', adherence: 'unscheduled' },
    });
    sup.stop();
  });

  it("the target's later input continues from the source's live state; the source's next input starts it fresh", () => {
    const sup = site();
    feed(sup, [...before, commandMsg('A1', 'B1')]);
    // B1 Not Ready at 10:10: its time since 10:00 was A1's ON_QUEUE time.
    expect(send(sup, 5, stateMsg('B1', 'NotReady', null, utc(10, 10)))).toEqual({
      outputs: [
        gcOut('B1', 'BUSY', 'OFF_QUEUE', utc(10, 10), 5, 0),
        adherenceOut(
          'B1',
          {
            state: 'Unscheduled',
            scheduled: null,
            actual: 'OffQueueWork',
            impact: 'Neutral',
            since: utc(10, 0),
            ts: utc(10, 10),
            seq: 5,
          },
          1,
        ),
      ],
      dlq: [],
    });
    // A1 comes back at 10:12 as a new agent.
    expect(send(sup, 6, stateMsg('A1', 'Ready', null, utc(10, 12)))).toEqual({
      outputs: [
        gcOut('A1', 'ON_QUEUE', 'IDLE', utc(10, 12), 6, 0),
        adherenceOut(
          'A1',
          {
            state: 'Unscheduled',
            scheduled: null,
            actual: 'OnQueueWork',
            impact: 'Neutral',
            since: utc(10, 12),
            ts: utc(10, 12),
            seq: 6,
          },
          1,
        ),
      ],
      dlq: [],
    });
    expect(sup.agentContext('A1')!.sessions).toEqual([{ start: utc(10, 12), end: null }]);
    // Not a moment before 10:16 (interval end + 60 s).
    expect(send(sup, 7, clockMsg(utc(10, 15, 59, 999)))).toEqual({ outputs: [], dlq: [] });
    expect(send(sup, 8, clockMsg(utc(10, 16)))).toEqual({
      outputs: [
        intervalOut(
          'A1',
          {
            intervalStart: utc(10, 0),
            secondsByPresence: { ON_QUEUE: 180 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 180,
            conformancePercentage: null,
            sourceSeq: 8,
          },
          0,
        ),
        intervalOut(
          'B1',
          {
            intervalStart: utc(10, 0),
            secondsByPresence: { ON_QUEUE: 600, BUSY: 300 },
            adherenceScheduleSecs: 0,
            exceptionDurationSecs: 0,
            adherencePercentage: null,
            conformanceScheduleSecs: 0,
            conformanceActualSecs: 600,
            conformancePercentage: null,
            sourceSeq: 8,
          },
          1,
        ),
      ],
      dlq: [],
    });
    // B1 logging off closes the session it took over from A1 (the first one, not the last).
    send(sup, 9, stateMsg('B1', 'LoggedOff', null, utc(10, 20)));
    expect(sup.agentContext('B1')!.sessions).toEqual([
      { start: utc(10, 0), end: utc(10, 20) },
      { start: utc(10, 2), end: utc(10, 5) },
    ]);
    sup.stop();
  });

  it('input of the source older than its last accepted ts is still late after the transfer', () => {
    const sup = site();
    feed(sup, [...before, commandMsg('A1', 'B1')]);
    const late = send(sup, 5, stateMsg('A1', 'NotReady', null, utc(9, 59)));
    expect(late.outputs).toEqual([]);
    expect(late.dlq.map((d) => d.reason)).toEqual(['late']);
    expect(sup.agentContext('A1')).toEqual({ ...initialAgentContext('A1'), lastTs: utc(10, 0) });
    sup.stop();
  });
});

describe("SiteSupervisor: a transfer happens at the site's event time", () => {
  it("the command's ts is recorded as requestedAt and neither moves the site's event time nor is refused as a jump", () => {
    const sup = site();
    feed(sup, before);
    // MAX_TS: 2100, far more than 31 days past the site's event time.
    const result = send(sup, 4, commandMsg('A1', 'B1', 'X1', MAX_TS));
    expect(result.dlq).toEqual([]);
    expect(result.outputs.at(-1)).toEqual(
      transferOut(
        {
          id: 'X1',
          from: 'A1',
          to: 'B1',
          requestedAt: MAX_TS,
          appliedAt: utc(10, 5),
          result: 'applied',
          reason: null,
          counts: countsOf({
            liveState: [1, 1],
            schedule: [0, 0],
            intervalHistory: [0, 0],
            exceptions: [0, 0],
            loginSessions: [1, 1],
            auditEvents: [0, 0],
          }),
          sourceSeq: 4,
        },
        4,
      ),
    );
    expect(sup.siteTime).toBe(utc(10, 5));
    // Nothing closed early: the 10:00 interval closes at 10:16 as before.
    expect(send(sup, 5, clockMsg(utc(10, 15)))).toEqual({ outputs: [], dlq: [] });
    expect(sup.siteTime).toBe(utc(10, 15));
    expect(send(sup, 6, clockMsg(utc(10, 16))).outputs.map((o) => [o.kind, o.agentId])).toEqual([
      ['interval', 'B1'],
    ]);
    sup.stop();
  });

  it("before any stat or clock input, a command is applied at its own ts and leaves the site's time unset", () => {
    const sup = site();
    feed(sup, [
      scheduleMsg('A1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'OnQueueWork')]),
      scheduleMsg('B1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'Break')]),
    ]);
    expect(sup.siteTime).toBe(-1);
    const result = send(sup, 3, commandMsg('A1', 'B1'));
    expect(result).toEqual({
      outputs: [
        transferOut({
          id: 'X1',
          from: 'A1',
          to: 'B1',
          appliedAt: REQUESTED_AT,
          result: 'applied',
          reason: null,
          counts: countsOf({
            liveState: [0, 0],
            schedule: [1, 1],
            intervalHistory: [0, 0],
            exceptions: [0, 0],
            loginSessions: [0, 0],
            auditEvents: [0, 0],
          }),
          sourceSeq: 3,
        }),
      ],
      dlq: [],
    });
    expect(sup.siteTime).toBe(-1);
    expect(sup.agentContext('B1')!.schedule).toEqual([act(utc(10, 0), utc(11, 0), 'OnQueueWork')]);
    expect(sup.agentContext('A1')).toEqual(initialAgentContext('A1'));
    sup.stop();
  });
});

describe('SiteSupervisor: refused transfers change nothing', () => {
  const cases: [string, WireMessage, string][] = [
    ['from = to', commandMsg('A1', 'A1'), 'an agent cannot be transferred to itself (A1)'],
    ['unknown from', commandMsg('Z9', 'B1'), 'unknown agent Z9: site S1 has had no input for it'],
    ['unknown to', commandMsg('A1', 'Z9'), 'unknown agent Z9: site S1 has had no input for it'],
    ['both unknown', commandMsg('Y8', 'Z9'), 'unknown agent Y8: site S1 has had no input for it'],
  ];
  const after = [
    stateMsg('B1', 'NotReady', null, utc(10, 10)),
    stateMsg('A1', 'NotReady', null, utc(10, 12)),
    clockMsg(utc(10, 16)),
  ];

  for (const [name, message, reason] of cases) {
    it(`${name}: only a refused transfer record, no DLQ entry, no agent changed or made`, () => {
      const sup = site();
      feed(sup, before);
      const beforeContexts = contexts(sup);
      const { from, to } = JSON.parse(message.data) as { from: string; to: string };
      expect(send(sup, 4, message)).toEqual({
        outputs: [
          transferOut({
            id: 'X1',
            from,
            to,
            appliedAt: utc(10, 5),
            result: 'refused',
            reason,
            counts: NO_COUNTS,
            sourceSeq: 4,
          }),
        ],
        dlq: [],
      });
      expect(contexts(sup)).toEqual(beforeContexts);
      expect(sup.agentCount).toBe(2);
      expect(sup.agentContext('Z9')).toBeUndefined();
      expect(sup.siteTime).toBe(utc(10, 5));
      // And what follows is as if the command had never come (its seq aside).
      const control = site();
      feed(control, [...before, clockMsg(utc(10, 5))]);
      expect(feed(sup, after, 5)).toEqual(feed(control, after, 5));
      expect(contexts(sup)).toEqual(contexts(control));
      sup.stop();
      control.stop();
    });
  }

  it('a command stored twice (the same id again) is refused the second time and changes nothing', () => {
    const sup = site();
    feed(sup, before);
    const applied = send(sup, 4, commandMsg('A1', 'B1', 'TWICE'));
    expect(applied.outputs.at(-1)?.payload).toMatchObject({ id: 'TWICE', result: 'applied' });
    const afterFirst = contexts(sup);
    expect(send(sup, 5, commandMsg('A1', 'B1', 'TWICE'))).toEqual({
      outputs: [
        transferOut({
          id: 'TWICE',
          from: 'A1',
          to: 'B1',
          appliedAt: utc(10, 5),
          result: 'refused',
          reason: 'transfer TWICE was applied already (the command is stored twice)',
          counts: NO_COUNTS,
          sourceSeq: 5,
        }),
      ],
      dlq: [],
    });
    expect(contexts(sup)).toEqual(afterFirst);
    sup.stop();
  });

  it('a command refused by decoding goes to the DLQ as bad_command and changes nothing', () => {
    const sup = site();
    feed(sup, before);
    const beforeContexts = contexts(sup);
    const bad = {
      subject: COMMAND_SUBJECT,
      data: JSON.stringify({ command: 'transfer', id: 'X1', from: 'A1' }),
    };
    expect(send(sup, 4, bad)).toEqual({
      outputs: [],
      dlq: [
        {
          tenant: TENANT,
          seq: 4,
          ordinal: 0,
          subject: COMMAND_SUBJECT,
          reason: 'bad_command',
          detail: 'transfer command (payload) must have required properties to, ts, requestedBy',
        },
      ],
    });
    expect(contexts(sup)).toEqual(beforeContexts);
    sup.stop();
  });
});

describe('SiteSupervisor: a transfer is applied exactly once', () => {
  it('the same message seq again (or an older one) is ignored', () => {
    const sup = site();
    feed(sup, before);
    const first = send(sup, 4, commandMsg('A1', 'B1'));
    expect(first.outputs.map((o) => o.kind)).toEqual(['gc', 'adherence', 'gc', 'adherence', 'transfer']);
    const afterFirst = contexts(sup);
    expect(send(sup, 4, commandMsg('A1', 'B1'))).toEqual({ outputs: [], dlq: [] });
    expect(send(sup, 3, commandMsg('A1', 'B1'))).toEqual({ outputs: [], dlq: [] });
    expect(contexts(sup)).toEqual(afterFirst);
    expect(sup.seq).toBe(4);
    // A new command (next seq) moving B1 back to A1 is a second transfer, applied.
    const back = send(sup, 5, commandMsg('B1', 'A1', 'X2'));
    expect(back.outputs.at(-1)!.payload).toMatchObject({ id: 'X2', result: 'applied', sourceSeq: 5 });
    expect(sup.agentContext('A1')!.audit).toEqual([
      { type: 'transfer', id: 'X1', from: 'A1', to: 'B1', at: utc(10, 5), sourceSeq: 4 },
      { type: 'transfer', id: 'X2', from: 'B1', to: 'A1', at: utc(10, 5), sourceSeq: 5 },
    ]);
    expect(sup.agentContext('B1')).toEqual({ ...initialAgentContext('B1'), lastTs: utc(10, 2) });
    sup.stop();
  });
});

/**
 * A1 and B1 scheduled, A1 out of adherence from 10:05 when the command comes at 10:05:30: the
 * stretch in progress moves to B1 and becomes an exception there.
 */
const run: WireMessage[] = [
  scheduleMsg('A1', utc(10, 0), utc(10, 30), [act(utc(10, 0), utc(10, 30), 'OnQueueWork')]),
  scheduleMsg('B1', utc(10, 0), utc(11, 0), [act(utc(10, 0), utc(11, 0), 'Meeting')]),
  stateMsg('A1', 'Ready', null, utc(9, 58)),
  stateMsg('B1', 'Ready', null, utc(9, 59)),
  stateMsg('A1', 'NotReady', null, utc(10, 5)),
  clockMsg(utc(10, 5, 30)),
  commandMsg('A1', 'B1'), // seq 7
  clockMsg(utc(10, 6, 30)),
  stateMsg('B1', 'Ready', null, utc(10, 7)),
  stateMsg('A1', 'Ready', null, utc(10, 8)),
  clockMsg(utc(10, 16)),
  stateMsg('B1', 'LoggedOff', null, utc(10, 20)),
  clockMsg(utc(10, 31)),
];

describe('SiteSupervisor: transfers and checkpoints', () => {
  it('capture and restore at any point, then continuing, gives the outputs and contexts of a run without one', () => {
    const whole = site();
    const expected = feed(whole, run);
    // The run's transfer and what it leaves, hand-checked.
    expect(expected[6]!.outputs.at(-1)).toEqual(
      transferOut(
        {
          id: 'X1',
          from: 'A1',
          to: 'B1',
          appliedAt: utc(10, 5, 30),
          result: 'applied',
          reason: null,
          counts: countsOf({
            liveState: [1, 1],
            schedule: [1, 1],
            intervalHistory: [1, 1],
            exceptions: [0, 0],
            loginSessions: [1, 1],
            auditEvents: [0, 0],
          }),
          sourceSeq: 7,
        },
        4,
      ),
    );
    const end = contexts(whole);
    // A1's stretch, ended by B1 going Ready; then B1 logged off while on queue was scheduled,
    // a stretch the end of A1's schedule ended at 10:30.
    expect(end.B1!.exceptions).toEqual([
      {
        start: utc(10, 5),
        end: utc(10, 7),
        scheduledCategory: 'OnQueueWork',
        actualCategory: 'OffQueueWork',
        impact: 'Negative',
      },
      {
        start: utc(10, 20),
        end: utc(10, 30),
        scheduledCategory: 'OnQueueWork',
        actualCategory: 'Offline',
        impact: 'Negative',
      },
    ]);
    expect(end.B1!.sessions).toEqual([
      { start: utc(9, 58), end: utc(10, 20) },
      { start: utc(9, 59), end: utc(10, 5, 30) },
    ]);
    expect(end.A1!.sessions).toEqual([{ start: utc(10, 8), end: null }]);
    for (let k = 1; k < run.length; k++) {
      const first = site();
      feed(first, run.slice(0, k));
      const restored = site(loaded(first.capture()));
      expect(feed(restored, run.slice(k), k + 1), `restored after seq ${k}`).toEqual(expected.slice(k));
      expect(contexts(restored), `restored after seq ${k}`).toEqual(end);
      first.stop();
      restored.stop();
    }
    whole.stop();
  });

  it('feeding every step to the actors gives the same outputs, contexts and statecharts', () => {
    const fast = site();
    const every = new SiteSupervisor({ tenant: TENANT, site: SITE }, undefined, { feedEveryStep: true });
    expect(feed(every, run)).toEqual(feed(fast, run));
    expect([...every.agents()]).toEqual([...fast.agents()]);
    fast.stop();
    every.stop();
  });

  it('a capture right after the transfer holds both agents as the command left them', () => {
    const sup = site();
    feed(sup, run.slice(0, 6));
    sup.capture(); // takes the dirty set
    send(sup, 7, run[6]!);
    const capture = sup.capture();
    expect(capture.seq).toBe(7);
    expect(capture.agents.map(([id]) => id).sort()).toEqual(['A1', 'B1']);
    const parsed = Object.fromEntries(
      capture.agents.map(([id, json]) => [id, JSON.parse(json).snapshot.context]),
    );
    expect(parsed).toEqual(JSON.parse(JSON.stringify(contexts(sup))));
    sup.stop();
  });

  it('a checkpoint from before agent histories existed restores and continues', () => {
    const whole = site();
    const expected = feed(whole, run);
    const first = site();
    feed(first, run.slice(0, 6));
    const snapshot = loaded(first.capture());
    // Make it a pre-history checkpoint: no sessions, exceptions or audit; a stretch of {start, qualified}.
    for (const persisted of snapshot.agents.values()) {
      const context = (persisted as { snapshot: { context: Record<string, unknown> } }).snapshot.context;
      delete context.sessions;
      delete context.exceptions;
      delete context.audit;
      const stretch = context.stretch as Record<string, unknown> | null;
      if (stretch !== null) {
        delete stretch.scheduledCategory;
        delete stretch.actualCategory;
        delete stretch.impact;
      }
    }
    const a1Old = (snapshot.agents.get('A1') as { snapshot: { context: Record<string, unknown> } }).snapshot
      .context;
    expect(a1Old.stretch).toEqual({ start: utc(10, 5), qualified: false });
    const b1Old = (snapshot.agents.get('B1') as { snapshot: { context: Record<string, unknown> } }).snapshot
      .context;
    expect(b1Old.stretch).toEqual({ start: utc(10, 0), qualified: true });
    expect('sessions' in a1Old).toBe(false);
    const restored = site(snapshot);
    // Empty histories; the stretch's categories from the adherence it is in.
    const a1 = restored.agentContext('A1')!;
    expect([a1.sessions, a1.exceptions, a1.audit]).toEqual([[], [], []]);
    expect(a1.stretch).toEqual({
      start: utc(10, 5),
      qualified: false,
      scheduledCategory: 'OnQueueWork',
      actualCategory: 'OffQueueWork',
      impact: 'Negative',
    });
    // B1, on queue during its Meeting since 10:00, is in a (qualified) positive stretch.
    const b1 = restored.agentContext('B1')!;
    expect([b1.sessions, b1.exceptions, b1.audit]).toEqual([[], [], []]);
    expect(b1.stretch).toEqual({
      start: utc(10, 0),
      qualified: true,
      scheduledCategory: 'Meeting',
      actualCategory: 'OnQueueWork',
      impact: 'Positive',
    });
    const results = feed(restored, run.slice(6), 7);
    // The same outputs as the run with histories, but for the login sessions the transfer counted.
    const withoutSessions = expected.slice(6).map((r) => ({
      ...r,
      outputs: r.outputs.map((o) =>
        o.kind === 'transfer'
          ? {
              ...o,
              payload: {
                ...o.payload,
                counts: {
                  ...o.payload.counts!,
                  loginSessions: { policy: 'combine', moved: 0, targetHad: 0 },
                },
              },
            }
          : o,
      ),
    }));
    expect(results).toEqual(withoutSessions);
    const end = restored.agentContext('B1')!;
    expect(end.exceptions).toEqual(whole.agentContext('B1')!.exceptions);
    expect(end.sessions).toEqual([]);
    expect(end.audit).toEqual([
      { type: 'transfer', id: 'X1', from: 'A1', to: 'B1', at: utc(10, 5, 30), sourceSeq: 7 },
    ]);
    expect(restored.agentContext('A1')!.sessions).toEqual([{ start: utc(10, 8), end: null }]);
    for (const s of [whole, first, restored]) s.stop();
  });
});
