import { defaultSiteConfig, loadConfig, type SiteConfig, type WfmConfig } from '../config/index.ts';

/** What a node on this machine (demo, tests, benches) needs to be told. */
export interface LocalNodeConfigOptions {
  /** @defaultValue `'T1'` */
  tenant?: string;
  /** NATS URL, or several comma-separated. */
  natsUrl: string;
  dataDir: string;
  /** The business unit holding every site. @defaultValue `{ id: 'bu', name: 'bu' }` */
  businessUnit?: { id: string; name: string };
  /** Site ids, or sites with more than an id (name, time zone, Stat Server…). */
  sites: (string | (Partial<SiteConfig> & { id: string }))[];
}

/**
 * A validated configuration for one tenant with one business unit of sites, every other key at
 * its default, and the environment ignored (a local run must not pick up a shell's WFM_* vars).
 */
export function localNodeConfig(options: LocalNodeConfigOptions): WfmConfig {
  const unit = options.businessUnit ?? { id: 'bu', name: 'bu' };
  return loadConfig({
    env: {},
    overrides: {
      tenant: { id: options.tenant ?? 'T1' },
      nats: { servers: options.natsUrl.split(',') },
      dataDir: options.dataDir,
      businessUnits: [
        {
          ...unit,
          sites: options.sites.map((site) =>
            typeof site === 'string'
              ? { ...defaultSiteConfig, id: site, name: site }
              : { ...defaultSiteConfig, name: site.id, ...site },
          ),
        },
      ],
    },
  });
}
