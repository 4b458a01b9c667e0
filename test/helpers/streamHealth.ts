/**
 * How healthy a clustered JetStream is, stream by stream: whether each stream and durable
 * consumer has a running leader with every replica current, and a one-line-each description
 * for failure messages. Used by `NatsCluster` to pace a rolling restart.
 */
import type { ClusterInfo, JetStreamManager } from '@nats-io/jetstream';

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
  for await (const stream of jsm.streams.list()) {
    const name = stream.config.name;
    check(`stream ${name}`, stream.config.num_replicas, stream.cluster);
    for await (const consumer of jsm.consumers.list(name)) {
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
  for await (const stream of jsm.streams.list()) {
    const name = stream.config.name;
    const { messages, last_seq } = stream.state;
    lines.push(`stream ${name} msgs ${messages} last ${last_seq} ${describeCluster(stream.cluster)}`);
    for await (const consumer of jsm.consumers.list(name)) {
      const delivered = consumer.delivered.stream_seq;
      lines.push(`  consumer ${consumer.name} delivered ${delivered} ${describeCluster(consumer.cluster)}`);
    }
  }
  return lines.join('\n');
}

function describeCluster(cluster: ClusterInfo | undefined): string {
  const peers = (cluster?.replicas ?? []).map(
    (p) => `${p.name}${p.current ? '' : ' behind'}${p.offline ? ' offline' : ''} lag ${p.lag ?? 0}`,
  );
  return `leader ${cluster?.leader || 'none'} replicas [${peers.join(', ')}]`;
}
