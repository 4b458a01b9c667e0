import { describe, expect, it } from 'vitest';
import { SimulatedClock } from 'xstate';
import type { Output } from '../../src/domain/index.ts';
import { emptySiteCounters } from '../../src/node/SiteHost.ts';
import { ColdTakeover, SiteWriter } from '../../src/node/SiteWriter.ts';
import type { LeaseMark, Publisher, StoredIds } from '../../src/streams/index.ts';

// SiteWriter decides what goes out and whether it may: tested against a recording publisher and
// xstate's SimulatedClock (the lease permit is judged on it), with no NATS.

const gc = (seq: number): Output =>
  ({
    kind: 'gc',
    tenant: 'T1',
    site: 'S1',
    agentId: 'a1',
    ordinal: 0,
    payload: { sourceSeq: seq },
  }) as unknown as Output;

class RecordingPublisher {
  readonly sent: number[] = [];
  acked = 0;
  /** Called on every output handed over (a test's slow connection). */
  onPublish = () => {};
  publishOutput(_lane: string, output: Output): void {
    this.sent.push((output.payload as { sourceSeq: number }).sourceSeq);
    this.onPublish();
  }
  publishDeadLetter(): void {}
  ackedSeq(): number {
    return this.acked;
  }
  flushPoint(): number {
    return this.sent.length;
  }
  reopened = 0;
  reopen(): void {
    this.reopened++;
  }
  async flush(): Promise<void> {}
  gates = new Map<string, () => 'send' | 'park' | 'refuse'>();
  gate(lane: string, gate: () => 'send' | 'park' | 'refuse'): void {
    this.gates.set(lane, gate);
  }
  /** What the site's gate says now of a publish the publisher held. */
  says(): 'send' | 'park' | 'refuse' {
    return this.gates.get('S1')!();
  }
  /** What the writer told the publisher of what it parked, in order. */
  parkedCalls: string[] = [];
  unpark(): void {
    this.parkedCalls.push(`unpark:${this.says()}`);
  }
  refuseParked(): void {
    this.parkedCalls.push(`refuse:${this.says()}`);
  }
  failedAt = -1;
  async settled(): Promise<boolean> {
    return this.failedAt < 0;
  }
  lastFailed(): number {
    return this.failedAt;
  }
}

/** What a takeover reads: always the same, or each read as the test answers it. */
type StoredReads = StoredIds | ((mark: LeaseMark, signal: AbortSignal) => Promise<StoredIds>);

function writer(stored: StoredReads = { ids: new Set(), maxSourceSeq: 0 }, outboxMessages = 100) {
  const clock = new SimulatedClock();
  const counters = emptySiteCounters();
  const publisher = new RecordingPublisher();
  let fenced = 0;
  let readAfter: LeaseMark | null = null;
  let signal: AbortSignal | undefined;
  const w = new SiteWriter(
    {
      site: 'S1',
      clock,
      counters,
      storedAfter: async (mark, abort) => {
        readAfter = mark;
        signal = abort;
        return typeof stored === 'function' ? stored(mark, abort) : stored;
      },
      onFenced: () => {
        fenced++;
      },
    },
    outboxMessages,
  );
  w.reset(
    publisher as unknown as Publisher,
    { seq: 0, outSeq: 0, dlqSeq: 0 },
    { ids: new Set(), maxSourceSeq: 0 },
  );
  return {
    w,
    clock,
    counters,
    publisher,
    fenced: () => fenced,
    readAfter: () => readAfter,
    signal: () => signal,
  };
}

/**
 * As primary, sends the outputs of inputs 1–3; then its permit runs out (a busy event loop)
 * before any mark, and as a backup it applies input 4.
 */
function sendThenLose(w: SiteWriter): void {
  w.setWriting(true);
  for (let seq = 1; seq <= 3; seq++) w.record(seq, [gc(seq)], []);
  w.pump();
  w.revoke();
  w.setWriting(false);
  w.record(4, [gc(4)], []);
}

/**
 * A writer whose first lease read the streams (nothing there), sent inputs 1–3 and lost it, then
 * recorded input 4; `reads` counts the reads of the streams.
 */
