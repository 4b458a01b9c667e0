import type { EventLoopDelay } from './EventLoopMonitor.ts';
import type { SiteCounters } from './SiteHost.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** One site (or the node's unrouted lane) as the metrics see it. */
export interface SiteMetrics {
  site: string;
  counters: SiteCounters;
  processedSeq: number;
  checkpointSeq: number;
  steps: { steps: number; transitions: number };
  agents: number;
  emptyActivitiesDropped: number;
  /** Whether this node runs the site as its primary (the lifecycle actor's role). */
  primary: boolean;
}

/** What the node counts beyond its sites' own counters. */
export interface NodeCounters {
  publishFailures: number;
  pipelineRestarts: number;
  natsDisconnects: number;
}

export function emptyNodeCounters(): NodeCounters {
  return {
    publishFailures: 0,
    pipelineRestarts: 0,
    natsDisconnects: 0,
  };
}

/** What the metrics read of a site. */
export function siteMetrics(s: SiteRuntime): SiteMetrics {
  const supervisor = s.supervisor;
  return {
    site: s.site,
    counters: s.counters,
    processedSeq: s.position,
    checkpointSeq: s.checkpointSeq,
    steps: supervisor?.stepCounts ?? { steps: 0, transitions: 0 },
    agents: supervisor?.agentCount ?? 0,
    emptyActivitiesDropped: supervisor?.emptyActivitiesDropped ?? 0,
    primary: s.role === 'primary',
  };
}

