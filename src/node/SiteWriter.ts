import type { OperationalClock } from '../actors/index.ts';
import {
  type DeadLetter,
  deadLetterMsgId,
  type LeaseMark,
  outputMsgId,
  type Publisher,
  type StoredIds,
} from '../streams/index.ts';
import { Outbox, type OutboxEntry } from './Outbox.ts';
import type { SiteCounters } from './SiteHost.ts';

/** Marks a site remembers, for choosing where a backup's checkpoint says to look. */
const MARK_HISTORY = 64;
/** Messages one pump hands to the publisher between two looks at the permit's clock. */
const PERMIT_LOOK_EVERY = 512;

/** A takeover that cannot write from memory: the site must rebuild from a checkpoint. */
export class ColdTakeover extends Error {
  override name = 'ColdTakeover';
}

/** What a {@link SiteWriter} reads from its site and node. */
export interface SiteWriterHost {
  site: string;
  clock: OperationalClock;
  counters: SiteCounters;
  /**
   * Reads what the site's subjects hold after `mark`'s stream positions; rejects with `signal`'s
   * reason once it is aborted (the takeover that asked was overtaken).
   */
  storedAfter(mark: LeaseMark, signal: AbortSignal): Promise<StoredIds>;
  /** The lease permit ran out while there was something to write: the election must know. */
  onFenced(): void;
}

/**
 * The only part of a site that writes (one owner of "what goes out, and may it"). Every input's
 * outputs and dead letters enter the site's {@link Outbox}; they go to the publisher only while
 * the site is primary *and* its lease permit holds, checked on this node's monotonic clock just
 * before the messages are handed to the connection — in the same microtask turn in which the
 * client writes them to the socket, so a primary paused past its permit (SIGSTOP) sends nothing
 * it decided before the pause once it resumes. What the publisher holds for its turn is gated by
 * the same permit (`Publisher.gate`). Marks — confirmed points of the primary's
 * output — trim the outbox and tell a successor where to look for what was stored.
 */
export class SiteWriter {
  readonly #h: SiteWriterHost;
  readonly outbox: Outbox;
  #publisher: Publisher | null = null;
  #writing = false;
  #epoch = 0;
  #permitUntil = Number.NEGATIVE_INFINITY;
  #stored: StoredIds | null = null;
  #resendAll = false;
  #pumpQueued = false;
  #mark: LeaseMark = { seq: 0, outSeq: 0, dlqSeq: 0 };
  #marks: LeaseMark[] = [];
  #proposing = false;
  // Publishes of the site before this flush point are settled and counted for by a confirmed
  // mark or a restore; a failure at or after it keeps any later mark unconfirmed.
  #cleanSince = 0;
  #markWaiters: { seq: number; resolve: (reached: boolean) => void }[] = [];
  #storedThrough = 0;
  // The takeover in flight, aborted when another starts and whenever writing ends (demotion,
  // restore, teardown): its read stops, and what it read is dropped. A takeover whose read returns
  // after that (its site was demoted and promoted again meanwhile, a newer takeover already
  // re-sent) would otherwise make the next pump re-send everything held after the mark against a
  // stale read: doubles.
  #takeover: AbortController | null = null;
  // Whether the lease just won followed directly one this writer was synced under (see `lead`).
  #resumes = false;
  // The epoch at whose takeover (or restore) this writer last learnt what the streams hold: from
  // then on they hold exactly that plus what it handed to the publisher, while nobody else leads.
  #syncedEpoch = 0;

  readonly #permitHolds = (): boolean => this.#h.clock.now() < this.#permitUntil;
  // What the publisher asks of a publish it held when its turn comes (see `Publisher.gate`). Past
  // the permit it is parked: a renewal in flight may keep the lease, or this node may win the
  // next lease straight from its own (nobody else led), and then it goes; anyone else's lease
  // refuses it (see `lead`, `refuseParked`). A writer torn down refuses it at once.
  readonly #gate = (): 'send' | 'park' | 'refuse' =>
    this.#publisher === null ? 'refuse' : this.#permitHolds() ? 'send' : 'park';

