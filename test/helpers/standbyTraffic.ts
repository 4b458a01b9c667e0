/**
 * Traffic and a baseline for hot-standby tests: seeded simulator traffic (with invalid input, so
 * the DLQ is compared too), what one undisturbed node writes for it, and the chaos run's NATS
 * server whose `WFM_OUT` / `WFM_DLQ` keep a 100 ms duplicate window (the server's dedupe then
 * cannot hide a re-sent output: only the nodes' own takeover logic can).
 */
import { type JetStreamClient, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { TrafficGenerator, type TrafficMessage } from '../../src/simulator/index.ts';
import { ensureStreams } from '../../src/streams/index.ts';
import { NatsServer } from './NatsServer.ts';
import { NodeHome, NodeProcess, type NodeStatusJson, waitFor } from './NodeProcess.ts';
import {
  compareDeadLetters,
  compareRuns,
  publishMessages,
  readStream,
  type StreamRecord,
} from './outputs.ts';

/** What the tests publish. */
export interface StandbyTrafficOptions {
  sites: string[];
  agentsPerSite: number;
  hours: number;
  seed: number;
}

/** The chaos run's duplicate window for `WFM_OUT` and `WFM_DLQ`. */
export const CHAOS_DUPLICATE_WINDOW_MS = 100;

export function standbyTraffic(o: StandbyTrafficOptions): TrafficMessage[] {
  const startTs = Date.UTC(2026, 0, 5, 7, 0, 0);
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: o.sites,
    agentsPerSite: o.agentsPerSite,
    seed: o.seed,
    startTs,
    tickMs: 2000,
    invalidEvery: 50,
  });
  return [...generator.messages(startTs + o.hours * 3_600_000)];
}

/** A NATS server with connections to read and publish. */
export interface StandbyNats {
  server: NatsServer;
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  close(): Promise<void>;
}

/** Starts a server with the contract's streams (a 100 ms duplicate window for outputs when `chaos`). */
export async function standbyNats(chaos: boolean): Promise<StandbyNats> {
  const server = await NatsServer.start();
  const nc = await connect({ servers: server.url });
  const jsm = await jetstreamManager(nc);
  await ensureStreams(
    jsm,
    chaos
      ? { outDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS, dlqDuplicateWindowMs: CHAOS_DUPLICATE_WINDOW_MS }
      : {},
  );
  return {
    server,
    nc,
    js: jetstream(nc),
    jsm,
    close: async () => {
      await nc.close().catch(() => undefined);
      await server.stop();
    },
  };
}

/** The streams one node alone writes for `traffic`, undisturbed. */
export async function baselineRun(
  traffic: readonly TrafficMessage[],
  sites: string[],
): Promise<{ out: StreamRecord[]; dlq: StreamRecord[] }> {
  const nats = await standbyNats(false);
  // A 30 s lease (a 5 s write permit): the undisturbed run must not lose its own leases to
  // event-loop stalls. With the 3 s default, a whole-suite run on two busy cores fenced the
  // baseline three times while it applied its backlog, and its re-takes (re-reading WFM_OUT,
  // re-sending the outbox) outlasted the wait below.
  const home = await NodeHome.create({
    natsUrl: nats.server.url,
    sites,
    extraConfig: { standbyReplicas: 0, leaseSeconds: 30 },
  });
  let node: NodeProcess | undefined;
  try {
    await publishMessages(nats.js, traffic);
    node = await NodeProcess.start(home, { nodeId: 'baseline' });
    let status: NodeStatusJson | undefined;
    await waitFor(
      async () => {
        status = await node!.status();
        return status.sites.length === sites.length &&
          status.sites.every((s) => s.processedSeq === traffic.length && s.checkpointSeq === traffic.length)
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, describe: () => `status ${JSON.stringify(status)}\n${node!.log}` },
    );
    await node.stop();
    return {
      out: await readStream(nats.js, nats.jsm, 'WFM_OUT'),
      dlq: await readStream(nats.js, nats.jsm, 'WFM_DLQ'),
    };
  } finally {
    await node?.kill();
    await home.remove();
    await nats.close();
  }
}

/**
 * Publishes `traffic` as live input, in slices of 40 with a short pause between them, from where
 * the last call stopped: `publish(n)` sends the next `n` messages (all that is left by default).
 * `retry` rides out a NATS server's death (each message retried until acked).
 */
export function livePublisher(
  js: JetStreamClient,
  traffic: readonly TrafficMessage[],
  options: { retry?: boolean } = {},
): { publish: (count?: number) => Promise<void>; published: () => number } {
  let published = 0;
  const mode = options.retry === true ? ({ mode: 'retry', retryForMs: 60_000 } as const) : {};
  return {
    published: () => published,
    publish: async (count = traffic.length - published) => {
      const end = Math.min(traffic.length, published + Math.floor(count));
      while (published < end) {
        const slice = traffic.slice(published, Math.min(end, published + 40));
        await publishMessages(js, slice, { firstIndex: published, ...mode });
        published += slice.length;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
  };
}

/**
 * Both streams of a run against the baseline: the summaries of what differs (empty: the same).
 * `deadLettersOrdered: false` where a stream's leader dies (see {@link compareDeadLetters}).
 */
export async function differences(
  nats: Pick<StandbyNats, 'js' | 'jsm'>,
  baseline: { out: StreamRecord[]; dlq: StreamRecord[] },
  options: { deadLettersOrdered?: boolean } = {},
): Promise<string[]> {
  const out = await readStream(nats.js, nats.jsm, 'WFM_OUT');
  const dlq = await readStream(nats.js, nats.jsm, 'WFM_DLQ');
  const outs = compareRuns(baseline.out, out, 'WFM_OUT');
  const dlqs = compareDeadLetters(baseline.dlq, dlq, { ordered: options.deadLettersOrdered ?? true });
  return [outs, dlqs].filter((c) => !c.same).map((c) => c.summary);
}
