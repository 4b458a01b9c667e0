/**
 * How a publish keeps its place in its lane:
 * - `chained`: one at a time per subject of its lane (outputs: an agent's states stay in order);
 * - `fence`: alone in its lane (a transfer's audit record: after all before it, before all after);
 * - `free`: pipelined, in call order except across a stream leader's death (dead letters).
 */
export type PublishOrder = 'chained' | 'fence' | 'free';

/** What to do after a publish settled: ids held until now that go on the wire, ids to fail unsent. */
export interface LaneStep {
  send: number[];
  fail: { ids: number[]; reason: string }[];
}

const NOTHING: LaneStep = { send: [], fail: [] };
const OPEN: LaneGate = () => 'send';

/**
 * Whether a lane's site may hand a publish to the connection now: `send` (its lease permit
 * holds), `park` (the permit ran out, but a renewal may keep the lease, or the site's next lease
 * follow it straight), `refuse` (it may never go: the site was torn down).
 */
export type LaneGate = () => 'send' | 'park' | 'refuse';

/**
 * One site's share of a {@link Publisher}'s window and the one owner of its order rules: which
 * publish may go on the wire now and which waits (it holds ids only; the publisher holds the
 * messages). A publish held behind one that was not stored is never sent, nor is any later one
 * on that subject (or, after a transfer record that was not stored, any but dead letters) until
 * the site has rebuilt and {@link reopen}ed the lane: sending it would store it ahead of the gap,
 * which the site fills when it rebuilds.
 */
export class PublishLane {
  /** The lane's name: its site. */
  readonly name: string;
  /** Unsettled ids (sent or held), in call order (ids grow with each submit). */
  readonly pending = new Set<number>();
  /** The first failure since the last flush reported one, and how many followed. */
  failure: { msgId: string; error: unknown; count: number } | undefined;
  /** The id of the latest publish of the lane that failed (-1: none); never reset. */
  lastFailed = -1;
  waiters: { upto: number; resolve: () => void }[] = [];
  /**
   * What the lane's site says of a publish it held whose turn came (see `Publisher.gate`): go
   * always, until the site says otherwise.
   */
  gate: LaneGate = OPEN;
  /** Held publishes whose turn came while the gate said `park`, in order. */
  readonly parked: number[] = [];
  // Subject -> ids of chained publishes on it, in call order: the first on the wire, the rest held.
  readonly #chains = new Map<string, number[]>();
  // The fence not yet settled (held until all before it settled, then on the wire).
  #fence: { id: number; sent: boolean } | undefined;
  // Ids submitted while the fence is pending, with their subject and order, in call order.
  #behindFence: { id: number; subject: string; order: PublishOrder }[] = [];
  // Subjects on which a chained publish was not stored since the last reopen(): until the site
  // re-sends from the gap, anything later on them would be stored ahead of it. The site goes on
  // applying input until its next flush reports the failure, so this must outlive the chain.
  readonly #gapped = new Set<string>();
  // A transfer record was not stored: nothing chained or fenced may pass it until reopen().
  #broken = false;

  constructor(name: string) {
    this.name = name;
  }

  /** A new publish: sent at once (in `send`), held for its turn (neither), or failed unsent. */
  admit(id: number, subject: string, order: PublishOrder): LaneStep {
    this.pending.add(id);
    const placed = this.#place(id, subject, order);
    if (placed === 'send') return { send: [id], fail: [] };
    if (placed !== 'hold') return { send: [], fail: [{ ids: [id], reason: placed.refused }] };
    return this.#fenceMayGo() ?? NOTHING;
  }

  /**
   * The site starts writing again from a restore or a takeover, having read what the streams
   * hold: publishes on a subject with a gap may go again (it re-sends the gap first, in order).
   */
  reopen(): void {
    this.#gapped.clear();
    this.#broken = false;
  }

