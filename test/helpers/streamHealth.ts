/**
 * How healthy a clustered JetStream is, stream by stream: whether each stream and durable
 * consumer has a running leader with every replica current, and a one-line-each description
 * for failure messages. Used by `NatsCluster` to pace a rolling restart.
 */
import type { ClusterInfo, ConsumerInfo, JetStreamManager, StreamInfo } from '@nats-io/jetstream';

/**
 * What keeps streams and consumers from being current, one phrase each; empty when nothing
 * does. `running` names the servers up now: a leader that is not among them is stale (nats-server
 * 2.9 keeps naming a dead leader until its election timeout).
 */
export async function streamProblems(jsm: JetStreamManager, running: ReadonlySet<string>): Promise<string[]> {
  const problems: string[] = [];
  const check = (what: string, replicas: number, cluster: ClusterInfo | undefined): void => {
    const leader = cluster?.leader;
    if (leader === undefined || leader === '' || !running.has(leader)) {
      problems.push(`${what} has no running leader (${leader || 'none'})`);
      return;
    }
    const peers = cluster?.replicas ?? [];
    if (peers.length < replicas - 1) problems.push(`${what} has ${peers.length + 1} of ${replicas} replicas`);
    for (const peer of peers) {
      if (!peer.current || peer.offline || (peer.lag ?? 0) > 0)
        problems.push(`${what} replica ${peer.name} not current`);
    }
  };
  // Stream by stream, not STREAM.LIST: the meta leader answers a list only once it has every
  // stream leader's info, so one slow leader delays the whole answer. Under load the list kept
  // passing the 2 s timeout for 120 s after a restart (CI, and 2 of 3 parallel runs here) while
  // each stream answered its own STREAM.INFO; and a stream that does not answer is named.
  for (const { name, stream } of await streamInfos(jsm)) {
    if (stream instanceof Error) {
      problems.push(`stream ${name} info: ${stream.message}`);
      continue;
    }
    check(`stream ${name}`, stream.config.num_replicas, stream.cluster);
    for (const consumer of await consumersOf(jsm, name).catch(() => [])) {
      // Ephemeral (ordered) consumers are one in-memory replica: only their leader matters.
      const replicas = consumer.config.durable_name
        ? consumer.config.num_replicas || stream.config.num_replicas
        : 1;
      check(`consumer ${name}/${consumer.name}`, replicas, consumer.cluster);
    }
  }
  return problems;
}

/** One line per stream and consumer: messages, leader, each replica's current/offline/lag. */
export async function describeStreams(jsm: JetStreamManager): Promise<string> {
  const lines: string[] = [];
  for (const { name, stream } of await streamInfos(jsm)) {
    if (stream instanceof Error) {
      lines.push(`stream ${name} info: ${stream.message}`);
      continue;
    }
    const { messages, last_seq } = stream.state;
    lines.push(`stream ${name} msgs ${messages} last ${last_seq} ${describeCluster(stream.cluster)}`);
    const consumers = await consumersOf(jsm, name).catch((error: Error) => error);
    if (consumers instanceof Error) lines.push(`  consumers: ${consumers.message}`);
    else {
      for (const consumer of consumers) {
        const delivered = consumer.delivered.stream_seq;
        lines.push(`  consumer ${consumer.name} delivered ${delivered} ${describeCluster(consumer.cluster)}`);
      }
    }
  }
  return lines.join('\n');
}

/** Every stream by name, with its STREAM.INFO or why that failed (a stream may not answer). */
async function streamInfos(jsm: JetStreamManager): Promise<{ name: string; stream: StreamInfo | Error }[]> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) names.push(name);
  const infos: { name: string; stream: StreamInfo | Error }[] = [];
  for (const name of names.sort()) {
    infos.push({ name, stream: await jsm.streams.info(name).catch((error: Error) => error) });
  }
  return infos;
}

async function consumersOf(jsm: JetStreamManager, stream: string): Promise<ConsumerInfo[]> {
  const consumers: ConsumerInfo[] = [];
  for await (const consumer of jsm.consumers.list(stream)) consumers.push(consumer);
  return consumers;
}

function describeCluster(cluster: ClusterInfo | undefined): string {
  const peers = (cluster?.replicas ?? []).map(
    (p) => `${p.name}${p.current ? '' : ' behind'}${p.offline ? ' offline' : ''} lag ${p.lag ?? 0}`,
  );
  return `leader ${cluster?.leader || 'none'} replicas [${peers.join(', ')}]`;
}
