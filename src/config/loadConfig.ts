import { ConfigError } from '../errors.ts';
import { deepMerge, isPlainObject } from './deepMerge.ts';
import { defaultConfig, defaultSiteConfig } from './defaultConfig.ts';
import { readConfigFile } from './readConfigFile.ts';
import { validateConfig } from './validateConfig.ts';
import type { ConfigOverrides, WfmConfig } from './WfmConfig.ts';

/** Where `loadConfig` takes the configuration from. */
export interface LoadConfigOptions {
  /**
   * JSON configuration file (comments allowed). Without one, the configuration comes from the
   * defaults, the environment and `overrides` alone.
   * @defaultValue undefined
   */
  file?: string;
  /**
   * Environment read for `WFM_NATS_URL` (comma-separated list allowed), `WFM_DATA_DIR`,
   * `WFM_DATABASE_URL` and `WFM_TENANT_PASSWORD`. An empty variable counts as unset.
   * @defaultValue process.env
   */
  env?: NodeJS.ProcessEnv;
  /**
   * Values from command-line flags; they win over the environment, which wins over the file.
   * @defaultValue {}
   */
  overrides?: ConfigOverrides;
}

const defaultLoadConfigOptions: Required<Omit<LoadConfigOptions, 'file'>> = {
  env: process.env,
  overrides: {},
};

/** Environment variables and the key each one sets. */
export const CONFIG_ENV_VARS = {
  WFM_NATS_URL: 'nats.servers',
  WFM_DATA_DIR: 'dataDir',
  WFM_DATABASE_URL: 'database',
  WFM_TENANT_PASSWORD: 'tenant.password',
} as const;

/**
 * Builds the configuration: defaults < file < environment < `overrides`, then site defaults,
 * then validation. Throws `ConfigError` naming the offending key path (or the file, when it
 * cannot be read or parsed); nothing is returned half-checked.
 *
 * `dbDumpFile`, when no layer sets it, follows `dataDir` (`<dataDir>/DBDumpFile.json`).
 */
export function loadConfig(options: LoadConfigOptions = {}): WfmConfig {
  const { file, env, overrides } = { ...defaultLoadConfigOptions, ...options };
  const fromFile = file === undefined ? {} : readConfigFile(file);
  const fromEnv = envLayer(env);
  const merged = deepMerge(defaultConfig, fromFile, fromEnv, overrides);
  if (isPlainObject(merged)) {
    applySiteDefaults(merged);
    const dumpFileSet = [fromFile, fromEnv, overrides].some((layer) => layer.dbDumpFile !== undefined);
    if (!dumpFileSet && typeof merged.dataDir === 'string') {
      merged.dbDumpFile = `${merged.dataDir.replace(/[/\\]+$/, '')}/DBDumpFile.json`;
    }
  }
  try {
    return validateConfig(merged);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    throw withSource(error, sourceOf(error.field, file, fromFile, env, overrides));
  }
}

function envLayer(env: NodeJS.ProcessEnv): ConfigOverrides {
  const layer: ConfigOverrides = {};
  const nats = env.WFM_NATS_URL;
  // A stray comma ("a,b,") is a typo, not a request for an empty server.
  if (nats)
    layer.nats = {
      servers: nats
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    };
  if (env.WFM_DATA_DIR) layer.dataDir = env.WFM_DATA_DIR;
  if (env.WFM_DATABASE_URL) layer.database = env.WFM_DATABASE_URL;
  if (env.WFM_TENANT_PASSWORD) layer.tenant = { password: env.WFM_TENANT_PASSWORD };
  return layer;
}

function applySiteDefaults(config: Record<string, unknown>): void {
  const units = config.businessUnits;
  if (!Array.isArray(units)) return;
  for (const unit of units) {
    if (!isPlainObject(unit)) continue;
    if (unit.name === undefined && typeof unit.id === 'string') unit.name = unit.id;
    if (!Array.isArray(unit.sites)) continue;
    unit.sites = unit.sites.map((site: unknown) => {
      if (!isPlainObject(site)) return site;
      const name = site.name ?? (typeof site.id === 'string' ? site.id : undefined);
      return deepMerge(defaultSiteConfig, name === undefined ? {} : { name }, site);
    });
  }
}

/** Which layer gave the value at `field`: the highest one that sets its top-level key. */
function sourceOf(
  field: string,
  file: string | undefined,
  fromFile: Record<string, unknown>,
  env: NodeJS.ProcessEnv,
  overrides: ConfigOverrides,
): string | undefined {
  const top = field.split(/[.[]/)[0] ?? field;
  const sub = field.startsWith('tenant.') ? field.slice('tenant.'.length) : undefined;
  const setsIt = (layer: Record<string, unknown>): boolean => {
    const value = layer[top];
    return sub === undefined ? value !== undefined : isPlainObject(value) && value[sub] !== undefined;
  };
  if (setsIt(overrides as Record<string, unknown>)) return 'set by a command-line option';
  for (const [name, key] of Object.entries(CONFIG_ENV_VARS)) {
    if (env[name] && (field === key || field.startsWith(`${key}[`))) return `set by ${name}`;
  }
  if (file !== undefined && setsIt(fromFile)) return `in ${file}`;
  return undefined;
}

function withSource(error: ConfigError, source: string | undefined): ConfigError {
  if (source === undefined) return error;
  const prefix = `invalid configuration: ${error.field}: `;
  const detail = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
  return new ConfigError(error.field, `${detail} (${source})`, { cause: error.cause ?? error });
}