function line(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/["\\\n]/g, '_')}"`);
  return `${name}${pairs.length > 0 ? `{${pairs.join(',')}}` : ''} ${value}`;
}

/**
 * Renders the node's metrics in the Prometheus text exposition format (version 0.0.4):
 * events in, outputs out, DLQ by reason, lag, checkpoint duration, leadership (leases, takeovers,
 * fenced writes, renewal round trips) and event-loop stalls (`eventLoop`: null renders none).
 */
export function renderMetrics(
  nodeId: string,
  sites: Iterable<SiteMetrics>,
  counters: NodeCounters,
  streamLastSeq: number | null,
  processedSeq: number,
  eventLoop: EventLoopDelay | null,
): string {
  const out: string[] = [];
  const help = (name: string, type: string, text: string) =>
    out.push(`# HELP ${name} ${text}`, `# TYPE ${name} ${type}`);
  const siteList = [...sites];
  const node = { node: nodeId };

  help('wfm_events_in_total', 'counter', 'WFM_IN messages applied, by site.');
  for (const s of siteList)
    out.push(line('wfm_events_in_total', { ...node, site: s.site }, s.counters.events));
  help('wfm_outputs_total', 'counter', 'Outputs produced, by site and kind (primary and backup alike).');
  for (const s of siteList) {
    for (const [kind, n] of Object.entries(s.counters.outputs)) {
      out.push(line('wfm_outputs_total', { ...node, site: s.site, kind }, n));
    }
  }
  help('wfm_outputs_skipped_total', 'counter', 'Outputs not re-published because WFM_OUT already held them.');
  for (const s of siteList) {
    out.push(
      line('wfm_outputs_skipped_total', { ...node, site: s.site }, s.counters.skippedAlreadyPublished),
    );
  }
  help('wfm_agent_steps_total', 'counter', 'Inputs and deadlines applied to agents, by site.');
  for (const s of siteList) out.push(line('wfm_agent_steps_total', { ...node, site: s.site }, s.steps.steps));
  help(
    'wfm_agent_transitions_total',
    'counter',
    'Agent steps that moved a statechart (sent to the agent actor as an event), by site.',
  );
  for (const s of siteList) {
    const { transitions } = s.steps;
    out.push(line('wfm_agent_transitions_total', { ...node, site: s.site }, transitions));
  }
  help('wfm_dlq_total', 'counter', 'Inputs sent to the DLQ, by site (or __unrouted) and reason.');
  for (const s of siteList)
    for (const [reason, n] of Object.entries(s.counters.dlqByReason))
      out.push(line('wfm_dlq_total', { ...node, site: s.site, reason }, n));
  help('wfm_processed_seq', 'gauge', 'Last WFM_IN sequence applied, by site.');
  for (const s of siteList) out.push(line('wfm_processed_seq', { ...node, site: s.site }, s.processedSeq));
  help('wfm_checkpoint_seq', 'gauge', 'Last WFM_IN sequence durable in the checkpoint, by site.');
  for (const s of siteList) out.push(line('wfm_checkpoint_seq', { ...node, site: s.site }, s.checkpointSeq));
  help('wfm_agents', 'gauge', 'Agent actors, by site.');
  for (const s of siteList) out.push(line('wfm_agents', { ...node, site: s.site }, s.agents));
  help('wfm_lag_messages', 'gauge', 'WFM_IN messages stored but not yet applied by this node.');
  if (streamLastSeq !== null)
    out.push(line('wfm_lag_messages', node, Math.max(0, streamLastSeq - processedSeq)));
  const perSite = (name: string, type: string, text: string, value: (s: SiteMetrics) => number) => {
    help(name, type, text);
    for (const s of siteList) out.push(line(name, { ...node, site: s.site }, value(s)));
  };
  perSite('wfm_checkpoints_total', 'counter', 'Checkpoints written, by site.', (s) => s.counters.checkpoints);
  perSite(
    'wfm_checkpoint_seconds_total',
    'counter',
    'Time spent flushing outputs and writing checkpoints, by site.',
    (s) => s.counters.checkpointSecondsSum,
  );
  perSite(
    'wfm_checkpoint_failures_total',
    'counter',
    'Checkpoint commits that failed (the agents stay dirty and are written by the next), by site.',
    (s) => s.counters.checkpointFailures,
  );
  perSite(
    'wfm_site_rebuilds_total',
    'counter',
    'Times a site was rebuilt from its checkpoint (a failed publish, a lost connection, a restart).',
    (s) => s.counters.rebuilds,
  );
  perSite(
    'wfm_empty_activities_dropped_total',
    'counter',
    'Scheduled activities with start = end, dropped from otherwise valid schedules, by site.',
    (s) => s.emptyActivitiesDropped,
  );
  perSite(
    'wfm_input_gap_messages_total',
    'counter',
    'WFM_IN messages retention dropped before the site checkpointed them.',
    (s) => s.counters.inputGapMessages,
  );
  help(
    'wfm_site_primary',
    'gauge',
    '1 while this node runs the site as its primary (it writes), 0 as a backup.',
  );
  for (const s of siteList) out.push(line('wfm_site_primary', { ...node, site: s.site }, s.primary ? 1 : 0));
  perSite(
    'wfm_leases_won_total',
    'counter',
    "Leases this node won for the site (each made it the site's primary), by site.",
    (s) => s.counters.leasesWon,
  );
  perSite(
    'wfm_leases_lost_total',
    'counter',
    'Leases this node lost for the site (permit ran out, superseded or fenced; a handover is not counted), by site.',
    (s) => s.counters.leasesLost,
  );
  help(
    'wfm_takeovers_total',
    'counter',
    'Times this node took a site over as primary, by site and kind: hot (read what the streams hold, then went on writing from its outbox), cold (rebuilt from a checkpoint) or resumed (re-took its own lease nobody held since: wrote on from its outbox without reading).',
  );
  for (const s of siteList) {
    out.push(line('wfm_takeovers_total', { ...node, site: s.site, kind: 'hot' }, s.counters.hotTakeovers));
    out.push(line('wfm_takeovers_total', { ...node, site: s.site, kind: 'cold' }, s.counters.coldTakeovers));
    out.push(
      line('wfm_takeovers_total', { ...node, site: s.site, kind: 'resumed' }, s.counters.resumedLeases),
    );
  }
  perSite(
    'wfm_fenced_writes_total',
    'counter',
    'Writes held back because the lease permit had run out (nothing of them was sent), by site.',
    (s) => s.counters.fencedWrites,
  );
  perSite(
    'wfm_checkpoints_deferred_total',
    'counter',
    'Backup checkpoints not committed because the primary had not yet stored outputs up to them, by site.',
    (s) => s.counters.checkpointsDeferred,
  );
  perSite(
    'wfm_lease_renewals_total',
    'counter',
    'Successful lease renewals by this node as primary, by site.',
    (s) => s.counters.renewals,
  );
  perSite(
    'wfm_lease_renew_seconds_total',
    'counter',
    'Round-trip time of successful lease renewals, summed, by site (divide by wfm_lease_renewals_total for the mean).',
    (s) => s.counters.renewSecondsSum,
  );
  perSite(
    'wfm_lease_renew_seconds_max',
    'gauge',
    'Longest round trip of a successful lease renewal since the site was placed on this node, by site.',
    (s) => s.counters.renewSecondsMax,
  );
  help(
    'wfm_event_loop_delay_max_seconds',
    'gauge',
    'Longest event-loop stall since the node started (every timer, renewal and write waited this long).',
  );
  if (eventLoop !== null) out.push(line('wfm_event_loop_delay_max_seconds', node, eventLoop.maxSeconds));
  help(
    'wfm_event_loop_delay_p99_seconds',
    'gauge',
    '99th percentile of event-loop delay since the node started.',
  );
  if (eventLoop !== null) out.push(line('wfm_event_loop_delay_p99_seconds', node, eventLoop.p99Seconds));
  help('wfm_publish_failures_total', 'counter', 'Times the publishing connection was lost.');
  out.push(line('wfm_publish_failures_total', node, counters.publishFailures));
  help('wfm_pipeline_restarts_total', 'counter', 'Times reading WFM_IN failed and started again.');
  out.push(line('wfm_pipeline_restarts_total', node, counters.pipelineRestarts));
  help('wfm_nats_disconnects_total', 'counter', 'NATS disconnections seen.');
  out.push(line('wfm_nats_disconnects_total', node, counters.natsDisconnects));
  return `${out.join('\n')}\n`;
}

/** The WFM database side of a node, as its metrics see it. */
export interface DatabaseMetrics {
  sink: 'postgres' | 'level';
  state: 'ok' | 'retrying' | 'outage';
  rowsWritten: number;
  failures: number;
  /** Sites this node writes: the `WFM_OUT` position the sink holds, and rows read but not written. */
  sites: { site: string; position: number; backlog: number }[];
}

/** The database metrics in the Prometheus text format (appended to {@link renderMetrics}'s). */
export function renderDatabaseMetrics(nodeId: string, db: DatabaseMetrics): string {
  const node = { node: nodeId };
  const out = [
    '# HELP wfm_db_up Whether the interval sink accepts writes (0 while retrying or after an outage), by sink.',
    '# TYPE wfm_db_up gauge',
    line('wfm_db_up', { ...node, sink: db.sink }, db.state === 'ok' ? 1 : 0),
    '# HELP wfm_db_rows_written_total Interval rows this node wrote to the interval sink.',
    '# TYPE wfm_db_rows_written_total counter',
    line('wfm_db_rows_written_total', node, db.rowsWritten),
    '# HELP wfm_db_write_failures_total Failed interval sink calls (each retried until dbRetrySeconds).',
    '# TYPE wfm_db_write_failures_total counter',
    line('wfm_db_write_failures_total', node, db.failures),
    "# HELP wfm_db_position The WFM_OUT sequence up to which the sink holds a site's interval rows.",
    '# TYPE wfm_db_position gauge',
    ...db.sites.map((s) => line('wfm_db_position', { ...node, site: s.site }, s.position)),
    '# HELP wfm_db_backlog Interval rows read from WFM_OUT and not yet written, by site.',
    '# TYPE wfm_db_backlog gauge',
    ...db.sites.map((s) => line('wfm_db_backlog', { ...node, site: s.site }, s.backlog)),
  ];
  return `${out.join('\n')}\n`;
}
