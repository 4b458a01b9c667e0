import { Compile } from 'typebox/compile';
import { ConfigError } from '../errors.ts';
import { ID_PATTERN_SOURCE, UNROUTED_SITE_ID, type WfmConfig, WfmConfigSchema } from './WfmConfig.ts';

const checker = Compile(WfmConfigSchema);
const MINUTES_PER_DAY = 1440;
const SECRET = Symbol('secret');
const NATS_SCHEMES = new Set(['nats:', 'tls:', 'ws:', 'wss:']);

interface SchemaError {
  keyword: string;
  schemaPath: string;
  instancePath: string;
  params: Record<string, unknown>;
  message: string;
}

/**
 * Checks a fully merged configuration (defaults, file, environment, overrides) and returns it
 * typed. Throws `ConfigError` for the first problem, with `field` set to its key path such as
 * `businessUnits[0].sites[1].intervalMinutes`.
 */
export function validateConfig(value: unknown): WfmConfig {
  if (!checker.Check(value)) throw schemaFailure(value);
  checkRules(value);
  return value;
}

function schemaFailure(value: unknown): ConfigError {
  const errors = [...checker.Errors(value)] as unknown as SchemaError[];
  // A union's branch errors only restate the union's own failure; report the union.
  const error = errors.find((e) => !e.schemaPath.includes('/anyOf/') && e.keyword !== 'boolean') ?? errors[0];
  if (error === undefined) return new ConfigError('(root)', 'is not a valid configuration');
  const segments = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'));
  const at = formatPath(value, segments);
  // A wrongly typed password or database URL is still a secret: never echo it.
  const actual = /(^|\.)(password|database)$/.test(at) ? SECRET : valueAt(value, segments);
  const p = error.params;
  switch (error.keyword) {
    case 'required': {
      const key = String((p.requiredProperties as unknown[] | undefined)?.[0] ?? '?');
      return new ConfigError(join(at, key), 'is required');
    }
    case 'additionalProperties': {
      const key = String((p.additionalProperties as unknown[] | undefined)?.[0] ?? '?');
      return new ConfigError(join(at, key), `unknown key "${key}"`);
    }
    case 'type':
      return new ConfigError(at, `must be ${article(String(p.type))} (got ${describe(actual)})`);
    case 'pattern':
      return p.pattern === ID_PATTERN_SOURCE
        ? new ConfigError(
            at,
            `must be 1 to 64 characters A-Z, a-z, 0-9, "_" or "-" (got ${describe(actual)})`,
          )
        : new ConfigError(at, `must match ${String(p.pattern)} (got ${describe(actual)})`);
    case 'minimum':
      return new ConfigError(at, `must be at least ${String(p.limit)} (got ${describe(actual)})`);
    case 'maximum':
      return new ConfigError(at, `must be at most ${String(p.limit)} (got ${describe(actual)})`);
    case 'minLength':
      return new ConfigError(at, 'must not be empty');
    case 'minItems':
      return new ConfigError(at, `must have at least ${String(p.limit)} item(s)`);
    case 'anyOf':
      return new ConfigError(at, `must be null or a non-empty string (got ${describe(actual)})`);
    default:
      return new ConfigError(at, `${error.message} (got ${describe(actual)})`);
  }
}

/** Rules JSON Schema cannot express: uniqueness, reserved ids, divisibility, time zones, URLs. */
function checkRules(config: WfmConfig): void {
  config.nats.servers.forEach((server, i) => {
    checkNatsServer(`nats.servers[${i}]`, server);
  });
  if (config.database !== null) checkDatabaseUrl(config.database);

  const units = config.businessUnits;
  if (units.length === 0)
    throw new ConfigError('businessUnits', 'at least one site is required (none configured)');
  if (units.every((unit) => unit.sites.length === 0)) {
    throw new ConfigError('businessUnits[0].sites', 'at least one site is required (none configured)');
  }
  const unitIds = new Map<string, string>();
  const siteIds = new Map<string, string>();
  units.forEach((unit, u) => {
    const unitPath = `businessUnits[${u}]`;
    const seenUnit = unitIds.get(unit.id);
    if (seenUnit !== undefined) {
      throw new ConfigError(`${unitPath}.id`, `duplicate business unit id "${unit.id}" (also ${seenUnit})`);
    }
    unitIds.set(unit.id, `${unitPath}.id`);
    unit.sites.forEach((site, s) => {
      const sitePath = `${unitPath}.sites[${s}]`;
      if (site.id === UNROUTED_SITE_ID) {
        throw new ConfigError(
          `${sitePath}.id`,
          `"${UNROUTED_SITE_ID}" is reserved (the node's lane for input no configured site owns)`,
        );
      }
      const seenSite = siteIds.get(site.id);
      if (seenSite !== undefined) {
        throw new ConfigError(
          `${sitePath}.id`,
          `duplicate site id "${site.id}" in the tenant (also ${seenSite})`,
        );
      }
      siteIds.set(site.id, `${sitePath}.id`);
      if (!isTimeZone(site.timeZone)) {
        throw new ConfigError(
          `${sitePath}.timeZone`,
          `"${site.timeZone}" is not an IANA time zone (e.g. Europe/London)`,
        );
      }
      if (MINUTES_PER_DAY % site.intervalMinutes !== 0) {
        throw new ConfigError(
          `${sitePath}.intervalMinutes`,
          `must divide 1440 (a day) evenly, e.g. 5, 10, 15, 30 or 60 (got ${site.intervalMinutes})`,
        );
      }
      if (site.offsetMinutes >= site.intervalMinutes) {
        throw new ConfigError(
          `${sitePath}.offsetMinutes`,
          `must be less than intervalMinutes (${site.intervalMinutes}) (got ${site.offsetMinutes})`,
        );
      }
    });
  });
}

function checkNatsServer(field: string, server: string): void {
  if (/\s/.test(server))
    throw new ConfigError(field, `must not contain whitespace (got ${describe(server)})`);
  // nats.js also takes bare `host:port`; only a URL with a scheme needs parsing.
  if (!server.includes('://')) return;
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new ConfigError(field, `is not a valid URL (got ${describe(server)})`);
  }
  if (!NATS_SCHEMES.has(url.protocol)) {
    throw new ConfigError(field, `scheme must be nats://, tls://, ws:// or wss:// (got ${url.protocol}//)`);
  }
}

function checkDatabaseUrl(database: string): void {
  let url: URL | undefined;
  try {
    url = new URL(database);
  } catch {
    url = undefined;
  }
  if (url === undefined || (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:')) {
    // Never echo the value: it may hold the database password.
    throw new ConfigError('database', 'must be null or a postgres://user:password@host[:port]/database URL');
  }
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function formatPath(root: unknown, segments: string[]): string {
  let path = '';
  let node = root;
  for (const segment of segments) {
    path = Array.isArray(node) ? `${path}[${segment}]` : join(path, segment);
    node = child(node, segment);
  }
  return path === '' ? '(root)' : path;
}

function valueAt(root: unknown, segments: string[]): unknown {
  let node = root;
  for (const segment of segments) node = child(node, segment);
  return node;
}

function child(node: unknown, key: string): unknown {
  if (typeof node !== 'object' || node === null || !Object.hasOwn(node, key)) return undefined;
  return (node as Record<string, unknown>)[key];
}

function join(path: string, key: string): string {
  return path === '' || path === '(root)' ? key : `${path}.${key}`;
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function describe(value: unknown): string {
  if (value === SECRET) return 'a value not shown, it may be secret';
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return String(value);
}
