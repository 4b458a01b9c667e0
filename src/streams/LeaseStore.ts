import { JetStreamApiError, type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { natsErrorFrom } from './natsErrorFrom.ts';

/** The KV bucket of site leases (DESIGN guarantee 2). */
export const LEADER_BUCKET = 'WFM_LEADER';

// JSStreamWrongLastSequenceErr: the compare-and-set found another revision.
const WRONG_LAST_SEQUENCE = 10071;
// JSNoMessageFoundErr: the key was never written.
const NO_MESSAGE_FOUND = 10037;

/**
 * A point of a site's output that its primary confirmed: every output of input at or before
 * `seq` is stored, and every output of later input is stored after `outSeq` in `WFM_OUT` (after
 * `dlqSeq` in `WFM_DLQ`). A successor reads what is stored after it and writes exactly the rest.
 */
export interface LeaseMark {
  seq: number;
  outSeq: number;
  dlqSeq: number;
}

/** The value of key `T.S` in `WFM_LEADER`. */
export interface LeaseRecord {
  /** The node holding (or, when `released`, last holding) the lease. */
  node: string;
  /** Higher for every new holder: fences the writes of every earlier one. */
  epoch: number;
  /** Input at or before this sequence is not the site's (see `SiteCheckpointMeta`). */
  startedAt: number;
  /** The holder's last confirmed output point (null before it confirmed one). */
  mark: LeaseMark | null;
  /** The holder stopped writing and gave the lease up (a graceful handover). */
  released: boolean;
  /** The node the holder handed over to, when `released`. */
  to?: string;
}

/** The key's current value, or none, with the revision a compare-and-set must name. */
export interface LeaseEntry {
  /** Stream sequence of the value (0: the key has never been written). */
  revision: number;
  record: LeaseRecord | null;
}

/**
 * What a compare-and-set did: written at `revision`, or refused because the key is at another
 * revision — `current`, as the stream's leader holds it (null when it could not be read).
 */
export type LeaseWrite = { ok: true; revision: number } | { ok: false; current: LeaseEntry | null };

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/** Reads a stored lease value; anything unreadable counts as no lease (it is overwritten by CAS). */
export function parseLeaseRecord(data: Uint8Array): LeaseRecord | null {
  let r: Partial<LeaseRecord>;
  try {
    r = JSON.parse(new TextDecoder().decode(data)) as Partial<LeaseRecord>;
  } catch {
    return null;
  }
  if (r === null || typeof r !== 'object' || typeof r.node !== 'string' || !isSeq(r.epoch)) return null;
  const m = r.mark as Partial<LeaseMark> | null | undefined;
  const mark = m != null && isSeq(m.seq) && isSeq(m.outSeq) && isSeq(m.dlqSeq) ? (m as LeaseMark) : null;
  return {
    node: r.node,
    epoch: r.epoch,
    startedAt: isSeq(r.startedAt) ? r.startedAt : 0,
    mark,
    released: r.released === true,
    ...(typeof r.to === 'string' ? { to: r.to } : {}),
  };
}

/**
 * Site leases in NATS KV bucket `WFM_LEADER`, key `T.S`. Every write is a compare-and-set on the
 * revision the writer last saw (`Nats-Expected-Last-Subject-Sequence`, exact on nats-server 2.9):
 * a first lease expects revision 0, so it is never taken over a value someone wrote meanwhile.
 * Keys are never deleted — a delete marker would change what a create expects — and the bucket
 * has no TTL: liveness is judged by watchers from the holder's renewals on their own clocks.
 */
export class LeaseStore {
  readonly #kv: KV;
  readonly #jsm: JetStreamManager;
  readonly #tenant: string;

  private constructor(kv: KV, jsm: JetStreamManager, tenant: string) {
    this.#kv = kv;
    this.#jsm = jsm;
    this.#tenant = tenant;
  }

  /**
   * Opens the bucket, making it when missing (`replicas` as the node's streams).
   * @throws NatsError when NATS refuses.
   */
  static async open(nc: NatsConnection, tenant: string, replicas: number): Promise<LeaseStore> {
    try {
      const kv = await new Kvm(nc).create(LEADER_BUCKET, { history: 1, replicas });
      return new LeaseStore(kv, await jetstreamManager(nc), tenant);
    } catch (err) {
      throw natsErrorFrom(err, `cannot open KV bucket ${LEADER_BUCKET}`);
    }
  }

  /** The key of a site (or lane) of this tenant. */
  key(site: string): string {
    return `${this.#tenant}.${site}`;
  }

  /** The current value of a site's lease. @throws NatsError */
  async get(site: string): Promise<LeaseEntry> {
    try {
      const e = await this.#kv.get(this.key(site));
      if (e === null || e.operation !== 'PUT') return { revision: e?.revision ?? 0, record: null };
      return { revision: e.revision, record: parseLeaseRecord(e.value) };
    } catch (err) {
      throw natsErrorFrom(err, `cannot read lease ${this.key(site)}`);
    }
  }

  /**
   * Writes `record` if the key is still at `expected` (0: never written).
   * @throws NatsError when NATS did not answer (the write may or may not have happened: the
   *   next value a watcher sees tells).
   */
  async write(site: string, record: LeaseRecord, expected: number): Promise<LeaseWrite> {
    try {
      const revision = await this.#kv.put(this.key(site), JSON.stringify(record), { previousSeq: expected });
      return { ok: true, revision };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === WRONG_LAST_SEQUENCE)
        return { ok: false, current: await this.#leaderEntry(site).catch(() => null) };
      throw natsErrorFrom(err, `cannot write lease ${this.key(site)}`);
    }
  }

  /**
   * The key's value as the bucket stream's leader holds it — the one a compare-and-set is judged
   * against — read with `STREAM.MSG.GET`, which only the leader answers (a KV get may be served by
   * any replica). On nats-server 2.9.10 a replica can diverge from its leader after servers are
   * killed: a watcher reading from it then shows a revision the leader never had, and every
   * compare-and-set naming it is refused for ever (the chaos test saw both nodes of a site follow
   * a lease nobody held for 240 s).
   */
  async #leaderEntry(site: string): Promise<LeaseEntry> {
    try {
      const m = await this.#jsm.streams.getMessage(`KV_${LEADER_BUCKET}`, {
        last_by_subj: `$KV.${LEADER_BUCKET}.${this.key(site)}`,
      });
      if (m === null) return { revision: 0, record: null };
      const operation = m.header?.get('KV-Operation');
      const deleted = operation === 'DEL' || operation === 'PURGE';
      return { revision: m.seq, record: deleted ? null : parseLeaseRecord(m.data) };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === NO_MESSAGE_FOUND)
        return { revision: 0, record: null };
      throw err;
    }
  }

  /**
   * Calls `onEntry(site, entry)` with every site's current value, then with every change, until
   * the returned function is called.
   */
  async watch(onEntry: (site: string, entry: LeaseEntry) => void): Promise<() => void> {
    const prefix = `${this.#tenant}.`;
    const iter = await this.#kv.watch({ key: `${prefix}*` }).catch((err: unknown) => {
      throw natsErrorFrom(err, `cannot watch ${LEADER_BUCKET}`);
    });
    void (async () => {
      for await (const e of iter) {
        const site = e.key.slice(prefix.length);
        const record = e.operation === 'PUT' ? parseLeaseRecord(e.value) : null;
        onEntry(site, { revision: e.revision, record });
      }
    })().catch(() => undefined);
    return () => iter.stop();
  }
}
