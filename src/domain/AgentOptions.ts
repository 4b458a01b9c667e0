import { MAPPABLE_REASONS } from './gcMapping.ts';
import { TimeProfile } from './TimeProfile.ts';

/** Rules one site applies to every agent (DESIGN.md "Semantics"). */
export interface AgentOptions {
  /** Tenant id, stamped on outputs. */
  tenant: string;
  /** Site id, stamped on outputs and interval records. */
  site: string;
  /**
   * Reason names mapped to their own presence (a subset of Break, Meal, Meeting, Training).
   * @defaultValue `["Break", "Meal", "Meeting", "Training"]`
   */
  mappedReasons: readonly string[];
  /**
   * An out-of-adherence stretch shorter than this is not an exception (seconds).
   * @defaultValue 60
   */
  adherenceExceptionThresholdSeconds: number;
  /**
   * Break, Meal, Meeting, Training and OffQueueWork count as one category.
   * @defaultValue false
   */
  nonOnQueueActivitiesEquivalent: boolean;
  /** @defaultValue 15 */
  intervalMinutes: number;
  /** @defaultValue 0 */
  offsetMinutes: number;
}

export const defaultAgentOptions: Omit<AgentOptions, 'tenant' | 'site'> = {
  mappedReasons: ['Break', 'Meal', 'Meeting', 'Training'],
  adherenceExceptionThresholdSeconds: 60,
  nonOnQueueActivitiesEquivalent: false,
  intervalMinutes: 15,
  offsetMinutes: 0,
};

/** Options in the form the hot path wants them: validated, with derived values computed once. */
export interface ResolvedAgentOptions extends AgentOptions {
  mappedReasonSet: ReadonlySet<string>;
  thresholdMs: number;
  profile: TimeProfile;
}

/** Merges over the defaults and validates; throws RangeError naming the option. */
export function resolveAgentOptions(
  options: Partial<AgentOptions> & Pick<AgentOptions, 'tenant' | 'site'>,
): ResolvedAgentOptions {
  const merged: AgentOptions = { ...defaultAgentOptions, ...options };
  for (const reason of merged.mappedReasons) {
    if (!Object.hasOwn(MAPPABLE_REASONS, reason)) {
      throw new RangeError(
        `mappedReasons: ${reason} is not one of ${Object.keys(MAPPABLE_REASONS).join(', ')}`,
      );
    }
  }
  const threshold = merged.adherenceExceptionThresholdSeconds;
  if (!Number.isInteger(threshold) || threshold < 0) {
    throw new RangeError(
      `adherenceExceptionThresholdSeconds must be a non-negative integer, got ${threshold}`,
    );
  }
  return {
    ...merged,
    mappedReasonSet: new Set(merged.mappedReasons),
    thresholdMs: threshold * 1000,
    profile: new TimeProfile(merged.intervalMinutes, merged.offsetMinutes),
  };
}
