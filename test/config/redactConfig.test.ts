import { describe, expect, it } from 'vitest';
import { listSites, loadConfig, redactConfig, type WfmConfig } from '../../src/config/index.ts';

function config(overrides: Record<string, unknown> = {}): WfmConfig {
  return loadConfig({
    env: {},
    overrides: {
      tenant: { id: 'T1', password: 's3cret-pw' },
      database: 'postgres://wfm:db-pw@db.example:5432/wfm?sslmode=require&password=q-pw',
      nats: { servers: ['nats://T1:nats-pw@n1:4222', 'nats://n2:4222'] },
      businessUnits: [
        {
          id: 'emea',
          name: 'EMEA',
          sites: [
            {
              id: 'london',
              name: 'London',
              timeZone: 'Europe/London',
              intervalMinutes: 15,
              offsetMinutes: 0,
              statServer: 'SS London',
            },
            {
              id: 'paris',
              name: 'Paris',
              timeZone: 'Europe/Paris',
              intervalMinutes: 30,
              offsetMinutes: 10,
              statServer: 'SS Paris',
            },
          ],
        },
        { id: 'amer', name: 'Americas', sites: [{ id: 'nyc' } as never] },
      ],
      ...overrides,
    },
  });
}

describe('redactConfig', () => {
  it('masks the tenant password and the passwords in URLs', () => {
    const redacted = redactConfig(config());
    expect(redacted.tenant).toEqual({ id: 'T1', password: '[redacted]' });
    expect(redacted.database).toBe(
      'postgres://wfm:[redacted]@db.example:5432/wfm?sslmode=require&password=[redacted]',
    );
    expect(redacted.nats.servers).toEqual(['nats://T1:[redacted]@n1:4222', 'nats://n2:4222']);
    const text = JSON.stringify(redacted);
    for (const secret of ['s3cret-pw', 'db-pw', 'q-pw', 'nats-pw']) expect(text).not.toContain(secret);
  });

  it('leaves everything else equal and the original untouched', () => {
    const original = config();
    const redacted = redactConfig(original);
    expect({ ...redacted, tenant: null, database: null, nats: null }).toEqual({
      ...original,
      tenant: null,
      database: null,
      nats: null,
    });
    expect(original.tenant.password).toBe('s3cret-pw');
    expect(redacted.businessUnits).not.toBe(original.businessUnits);
  });

  it('adds no password when there is none and keeps a null database', () => {
    const redacted = redactConfig(config({ tenant: { id: 'T1' }, database: null }));
    expect(redacted.tenant).toEqual({ id: 'T1' });
    expect(redacted.database).toBeNull();
  });

  it('keeps a database URL without a password as it is', () => {
    expect(redactConfig(config({ database: 'postgres://wfm@db/wfm' })).database).toBe(
      'postgres://wfm@db/wfm',
    );
  });
});

describe('listSites', () => {
  it('flattens every site with its business unit, in order', () => {
    expect(listSites(config())).toEqual([
      {
        tenant: 'T1',
        businessUnit: 'emea',
        site: 'london',
        name: 'London',
        timeZone: 'Europe/London',
        intervalMinutes: 15,
        offsetMinutes: 0,
        statServer: 'SS London',
      },
      {
        tenant: 'T1',
        businessUnit: 'emea',
        site: 'paris',
        name: 'Paris',
        timeZone: 'Europe/Paris',
        intervalMinutes: 30,
        offsetMinutes: 10,
        statServer: 'SS Paris',
      },
      {
        tenant: 'T1',
        businessUnit: 'amer',
        site: 'nyc',
        name: 'nyc',
        timeZone: 'UTC',
        intervalMinutes: 15,
        offsetMinutes: 0,
        statServer: '',
      },
    ]);
  });
});
