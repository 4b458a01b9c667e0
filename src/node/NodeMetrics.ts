import type { RejectionReason } from '../domain/index.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** What the node counts beyond its sites' own counters. */
export interface NodeCounters {
  dlqByReason: Partial<Record<RejectionReason, number>>;
  checkpoints: number;
  checkpointSecondsSum: number;
  lastCheckpointSeconds: number;
  publishFailures: number;
  pipelineRestarts: number;
  natsDisconnects: number;
  /** WFM_IN messages dropped by retention before this node checkpointed them. */
  inputGapMessages: number;
}

export function emptyNodeCounters(): NodeCounters {
  return {
    dlqByReason: {},
    checkpoints: 0,
    checkpointSecondsSum: 0,
    lastCheckpointSeconds: 0,
    publishFailures: 0,
    pipelineRestarts: 0,
    natsDisconnects: 0,
    inputGapMessages: 0,
  };
}

function line(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${value}`;
}

/**
 * Renders the node's metrics in the Prometheus text exposition format (version 0.0.4):
 * events in, outputs out, DLQ by reason, lag, checkpoint duration.
 */
export function renderMetrics(
  nodeId: string,
  sites: Iterable<SiteRuntime>,
  counters: NodeCounters,
  streamLastSeq: number | null,
  processedSeq: number,
): string {
  const out: string[] = [];
  const help = (name: string, type: string, text: string) =>
    out.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);
  const siteList = [...sites];
  const node = { node: nodeId };

  help('wfm_events_in_total', 'counter', 'WFM_IN messages applied, by site.');
  for (const s of siteList)
    out.push(line('wfm_events_in_total', { ...node, site: s.ref.site }, s.counters.events));
  help('wfm_outputs_total', 'counter', 'Outputs produced, by site and kind (primary and backup alike).');
  for (const s of siteList) {
    for (const [kind, n] of Object.entries(s.counters.outputs)) {
      out.push(line('wfm_outputs_total', { ...node, site: s.ref.site, kind }, n));
    }
  }
  help('wfm_outputs_skipped_total', 'counter', 'Outputs not re-published because WFM_OUT already held them.');
  for (const s of siteList) {
    out.push(
      line('wfm_outputs_skipped_total', { ...node, site: s.ref.site }, s.counters.skippedAlreadyPublished),
    );
  }
  help('wfm_agent_steps_total', 'counter', 'Inputs and deadlines applied to agents, by site.');
  for (const s of siteList)
    out.push(line('wfm_agent_steps_total', { ...node, site: s.ref.site }, s.supervisor.stepCounts.steps));
  help(
    'wfm_agent_transitions_total',
    'counter',
    'Agent steps that moved a statechart (sent to the agent actor as an event), by site.',
  );
  for (const s of siteList) {
    const { transitions } = s.supervisor.stepCounts;
    out.push(line('wfm_agent_transitions_total', { ...node, site: s.ref.site }, transitions));
  }
  help('wfm_dlq_total', 'counter', 'Inputs sent to the DLQ, by reason.');
  for (const [reason, n] of Object.entries(counters.dlqByReason))
    out.push(line('wfm_dlq_total', { ...node, reason }, n));
  help('wfm_processed_seq', 'gauge', 'Last WFM_IN sequence applied, by site.');
  for (const s of siteList)
    out.push(line('wfm_processed_seq', { ...node, site: s.ref.site }, s.supervisor.seq));
  help('wfm_checkpoint_seq', 'gauge', 'Last WFM_IN sequence durable in the checkpoint, by site.');
  for (const s of siteList)
    out.push(line('wfm_checkpoint_seq', { ...node, site: s.ref.site }, s.checkpointSeq));
  help('wfm_agents', 'gauge', 'Agent actors, by site.');
  for (const s of siteList)
    out.push(line('wfm_agents', { ...node, site: s.ref.site }, s.supervisor.agentCount));
  help('wfm_lag_messages', 'gauge', 'WFM_IN messages stored but not yet applied by this node.');
  if (streamLastSeq !== null)
    out.push(line('wfm_lag_messages', node, Math.max(0, streamLastSeq - processedSeq)));
  help('wfm_checkpoint_duration_seconds', 'summary', 'Time to flush outputs and write one checkpoint.');
  out.push(line('wfm_checkpoint_duration_seconds_sum', node, counters.checkpointSecondsSum));
  out.push(line('wfm_checkpoint_duration_seconds_count', node, counters.checkpoints));
  help('wfm_checkpoint_last_duration_seconds', 'gauge', 'Duration of the last checkpoint.');
  out.push(line('wfm_checkpoint_last_duration_seconds', node, counters.lastCheckpointSeconds));
  help('wfm_publish_failures_total', 'counter', 'Flushes that found a publish without an ack.');
  out.push(line('wfm_publish_failures_total', node, counters.publishFailures));
  help('wfm_pipeline_restarts_total', 'counter', 'Times the input pipeline was rebuilt from the checkpoint.');
  out.push(line('wfm_pipeline_restarts_total', node, counters.pipelineRestarts));
  help('wfm_nats_disconnects_total', 'counter', 'NATS disconnections seen.');
  out.push(line('wfm_nats_disconnects_total', node, counters.natsDisconnects));
  help(
    'wfm_input_gap_messages_total',
    'counter',
    'WFM_IN messages retention dropped before this node checkpointed them.',
  );
  out.push(line('wfm_input_gap_messages_total', node, counters.inputGapMessages));
  return `${out.join('\n')}\n`;
}
