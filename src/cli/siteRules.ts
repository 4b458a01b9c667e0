import type { SiteRef, WfmConfig } from '../config/index.ts';
import type { SiteRules } from '../domain/index.ts';

/**
 * The rules a node runs site `ref` under, from the configuration exactly as `siteProcessorFactory`
 * (src/node) builds a live site's supervisor — tenant-wide mapped reasons and adherence options,
 * the site's own time profile — plus the tenant's `reasonCodeKeyName`, which the node decodes
 * with. A replay under these rules computes what the live site computed (a test holds the
 * options fingerprints equal).
 */
export function siteRules(config: WfmConfig, ref: SiteRef): SiteRules {
  return {
    mappedReasons: config.mappedReasons,
    adherenceExceptionThresholdSeconds: config.adherence.adherenceExceptionThresholdSeconds,
    nonOnQueueActivitiesEquivalent: config.adherence.nonOnQueueActivitiesEquivalent,
    intervalMinutes: ref.intervalMinutes,
    offsetMinutes: ref.offsetMinutes,
    reasonCodeKeyName: config.reasonCodeKeyName,
  };
}
