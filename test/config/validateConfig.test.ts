import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, parseConfigText, validateConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';

type Json = Record<string, unknown>;

function base(): Json {
  return {
    tenant: { id: 'T1' },
    businessUnits: [
      {
        id: 'emea',
        sites: [
          { id: 'london', timeZone: 'Europe/London' },
          { id: 'paris', timeZone: 'Europe/Paris', intervalMinutes: 30, offsetMinutes: 5 },
        ],
      },
      { id: 'amer', sites: [{ id: 'nyc', timeZone: 'America/New_York' }] },
    ],
  };
}

function site(config: Json, unit: number, index: number): Json {
  const units = config.businessUnits as Array<{ sites: Json[] }>;
  return units[unit]!.sites[index]!;
}

const dir = mkdtempSync(join(tmpdir(), 'wfm-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, 'wfm.json');

function validateFile(config: Json): void {
  writeFileSync(file, JSON.stringify(config));
  loadConfig({ file, env: {} });
}

/** Loads `config` from a file; returns the ConfigError's field and its message without the prefix. */
function errorOf(config: Json): { field: string; message: string } {
  try {
    validateFile(config);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    const e = error as ConfigError;
    const message = e.message.replace(`invalid configuration: ${e.field}: `, '');
    return { field: e.field, message: message.replace(` (in ${file})`, '') };
  }
  throw new Error('expected a ConfigError');
}

describe('validation: required keys', () => {
  it('accepts the base configuration', () => {
    expect(() => validateFile(base())).not.toThrow();
  });

  it('requires tenant.id', () => {
    expect(errorOf({ ...base(), tenant: {} })).toEqual({ field: 'tenant.id', message: 'is required' });
  });

  it('names the file that gave the bad value', () => {
    writeFileSync(file, JSON.stringify({ ...base(), leaseSeconds: 0 }));
    expect(() => loadConfig({ file, env: {} })).toThrow(
      `invalid configuration: leaseSeconds: must be at least 1 (got 0) (in ${file})`,
    );
  });

  it('requires a tenant', () => {
    const { tenant: _, ...rest } = base();
    expect(errorOf(rest).field).toBe('tenant');
  });

  it('requires at least one business unit', () => {
    expect(errorOf({ ...base(), businessUnits: [] })).toEqual({
      field: 'businessUnits',
      message: 'at least one site is required (none configured)',
    });
  });

  it('requires at least one site', () => {
    expect(errorOf({ ...base(), businessUnits: [{ id: 'b', sites: [] }] }).field).toBe(
      'businessUnits[0].sites',
    );
  });

  it('requires a site id', () => {
    const config = base();
    delete site(config, 1, 0).id;
    expect(errorOf(config).field).toBe('businessUnits[1].sites[0].id');
  });

  it('fails with the bare defaults (no tenant, no site)', () => {
    expect(() => loadConfig({ env: {} })).toThrow(ConfigError);
  });
});

describe('validation: ids', () => {
  it.each([
    ['tenant.id', (c: Json) => ((c.tenant as Json).id = 'T 1')],
    ['tenant.id', (c: Json) => ((c.tenant as Json).id = '')],
    ['tenant.id', (c: Json) => ((c.tenant as Json).id = 'x'.repeat(65))],
    ['businessUnits[1].id', (c: Json) => (((c.businessUnits as Json[])[1] as Json).id = 'a.b')],
    ['businessUnits[0].sites[1].id', (c: Json) => (site(c, 0, 1).id = 'pa/ris')],
    ['nodeId', (c: Json) => (c.nodeId = 'node 1')],
  ])('rejects a bad id at %s', (field, mutate) => {
    const config = base();
    mutate(config);
    const error = errorOf(config);
    expect(error.field).toBe(field);
    expect(error.message).toMatch(/^must be 1 to 64 characters A-Z, a-z, 0-9, "_" or "-" \(got ".*"\)/);
  });

  it('accepts a 64-character id with _ and -', () => {
    const config = base();
    (config.tenant as Json).id = `${'a'.repeat(62)}_-`;
    expect(() => validateFile(config)).not.toThrow();
  });

  it('rejects a site id used twice in the tenant, across business units', () => {
    const config = base();
    site(config, 1, 0).id = 'london';
    expect(errorOf(config)).toEqual({
      field: 'businessUnits[1].sites[0].id',
      message: 'duplicate site id "london" in the tenant (also businessUnits[0].sites[0].id)',
    });
  });

  it('rejects the reserved site id __unrouted, naming the field', () => {
    const config = base();
    site(config, 1, 0).id = '__unrouted';
    expect(errorOf(config)).toEqual({
      field: 'businessUnits[1].sites[0].id',
      message: `"__unrouted" is reserved (the node's lane for input no configured site owns)`,
    });
  });

  it('accepts ids that only look like the reserved one', () => {
    const config = base();
    site(config, 0, 0).id = '__unrouted_';
    site(config, 0, 1).id = '_unrouted';
    ((config.businessUnits as Json[])[1] as Json).id = '__unrouted';
    expect(() => validateFile(config)).not.toThrow();
  });

  it('rejects a business unit id used twice', () => {
    const config = base();
    ((config.businessUnits as Json[])[1] as Json).id = 'emea';
    expect(errorOf(config).field).toBe('businessUnits[1].id');
  });
});

describe('validation: intervals and time zones', () => {
  it.each([5, 10, 15, 20, 30, 45, 60, 120, 1440])('accepts intervalMinutes %i', (minutes) => {
    const config = base();
    site(config, 0, 1).intervalMinutes = minutes;
    site(config, 0, 1).offsetMinutes = 0;
    expect(() => validateFile(config)).not.toThrow();
  });

  it.each([
    [7, 'must divide 1440 (a day) evenly, e.g. 5, 10, 15, 30 or 60 (got 7)'],
    [25, 'must divide 1440 (a day) evenly, e.g. 5, 10, 15, 30 or 60 (got 25)'],
    [0, 'must be at least 1 (got 0)'],
    [2880, 'must be at most 1440 (got 2880)'],
    [15.5, 'must be an integer (got 15.5)'],
    ['15', 'must be an integer (got "15")'],
  ])('rejects intervalMinutes %s', (minutes, message) => {
    const config = base();
    site(config, 0, 1).intervalMinutes = minutes;
    site(config, 0, 1).offsetMinutes = 0;
    expect(errorOf(config)).toEqual({
      field: 'businessUnits[0].sites[1].intervalMinutes',
      message,
    });
  });

  it.each([
    [30, 'must be less than intervalMinutes (30) (got 30)'],
    [-1, 'must be at least 0 (got -1)'],
  ])('rejects offsetMinutes %s', (offset, message) => {
    const config = base();
    site(config, 0, 1).offsetMinutes = offset;
    expect(errorOf(config)).toEqual({
      field: 'businessUnits[0].sites[1].offsetMinutes',
      message,
    });
  });

  it('accepts offsetMinutes one below intervalMinutes', () => {
    const config = base();
    site(config, 0, 1).offsetMinutes = 29;
    expect(() => validateFile(config)).not.toThrow();
  });

  it.each(['Europe/Londn', 'Mars/Olympus', 'not a zone'])('rejects timeZone %s', (zone) => {
    const config = base();
    site(config, 1, 0).timeZone = zone;
    expect(errorOf(config)).toEqual({
      field: 'businessUnits[1].sites[0].timeZone',
      message: `"${zone}" is not an IANA time zone (e.g. Europe/London)`,
    });
  });

  it.each(['UTC', 'Asia/Kolkata', 'America/Argentina/Buenos_Aires'])('accepts timeZone %s', (zone) => {
    const config = base();
    site(config, 1, 0).timeZone = zone;
    expect(() => validateFile(config)).not.toThrow();
  });
});

describe('validation: numbers, types, unknown keys', () => {
  it.each([
    [
      'adherence.adherenceExceptionThresholdSeconds',
      { adherence: { adherenceExceptionThresholdSeconds: -5 } },
      'must be at least 0 (got -5)',
    ],
    [
      'adherence.adherenceExceptionThresholdSeconds',
      { adherence: { adherenceExceptionThresholdSeconds: 1.5 } },
      'must be an integer (got 1.5)',
    ],
    [
      'adherence.nonOnQueueActivitiesEquivalent',
      { adherence: { nonOnQueueActivitiesEquivalent: 'yes' } },
      'must be a boolean (got "yes")',
    ],
    ['dbRetrySeconds', { dbRetrySeconds: -1 }, 'must be at least 0 (got -1)'],
    ['leaseSeconds', { leaseSeconds: 0 }, 'must be at least 1 (got 0)'],
    ['standbyReplicas', { standbyReplicas: -1 }, 'must be at least 0 (got -1)'],
    ['standbyReplicas', { standbyReplicas: 1.5 }, 'must be an integer (got 1.5)'],
    ['standbyReplicas', { standbyReplicas: '2' }, 'must be an integer (got "2")'],
    ['streams.replicas', { streams: { replicas: 0 } }, 'must be at least 1 (got 0)'],
    ['streams.replicas', { streams: { replicas: 6 } }, 'must be at most 5 (got 6)'],
    ['streams.replicas', { streams: { replicas: 2.5 } }, 'must be an integer (got 2.5)'],
    ['streams', { streams: 3 }, 'must be an object (got 3)'],
    ['dataDir', { dataDir: '' }, 'must not be empty'],
    ['reasonCodeKeyName', { reasonCodeKeyName: 3 }, 'must be a string (got 3)'],
    ['mappedReasons[1]', { mappedReasons: ['Break', ''] }, 'must not be empty'],
    ['mappedReasons', { mappedReasons: 'Break' }, 'must be an array (got "Break")'],
    ['nats.servers', { nats: { servers: [] } }, 'must have at least 1 item(s)'],
    [
      'nats.servers[0]',
      { nats: { servers: ['nats://a b'] } },
      'must not contain whitespace (got "nats://a b")',
    ],
    [
      'database',
      { database: 5 },
      'must be null or a non-empty string (got a value not shown, it may be secret)',
    ],
    [
      'database',
      { database: 'localhost:5432' },
      'must be null or a postgres://user:password@host[:port]/database URL',
    ],
    [
      'tenant.password',
      { tenant: { id: 'T1', password: 1234 } },
      'must be a string (got a value not shown, it may be secret)',
    ],
    [
      'businessUnits[0].sites[0].statServer',
      { businessUnits: [{ id: 'b', sites: [{ id: 's', statServer: null }] }] },
      'must be a string (got null)',
    ],
    ['businessUnits[0]', { businessUnits: ['emea'] }, 'must be an object (got "emea")'],
  ])('%s', (field, patch, message) => {
    expect(errorOf({ ...base(), ...patch })).toEqual({ field, message });
  });

  it.each([
    ['tenantId', { tenantId: 'T1' }],
    ['tenant.pasword', { tenant: { id: 'T1', pasword: 'x' } }],
    ['adherence.threshold', { adherence: { threshold: 3 } }],
    ['nats.url', { nats: { url: 'nats://x' } }],
    ['streams.replica', { streams: { replica: 3 } }],
    [
      'businessUnits[0].sites[0].interval',
      { businessUnits: [{ id: 'b', sites: [{ id: 's', interval: 15 }] }] },
    ],
    ['businessUnits[0].site', { businessUnits: [{ id: 'b', site: [], sites: [{ id: 's' }] }] }],
  ])('rejects the unknown key %s', (field, patch) => {
    const key = field.split('.').pop();
    expect(errorOf({ ...base(), ...patch })).toEqual({
      field,
      message: `unknown key "${key}"`,
    });
  });

  it('rejects a __proto__ key instead of letting it slip through', () => {
    const config = parseConfigText(
      '{"tenant":{"id":"T1","__proto__":{"x":1}},"businessUnits":[{"id":"b","sites":[{"id":"s"}]}]}',
    );
    expect(() => loadConfig({ env: {}, overrides: config as never })).toThrow(
      /tenant.__proto__: unknown key/,
    );
  });
});

describe('validation: standbyReplicas and streams', () => {
  it('defaults to one hot backup per site and single-replica streams', () => {
    const config = loadConfig({ env: {}, overrides: base() as never });
    expect(config.standbyReplicas).toBe(1);
    expect(config.streams).toEqual({ replicas: 1 });
  });

  it.each([
    [0, 1],
    [2, 3],
    [7, 5],
  ])('accepts standbyReplicas %i with streams.replicas %i', (standbyReplicas, replicas) => {
    writeFileSync(file, JSON.stringify({ ...base(), standbyReplicas, streams: { replicas } }));
    const config = loadConfig({ file, env: {} });
    expect([config.standbyReplicas, config.streams.replicas]).toEqual([standbyReplicas, replicas]);
  });

  it('keeps the default replicas when the file gives an empty streams section', () => {
    writeFileSync(file, JSON.stringify({ ...base(), streams: {} }));
    expect(loadConfig({ file, env: {} }).streams).toEqual({ replicas: 1 });
  });
});

describe('validateConfig', () => {
  it('returns a valid resolved configuration unchanged', () => {
    const config = loadConfig({ env: {}, overrides: base() as never });
    expect(validateConfig(config)).toBe(config);
  });

  it('reports "(root)" when given something that is not an object', () => {
    try {
      validateConfig(42);
      expect.unreachable();
    } catch (error) {
      expect((error as ConfigError).field).toBe('(root)');
    }
  });
});
