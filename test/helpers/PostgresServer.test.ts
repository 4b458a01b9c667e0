import { existsSync } from 'node:fs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresServer } from './PostgresServer.ts';

describe('PostgresServer', () => {
  let server: PostgresServer;

  beforeAll(async () => {
    server = await PostgresServer.start();
  });

  afterAll(async () => {
    await server?.destroy();
  });

  it('starts on a free 127.0.0.1 port, never the system one, with a password-protected database', async () => {
    expect(server.port).not.toBe(5432);
    expect(server.url).toBe(`postgres://wfm:secret@127.0.0.1:${server.port}/wfm`);
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      const { rows } = await client.query<{ who: string; db: string }>(
        'SELECT current_user AS who, current_database() AS db',
      );
      expect(rows).toEqual([{ who: 'wfm', db: 'wfm' }]);
    } finally {
      await client.end();
    }
    const wrong = new pg.Client({ connectionString: server.urlFor('wfm', 'nope') });
    await expect(wrong.connect()).rejects.toMatchObject({ code: '28P01' });
  });

  it('runs admin queries, creates fresh databases', async () => {
    expect(await server.query<{ n: number }>('SELECT $1::int + 1 AS n', [41])).toEqual([{ n: 42 }]);
    const url = await server.createDatabase();
    const name = new URL(url).pathname.slice(1);
    expect(await server.query('SELECT current_database() AS db', [], name)).toEqual([{ db: name }]);
  });

  it('holds a table lock: others wait until it is released', async () => {
    await server.query('CREATE TABLE held (n int)');
    const lock = await server.holdTableLock('held', 400);
    const started = Date.now();
    await server.query('INSERT INTO held VALUES (1)');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    await lock.released;
    const early = await server.holdTableLock('held', 60_000);
    await early.release();
    expect(await server.query('SELECT count(*)::int AS n FROM held')).toEqual([{ n: 1 }]);
  });

  it('stops immediately, keeps the data, starts again on the same port', async () => {
    await server.query('CREATE TABLE kept (n int)');
    await server.query('INSERT INTO kept VALUES (7)');
    const port = server.port;
    await server.stop('immediate');
    expect(server.running).toBe(false);
    await expect(server.query('SELECT 1')).rejects.toThrow();
    await server.startAgain();
    expect(server.port).toBe(port);
    expect(await server.query('SELECT n FROM kept')).toEqual([{ n: 7 }]);
  });

  it('destroy stops the server and removes its dir', async () => {
    const other = await PostgresServer.start();
    expect(existsSync(other.dir)).toBe(true);
    await other.destroy();
    expect(other.running).toBe(false);
    expect(existsSync(other.dir)).toBe(false);
    await other.destroy();
  });
});
