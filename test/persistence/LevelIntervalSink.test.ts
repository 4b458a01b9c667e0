import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseError } from '../../src/errors.ts';
import {
  createIntervalSink,
  describeIntervalSink,
  isLockedError,
  LevelIntervalSink,
  PostgresIntervalSink,
} from '../../src/persistence/index.ts';
import { intervalSinkContract } from './intervalSinkContract.ts';

let root: string;
let count = 0;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'wfm-level-sink-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

intervalSinkContract(
  'LevelIntervalSink',
  () => new LevelIntervalSink({ location: join(root, `db${++count}`) }),
);

describe('LevelIntervalSink', () => {
  it('is the embedded, per-node kind', () => {
    const sink = new LevelIntervalSink({ location: join(root, 'kind') });
    expect(sink.kind).toBe('level');
    expect(sink.shared).toBe(false);
    expect(sink.options).toEqual({ location: join(root, 'kind'), sync: true });
  });

  it('refuses to open a directory another sink has open: a DatabaseError isLockedError tells', async () => {
    const location = join(root, 'locked');
    const first = new LevelIntervalSink({ location });
    await first.open();
    const second = new LevelIntervalSink({ location });
    const error = await second.open().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect(error).toMatchObject({ code: 'WFM_DATABASE_UNAVAILABLE' });
    expect((error as DatabaseError).cause).toMatchObject({ code: 'LEVEL_DATABASE_NOT_OPEN' });
    expect(isLockedError(error)).toBe(true);
    expect(isLockedError(new DatabaseError('down'))).toBe(false);
    expect(isLockedError(undefined)).toBe(false);
    await second.close();
    await first.close();
    await second.open();
    await second.close();
  });

  it('refuses calls while not open, and invalid options', async () => {
    const sink = new LevelIntervalSink({ location: join(root, 'closed') });
    await expect(sink.mark('T1', 'S1')).rejects.toBeInstanceOf(DatabaseError);
    expect(() => new LevelIntervalSink({ location: '' })).toThrow(DatabaseError);
    expect(() => new LevelIntervalSink({ location: 'x', nope: 1 } as never)).toThrow(/unknown option nope/);
  });
});

describe('createIntervalSink', () => {
  it('makes the embedded store in <dataDir>/intervals without a database', () => {
    const config = { database: null, dataDir: root };
    const sink = createIntervalSink(config);
    expect(sink).toBeInstanceOf(LevelIntervalSink);
    expect((sink as LevelIntervalSink).options.location).toBe(join(root, 'intervals'));
    expect(describeIntervalSink(config)).toBe(`level ${join(root, 'intervals')}`);
  });

  it('makes a PostgreSQL sink with a database, described without credentials', () => {
    const config = { database: 'postgres://u:pw@db.example:6543/wfm', dataDir: root };
    expect(createIntervalSink(config)).toBeInstanceOf(PostgresIntervalSink);
    expect(describeIntervalSink(config)).toBe('postgres db.example:6543/wfm');
  });
});
