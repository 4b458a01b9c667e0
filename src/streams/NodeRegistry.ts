import { type KV, Kvm } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/transport-node';
import { natsErrorFrom } from './natsErrorFrom.ts';

/** The KV bucket where nodes announce themselves. */
export const NODES_BUCKET = 'WFM_NODES';

/** What a node says of itself, at every heartbeat. */
export interface NodeAnnouncement {
  node: string;
  /** The node is stopping: count it out now rather than when its heartbeats stop. */
  leaving: boolean;
  /** How long the node's main thread had not beaten when this was sent (ms; 0 when unknown). */
  stalledMs: number;
}

/**
 * Cluster membership in KV bucket `WFM_NODES`, key `T.<node>`: each node puts its announcement
 * every heartbeat; watchers count a node live while they hear from it, on their own clock. The
 * bucket's values age out after a minute so the dead do not pile up — nothing relies on that
 * expiry (nats-server 2.9 tells watchers nothing when a key expires).
 */
export class NodeRegistry {
  readonly #kv: KV;
  readonly #tenant: string;

  private constructor(kv: KV, tenant: string) {
    this.#kv = kv;
    this.#tenant = tenant;
  }

  /** Opens the bucket, making it when missing. @throws NatsError */
  static async open(nc: NatsConnection, tenant: string, replicas: number): Promise<NodeRegistry> {
    try {
      const kv = await new Kvm(nc).create(NODES_BUCKET, { history: 1, replicas, ttl: 60_000 });
      return new NodeRegistry(kv, tenant);
    } catch (err) {
      throw natsErrorFrom(err, `cannot open KV bucket ${NODES_BUCKET}`);
    }
  }

  /** Announces this node (a heartbeat). @throws NatsError */
  async announce(announcement: NodeAnnouncement): Promise<void> {
    try {
      await this.#kv.put(`${this.#tenant}.${announcement.node}`, JSON.stringify(announcement));
    } catch (err) {
      throw natsErrorFrom(err, `cannot announce node ${announcement.node}`);
    }
  }

  /** Calls `onAnnouncement` for every announcement from now on (not the stored ones). */
  async watch(onAnnouncement: (a: NodeAnnouncement) => void): Promise<() => void> {
    const iter = await this.#kv
      .watch({ key: `${this.#tenant}.*`, include: 'updates' })
      .catch((err: unknown) => {
        throw natsErrorFrom(err, `cannot watch ${NODES_BUCKET}`);
      });
    void (async () => {
      for await (const e of iter) {
        if (e.operation !== 'PUT') continue;
        try {
          const a = JSON.parse(new TextDecoder().decode(e.value)) as Partial<NodeAnnouncement>;
          if (typeof a.node === 'string')
            onAnnouncement({
              node: a.node,
              leaving: a.leaving === true,
              stalledMs: typeof a.stalledMs === 'number' && a.stalledMs >= 0 ? a.stalledMs : 0,
            });
        } catch {
          // Not an announcement of this version: ignored.
        }
      }
    })().catch(() => undefined);
    return () => iter.stop();
  }
}
