/**
 * The comparisons the chaos tests rest on: a wrong "same" here would let lost or doubled
 * outputs and dead letters through unseen.
 */
import { describe, expect, it } from 'vitest';
import type { TrafficMessage } from '../../src/simulator/index.ts';
import {
  compareDeadLetters,
  compareRuns,
  deadLetterFacts,
  expectedDeadLetters,
  type StreamRecord,
  storedMoreThanOnce,
} from './outputs.ts';

/** A dead letter for input `n` of `site`, stored at stream sequence `seq`. */
const letter = (seq: number, site: string, n: number, reason = 'late'): StreamRecord => ({
  seq,
  subject: 'wfm.dlq.T1',
  msgId: `dlq:T1:${n}`,
  data: { reason, subject: `wfm.stat.T1.${site}.a1`, seq: n, payload: `p${n}`, detail: 'd' },
});
const output = (seq: number, agent: string, n: number): StreamRecord => ({
  seq,
  subject: `wfm.gc.T1.S1.${agent}`,
  msgId: `gc:T1.S1.${agent}:${n}:0`,
  data: { agentId: agent, sourceSeq: n },
});

const baseline = [letter(1, 'S1', 10), letter(2, 'S2', 11), letter(3, 'S1', 12), letter(4, 'S2', 13)];

describe('compareDeadLetters', () => {
  it('lets sites interleave differently, as sites publishing on their own do', () => {
    const interleaved = [letter(1, 'S2', 11), letter(2, 'S1', 10), letter(3, 'S2', 13), letter(4, 'S1', 12)];
    expect(compareDeadLetters(baseline, interleaved).same).toBe(true);
    // Compared by subject alone (one DLQ subject per tenant), the same letters would differ.
    expect(compareRuns(baseline, interleaved).same).toBe(false);
  });

  it('counts a dead letter lost, doubled or different, and one site out of order', () => {
    const c = compareDeadLetters(baseline, [
      letter(1, 'S1', 12),
      letter(2, 'S1', 10),
      letter(3, 'S2', 11),
      letter(4, 'S2', 11),
      letter(5, 'S2', 14),
    ]);
    expect(c).toMatchObject({ lost: 1, doubled: 1, different: 1, same: false });
    expect(c.subjectsOutOfOrder).toEqual(['site S1', 'site S2']);
    expect(c.summary).toContain('WFM_DLQ: expected 4, got 5; lost 1, doubled 1, different 1');
  });

  it('with ordered: false, lets a site’s letters come in any order, still counting lost and doubled', () => {
    const reordered = [letter(1, 'S1', 12), letter(2, 'S2', 11), letter(3, 'S1', 10), letter(4, 'S2', 13)];
    expect(compareDeadLetters(baseline, reordered).same).toBe(false);
    expect(compareDeadLetters(baseline, reordered, { ordered: false }).same).toBe(true);
    const doubled = compareDeadLetters(baseline, [...reordered, letter(5, 'S1', 10)], { ordered: false });
    expect(doubled).toMatchObject({ lost: 0, doubled: 1, same: false });
  });

  it('keeps bad_subject letters apart from the site their subject seems to name', () => {
    const bad = letter(5, 'S1', 20, 'bad_subject');
    expect(compareDeadLetters([...baseline, bad], [bad, ...baseline]).same).toBe(true);
  });
});

describe('expectedDeadLetters and deadLetterFacts', () => {
  it('give each invalid message its reason, subject, sequence and text, in sequence order', () => {
    const traffic: TrafficMessage[] = [
      { kind: 'clock', subject: 'wfm.clock.T1.S1', ts: 5, payload: { ts: 5 } },
      { kind: 'invalid', subject: 'wfm.stat.T1.S1.a1', ts: 5, reason: 'invalid_json', text: '{"x' },
    ];
    expect(expectedDeadLetters(traffic, 7)).toEqual([
      { reason: 'invalid_json', subject: 'wfm.stat.T1.S1.a1', seq: 8, payload: '{"x' },
    ]);
    expect(deadLetterFacts([letter(9, 'S1', 12), letter(8, 'S2', 11)]).map((f) => f.seq)).toEqual([11, 12]);
  });
});

describe('storedMoreThanOnce', () => {
  it('finds an output stored twice and an id two outputs share', () => {
    const twice = output(3, 'a1', 7);
    const sharing = { ...output(4, 'a2', 8), msgId: output(1, 'a1', 5).msgId };
    const found = storedMoreThanOnce([
      output(1, 'a1', 5),
      output(2, 'a1', 6),
      twice,
      { ...twice, seq: 9 },
      sharing,
    ]);
    expect(found.duplicates).toEqual([{ record: twice, count: 2 }]);
    expect(found.sharedMsgIds).toEqual([
      { msgId: 'gc:T1.S1.a1:5:0', count: 2 },
      { msgId: 'gc:T1.S1.a1:7:0', count: 2 },
    ]);
    expect(storedMoreThanOnce([output(1, 'a1', 5), output(2, 'a1', 6)])).toEqual({
      duplicates: [],
      sharedMsgIds: [],
    });
  });
});
