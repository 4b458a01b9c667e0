import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type ConfigOverrides, loadConfig, type WfmConfig } from '../../src/config/index.ts';
import { ConfigError } from '../../src/errors.ts';

const dir = mkdtempSync(join(tmpdir(), 'wfm-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function writeConfig(content: unknown): string {
  const file = join(dir, `config-${fileCount++}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const minimal = { tenant: { id: 'T1' }, businessUnits: [{ id: 'emea', sites: [{ id: 'london' }] }] };

function load(content: unknown, env: NodeJS.ProcessEnv = {}, overrides?: ConfigOverrides): WfmConfig {
  return loadConfig({ file: writeConfig(content), env, ...(overrides ? { overrides } : {}) });
}

function failure(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig: defaults and file', () => {
  it('fills every default of DESIGN.md around a minimal file', () => {
    expect(load(minimal)).toEqual({
      tenant: { id: 'T1' },
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
      businessUnits: [
        {
          id: 'emea',
          name: 'emea',
          sites: [
            {
              id: 'london',
              name: 'london',
              timeZone: 'UTC',
              intervalMinutes: 15,
              offsetMinutes: 0,
              statServer: '',
            },
          ],
        },
      ],
    });
  });

  it('reads the DESIGN.md example verbatim, comments included', () => {
    const text = `{
  "tenant": { "id": "T1", "password": "optional: NATS password for user T1" },
  "nats": { "servers": ["nats://127.0.0.1:4222"] },
  "dataDir": "./data",
  "reasonCodeKeyName": "ReasonCode",            // [ReasonCodeKeyName]
  "mappedReasons": ["Break", "Meal", "Meeting", "Training"],
  "dbDumpFile": "./data/DBDumpFile.json",        // [DBDumpFile]
  "dbRetrySeconds": 10,
  "database": null,                              // or "postgres://user:pw@host/db"
  "leaseSeconds": 3,
  "standbyReplicas": 1,                          // hot backups per site (0: none)
  "streams": { "replicas": 1 },                  // replicas of streams the node creates
  "adherence": { "adherenceExceptionThresholdSeconds": 60, "nonOnQueueActivitiesEquivalent": false },
  "businessUnits": [
    { "id": "emea", "name": "EMEA", "sites": [
      { "id": "london", "name": "London", "timeZone": "Europe/London",
        "intervalMinutes": 15, "offsetMinutes": 0, "statServer": "Stat Server London" } ] } ]
}`;
    const config = load(text);
    expect(config.tenant).toEqual({ id: 'T1', password: 'optional: NATS password for user T1' });
    expect([config.standbyReplicas, config.streams]).toEqual([1, { replicas: 1 }]);
    expect(config.businessUnits[0]).toEqual({
      id: 'emea',
      name: 'EMEA',
      sites: [
        {
          id: 'london',
          name: 'London',
          timeZone: 'Europe/London',
          intervalMinutes: 15,
          offsetMinutes: 0,
          statServer: 'Stat Server London',
        },
      ],
    });
  });

  it('keeps "//" inside strings', () => {
    const config = load(
      '{"tenant":{"id":"T1"},"database":"postgres://u@h/db", /* c */ "businessUnits":[{"id":"b","sites":[{"id":"s"}]}]}',
    );
    expect(config.database).toBe('postgres://u@h/db');
  });

  it('derives dbDumpFile from dataDir unless set', () => {
    expect(load({ ...minimal, dataDir: '/var/wfm/' }).dbDumpFile).toBe('/var/wfm/DBDumpFile.json');
    expect(load({ ...minimal, dataDir: '/var/wfm', dbDumpFile: '/tmp/dump.json' }).dbDumpFile).toBe(
      '/tmp/dump.json',
    );
  });

  it('works without a file from environment and overrides', () => {
    const config = loadConfig({
      env: {},
      overrides: {
        tenant: { id: 'T9' },
        businessUnits: [{ id: 'b', name: 'B', sites: [{ id: 's' } as never] }],
      },
    });
    expect(config.tenant.id).toBe('T9');
    expect(config.businessUnits[0]?.sites[0]?.intervalMinutes).toBe(15);
  });

  it('does not share arrays with the defaults', () => {
    const a = load(minimal);
    a.mappedReasons.push('Personal');
    a.nats.servers.push('nats://x:4222');
    expect(load(minimal).mappedReasons).toEqual(['Break', 'Meal', 'Meeting', 'Training']);
    expect(load(minimal).nats.servers).toEqual(['nats://127.0.0.1:4222']);
  });
});

describe('loadConfig: file errors', () => {
  it('names the file when it is missing', () => {
    const file = join(dir, 'missing.json');
    const error = failure(() => loadConfig({ file, env: {} }));
    expect(error.field).toBe(file);
    expect(error.message).toBe(`invalid configuration: ${file}: file not found`);
  });

  it('names the file when it is not JSON', () => {
    const file = writeConfig('{ "tenant": ');
    const error = failure(() => loadConfig({ file, env: {} }));
    expect(error.field).toBe(file);
    expect(error.message).toContain('is not valid JSON');
  });

  it('names the file when it is a directory', () => {
    const error = failure(() => loadConfig({ file: dir, env: {} }));
    expect(error.field).toBe(dir);
    expect(error.message).toContain('EISDIR');
  });

  it('names the file when the JSON is not an object', () => {
    const file = writeConfig('[1, 2]');
    const error = failure(() => loadConfig({ file, env: {} }));
    expect(error.field).toBe(file);
    expect(error.message).toBe(`invalid configuration: ${file}: must contain a JSON object`);
  });
});

describe('loadConfig: environment and CLI overrides', () => {
  const file = writeConfig({
    ...minimal,
    tenant: { id: 'T1', password: 'file-pw' },
    nats: { servers: ['nats://file:4222'] },
    dataDir: '/file',
    database: 'postgres://u:file@h/db',
  });

  it('takes the file values with no environment', () => {
    const config = loadConfig({ file, env: {} });
    expect([config.nats.servers, config.dataDir, config.database, config.tenant.password]).toEqual([
      ['nats://file:4222'],
      '/file',
      'postgres://u:file@h/db',
      'file-pw',
    ]);
  });

  const env = {
    WFM_NATS_URL: 'nats://a:4222, nats://b:4222,',
    WFM_DATA_DIR: '/env',
    WFM_DATABASE_URL: 'postgresql://u:env@h:5432/db',
    WFM_TENANT_PASSWORD: 'env-pw',
  };

  it('lets the environment override the file (comma-separated NATS URLs)', () => {
    const config = loadConfig({ file, env });
    expect(config.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect(config.dataDir).toBe('/env');
    expect(config.dbDumpFile).toBe('/env/DBDumpFile.json');
    expect(config.database).toBe('postgresql://u:env@h:5432/db');
    expect(config.tenant).toEqual({ id: 'T1', password: 'env-pw' });
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({
      file,
      env: { WFM_NATS_URL: '', WFM_DATA_DIR: '', WFM_DATABASE_URL: '', WFM_TENANT_PASSWORD: '' },
    });
    expect(config.dataDir).toBe('/file');
    expect(config.tenant.password).toBe('file-pw');
  });

  it('lets CLI overrides win over the environment', () => {
    const config = loadConfig({
      file,
      env,
      overrides: {
        nats: { servers: ['nats://cli:4222'] },
        dataDir: '/cli',
        nodeId: 'node-1',
        tenant: { password: 'cli' },
      },
    });
    expect(config.nats.servers).toEqual(['nats://cli:4222']);
    expect(config.dataDir).toBe('/cli');
    expect(config.nodeId).toBe('node-1');
    expect(config.tenant).toEqual({ id: 'T1', password: 'cli' });
    expect(config.database).toBe('postgresql://u:env@h:5432/db');
  });

  it('ignores overrides left undefined (flags not given)', () => {
    const config = loadConfig({
      file,
      env,
      overrides: { dataDir: undefined, nodeId: undefined, nats: { servers: undefined } },
    });
    expect(config.dataDir).toBe('/env');
    expect(config.nats.servers).toEqual(['nats://a:4222', 'nats://b:4222']);
    expect('nodeId' in config).toBe(false);
  });

  it('lets overrides set database back to null', () => {
    expect(loadConfig({ file, env, overrides: { database: null } }).database).toBeNull();
  });

  it('says which variable gave a bad value', () => {
    const error = failure(() => loadConfig({ file, env: { WFM_DATABASE_URL: 'mysql://u:secret@h/db' } }));
    expect(error.field).toBe('database');
    expect(error.message).toBe(
      'invalid configuration: database: must be null or a postgres://user:password@host[:port]/database URL (set by WFM_DATABASE_URL)',
    );
    expect(error.message).not.toContain('secret');
  });

  it('says a CLI option gave a bad value', () => {
    const error = failure(() => loadConfig({ file, env, overrides: { nats: { servers: ['http://x:1'] } } }));
    expect(error.field).toBe('nats.servers[0]');
    expect(error.message).toBe(
      'invalid configuration: nats.servers[0]: scheme must be nats://, tls://, ws:// or wss:// (got http://) (set by a command-line option)',
    );
  });

  it('rejects a NATS URL list with no server', () => {
    const error = failure(() => loadConfig({ file, env: { WFM_NATS_URL: ' , ' } }));
    expect(error.field).toBe('nats.servers');
    expect(error.message).toBe(
      'invalid configuration: nats.servers: must have at least 1 item(s) (set by WFM_NATS_URL)',
    );
  });
});
