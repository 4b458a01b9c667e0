import type { WfmConfig } from './WfmConfig.ts';

/** One configured site with everything needed to run it, flattened out of its business unit. */
export interface SiteRef {
  tenant: string;
  businessUnit: string;
  site: string;
  name: string;
  timeZone: string;
  intervalMinutes: number;
  offsetMinutes: number;
  statServer: string;
}

/** Every site of the tenant, in configuration order. */
export function listSites(config: WfmConfig): SiteRef[] {
  return config.businessUnits.flatMap((unit) =>
    unit.sites.map((site) => ({
      tenant: config.tenant.id,
      businessUnit: unit.id,
      site: site.id,
      name: site.name,
      timeZone: site.timeZone,
      intervalMinutes: site.intervalMinutes,
      offsetMinutes: site.offsetMinutes,
      statServer: site.statServer,
    })),
  );
}
