import { describe, expect, it } from 'vitest';
import { type SiteResult, SiteSupervisor, type SiteSupervisorOptions } from '../../src/actors/index.ts';
import { type AgentInput, applyAgentInput, type Output } from '../../src/domain/index.ts';
import {
  clockMsg,
  feed,
  intervalOut,
  SITE,
  stateMsg,
  TENANT,
  utc,
  type WireMessage,
} from '../helpers/agentScenario.ts';

/**
 * A step function that throws the first time `when` picks an input of `agentId`, and is the real
 * one otherwise. Throwing once only keeps a supervisor that would retry the same step from
 * hanging the test: it gets a different result instead, which the assertions catch.
 */
function throwingFor(agentId: string, when: (input: AgentInput) => boolean): SiteSupervisorOptions {
  let thrown = false;
  return {
    applyStep: (context, input, seq, options) => {
      if (!thrown && context.agentId === agentId && when(input)) {
        thrown = true;
        throw new Error(`boom on ${input.type}`);
      }
      return applyAgentInput(context, input, seq, options);
    },
  };
}

function site(options: SiteSupervisorOptions = {}): SiteSupervisor {
  return new SiteSupervisor({ tenant: TENANT, site: SITE }, undefined, options);
}

/** Outputs of agents other than `agentId`, without the ordinal (positions shift when its outputs are missing). */
function othersThan(agentId: string, results: SiteResult[]): Omit<Output, 'ordinal'>[][] {
  return results.map((r) =>
    r.outputs.filter((o) => o.agentId !== agentId).map(({ ordinal: _, ...rest }) => rest),
  );
}

const traffic: WireMessage[] = [
  stateMsg('A1', 'Ready', null, utc(10, 0)), // 1
  stateMsg('B1', 'Ready', null, utc(10, 0)), // 2
  stateMsg('C1', 'NotReady', null, utc(10, 2)), // 3
  clockMsg(utc(10, 16)), // 4: the 10:00 intervals close (deadline 10:16): B1's throws
  stateMsg('A1', 'NotReady', null, utc(10, 20)), // 5
  clockMsg(utc(10, 31)), // 6: the 10:15 intervals close; B1 has no deadline
  stateMsg('B1', 'NotReady', null, utc(10, 32)), // 7: B1's own input: applied, deadline again
  clockMsg(utc(10, 46)), // 8: the 10:30 intervals close, B1's too
];

describe('SiteSupervisor: an exception on a deadline step quarantines the agent', () => {
  const failAtClose = () => throwingFor('B1', (input) => input.type === 'tick' && input.at === utc(10, 16));

  it('returns, with one agent_quarantined entry; other agents go on exactly as without the fault', () => {
    const faulty = site(failAtClose());
    const clean = site();
    const withFault = feed(faulty, traffic);
    const without = feed(clean, traffic);
    expect(withFault.flatMap((r) => r.dlq)).toEqual([
      {
        tenant: TENANT,
        seq: 4,
        ordinal: 0,
        subject: `wfm.clock.${TENANT}.${SITE}`,
        reason: 'agent_quarantined',
        detail: `agent B1 quarantined: advancing it to its deadline ${utc(10, 16)} threw: boom on tick; it gets no deadline until its next input`,
      },
    ]);
    expect(without.flatMap((r) => r.dlq)).toEqual([]);
    expect(othersThan('B1', withFault)).toEqual(othersThan('B1', without));
    expect(faulty.quarantined).toEqual([]);
    faulty.stop();
    clean.stop();
  });

  it('gives the agent no deadline until its own next input, which is applied and sets one again', () => {
    const faulty = site(failAtClose());
    const results = feed(faulty, traffic.slice(0, 4));
    expect(results[3]!.outputs.map((o) => o.agentId)).toEqual(['A1', 'C1']);
    expect(faulty.quarantined).toEqual(['B1']);
    // Quarantined, B1 keeps its state from before the failed step (10:00 interval still open).
    const b1 = () => [...faulty.agents()].find((a) => a.agentId === 'B1')!.context;
    expect(b1().acctTs).toBe(utc(10, 0));
    expect(b1().intervals.map((i) => i.start)).toEqual([utc(10, 0)]);
    // Site time passing B1's old deadline again does not touch it.
    expect(feed(faulty, traffic.slice(4, 6), 5)[1]!.outputs.map((o) => o.agentId)).toEqual(['A1', 'C1']);
    expect(b1().acctTs).toBe(utc(10, 0));
    // Its own input goes through: accounted from 10:00 (it was Ready all along), deadline set again.
    const own = feed(faulty, [traffic[6]!], 7)[0]!;
    expect(own.dlq).toEqual([]);
    expect(own.outputs.map((o) => [o.kind, o.agentId])).toEqual([
      ['interval', 'B1'],
      ['interval', 'B1'],
      ['gc', 'B1'],
      ['adherence', 'B1'],
    ]);
    expect(faulty.quarantined).toEqual([]);
    const closes = feed(faulty, [traffic[7]!], 8)[0]!;
    expect(closes.outputs.filter((o) => o.agentId === 'B1')).toEqual([
      intervalOut(
        'B1',
        {
          intervalStart: utc(10, 30),
          secondsByPresence: { ON_QUEUE: 120, BUSY: 780 },
          adherenceScheduleSecs: 0,
          exceptionDurationSecs: 0,
          adherencePercentage: null,
          conformanceScheduleSecs: 0,
          conformanceActualSecs: 120,
          conformancePercentage: null,
          sourceSeq: 8,
        },
        1,
      ),
    ]);
    faulty.stop();
  });

  it('one input can yield two dead letters, told apart by their ordinals', () => {
    // B1's own input throws (internal_error) and the time it brings reaches A1's deadline, which
    // throws too (agent_quarantined).
    const ownInput = throwingFor('B1', (input) => input.type === 'state' && input.status === 'NotReady');
    const deadline = throwingFor('A1', (input) => input.type === 'tick');
    const faulty = site({
      applyStep: (context, input, seq, options) =>
        context.agentId === 'B1'
          ? ownInput.applyStep!(context, input, seq, options)
          : deadline.applyStep!(context, input, seq, options),
    });
    feed(faulty, [stateMsg('A1', 'Ready', null, utc(10, 0)), stateMsg('B1', 'Ready', null, utc(10, 0))]);
    const [r] = feed(faulty, [stateMsg('B1', 'NotReady', null, utc(10, 16))], 3);
    const subject = `wfm.stat.${TENANT}.${SITE}.B1`;
    expect(r!.dlq).toEqual([
      { tenant: TENANT, seq: 3, ordinal: 0, subject, reason: 'internal_error', detail: 'boom on state' },
      {
        tenant: TENANT,
        seq: 3,
        ordinal: 1,
        subject,
        reason: 'agent_quarantined',
        detail: `agent A1 quarantined: advancing it to its deadline ${utc(10, 16)} threw: boom on tick; it gets no deadline until its next input`,
      },
    ]);
    // B1 kept its state (Ready) and its deadline, due now: its 10:00 interval closed all the same.
    expect(r!.outputs.map((o) => [o.kind, o.agentId, o.ordinal])).toEqual([['interval', 'B1', 0]]);
    faulty.stop();
  });

  it('an exception on an own input whose agent is due in the same message neither loops nor loses the deadline', () => {
    const faulty = site(throwingFor('A1', (input) => input.type === 'state' && input.status === 'NotReady'));
    feed(faulty, [stateMsg('A1', 'Ready', null, utc(10, 0))]);
    const [r] = feed(faulty, [stateMsg('A1', 'NotReady', null, utc(10, 16))], 2);
    expect(r!.dlq.map((d) => [d.reason, d.detail])).toEqual([['internal_error', 'boom on state']]);
    expect(r!.outputs).toEqual([
      intervalOut('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 900 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 900,
        conformancePercentage: null,
        sourceSeq: 2,
      }),
    ]);
    expect(faulty.quarantined).toEqual([]);
    faulty.stop();
  });
});

