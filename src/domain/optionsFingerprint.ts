import type { AgentOptions } from './AgentOptions.ts';

/**
 * A stable text of the options that decide a site's outputs (the rules of DESIGN.md
 * "Semantics"): the same options give the same text whatever their order or where they came
 * from, and any change to one of them changes it. Kept in a site's checkpoint so a restart can
 * tell (and log) that the rules changed since the state was written. `mappedReasons` is a set:
 * sorted, without repeats. The tenant and site ids are not options: they are left out.
 *
 * @example
 * optionsFingerprint(resolveAgentOptions({ tenant: 'T1', site: 'S1' }))
 * // '{"mappedReasons":["Break","Meal","Meeting","Training"],"adherenceExceptionThresholdSeconds":60,"nonOnQueueActivitiesEquivalent":false,"intervalMinutes":15,"offsetMinutes":0}'
 */
export function optionsFingerprint(options: Omit<AgentOptions, 'tenant' | 'site'>): string {
  return JSON.stringify({
    mappedReasons: [...new Set(options.mappedReasons)].sort(),
    adherenceExceptionThresholdSeconds: options.adherenceExceptionThresholdSeconds,
    nonOnQueueActivitiesEquivalent: options.nonOnQueueActivitiesEquivalent,
    intervalMinutes: options.intervalMinutes,
    offsetMinutes: options.offsetMinutes,
  });
}
