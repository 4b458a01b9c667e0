import type { DemoteReason, ElectionServices, ObservedLease } from '../../src/actors/index.ts';

type WriteKind = 'claim' | 'renew' | 'release';

/** A write the election asked for, held until the test settles it. */
export interface PendingWrite {
  kind: WriteKind;
  epoch: number;
  expected: number;
  resolve: (revision: number | null) => void;
  reject: (error: unknown) => void;
}

/** Election services whose writes the test settles by hand, recording what the machine did. */
export class FakeElectionServices implements ElectionServices {
  readonly writes: PendingWrite[] = [];
  readonly calls: string[] = [];
  isReady = true;
  rank = 0;
  staggerMs = 100;

  claim(epoch: number, expected: number): Promise<number | null> {
    return this.#write('claim', epoch, expected);
  }
  renew(epoch: number, expected: number): Promise<number | null> {
    return this.#write('renew', epoch, expected);
  }
  release(epoch: number, expected: number): Promise<number | null> {
    this.calls.push('stop writing');
    return this.#write('release', epoch, expected);
  }
  ready(): boolean {
    return this.isReady;
  }
  cannotLead(forMs: number): void {
    this.calls.push(`cannot lead for ${forMs}`);
  }
  /** Holders whose process counts as alive though silent. */
  readonly aliveHolders = new Set<string>();
  holderAlive(holder: string): boolean {
    return this.aliveHolders.has(holder);
  }
  stagger(_lease: ObservedLease): number {
    return this.rank * this.staggerMs;
  }
  promote(epoch: number, validUntil: number, resumesFrom: number): void {
    this.calls.push(
      `promote ${epoch} until ${validUntil}${resumesFrom > 0 ? ` resuming ${resumesFrom}` : ''}`,
    );
  }
  renewed(validUntil: number): void {
    this.calls.push(`renewed until ${validUntil}`);
  }
  demote(reason: DemoteReason): void {
    this.calls.push(`demote ${reason}`);
  }

  /** The oldest unsettled write, which must be of `kind`. */
  take(kind: WriteKind): PendingWrite {
    const w = this.writes.shift();
    if (w === undefined) throw new Error(`no pending write; expected ${kind}`);
    if (w.kind !== kind) throw new Error(`pending write is ${w.kind}; expected ${kind}`);
    return w;
  }

  #write(kind: WriteKind, epoch: number, expected: number): Promise<number | null> {
    return new Promise((resolve, reject) => this.writes.push({ kind, epoch, expected, resolve, reject }));
  }
}
