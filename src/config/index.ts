/**
 * Configuration: the `WfmConfig` shape and schema, its defaults, loading from a JSON file plus
 * environment and CLI overrides, validation, redaction for display, and the site list.
 */
export { defaultConfig, defaultSiteConfig } from './defaultConfig.ts';
export { ensureStreamsOptions } from './ensureStreamsOptions.ts';
export { listSites, type SiteRef } from './listSites.ts';
export { CONFIG_ENV_VARS, type LoadConfigOptions, loadConfig } from './loadConfig.ts';
export { natsConnectOptions } from './natsConnectOptions.ts';
export { parseConfigText, readConfigFile, stripJsonComments } from './readConfigFile.ts';
export { redactConfig } from './redactConfig.ts';
export { validateConfig } from './validateConfig.ts';
export {
  type AdherenceConfig,
  AdherenceConfigSchema,
  type BusinessUnitConfig,
  BusinessUnitConfigSchema,
  type ConfigOverrides,
  type DeepPartial,
  ID_PATTERN_SOURCE,
  MAX_STREAM_REPLICAS,
  type SiteConfig,
  SiteConfigSchema,
  type StreamsConfig,
  StreamsConfigSchema,
  UNROUTED_SITE_ID,
  type WfmConfig,
  WfmConfigSchema,
} from './WfmConfig.ts';