describe('SiteSupervisor: a quarantine across a restart', () => {
  it('is part of the site state: a restored supervisor gives the agent no deadline either', () => {
    const faulty = site(throwingFor('B1', (input) => input.type === 'tick' && input.at === utc(10, 16)));
    feed(faulty, traffic.slice(0, 4));
    const captured = faulty.capture();
    expect(captured.site.quarantined).toEqual(['B1']);
    const restored = new SiteSupervisor(
      { tenant: TENANT, site: SITE },
      { seq: captured.seq, site: JSON.parse(JSON.stringify(captured.site)), agents: captured.agents },
    );
    expect(restored.quarantined).toEqual(['B1']);
    const rest = traffic.slice(4);
    expect(feed(restored, rest, 5)).toEqual(feed(faulty, rest, 5));
    faulty.stop();
    restored.stop();
  });
});

describe('SiteSupervisor: a step that throws after the core changed things', () => {
  it('leaves the agent exactly as before the input (the core never changed what the agent holds)', () => {
    const faulty = site({
      applyStep: (context, input, seq, options) => {
        const step = applyAgentInput(context, input, seq, options);
        if (input.type === 'state' && input.status === 'LoggedOff') throw new Error('after the work');
        return step;
      },
    });
    const start = [stateMsg('A1', 'Ready', null, utc(10, 0)), stateMsg('A1', 'NotReady', null, utc(10, 5))];
    feed(faulty, start);
    // The failed step accounted 10:05-10:20 into the open interval and closed it; then the
    // agent's deadline (10:16), due in the same message, advances it from 10:05 all over again.
    const [r] = feed(faulty, [stateMsg('A1', 'LoggedOff', null, utc(10, 20))], 3);
    expect(r!.dlq.map((d) => [d.reason, d.detail])).toEqual([['internal_error', 'after the work']]);
    expect(r!.outputs).toEqual([
      intervalOut('A1', {
        intervalStart: utc(10, 0),
        secondsByPresence: { ON_QUEUE: 300, BUSY: 600 },
        adherenceScheduleSecs: 0,
        exceptionDurationSecs: 0,
        adherencePercentage: null,
        conformanceScheduleSecs: 0,
        conformanceActualSecs: 300,
        conformancePercentage: null,
        sourceSeq: 3,
      }),
    ]);
    // Exactly where a site that never saw the failed input is after the same time passed.
    const clean = site();
    feed(clean, [...start, clockMsg(utc(10, 20))]);
    expect([...faulty.agents()]).toEqual([...clean.agents()]);
    faulty.stop();
    clean.stop();
  });
});
