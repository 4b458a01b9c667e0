import type { Snapshot } from 'xstate';
import {
  type AgentContext,
  type ResolvedAgentOptions,
  type Stretch,
  TimeProfile,
  type TimeProfileEntry,
} from '../domain/index.ts';
import { CheckpointError, SnapshotVersionError } from '../errors.ts';

/**
 * Version of a persisted agent snapshot, `{"v":1,"snapshot":<the XState persisted snapshot>}`:
 * a restore refuses any other (SnapshotVersionError) rather than misread it.
 */
export const AGENT_SNAPSHOT_VERSION = 1;

/** Version of {@link SiteState}: a restore refuses any other (SnapshotVersionError). */
export const SITE_STATE_VERSION = 1;

/** Site-level state persisted beside the agents' snapshots. JSON-safe. */
export interface SiteState {
  /** {@link SITE_STATE_VERSION}. */
  v: number;
  /** The site's event time (-1: none yet). */
  siteTime: number;
  /** Agents quarantined after a deadline step threw: no deadline until their next own input. */
  quarantined: string[];
  /** `optionsFingerprint` of the options the state was computed under. */
  optionsFingerprint: string;
  /**
   * The site's time-profile history (TimeProfile entries), so a restart under the same
   * configuration reproduces the same interval grids exactly.
   */
  profiles: TimeProfileEntry[];
}

/**
 * A site's state to persist, serialized at capture: the last applied seq, the site state, and
 * the agents changed since the previous capture, each as the JSON text of its versioned
 * snapshot (`{"v":AGENT_SNAPSHOT_VERSION,"snapshot":…}`).
 */
export interface SiteCapture {
  seq: number;
  site: SiteState;
  agents: [agentId: string, json: string][];
}

/**
 * A {@link SiteCapture} whose agents are serialized as they are read: the seq, the site state and
 * which agents changed are taken at capture; each agent's JSON text is its state at capture too.
 */
export interface SiteCaptureStream {
  seq: number;
  site: SiteState;
  /** The agents taken, in the order `agents` yields them. */
  agentIds: string[];
  /** Their JSON texts, made as they are read; read it once. */
  agents: AsyncIterable<[agentId: string, json: string]>;
}

/** A site's state as persisted, to restore from. */
export interface SiteSnapshot {
  /** Last applied `WFM_IN` sequence. */
  seq: number;
  /** The {@link SiteState} as captured (parsed JSON); validated on restore. */
  site: unknown;
  /**
   * agentId → the agent's persisted snapshot as captured: its JSON text, or that text parsed
   * (what a checkpoint store's `load()` returns). A `Map` is such an iterable.
   */
  agents: Iterable<readonly [string, unknown]>;
}

/** The JSON text of an agent's versioned snapshot, from its XState persisted snapshot. */
export function agentSnapshotJson(persisted: unknown): string {
  const snapshot = JSON.stringify(persisted);
  // The versioned envelope, written as text: one string, no wrapper object per agent.
  return `{"v":${AGENT_SNAPSHOT_VERSION},"snapshot":${snapshot}}`;
}

/**
 * The persisted site state of site `options.tenant`/`options.site`, checked: another version is
 * refused, a malformed one too.
 */
export function readSiteState(
  options: Pick<ResolvedAgentOptions, 'tenant' | 'site'>,
  stored: unknown,
): SiteState {
  const where = `site ${options.tenant}/${options.site}`;
  const r = stored as Partial<SiteState> | null;
  const v = typeof r === 'object' && r !== null ? r.v : undefined;
  if (v !== SITE_STATE_VERSION) throw new SnapshotVersionError(`state of ${where}`, v, SITE_STATE_VERSION);
  const bad = (what: string) => new CheckpointError(`state of ${where}: ${what}`);
  if (typeof r!.siteTime !== 'number' || !Number.isFinite(r!.siteTime)) throw bad('siteTime is not a number');
  if (!Array.isArray(r!.quarantined) || !r!.quarantined.every((id) => typeof id === 'string'))
    throw bad('quarantined is not a list of agent ids');
  if (typeof r!.optionsFingerprint !== 'string') throw bad('optionsFingerprint is not a string');
  if (!Array.isArray(r!.profiles) || !r!.profiles.every((e) => typeof e === 'object' && e !== null))
    throw bad('profiles is not a list of time profiles');
  try {
    new TimeProfile(r!.profiles);
  } catch (err) {
    throw new CheckpointError(`state of ${where}: profiles: ${(err as Error).message}`, { cause: err });
  }
  return r as SiteState;
}

/**
 * The XState snapshot inside a persisted snapshot of agent `agentId` of site
 * `options.tenant`/`options.site` (JSON text or parsed), checked.
 */
export function readAgentSnapshot(
  options: Pick<ResolvedAgentOptions, 'tenant' | 'site'>,
  agentId: string,
  persisted: unknown,
): Snapshot<unknown> {
  const owner = `agent ${agentId} of site ${options.tenant}/${options.site}`;
  let value = persisted;
  if (typeof persisted === 'string') {
    try {
      value = JSON.parse(persisted);
    } catch (err) {
      throw new CheckpointError(`${owner}: snapshot is not JSON`, { cause: err });
    }
  }
  const r = value as { v?: unknown; snapshot?: { context?: { agentId?: unknown } } } | null;
  const v = typeof r === 'object' && r !== null ? r.v : undefined;
  if (v !== AGENT_SNAPSHOT_VERSION) throw new SnapshotVersionError(owner, v, AGENT_SNAPSHOT_VERSION);
  if (r!.snapshot?.context?.agentId !== agentId)
    throw new CheckpointError(`${owner}: snapshot is not this agent's`);
  upgradeContext(r!.snapshot.context as Partial<AgentContext>);
  return r!.snapshot as Snapshot<unknown>;
}

/**
 * Fills in what a context checkpointed before the agent histories existed lacks (#8 added login
 * sessions, exceptions and audit events, and the adherence a stretch began with), in place: such a
 * checkpoint restores with empty histories instead of being refused.
 */
function upgradeContext(context: Partial<AgentContext>): void {
  context.sessions ??= [];
  context.exceptions ??= [];
  context.audit ??= [];
  const stretch = context.stretch as Partial<Stretch> | null | undefined;
  if (stretch != null && stretch.actualCategory === undefined) {
    const a = context.adherence;
    stretch.scheduledCategory = a?.scheduledCategory ?? null;
    stretch.actualCategory = a?.actualCategory ?? 'Offline';
    stretch.impact = a?.impact ?? 'Neutral';
  }
}
