/**
 * One agent as the visualizer's grid shows it: its row, made from the agent's context on the
 * site's event time, and the day's out-of-adherence time beside it.
 */
import type { AgentContext } from '../domain/index.ts';
import type { AgentRow } from './agentQuery.ts';

/**
 * Out-of-adherence seconds of an agent today: how much of its site's local day so far — from
 * `dayStart` (see `localDayStart`) to `siteTime`, the site's event time — its exceptions cover
 * (stretches that reached the exception threshold, which its context keeps) and its running
 * stretch, counted from its start even before it reaches the threshold, as the open intervals
 * count it pending. A context keeps the agent's last AGENT_HISTORY_MAX exceptions: more than that
 * in one day leaves out the earliest. Nothing before the site has an event time (-1).
 */
export function outOfAdherenceSecs(context: AgentContext, siteTime: number, dayStart: number): number {
  if (siteTime < 0) return 0;
  let ms = 0;
  for (const e of context.exceptions)
    ms += Math.max(0, Math.min(e.end, siteTime) - Math.max(e.start, dayStart));
  const stretch = context.stretch;
  if (stretch !== null) ms += Math.max(0, siteTime - Math.max(stretch.start, dayStart));
  return ms / 1000;
}

/**
 * One agent's grid row; `siteTime` is the site's event time (-1: none yet), `dayStart` the start
 * of the site's local day it falls on.
 */
export function agentRow(
  site: string,
  role: 'primary' | 'backup',
  context: AgentContext,
  siteTime: number,
  dayStart: number,
): AgentRow {
  const row = fillAgentRow(blankAgentRow(), site, role, context, siteTime);
  row.outOfAdherenceTodaySecs = outOfAdherenceSecs(context, siteTime, dayStart);
  return row;
}

/** A row with no agent in it yet, to fill with {@link fillAgentRow}. */
export function blankAgentRow(): AgentRow {
  return {
    site: '',
    agentId: '',
    role: 'backup',
    presence: null,
    routingStatus: null,
    status: null,
    reason: null,
    adherenceState: null,
    since: null,
    secondsInState: null,
    scheduledCategory: null,
    actualCategory: null,
    impact: null,
    outOfAdherenceTodaySecs: 0,
  };
}

/**
 * Writes an agent's grid row into `row` — every field but `outOfAdherenceTodaySecs`, which no
 * filter or sort reads (a pass over 100k agents computes it only for the page's rows).
 */
export function fillAgentRow(
  row: AgentRow,
  site: string,
  role: 'primary' | 'backup',
  context: AgentContext,
  siteTime: number,
): AgentRow {
  const a = context.adherence;
  const gc = context.gc;
  const since = a === null ? null : a.since;
  row.site = site;
  row.agentId = context.agentId;
  row.role = role;
  row.presence = gc === null ? null : gc.presence;
  row.routingStatus = gc === null ? null : gc.routingStatus;
  row.status = context.status;
  row.reason = context.reason;
  row.adherenceState = a === null ? null : a.adherenceState;
  row.since = since;
  row.secondsInState = since === null || siteTime < 0 ? null : Math.max(0, siteTime - since) / 1000;
  row.scheduledCategory = a === null ? null : a.scheduledCategory;
  row.actualCategory = a === null ? null : a.actualCategory;
  row.impact = a === null ? null : a.impact;
  return row;
}
