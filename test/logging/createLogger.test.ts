import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.ts';
import { createLogger, type LoggerOptions, maskUrlPassword } from '../../src/logging/index.ts';

const PASSWORD = 'Tenant-Pa55"w\\rd';
const DB_PASSWORD = 'db-Secret-9';

function expectNoSecret(out: string): void {
  for (const form of [
    PASSWORD,
    JSON.stringify(PASSWORD).slice(1, -1),
    encodeURIComponent(PASSWORD),
    DB_PASSWORD,
  ]) {
    expect(out).not.toContain(form);
  }
}

/** A logger writing into an array of lines. */
function capture(options: LoggerOptions = {}): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  const log = createLogger({
    pretty: false,
    ...options,
    destination: { write: (line: string) => lines.push(line) },
  });
  return { log, lines };
}

const config = loadConfig({
  env: {},
  overrides: {
    tenant: { id: 'T1', password: PASSWORD },
    database: `postgres://wfm:${DB_PASSWORD}@db:5432/wfm`,
    nats: { servers: [`nats://T1:${PASSWORD.replace(/\W/g, '')}@n1:4222`] },
    businessUnits: [{ id: 'b', name: 'B', sites: [{ id: 's' } as never] }],
  },
});

describe('createLogger: JSON lines', () => {
  it('writes one JSON object per line with level, name and message', () => {
    const { log, lines } = capture({ name: 'node-1' });
    log.info({ site: 'london' }, 'started');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.endsWith('\n')).toBe(true);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: 30,
      name: 'node-1',
      site: 'london',
      msg: 'started',
    });
  });

  it('defaults to level info and the name wfm-agg', () => {
    const { log, lines } = capture();
    log.debug('hidden');
    log.info('shown');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['shown']);
    expect(JSON.parse(lines[0]!).name).toBe('wfm-agg');
  });

  it('honours the level', () => {
    const { log, lines } = capture({ level: 'warn' });
    log.info('no');
    log.warn('yes');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['yes']);
  });
});

describe('createLogger: secrets never reach the output', () => {
  it('redacts the tenant password when the whole config is logged', () => {
    const { log, lines } = capture();
    log.info({ config }, 'configuration');
    const out = lines.join('');
    expectNoSecret(out);
    const logged = JSON.parse(out).config;
    expect(logged.tenant).toEqual({ id: 'T1', password: '[redacted]' });
    expect(logged.database).toBe('postgres://wfm:[redacted]@db:5432/wfm');
    expect(logged.nats.servers).toEqual(['nats://T1:[redacted]@n1:4222']);
  });

  it.each([
    ['password at the top', { password: PASSWORD }],
    ['tenant.password', { tenant: { id: 'T1', password: PASSWORD } }],
    ['a password four levels down', { a: { b: { c: { password: PASSWORD } } } }],
    ['secret/token/apiKey fields', { secret: PASSWORD, auth: { token: PASSWORD, apiKey: PASSWORD } }],
    ['tenantPassword', { opts: { tenantPassword: PASSWORD } }],
    ['databaseUrl', { databaseUrl: `postgres://u:${encodeURIComponent(PASSWORD)}@h/db` }],
    ['a password in a URL field', { url: `nats://u:${encodeURIComponent(PASSWORD)}@h` }],
  ])('redacts %s', (_name, object) => {
    const { log, lines } = capture();
    log.info(object, 'x');
    expectNoSecret(lines.join(''));
    expect(lines.join('')).toContain('[redacted]');
  });

  it('redacts passwords in child logger bindings', () => {
    const { log, lines } = capture();
    log.child({ config }).info('child');
    expectNoSecret(lines.join(''));
  });

  it('masks URL passwords in messages and error stacks', () => {
    const { log, lines } = capture();
    const url = `postgres://wfm:${DB_PASSWORD}@db:5432/wfm`;
    log.error({ err: new Error(`connect failed: ${url}`) }, `cannot reach ${url}`);
    const out = lines.join('');
    expectNoSecret(out);
    expect(JSON.parse(out).msg).toBe('cannot reach postgres://wfm:[redacted]@db:5432/wfm');
  });

  it('scrubs the configured secrets wherever they appear, even in message text', () => {
    const { log, lines } = capture({ secrets: [PASSWORD, ''] });
    log.info(`logging in with ${PASSWORD}`);
    log.info({ note: `pw=${PASSWORD}` }, 'field');
    const out = lines.join('');
    expectNoSecret(out);
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['logging in with [redacted]', 'field']);
  });

  it('keeps secrets out of pretty output too', () => {
    const { log, lines } = capture({ pretty: true, secrets: [PASSWORD] });
    log.info({ config }, `pw ${PASSWORD}`);
    const out = lines.join('');
    expect(out).toContain('pw [redacted]');
    expectNoSecret(out);
    expect(() => JSON.parse(out)).toThrow();
  });

  it('leaves absent and null values alone', () => {
    const { log, lines } = capture();
    log.info({ tenant: { id: 'T1' }, database: null }, 'x');
    const logged = JSON.parse(lines[0]!);
    expect(logged.tenant).toEqual({ id: 'T1' });
    expect(logged.database).toBeNull();
  });
});

describe('createLogger: file destination', () => {
  const dir = mkdtempSync(join(tmpdir(), 'wfm-log-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends JSON lines to a file path, synchronously', () => {
    const file = join(dir, 'sub', 'wfm.log');
    const log = createLogger({ pretty: false, destination: file });
    log.info({ tenant: { password: PASSWORD } }, 'to file');
    const text = readFileSync(file, 'utf8');
    expect(JSON.parse(text)).toMatchObject({ msg: 'to file', tenant: { password: '[redacted]' } });
  });
});

describe('maskUrlPassword', () => {
  it.each([
    ['postgres://u:pw@h/db', 'postgres://u:[redacted]@h/db'],
    [
      'postgresql://u:pw@h:5432/db?password=x&a=1',
      'postgresql://u:[redacted]@h:5432/db?password=[redacted]&a=1',
    ],
    ['nats://h:4222', 'nats://h:4222'],
    ['postgres://u@h/db', 'postgres://u@h/db'],
    ['see nats://a:b@h1 and tls://c:d@h2', 'see nats://a:[redacted]@h1 and tls://c:[redacted]@h2'],
    ['no url here', 'no url here'],
  ])('%s', (input, output) => {
    expect(maskUrlPassword(input)).toBe(output);
  });
});
