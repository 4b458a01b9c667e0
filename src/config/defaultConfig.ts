import type { SiteConfig, WfmConfig } from './WfmConfig.ts';

/**
 * Defaults of every key that has one (DESIGN.md "Configuration"). `tenant.id` and the sites
 * have none: they must be configured.
 */
export const defaultConfig: Omit<WfmConfig, 'tenant' | 'nodeId'> = {
  nats: { servers: ['nats://127.0.0.1:4222'] },
  dataDir: './data',
  reasonCodeKeyName: 'ReasonCode',
  mappedReasons: ['Break', 'Meal', 'Meeting', 'Training'],
  dbDumpFile: './data/DBDumpFile.json',
  dbRetrySeconds: 10,
  database: null,
  leaseSeconds: 3,
  standbyReplicas: 1,
  streams: { replicas: 1 },
  adherence: { adherenceExceptionThresholdSeconds: 60, nonOnQueueActivitiesEquivalent: false },
  businessUnits: [],
};

/**
 * Defaults of a site's keys; `name` defaults to the site id. The name of a business unit
 * defaults to its id too.
 */
export const defaultSiteConfig: Omit<SiteConfig, 'id' | 'name'> = {
  timeZone: 'UTC',
  intervalMinutes: 15,
  offsetMinutes: 0,
  statServer: '',
};