  /**
   * Publish `id` settled (`stored` false: failed, its failure already noted). Returns what goes
   * on the wire next, and what must fail unsent.
   */
  settle(id: number, subject: string, order: PublishOrder, stored: boolean): LaneStep {
    this.pending.delete(id);
    // A transfer record not stored (sent, or refused at admit) lets nothing chained pass it.
    if (order === 'fence' && !stored) this.#broken = true;
    const step =
      this.#fence?.id === id ? this.#afterFence(stored) : this.#afterChained(id, subject, order, stored);
    const fenceStep = this.#fenceMayGo();
    if (fenceStep === null) return step;
    return { send: [...step.send, ...fenceStep.send], fail: [...step.fail, ...fenceStep.fail] };
  }

  /** Notes a failed publish (the first one names the lane's failure). */
  noteFailure(id: number, msgId: string, error: unknown): void {
    if (id > this.lastFailed) this.lastFailed = id;
    if (this.failure === undefined) this.failure = { msgId, error, count: 1 };
    else this.failure.count++;
  }

  /** Whether every publish submitted before `upto` has settled. */
  settledBelow(upto: number): boolean {
    for (const id of this.pending) return id >= upto;
    return true;
  }

  /** Resolves the flushes waiting for what has now settled. */
  wakeWaiters(): void {
    if (this.waiters.length === 0) return;
    const done = this.waiters.filter((w) => this.settledBelow(w.upto));
    if (done.length === 0) return;
    this.waiters = this.waiters.filter((w) => !done.includes(w));
    for (const w of done) w.resolve();
  }

  #place(id: number, subject: string, order: PublishOrder): 'send' | 'hold' | { refused: string } {
    if (this.#fence !== undefined) {
      this.#behindFence.push({ id, subject, order });
      return 'hold';
    }
    if (order === 'free') return 'send';
    if (this.#broken) return { refused: 'a transfer record before it was not stored' };
    if (order === 'fence') {
      if (this.#gapped.size > 0) return { refused: 'a publish before it was not stored' };
      this.#fence = { id, sent: false };
      return 'hold'; // it goes from #fenceMayGo, once all before it settled
    }
    if (this.#gapped.size > 0 && this.#gapped.has(subject))
      return { refused: `an earlier publish on ${subject} was not stored` };
    const chain = this.#chains.get(subject);
    if (chain !== undefined) {
      chain.push(id);
      return 'hold';
    }
    this.#chains.set(subject, [id]);
    return 'send';
  }

  #afterChained(id: number, subject: string, order: PublishOrder, stored: boolean): LaneStep {
    if (order !== 'chained') return NOTHING;
    if (!stored) this.#gapped.add(subject);
    const chain = this.#chains.get(subject);
    if (chain === undefined) return NOTHING;
    if (chain[0] !== id) {
      // Settled while held (aborted): it just leaves its chain.
      const at = chain.indexOf(id);
      if (at > 0) chain.splice(at, 1);
      return NOTHING;
    }
    chain.shift();
    const next = chain[0];
    if (next === undefined) {
      this.#chains.delete(subject);
      return NOTHING;
    }
    if (stored) return { send: [next], fail: [] };
    this.#chains.delete(subject);
    return { send: [], fail: [{ ids: chain, reason: `the publish before it on ${subject} was not stored` }] };
  }

  #afterFence(stored: boolean): LaneStep {
    this.#fence = undefined;
    const behind = this.#behindFence;
    this.#behindFence = [];
    const waiting = behind.filter((b) => this.pending.has(b.id));
    if (!stored) {
      return {
        send: [],
        fail: [{ ids: waiting.map((b) => b.id), reason: 'the transfer record before it was not stored' }],
      };
    }
    const step: LaneStep = { send: [], fail: [] };
    for (const b of waiting) {
      const placed = this.#place(b.id, b.subject, b.order);
      if (placed === 'send') step.send.push(b.id);
      else if (placed !== 'hold') step.fail.push({ ids: [b.id], reason: placed.refused });
    }
    return step;
  }

  /** The held fence goes once all before it settled — or fails, when one of them failed. */
  #fenceMayGo(): LaneStep | null {
    const fence = this.#fence;
    if (fence === undefined || fence.sent || !this.settledBelow(fence.id)) return null;
    if (this.failure !== undefined)
      return { send: [], fail: [{ ids: [fence.id], reason: 'a publish before it was not stored' }] };
    fence.sent = true;
    return { send: [fence.id], fail: [] };
  }
}