  constructor(host: SiteWriterHost, outboxMessages: number) {
    this.#h = host;
    this.outbox = new Outbox(outboxMessages);
  }

  /** The lease epoch this site last wrote under (0: never primary in this process). */
  get epoch(): number {
    return this.#epoch;
  }

  /** The last confirmed mark (own, or observed from the primary's lease). */
  get mark(): LeaseMark {
    return this.#mark;
  }

  /**
   * The last input whose outputs may have been stored before this site applied it in its present
   * life: what an earlier life (before a rebuild) or an earlier primary (before a takeover) wrote.
   * Until the site is past it, the streams' current positions are past some of the outputs it is
   * re-applying, so they cannot be a checkpoint's "look after here".
   */
  get storedThrough(): number {
    return this.#storedThrough;
  }

  /** Whether every message in the outbox was handed to the publisher. */
  get allSent(): boolean {
    return this.#writing && this.outbox.unsentCount() === 0;
  }

  /** After a restore: the site's state is the checkpoint's, `base` its mark, `stored` what followed it. */
  reset(publisher: Publisher, base: LeaseMark, stored: StoredIds): void {
    this.#publisher = publisher;
    // What the publisher held for its turn goes only under the permit too.
    publisher.gate(this.#h.site, this.#gate);
    // The site re-sends from its checkpoint, skipping what `stored` holds: the gaps come first.
    publisher.reopen(this.#h.site);
    this.#overtake();
    this.#cleanSince = publisher.flushPoint();
    this.outbox.clear();
    this.#stored = stored;
    // A restoring site never claims a lease (it is not ready): `stored` was read after anything
    // a holder before its current epoch wrote, and its own old life's publishes were settled.
    this.#syncedEpoch = this.#epoch;
    this.#resendAll = false;
    this.#storedThrough = Math.max(this.#storedThrough, base.seq, this.#mark.seq, stored.maxSourceSeq);
    if (base.seq >= this.#mark.seq) this.#mark = base;
    this.#marks = this.#marks.filter((m) => m.seq <= base.seq);
  }

  /** Keeps what input `seq` produced and, when the site writes, sends it at the end of this turn. */
  record(seq: number, outputs: OutboxEntry['outputs'], letters: readonly DeadLetter[]): void {
    // Input a confirmed mark covers (re-applied after a restore) was stored: nothing to keep.
    if (seq <= this.#mark.seq) return;
    this.outbox.push(seq, outputs, letters);
    if (this.#writing && !this.#pumpQueued && (outputs.length > 0 || letters.length > 0)) {
      this.#pumpQueued = true;
      queueMicrotask(() => this.pump());
    }
  }

  /** The lease (epoch) this site holds and how long it may write under it (this clock). */
  permit(epoch: number, validUntil: number): void {
    this.#epoch = epoch;
    this.#permitUntil = validUntil;
    // A renewal kept the lease (nobody else led): what waited for it goes.
    this.#publisher?.unpark(this.#h.site);
  }

  /**
   * A lease just won, before the site takes over. `resumesFrom`: the epoch of this node's own
   * lease its compare-and-set named (0: another's, or none) — nobody else led in between, so the
   * next takeover may trust what this writer knows it sent instead of reading the streams, if it
   * knew what they held under that epoch (see {@link takeOver}).
   */
  lead(epoch: number, validUntil: number, resumesFrom: number): void {
    // What the publisher parked was handed over under the lease this writer held last: it goes
    // under this one only if this one follows that one straight (nobody else led meanwhile).
    if (resumesFrom === 0 || resumesFrom !== this.#epoch) this.refuseParked();
    this.permit(epoch, validUntil);
    // Nobody led between the two leases: what it knew of the streams holds under this one too,
    // from now, not only once its takeover ends — a takeover cut short by the next loss (a busy
    // node) left nothing else behind, and the re-take after it resumes instead of reading.
    this.#resumes = resumesFrom > 0 && resumesFrom === this.#syncedEpoch;
    if (this.#resumes) this.#syncedEpoch = epoch;
  }

  /**
   * The lease is gone: nothing more may be sent. What the publisher parked stays parked until
   * the next lease says whether anyone else led (see {@link lead}).
   */
  revoke(): void {
    this.#permitUntil = Number.NEGATIVE_INFINITY;
    this.#overtake();
  }

  /**
   * What the publisher parked (see `Publisher.gate`) fails unsent: another node leads, a lease
   * was handed over, or the site is torn down — whose flush must not wait for what may never go.
   */
  refuseParked(): void {
    this.#publisher?.refuseParked(this.#h.site);
  }

  /** No lease to write under, and what was parked fails (a handover, a teardown). */
  #endPermit(): void {
    this.#permitUntil = Number.NEGATIVE_INFINITY;
    this.refuseParked();
  }

  /** Role primary (true) or backup (false), from the lifecycle actor. */
  setWriting(on: boolean): void {
    this.#writing = on;
    if (on) this.pump();
    else this.#overtake();
  }

  /** Whatever takeover is in flight may no longer apply what it reads. */
  #overtake(): void {
    this.#resumes = false;
    this.#takeover?.abort(new ColdTakeover('overtaken: the site stopped writing or took over again'));
    this.#takeover = null;
  }

  /** Hands what waits in the outbox to the publisher, if the permit still holds now. */
  pump(): void {
    this.#pumpQueued = false;
    if (!this.#writing || this.#publisher === null) return;
    if (this.outbox.unsentCount() === 0 && !this.#resendAll) return;
    if (!this.#permitHolds()) {
      this.#fence();
      return;
    }
    const entries = this.#resendAll ? this.outbox.takeAll() : this.outbox.takeUnsent();
    this.#resendAll = false;
    const publisher = this.#publisher;
    const site = this.#h.site;
    let sinceLook = 0;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i]!;
      // One pump can hand over a great many (a takeover re-sending what it holds after the
      // mark): the permit is looked at again every so often, not only when it began, and what
      // is left stays in the outbox for whoever leads next.
      if (sinceLook >= PERMIT_LOOK_EVERY) {
        sinceLook = 0;
        if (!this.#permitHolds()) {
          this.outbox.putBack(entries.length - i);
          this.#fence();
          return;
        }
      }
      sinceLook += e.outputs.length + e.letters.length;
      for (const output of e.outputs) {
        if (this.#stored !== null && this.#alreadyStored(outputMsgId(output), e.seq)) continue;
        publisher.publishOutput(site, output);
      }
      for (const letter of e.letters) {
        if (this.#stored !== null && this.#alreadyStored(deadLetterMsgId(letter), e.seq)) continue;
        publisher.publishDeadLetter(site, letter);
      }
    }
  }

  /**
   * Fenced by the clock: a successor may hold the lease by now. Everything not handed over stays
   * in the outbox; the election demotes the site and whoever leads next writes it.
   */
  #fence(): void {
    this.#writing = false;
    this.#h.counters.fencedWrites++;
    this.#h.onFenced();
  }

  #alreadyStored(id: string, seq: number): boolean {
    const stored = this.#stored!;
    if (seq > stored.maxSourceSeq) {
      // Past the last input anything was stored for: nothing more can be there.
      this.#stored = null;
      return false;
    }
    if (!stored.ids.has(id)) return false;
    this.#h.counters.skippedAlreadyPublished++;
    return true;
  }

  /**
   * Becoming primary from a hot backup: reads what was stored after the last confirmed mark and
   * makes the next pump send every held message that is not there. Resuming its own lease (see
   * {@link lead}) with every publish since its last confirmed mark stored, it reads nothing: the
   * streams then hold exactly what it handed to the publisher, and the next pump sends the rest.
   * A node whose busy event loop let its permit run out re-takes its lease this way at once —
   * a read of everything after an old mark, on an already overloaded node, had made each re-take
   * slower than the permit (a node led nothing for minutes under four test files at once).
   * @throws ColdTakeover when the outbox does not hold everything after the mark, or the site
   *   has not applied input up to it: then only a rebuild from a checkpoint is exact. Also when
   *   the site stopped writing or another takeover began before this one's reads returned: it
   *   then changes nothing (its lifecycle actor has left the state that awaited it).
   */
  async takeOver(position: number): Promise<'hot' | 'resumed'> {
    const publisher = this.#publisher;
    if (publisher === null) throw new ColdTakeover('the site has no publisher');
    const resumes = this.#resumes;
    this.#overtake();
    const takeover = new AbortController();
    this.#takeover = takeover;
    try {
      return await this.#takeOver(position, publisher, resumes, takeover.signal);
    } finally {
      // Ended, however: nothing is left to abort (unless a newer one already replaced it).
      if (this.#takeover === takeover) this.#takeover = null;
    }
  }

  async #takeOver(
    position: number,
    publisher: Publisher,
    resumes: boolean,
    signal: AbortSignal,
  ): Promise<'hot' | 'resumed'> {
    // What this node sent as an earlier primary settles first, so the read below sees it.
    await publisher.flush(this.#h.site).catch(() => undefined);
    signal.throwIfAborted();
    const mark = this.#mark;
    if (!this.outbox.complete) throw new ColdTakeover('the outbox overflowed since the last mark');
    if (position < mark.seq) throw new ColdTakeover(`applied ${position}, behind the mark at ${mark.seq}`);
    // Synced under the lease this one follows, every publish since settled above and none failed
    // since the mark: each held message is stored exactly when it was handed over (marked sent
    // in the outbox), and nobody else wrote. (A takeover of that epoch overtaken before its read
    // returned learnt nothing: the streams may hold what the previous holder wrote.)
    if (resumes && this.#cleanAt(publisher)) return 'resumed';
    const stored = await this.#h.storedAfter(mark, signal);
    signal.throwIfAborted();
    this.#stored = stored;
    this.#syncedEpoch = this.#epoch;
    this.#storedThrough = Math.max(this.#storedThrough, this.#stored.maxSourceSeq);
    // Everything held after the mark goes again, in order, skipping what `stored` holds.
    publisher.reopen(this.#h.site);
    this.#resendAll = true;
    return 'hot';
  }

  /**
   * A graceful handover: sends what the permit still allows, stops writing, waits for the acks,
   * and returns the mark the successor starts after (confirmed when every publish was stored).
   * The permit holds until then: what the publisher held for its turn may still go under it.
   */
  async release(position: number): Promise<LeaseMark> {
    const publisher = this.#publisher;
    this.pump();
    const allSent = this.allSent;
    this.#writing = false;
    if (publisher === null || !allSent) {
      this.#endPermit();
      return this.#mark;
    }
    const mark: LeaseMark = {
      seq: position,
      outSeq: Math.max(publisher.ackedSeq('WFM_OUT'), this.#mark.outSeq),
      dlqSeq: Math.max(publisher.ackedSeq('WFM_DLQ'), this.#mark.dlqSeq),
    };
    const fp = publisher.flushPoint();
    // No renewal comes while it releases: at the permit's end, what waits is refused.
    const { clock } = this.#h;
    const end = clock.setTimeout(() => this.#endPermit(), Math.max(0, this.#permitUntil - clock.now()));
    await publisher.settled(this.#h.site, fp);
    clock.clearTimeout(end);
    this.#endPermit();
    if (this.#cleanAt(publisher) && mark.seq > this.#mark.seq) {
      this.#cleanSince = fp;
      this.#confirm(mark);
    }
    return this.#mark;
  }

  /** A mark seen in the primary's lease: a backup drops what it covers. */
  observe(mark: LeaseMark | null): void {
    if (mark === null || this.#writing || mark.seq <= this.#mark.seq) return;
    this.#confirm(mark);
  }

  /**
   * The primary proposes a mark at `position` (every later output is published after now) and
   * confirms it once everything published before is acknowledged, so heartbeats carry it.
   */
  propose(position: number): void {
    const publisher = this.#publisher;
    if (publisher === null || !this.#writing || this.#proposing) return;
    this.pump();
    if (!this.allSent) return;
    const mark: LeaseMark = {
      seq: position,
      outSeq: Math.max(publisher.ackedSeq('WFM_OUT'), this.#mark.outSeq),
      dlqSeq: Math.max(publisher.ackedSeq('WFM_DLQ'), this.#mark.dlqSeq),
    };
    this.#proposing = true;
    const fp = publisher.flushPoint();
    publisher
      .settled(this.#h.site, fp)
      .then(() => {
        // Not `settled`'s own answer alone: a checkpoint's flush may have taken the lane's failure
        // first (the site then rebuilds); the failed publish's id is what tells.
        if (!this.#cleanAt(publisher) || this.#publisher !== publisher || mark.seq <= this.#mark.seq) return;
        this.#cleanSince = fp;
        this.#confirm(mark);
      })
      .finally(() => {
        this.#proposing = false;
      });
  }

  /** No publish of the site failed since the last confirmed mark (or restore). */
  #cleanAt(publisher: Publisher): boolean {
    return publisher.lastFailed(this.#h.site) < this.#cleanSince;
  }

  #confirm(mark: LeaseMark): void {
    this.#mark = mark;
    this.outbox.trim(mark.seq);
    this.#marks.push(mark);
    if (this.#marks.length > MARK_HISTORY) this.#marks.shift();
    if (this.#markWaiters.length > 0) {
      const due = this.#markWaiters.filter((w) => w.seq <= mark.seq);
      this.#markWaiters = this.#markWaiters.filter((w) => w.seq > mark.seq);
      for (const w of due) w.resolve(true);
    }
  }

  /**
   * Resolves true once a confirmed mark reaches `seq` (the primary stored every output of input
   * up to it), false after `timeoutMs` on the operational clock.
   */
  markReaches(seq: number, timeoutMs: number): Promise<boolean> {
    if (this.#mark.seq >= seq) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = { seq, resolve };
      this.#markWaiters.push(waiter);
      this.#h.clock.setTimeout(() => {
        this.#markWaiters = this.#markWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
    });
  }

  /**
   * Where a backup's checkpoint at `seq` says to look for what was stored after it — or
   * `'not yet'`: the outputs up to `seq` are the primary's to store, so the checkpoint may commit
   * only once a confirmed mark says they are (waiting up to `timeoutMs`). A rebuild from it then
   * never skips an output nobody stored, and its `checkpointSeq` never invites purging input a
   * takeover needs. Null: no mark at or before `seq`; the previous checkpoint's positions hold.
   */
  async backupCheckpointMark(seq: number, timeoutMs: number): Promise<LeaseMark | null | 'not yet'> {
    if (!(await this.markReaches(seq, timeoutMs))) return 'not yet';
    return this.markAtOrBefore(seq);
  }

  /** The latest confirmed mark at or before `seq` (where a checkpoint at `seq` may say to look). */
  markAtOrBefore(seq: number): LeaseMark | null {
    for (let i = this.#marks.length - 1; i >= 0; i--) if (this.#marks[i]!.seq <= seq) return this.#marks[i]!;
    return this.#mark.seq <= seq ? this.#mark : null;
  }

  /** Stops writing and forgets the publisher (the site is torn down). */
  detach(): void {
    this.#writing = false;
    // The lease (if held) outlives a rebuild: its permit stays for the restored site.
    this.refuseParked();
    this.#overtake();
    this.#publisher = null;
    this.#stored = null;
    this.outbox.clear();
  }
}
