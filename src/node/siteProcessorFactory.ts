import type { InspectionEvent } from 'xstate';
import { type SiteState, SiteSupervisor } from '../actors/index.ts';
import type { SiteRef, WfmConfig } from '../config/index.ts';
import type { SiteProcessorFactory } from './SiteProcessor.ts';

/** A site's settings as its processor is made: the tenant-wide options and the site's own. */
export interface SiteSettings {
  config: WfmConfig;
  ref: SiteRef;
}

/**
 * Makes a site's supervisor from its checkpoint under the settings read at that moment (`settings`
 * is asked on every restore, so `wfm-agg restart` applies what the configuration says now).
 */
export function siteProcessorFactory(
  settings: () => SiteSettings,
  inspect?: (event: InspectionEvent) => void,
): SiteProcessorFactory {
  return (checkpoint) => {
    const { config, ref } = settings();
    const options = {
      tenant: config.tenant.id,
      site: ref.site,
      mappedReasons: config.mappedReasons,
      intervalMinutes: ref.intervalMinutes,
      offsetMinutes: ref.offsetMinutes,
      ...config.adherence,
    };
    return new SiteSupervisor(
      options,
      checkpoint === null
        ? undefined
        : { seq: checkpoint.seq, site: checkpoint.site as SiteState, agents: checkpoint.agents },
      { inspect },
    );
  };
}
