import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { connectNats } from '../../src/streams/index.ts';
import type { WireMessage } from './agentScenario.ts';

/** A test's own NATS client: publishes inputs and reads what the node wrote. */
export class WfmWire {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;

  private constructor(nc: NatsConnection, jsm: JetStreamManager) {
    this.nc = nc;
    this.js = jetstream(nc);
    this.jsm = jsm;
  }

  static async connect(url: string): Promise<WfmWire> {
    const nc = await connectNats({ servers: [url], name: 'test wire' });
    return new WfmWire(nc, await jetstreamManager(nc));
  }

  /** Publishes one input (object → JSON, string → as is) and returns its WFM_IN seq. */
  async publish(subject: string, payload: unknown): Promise<number> {
    const data = typeof payload === 'string' ? payload : JSON.stringify(payload);
    return (await this.js.publish(subject, data)).seq;
  }

  /** Publishes one built input (`agentScenario`'s `stateMsg`, `reasonMsg`, …); returns its WFM_IN seq. */
  send(message: WireMessage): Promise<number> {
    return this.publish(message.subject, message.data);
  }

  /** Every message of `stream` whose subject starts with `prefix`, in stream order, parsed. */
  async read(stream: string, prefix = ''): Promise<{ subject: string; data: Record<string, unknown> }[]> {
    const info = await this.jsm.streams.info(stream).catch(() => null);
    if (info === null) return [];
    const out: { subject: string; data: Record<string, unknown> }[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
      const msg = await this.jsm.streams.getMessage(stream, { seq }).catch(() => null);
      if (msg?.subject.startsWith(prefix)) out.push({ subject: msg.subject, data: msg.json() });
    }
    return out;
  }

  /** Polls until `check` holds (or fails after `timeoutMs`). */
  async until(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error('condition not reached in time');
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async close(): Promise<void> {
    await this.nc.drain();
  }
}
