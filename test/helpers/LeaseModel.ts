import { type Actor, createActor, SimulatedClock } from 'xstate';
import { createElectionMachine, type ObservedLease } from '../../src/actors/index.ts';
import { leaseAfterRefusal, replicaStagger } from '../../src/node/leaseRules.ts';
import { type ElectionTiming, electionTiming, observedLease } from '../../src/node/SiteElection.ts';
import { SeededRandom } from '../../src/simulator/index.ts';
import type { LeaseEntry, LeaseRecord } from '../../src/streams/index.ts';
import { flush } from './fakeSiteServices.ts';

type Write = { ok: true; revision: number } | { ok: false; current: LeaseEntry };

/**
 * A model of one site's lease in `WFM_LEADER` with two replicas, for checking the election
 * (guarantee 2) over many random histories on xstate's SimulatedClock: the real election machine
 * and the real lease rules (`replicaStagger`, `leaseAfterRefusal`), a compare-and-set store, each
 * replica's watcher delivering every value in order after its own delay, and faults — slow and
 * lost answers (a write stored whose answer never comes), a holder cut off from the store and its
 * beacon, a slow holder (its round trips outlast its permit, its beacon alive), releases
 * (handbacks), SIGKILL and restart. Only what the election decides on is modelled: no site, no
 * outputs.
 */
export class LeaseModel {
  readonly clock = new SimulatedClock();
  readonly timing: ElectionTiming;
  readonly #rnd: SeededRandom;
  #kv: LeaseEntry = { revision: 0, record: null };
  readonly #replicas = new Map<string, ModelReplica>();
  readonly #cutUntil = new Map<string, number>();
  readonly #slowUntil = new Map<string, number>();
  readonly #deadSince = new Map<string, number>();
  /** Steps at which two replicas held a write permit at once. */
  overlaps = 0;
  /** Leases won (terms begun). */
  promotions = 0;
  /** Longest stretch (ms) with no replica holding a write permit and none slow. */
  longestLeaderless = 0;
  #leaderlessSince = 0;

  constructor(seed: number, timing: ElectionTiming = electionTiming(3)) {
    this.#rnd = new SeededRandom(seed);
    this.timing = timing;
    for (const id of ['a', 'b']) this.#replicas.set(id, new ModelReplica(this, id));
  }

  /** Milliseconds a message or an answer takes: mostly under 120, now and then up to 1.5 s. */
  latency(): number {
    const r = this.#rnd;
    return r.next() < 0.03 ? r.int(0, 1500) : Math.floor(r.next() * r.next() * 120);
  }

  random(): number {
    return this.#rnd.next();
  }

  get current(): LeaseEntry {
    return this.#kv;
  }

  cut(node: string): boolean {
    return this.cutEnd(node) > this.clock.now();
  }