async function lostAfterFirstLease(): Promise<{ t: ReturnType<typeof writer>; reads: () => number }> {
  let reads = 0;
  const t = writer(async () => {
    reads++;
    return { ids: new Set(), maxSourceSeq: 0 };
  });
  t.w.lead(1, 1000, 0);
  expect(await t.w.takeOver(0)).toBe('hot');
  sendThenLose(t.w);
  return { t, reads: () => reads };
}

describe('SiteWriter', () => {
  it('never confirms a mark over a failed publish, even once a flush took the failure', async () => {
    const t = writer();
    t.w.permit(1, 1000);
    t.w.setWriting(true);
    t.w.record(1, [gc(1)], []);
    t.w.pump();
    // The publish of input 1 failed; the checkpoint's flush reported it (the site rebuilds), so
    // `settled` alone would answer true again.
    t.publisher.failedAt = 0;
    const settled = t.publisher.settled.bind(t.publisher);
    t.publisher.settled = async (...args) => {
      await settled(...args);
      return true;
    };
    t.w.propose(1);
    await Promise.resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(t.w.mark.seq).toBe(0);
    expect(t.w.outbox.size).toBe(1);
  });

  it('a primary sends while its permit holds, and nothing once it ran out (it reports the fence)', async () => {
    // What a takeover will find stored: the output of input 1, sent before the permit ran out.
    const t = writer({ ids: new Set(['gc:T1.S1.a1:1:0']), maxSourceSeq: 1 });
    t.w.permit(1, 100);
    t.w.setWriting(true);
    t.w.record(1, [gc(1)], []);
    t.w.pump();
    expect(t.publisher.sent).toEqual([1]);
    t.clock.increment(100); // the permit's end
    t.w.record(2, [gc(2)], []);
    t.w.pump();
    expect(t.publisher.sent).toEqual([1]);
    expect(t.fenced()).toBe(1);
    expect(t.counters.fencedWrites).toBe(1);
    // Leading again: what was held and is not stored goes out, once.
    t.w.permit(1, 300);
    await t.w.takeOver(2);
    t.w.setWriting(true);
    expect(t.publisher.sent).toEqual([1, 2]);
  });

  it('tells the publisher what to do with what it held: send under the permit, park past it, refuse once another may lead', async () => {
    const t = writer();
    const calls = t.publisher.parkedCalls;
    calls.length = 0;
    t.w.permit(1, 100);
    expect(t.publisher.says()).toBe('send');
    t.clock.increment(100); // the permit's end: a renewal in flight may still keep the lease
    expect(t.publisher.says()).toBe('park');
    t.w.permit(1, 90); // a renewal answered late: its permit is past as well
    t.w.permit(1, 300);
    expect(calls.splice(0)).toEqual(['unpark:send', 'unpark:park', 'unpark:send']);
    // The lease lost: parked, since the next lease may follow this one straight.
    t.w.revoke();
    expect(t.publisher.says()).toBe('park');
    expect(calls.splice(0)).toEqual([]);
    t.w.lead(2, 500, 1); // won straight from its own epoch 1: what was parked goes
    expect(calls.splice(0)).toEqual(['unpark:send']);
    t.w.revoke();
    t.w.lead(4, 600, 3); // epoch 3 was another node's: never under this lease
    expect(calls.splice(0)).toEqual(['refuse:park', 'unpark:send']);
    t.w.revoke();
    t.w.lead(5, 600, 0);
    expect(calls.splice(0)).toEqual(['refuse:park', 'unpark:send']);
    await t.w.takeOver(0);
    t.w.setWriting(true);
    t.w.record(1, [gc(1)], []);
    // A graceful handover: what it handed over may still go until its acks came.
    let acked!: () => void;
    t.publisher.settled = () =>
      new Promise<boolean>((resolve) => {
        acked = () => resolve(true);
      });
    const released = t.w.release(1);
    expect(t.publisher.says()).toBe('send');
    acked();
    expect((await released).seq).toBe(1);
    expect(calls.splice(0)).toEqual(['refuse:park']);
    // Acks that outlast the permit: at its end what waits is refused, so the release ends.
    t.w.lead(6, 900, 0);
    t.w.setWriting(true);
    t.w.record(2, [gc(2)], []);
    const late = t.w.release(2);
    calls.length = 0;
    t.clock.increment(100); // now 200: the permit (900) holds
    expect(calls).toEqual([]);
    t.clock.increment(700);
    expect(calls.splice(0)).toEqual(['refuse:park']);
    acked();
    await late;
    // Torn down: refused at once, now and from now on (its lease, if held, keeps its permit).
    t.w.lead(7, 1000, 0);
    calls.length = 0;
    t.w.detach();
    expect(calls).toEqual(['refuse:send']);
    expect(t.publisher.says()).toBe('refuse');
  });

  it('a long pump looks at the permit on the way: what is left when it ran out stays for whoever leads next', async () => {
    // What a takeover will find stored: what it handed over before the permit ran out.
    const handed = Array.from({ length: 1024 }, (_, i) => `gc:T1.S1.a1:${i + 1}:0`);
    const t = writer({ ids: new Set(handed), maxSourceSeq: 1024 }, 5000);
    t.w.permit(1, 600);
    for (let seq = 1; seq <= 2000; seq++) t.w.record(seq, [gc(seq)], []);
    t.publisher.onPublish = () => t.clock.increment(1); // 1 ms per output handed over
    t.w.setWriting(true);
    // Looked at after 512 outputs (512 ms: it holds) and after 1024 (it ran out at 600).
    expect(t.publisher.sent).toEqual(Array.from({ length: 1024 }, (_, i) => i + 1));
    expect(t.fenced()).toBe(1);
    expect(t.counters.fencedWrites).toBe(1);
    expect(t.w.outbox.unsentCount()).toBe(976);
    // Leading again, it finds what it handed over stored and sends only the rest.
    t.publisher.onPublish = () => {};
    t.w.revoke();
    t.w.setWriting(false);
    t.w.lead(2, t.clock.now() + 600, 1);
    expect(await t.w.takeOver(2000)).toBe('hot');
    t.w.setWriting(true);
    expect(t.publisher.sent.slice(1024)).toEqual(Array.from({ length: 976 }, (_, i) => i + 1025));
  });

  it('a backup sends nothing, keeps what its primary has not confirmed, and drops what a mark covers', () => {
    const t = writer();
    for (let seq = 1; seq <= 4; seq++) t.w.record(seq, [gc(seq)], []);
    t.w.pump();
    expect(t.publisher.sent).toEqual([]);
    t.w.observe({ seq: 2, outSeq: 10, dlqSeq: 0 });
    expect(t.w.outbox.size).toBe(2);
    t.w.record(2, [gc(2)], []); // re-applied input under the mark: stored, not kept
    expect(t.w.outbox.size).toBe(2);
  });

  it('a takeover reads what was stored after the last mark and sends exactly the rest, in input order', async () => {
    const t = writer({ ids: new Set(['gc:T1.S1.a1:3:0']), maxSourceSeq: 3 });
    for (let seq = 1; seq <= 5; seq++) t.w.record(seq, [gc(seq)], []);
    t.w.observe({ seq: 2, outSeq: 10, dlqSeq: 4 });
    t.w.permit(2, 1000);
    expect(t.publisher.reopened).toBe(1); // the restore's
    await t.w.takeOver(5);
    expect(t.readAfter()).toEqual({ seq: 2, outSeq: 10, dlqSeq: 4 });
    // Its lane takes the subjects an earlier life left with a gap again: the resend fills them.
    expect(t.publisher.reopened).toBe(2);
    t.w.setWriting(true);
    expect(t.publisher.sent).toEqual([4, 5]);
    expect(t.counters.skippedAlreadyPublished).toBe(1);
  });

  it('a takeover overtaken by a demotion and a newer takeover changes nothing when its read returns late', async () => {
    // Each read is answered by the test: the first takeover's stays open past the second's.
    const reads: ((ids: StoredIds) => void)[] = [];
    const t = writer(() => new Promise<StoredIds>((resolve) => reads.push(resolve)));
    const storedUpTo = (n: number): StoredIds => ({
      ids: new Set(Array.from({ length: n }, (_, i) => `gc:T1.S1.a1:${i + 1}:0`)),
      maxSourceSeq: n,
    });
    const settle = () => new Promise((r) => setImmediate(r));
    t.w.permit(1, 1000);
    sendThenLose(t.w);
    // Promoted: takeover A starts reading. Demoted again and promoted again: takeover B.
    t.w.permit(2, 1000);
    const a = t.w.takeOver(4);
    const aFailed = a.catch((e: unknown) => e);
    await settle();
    t.w.revoke();
    t.w.setWriting(false);
    t.w.record(5, [gc(5)], []);
    t.w.permit(3, 1000);
    const b = t.w.takeOver(5);
    await settle();
    expect(reads).toHaveLength(2);
    reads[1]!(storedUpTo(3));
    await b;
    t.w.setWriting(true);
    expect(t.publisher.sent).toEqual([1, 2, 3, 4, 5]);
    // A's read returns now, taken before B's re-sends were stored: it must not be used.
    reads[0]!(storedUpTo(3));
    const aOutcome = await aFailed;
    t.w.record(6, [gc(6)], []);
    t.w.pump();
    expect(t.publisher.sent).toEqual([1, 2, 3, 4, 5, 6]);
    expect(aOutcome).toBeInstanceOf(ColdTakeover);
  });

  it('re-taking its own lease nobody held since, every publish stored, it reads nothing and sends only what it never sent', async () => {
    const { t, reads } = await lostAfterFirstLease();
    t.w.lead(2, 1000, 1);
    expect(await t.w.takeOver(4)).toBe('resumed');
    t.w.setWriting(true);
    expect(reads()).toBe(1);
    expect(t.publisher.sent).toEqual([1, 2, 3, 4]);
  });

  it('a re-take the next loss cut short, before or during its takeover, leaves the one after it resuming: nobody led in between', async () => {
    const { t, reads } = await lostAfterFirstLease();
    // Epoch 2, won from its own epoch 1, is lost while its takeover waits for the publisher.
    t.w.lead(2, 1000, 1);
    const cut = t.w.takeOver(4).catch((e: unknown) => e);
    t.w.revoke();
    expect(await cut).toBeInstanceOf(ColdTakeover);
    // Epoch 3, won from epoch 2, is lost before its takeover began.
    t.w.lead(3, 1000, 2);
    t.w.revoke();
    t.w.lead(4, 1000, 3);
    expect(await t.w.takeOver(4)).toBe('resumed');
    t.w.setWriting(true);
    expect(reads()).toBe(1);
    expect(t.publisher.sent).toEqual([1, 2, 3, 4]);
  });

  it('reads after all when resuming is not exact: a publish failed since the mark, or it never learnt what the streams held under the epoch it resumes', async () => {
    // A publish of input 2 failed: the streams may lack it.
    // Its first read finds nothing; the second finds input 1's output, which was stored.
    const answers: StoredIds[] = [
      { ids: new Set(), maxSourceSeq: 0 },
      { ids: new Set(['gc:T1.S1.a1:1:0']), maxSourceSeq: 1 },
    ];
    const failed = writer(async () => answers.shift()!);
    failed.w.lead(1, 1000, 0);
    await failed.w.takeOver(0);
    failed.w.setWriting(true);
    failed.w.record(1, [gc(1)], []);
    failed.w.record(2, [gc(2)], []);
    failed.w.pump();
    failed.publisher.failedAt = 1;
    failed.w.revoke();
    failed.w.setWriting(false);
    failed.w.lead(2, 1000, 1);
    expect(await failed.w.takeOver(2)).toBe('hot');
    failed.w.setWriting(true);
    expect(failed.publisher.sent).toEqual([1, 2, 2]);

    // Epoch 2 was won after another node's epoch 1, but demoted before its read returned: the
    // other node's writes are unknown to it, so re-taking epoch 2's lease must read.
    const reads: ((ids: StoredIds) => void)[] = [];
    const t = writer(
      (_mark, signal) =>
        new Promise<StoredIds>((resolve, reject) => {
          reads.push(resolve);
          signal.addEventListener('abort', () => reject(signal.reason));
        }),
    );
    for (let seq = 1; seq <= 2; seq++) t.w.record(seq, [gc(seq)], []);
    t.w.lead(2, 1000, 0);
    const overtaken = t.w.takeOver(2).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    t.w.revoke();
    t.w.setWriting(false);
    expect(await overtaken).toBeInstanceOf(ColdTakeover);
    t.w.lead(3, 1000, 2);
    const taking = t.w.takeOver(2);
    await new Promise((r) => setImmediate(r));
    expect(reads).toHaveLength(2);
    reads[1]!({ ids: new Set(['gc:T1.S1.a1:1:0']), maxSourceSeq: 1 }); // the other node stored 1
    expect(await taking).toBe('hot');
    t.w.setWriting(true);
    expect(t.publisher.sent).toEqual([2]);
  });

  it('an overtaken takeover stops its read of the streams', async () => {
    // A read that never answers by itself: only the abort ends it.
    const t = writer(() => new Promise<StoredIds>(() => undefined));
    t.w.lead(1, 1000, 0);
    const taking = t.w.takeOver(0).catch((e: unknown) => e);
    await new Promise((r) => setImmediate(r));
    const signal = t.signal()!;
    expect(signal.aborted).toBe(false);
    t.w.revoke();
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(ColdTakeover);
    void taking;
  });

  it('knows the last input whose outputs may have been stored before it re-applies it: restore and takeover', async () => {
    const t = writer({ ids: new Set(['gc:T1.S1.a1:9:0']), maxSourceSeq: 9 });
    expect(t.w.storedThrough).toBe(0);
    // A takeover finds the old primary stored outputs up to input 9.
    t.w.permit(2, 1000);
    await t.w.takeOver(0);
    expect(t.w.storedThrough).toBe(9);
    // A rebuild from an older checkpoint (seq 4) finds outputs up to input 12 already stored.
    const p = t.publisher as unknown as Publisher;
    t.w.reset(p, { seq: 4, outSeq: 20, dlqSeq: 2 }, { ids: new Set(['gc:T1.S1.a1:12:0']), maxSourceSeq: 12 });
    expect(t.w.storedThrough).toBe(12);
    // Never lowered by a later restore that finds less.
    t.w.reset(p, { seq: 5, outSeq: 30, dlqSeq: 2 }, { ids: new Set(), maxSourceSeq: 0 });
    expect(t.w.storedThrough).toBe(12);
  });

  it('refuses a hot takeover it cannot make exact: behind the mark, or an outbox that overflowed', async () => {
    const behind = writer();
    behind.w.observe({ seq: 9, outSeq: 1, dlqSeq: 0 });
    await expect(behind.w.takeOver(8)).rejects.toBeInstanceOf(ColdTakeover);
    const full = writer(undefined, 2);
    for (let seq = 1; seq <= 3; seq++) full.w.record(seq, [gc(seq)], []);
    await expect(full.w.takeOver(3)).rejects.toBeInstanceOf(ColdTakeover);
  });

  it('a backup checkpoint commits only once the primary confirmed past it, looking from a mark at or before it', async () => {
    const t = writer();
    t.w.observe({ seq: 5, outSeq: 50, dlqSeq: 5 });
    const pending = t.w.backupCheckpointMark(8, 1000);
    t.w.observe({ seq: 9, outSeq: 90, dlqSeq: 9 });
    expect(await pending).toEqual({ seq: 5, outSeq: 50, dlqSeq: 5 });
    const late = t.w.backupCheckpointMark(20, 1000);
    t.clock.increment(1000);
    expect(await late).toBe('not yet');
  });

  it('a primary confirms a proposed mark once what it sent before is acknowledged, and trims', async () => {
    const t = writer();
    t.w.permit(1, 1000);
    t.w.setWriting(true);
    t.w.record(1, [gc(1)], []);
    t.publisher.acked = 7;
    t.w.propose(1);
    await Promise.resolve();
    await Promise.resolve();
    expect(t.w.mark).toEqual({ seq: 1, outSeq: 7, dlqSeq: 7 });
    expect(t.w.outbox.size).toBe(0);
  });
});
