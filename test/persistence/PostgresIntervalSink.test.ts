import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/errors.ts';
import {
  defaultPostgresIntervalSinkOptions,
  POSTGRES_SCHEMA_VERSION,
  PostgresIntervalSink,
  type PostgresIntervalSinkOptions,
} from '../../src/persistence/index.ts';
import { PostgresServer } from '../helpers/PostgresServer.ts';
import { intervalRecord, intervalSinkContract, transferRecord } from './intervalSinkContract.ts';

// Distinctive, so a leak into any error text is found by a plain search.
const PASSWORD = 'Pw-7hx2-leak';
const T0 = 1_700_000_000_000;
let server: PostgresServer;
const opened: PostgresIntervalSink[] = [];

beforeAll(async () => {
  server = await PostgresServer.start({ password: PASSWORD });
});

afterAll(async () => {
  await server?.destroy();
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((sink) => sink.close()));
});

/** A sink on a fresh database (or `url`), closed after the test. */
async function sinkOn(url?: string, options: Partial<PostgresIntervalSinkOptions> = {}) {
  const sink = new PostgresIntervalSink({ url: url ?? (await server.createDatabase()), ...options });
  opened.push(sink);
  return sink;
}

function batch(epoch: number | null, agents: string[], firstSeq: number, site = 'S1') {
  const rows = agents.map((agent, i) => ({
    tenant: 'T1',
    outSeq: firstSeq + i,
    record: intervalRecord(site, agent, T0),
  }));
  return { tenant: 'T1', site, epoch, rows, upTo: firstSeq + agents.length - 1 };
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

/** Everything a thrown error shows: message, stack, its cause chain and properties. */
function everything(error: unknown): string {
  return `${String(error)}\n${(error as Error)?.stack ?? ''}\n${inspect(error, { depth: 6 })}`;
}

intervalSinkContract(
  'PostgresIntervalSink',
  async () => new PostgresIntervalSink({ url: await server.createDatabase() }),
);

describe('PostgresIntervalSink', () => {
  it('is the shared kind; options get defaults; describe() leaves credentials out', () => {
    const sink = new PostgresIntervalSink({ url: server.url });
    expect(sink.kind).toBe('postgres');
    expect(sink.shared).toBe(true);
    expect(sink.options).toEqual({ url: server.url, ...defaultPostgresIntervalSinkOptions });
    expect(sink.label).toBe(`127.0.0.1:${server.port}/wfm`);
    expect(PostgresIntervalSink.describe('postgresql://u:p@db/x')).toBe('db:5432/x');
    expect(PostgresIntervalSink.describe('not a url :pw')).toBe('(unparsable database URL)');
    expect(() => new PostgresIntervalSink({ url: server.url, poolSize: 0 })).toThrow(DatabaseError);
    for (const url of [`mysql://u:${PASSWORD}@h/db`, `postgres://u:${PASSWORD}@[bad/db`]) {
      const refused = thrown(() => new PostgresIntervalSink({ url }));
      expect(refused).toBeInstanceOf(DatabaseError);
      expect((refused as Error).message).toMatch(/must be a postgres:\/\/ URL/);
      expect(everything(refused)).not.toContain(PASSWORD);
    }
  });

  it('creates the schema once, at the current version, with the columns of DESIGN guarantee 3', async () => {
    const url = await server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    await (await sinkOn(url)).open();
    await (await sinkOn(url)).open();
    expect(await server.query('SELECT version FROM wfm_schema_version', [], db)).toEqual([
      { version: POSTGRES_SCHEMA_VERSION },
    ]);
    const columns = await server.query<{ c: string }>(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'agent_interval' ORDER BY ordinal_position`,
      [],
      db,
    );
    expect(columns.map((row) => row.c)).toEqual([
      ...['tenant', 'site', 'agent_id', 'interval_start', 'interval_minutes', 'seconds_by_presence'],
      ...['adherence_schedule_secs', 'exception_duration_secs', 'adherence_percentage'],
      ...['conformance_schedule_secs', 'conformance_actual_secs', 'conformance_percentage'],
      ...['source_seq', 'out_seq'],
    ]);
    const audit = await server.query<{ c: string }>(
      `SELECT column_name AS c FROM information_schema.columns WHERE table_name = 'wfm_transfer' ORDER BY ordinal_position`,
      [],
      db,
    );
    expect(audit.map((row) => row.c)).toEqual([
      ...['tenant', 'site', 'id', 'from_agent', 'to_agent', 'requested_by', 'requested_at', 'applied_at'],
      ...['result', 'reason', 'counts', 'rows_moved', 'rows_deleted', 'source_seq', 'out_seq'],
    ]);
  });

  it('migrates a version 1 database (no wfm_transfer) to version 2, keeping its rows and marks', async () => {
    const url = await server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const old = await sinkOn(url);
    await old.open();
    await old.write(batch(4, ['A', 'B'], 1));
    await old.close();
    // What a version 1 build left: the same tables but wfm_transfer, and version 1.
    await server.query('DROP TABLE wfm_transfer', [], db);
    await server.query('UPDATE wfm_schema_version SET version = 1', [], db);
    const sink = await sinkOn(url);
    await sink.open();
    expect(POSTGRES_SCHEMA_VERSION).toBe(2);
    expect(await server.query('SELECT version FROM wfm_schema_version', [], db)).toEqual([{ version: 2 }]);
    expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 4, position: 2 });
    const transfer = { tenant: 'T1', outSeq: 3, transfer: transferRecord('m1', 'A', 'B') };
    await sink.write({ tenant: 'T1', site: 'S1', epoch: 4, rows: [transfer], upTo: 3 });
    expect((await sink.query({ tenant: 'T1', from: 0, to: T0 + 1 })).map((r) => r.agentId)).toEqual(['B']);
    expect(await sink.transfers({ tenant: 'T1', agentId: 'A' })).toMatchObject([
      { id: 'm1', site: 'S1', outSeq: 3, rowsMoved: 1, rowsDeleted: 1 },
    ]);
  });

  it('rolls back a batch the server refuses after its transfer: moves, audit and mark stay as they were', async () => {
    const url = await server.createDatabase();
    const sink = await sinkOn(url);
    await sink.open();
    await sink.write(batch(1, ['A', 'B'], 1));
    // interval_minutes is an int column: 7.5 fails inside PostgreSQL, after the transfer's statements ran.
    const refused = {
      tenant: 'T1',
      outSeq: 4,
      record: { ...intervalRecord('S1', 'C', T0), intervalMinutes: 7.5 },
    };
    const transfer = { tenant: 'T1', outSeq: 3, transfer: transferRecord('r1', 'A', 'B') };
    const error = await sink
      .write({ tenant: 'T1', site: 'S1', epoch: 1, rows: [transfer, refused], upTo: 4 })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).cause).toMatchObject({ code: '22P02' });
    expect(await sink.mark('T1', 'S1')).toEqual({ epoch: 1, position: 2 });
    expect((await sink.query({ tenant: 'T1', from: 0, to: T0 + 1 })).map((r) => r.agentId)).toEqual([
      'A',
      'B',
    ]);
    expect(await sink.transfers({ tenant: 'T1' })).toEqual([]);
  });

  it('writes every value exactly through its column array: extremes, nulls, batches of any size', async () => {
    const sink = await sinkOn();
    await sink.open();
    const extreme = {
      ...intervalRecord('S1', 'A-1', 8_640_000_000_000_000 - 900_000),
      secondsByPresence: { ON_QUEUE: 1e-7, BREAK: 123_456_789.123_456_7, OFFLINE: 5e-324 },
      exceptionDurationSecs: 0.1 + 0.2,
      adherencePercentage: null,
      conformancePercentage: null,
      sourceSeq: Number.MAX_SAFE_INTEGER,
    };
    // One row, then 1,500 in one write: a single statement whatever the count (no 1,000-row chunks).
    await sink.write({
      tenant: 'T1',
      site: 'S1',
      epoch: 1,
      rows: [{ tenant: 'T1', outSeq: 1, record: extreme }],
      upTo: 1,
    });
    const many = Array.from({ length: 1500 }, (_, i) => ({
      tenant: 'T1',
      outSeq: i + 2,
      record: intervalRecord('S1', `B-${String(i).padStart(4, '0')}`, T0, i),
    }));
    await sink.write({ tenant: 'T1', site: 'S1', epoch: 1, rows: many, upTo: 1501 });
    const read = await sink.query({ tenant: 'T1', from: 0, to: Number.MAX_SAFE_INTEGER });
    expect(read).toEqual([extreme, ...many.map((row) => row.record)]);
  });

  it('refuses a database whose schema is newer than this build', async () => {
    const url = await server.createDatabase();
    await (await sinkOn(url)).open();
    await server.query('UPDATE wfm_schema_version SET version = 99', [], new URL(url).pathname.slice(1));
    const later = await sinkOn(url);
    await expect(later.open()).rejects.toThrow(/schema version 99 is newer/);
    await later.close();
  });

  it('opens from several sinks at once on a fresh database', async () => {
    const url = await server.createDatabase();
    const sinks = await Promise.all([1, 2, 3, 4].map(() => sinkOn(url)));
    await Promise.all(sinks.map((sink) => sink.open()));
    expect(await sinks[0]!.mark('T1', 'S1')).toEqual({ epoch: 0, position: 0 });
  });

  it('fences concurrent writers of one site on two sinks: epoch 2 ends stored, no row doubled', async () => {
    const url = await server.createDatabase();
    const db = new URL(url).pathname.slice(1);
    const [a, b] = [await sinkOn(url), await sinkOn(url)];
    await Promise.all([a!.open(), b!.open()]);
    // Both writes queue behind the lock, then race for the site's writer row.
    const lock = await server.holdTableLock('wfm_site_writer', 300, db);
    const results = await Promise.allSettled([
      a!.write(batch(1, ['A', 'B', 'C'], 1)),
      b!.write(batch(2, ['A', 'B', 'C'], 1)),
    ]);
    await lock.released;
    expect(results[1]).toEqual({ status: 'fulfilled', value: { epoch: 2, position: 3 } });
    expect(await a!.mark('T1', 'S1')).toEqual({ epoch: 2, position: 3 });
    expect(await server.query('SELECT count(*)::int AS n FROM agent_interval', [], db)).toEqual([{ n: 3 }]);
  });

  it('waits for a slow database (a lock held) instead of failing, beyond the connect timeout', async () => {
    const url = await server.createDatabase();
    const sink = await sinkOn(url, { poolSize: 1, connectTimeoutMs: 300 });
    await sink.open();
    const lock = await server.holdTableLock('agent_interval', 1_200, new URL(url).pathname.slice(1));
    const started = Date.now();
    // Two writes on one connection: the second waits for the first, longer than connectTimeoutMs.
    const marks = await Promise.all([sink.write(batch(1, ['A'], 1)), sink.write(batch(1, ['A'], 1, 'S2'))]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_000);
    expect(marks).toEqual([
      { epoch: 1, position: 1 },
      { epoch: 1, position: 1 },
    ]);
    await lock.released;
  });

  it('fails fast with a DatabaseError free of credentials: wrong password, nothing listening', async () => {
    const wrong = server.urlFor('wfm', `${PASSWORD}x`);
    const denied = await (await sinkOn(wrong)).open().catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(DatabaseError);
    expect((denied as DatabaseError).cause).toMatchObject({ code: '28P01' });
    expect((denied as Error).message).toContain(`127.0.0.1:${server.port}/wfm`);
    for (const secret of [PASSWORD, wrong]) expect(everything(denied)).not.toContain(secret);

    const nowhere = server.urlFor('wfm').replace(`:${server.port}/`, ':1/');
    const started = Date.now();
    const refused = await (await sinkOn(nowhere, { connectTimeoutMs: 2_000 }))
      .open()
      .catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(refused).toBeInstanceOf(DatabaseError);
    expect((refused as DatabaseError).message).toMatch(/ECONNREFUSED/);
    for (const secret of [PASSWORD, nowhere]) expect(everything(refused)).not.toContain(secret);
  });

  it('fails while the server is down and writes again, on the same sink, once it is back', async () => {
    const sink = await sinkOn(undefined, { connectTimeoutMs: 2_000 });
    await sink.open();
    await sink.write(batch(1, ['A'], 1));
    // Idle pooled connections die with the server: their 'error' events must not end the process.
    await server.stop('immediate');
    try {
      // Each attempt gets its handler as it is made: they run at once, and one that fails while
      // an earlier one is still awaited would otherwise be an unhandled rejection.
      const attempts = [
        sink.write(batch(1, ['B'], 2)),
        sink.mark('T1', 'S1'),
        sink.write(batch(1, ['C'], 3)),
      ].map((attempt) => attempt.catch((e: unknown) => e));
      for (const attempt of attempts) {
        const error = await attempt;
        expect(error).toBeInstanceOf(DatabaseError);
        expect((error as DatabaseError).code).toBe('WFM_DATABASE_UNAVAILABLE');
        expect(everything(error)).not.toContain(PASSWORD);
      }
    } finally {
      await server.startAgain();
    }
    expect(await sink.write(batch(1, ['B'], 2))).toEqual({ epoch: 1, position: 2 });
    expect((await sink.query({ tenant: 'T1', from: 0, to: T0 + 1 })).map((r) => r.agentId)).toEqual([
      'A',
      'B',
    ]);
  });
});