  /** Whether `node`'s main thread is slow: its writes' round trips outlast the write permit. */
  slow(node: string): boolean {
    return (this.#slowUntil.get(node) ?? 0) > this.clock.now();
  }

  /** When `node`'s cut-off ends (0: never cut). */
  cutEnd(node: string): number {
    return this.#cutUntil.get(node) ?? 0;
  }

  /** Whether `node`'s beacon says its process lives: not cut off, and not dead for long. */
  beaconAlive(node: string): boolean {
    if (this.cut(node)) return false;
    const since = this.#deadSince.get(node);
    return since === undefined || this.clock.now() - since < this.timing.silenceMs * 2;
  }

  /** A compare-and-set by `node`; rejects (no answer) when it is cut off or the answer is lost. */
  write(node: string, record: LeaseRecord, expected: number): Promise<Write> {
    return new Promise((resolve, reject) => {
      const noAnswer = () => this.clock.setTimeout(() => reject(new Error('timeout')), 5000);
      if (this.cut(node)) return void noAnswer();
      // A slow node sends late and reads its answer late: each leg 0.5–1.5 permits more.
      const late = () =>
        this.slow(node) ? this.timing.permitMs / 2 + this.random() * this.timing.permitMs : 0;
      this.clock.setTimeout(() => {
        if (this.#kv.revision !== expected) {
          const current = this.#kv;
          return void this.clock.setTimeout(() => resolve({ ok: false, current }), this.latency() + late());
        }
        this.#kv = { revision: this.#kv.revision + 1, record };
        const stored = this.#kv;
        for (const r of this.#replicas.values()) r.deliver(stored);
        if (this.random() < 0.05) noAnswer();
        else
          this.clock.setTimeout(
            () => resolve({ ok: true, revision: stored.revision }),
            this.latency() + late(),
          );
      }, this.latency() + late());
    });
  }

  /** The replicas holding a write permit now (more than one is an overlap). */
  #holders(): ModelReplica[] {
    return [...this.#replicas.values()].filter((r) => r.permitted);
  }

  /** Advances the clock in 5 ms steps, checking the permits after each. */
  async run(ms: number): Promise<void> {
    for (let t = 0; t < ms; t += 5) {
      this.clock.increment(5);
      await flush();
      const holders = this.#holders();
      if (holders.length > 1) this.overlaps++;
      const now = this.clock.now();
      // A slow holder that renews now and then is deferred to while its beacon lives (by design):
      // only stretches with no slow node count.
      if (holders.length > 0 || [...this.#replicas.keys()].some((id) => this.slow(id)))
        this.#leaderlessSince = now;
      else this.longestLeaderless = Math.max(this.longestLeaderless, now - this.#leaderlessSince);
    }
  }

  /** One random fault or handover at the holder, then time for the cluster to settle. */
  async round(): Promise<void> {
    await this.run(
      this.random() < 0.5 ? Math.floor(this.random() * 1500) : 500 + Math.floor(this.random() * 8000),
    );
    const holder = this.#holders()[0];
    if (holder === undefined) return;
    const r = this.random();
    if (r < 0.15) this.#cutUntil.set(holder.id, this.clock.now() + 500 + Math.floor(this.random() * 4000));
    else if (r < 0.25)
      this.#slowUntil.set(holder.id, this.clock.now() + 5000 + Math.floor(this.random() * 25_000));
    else if (r < 0.45) holder.actor.send({ type: 'release' });
    else if (r < 0.75) {
      holder.kill();
      this.#deadSince.set(holder.id, this.clock.now());
      await this.run(Math.floor(this.random() * 6000));
      this.#deadSince.delete(holder.id);
      this.#replicas.set(holder.id, new ModelReplica(this, holder.id));
    }
  }
}

/** One replica: the election actor with the services `SiteElection` gives it, on the model. */
class ModelReplica {
  readonly actor: Actor<ReturnType<typeof createElectionMachine>>;
  readonly #m: LeaseModel;
  #seen: LeaseEntry;
  #held = 0;
  #watchAt = 0;
  #alive = true;

  constructor(
    model: LeaseModel,
    readonly id: string,
  ) {
    this.#m = model;
    this.#seen = model.current;
    const t = model.timing;
    const record = (epoch: number, released: boolean, to?: string): LeaseRecord => ({
      node: id,
      epoch,
      startedAt: 0,
      mark: null,
      released,
      ...(to !== undefined ? { to } : {}),
    });
    const answer = (w: Write): number | null => {
      if (w.ok) return w.revision;
      const outcome = leaseAfterRefusal(this.#seen, w.current);
      if (outcome !== null) this.observe(outcome.entry, true);
      return null;
    };
    this.actor = createActor(createElectionMachine(), {
      clock: model.clock,
      input: {
        node: id,
        clock: model.clock,
        ...t,
        initial: observedLease(model.current),
        services: {
          claim: async (epoch, expected) => answer(await model.write(id, record(epoch, false), expected)),
          renew: async (epoch, expected) => answer(await model.write(id, record(epoch, false), expected)),
          release: async (epoch, expected) => {
            await new Promise<void>((resolve) => model.clock.setTimeout(resolve, model.latency()));
            const to = id === 'a' ? 'b' : 'a';
            return answer(await model.write(id, record(epoch, true, to), expected));
          },
          ready: () => true,
          cannotLead: () => undefined,
          holderAlive: (holder) => holder !== id && model.beaconAlive(holder),
          stagger: (lease: ObservedLease) =>
            replicaStagger(lease, { node: id, replicas: ['a', 'b'], held: this.#held, ...t }),
          promote: (epoch) => {
            this.#held = epoch;
            model.promotions++;
          },
          renewed: () => undefined,
          demote: () => undefined,
        },
      },
    });
    this.actor.start();
  }

  /** Holds a write permit: leading, and its permit not run out. */
  get permitted(): boolean {
    const s = this.actor.getSnapshot();
    return (
      this.#alive &&
      s.status === 'active' &&
      s.matches('leading') &&
      s.context.validUntil > this.#m.clock.now()
    );
  }

  /** The watcher: every value in order, after its delay (held back while cut off). */
  deliver(entry: LeaseEntry): void {
    const m = this.#m;
    const at = Math.max(this.#watchAt, m.clock.now() + m.latency(), m.cutEnd(this.id));
    this.#watchAt = at;
    m.clock.setTimeout(() => this.observe(entry, false), at - m.clock.now());
  }

  observe(entry: LeaseEntry, refused: boolean): void {
    if (!this.#alive || (!refused && entry.revision < this.#seen.revision)) return;
    this.#seen = entry;
    if (this.actor.getSnapshot().status === 'active')
      this.actor.send({ type: 'observed', lease: observedLease(entry) });
  }

  kill(): void {
    this.#alive = false;
    this.actor.stop();
  }
}
