import { join } from 'node:path';
import type { IntervalSink } from './IntervalSink.ts';
import { LevelIntervalSink } from './LevelIntervalSink.ts';
import { PostgresIntervalSink } from './PostgresIntervalSink.ts';

/** The configuration fields that choose the interval sink (a `WfmConfig` has both). */
export interface IntervalSinkConfig {
  /** PostgreSQL URL of the WFM database; `null`: the embedded LevelDB store. */
  database: string | null;
  /** The node's data directory; the embedded store lives in `<dataDir>/intervals`. */
  dataDir: string;
}

/** Where the embedded store of a node with data directory `dataDir` lives. */
export function levelIntervalLocation(dataDir: string): string {
  return join(dataDir, 'intervals');
}

/**
 * The WFM database of DESIGN guarantee 3: PostgreSQL when `database` is set, else the embedded
 * LevelDB store in `<dataDir>/intervals`. Unopened: the caller calls `open()`.
 * @throws DatabaseError when the options are invalid (a `database` that is no postgres:// URL)
 */
export function createIntervalSink(config: IntervalSinkConfig): IntervalSink {
  return config.database === null
    ? new LevelIntervalSink({ location: levelIntervalLocation(config.dataDir) })
    : new PostgresIntervalSink({ url: config.database });
}

/**
 * What {@link createIntervalSink} makes, for logs and status, never with credentials:
 * `postgres host:port/database` or `level <dataDir>/intervals`.
 */
export function describeIntervalSink(config: IntervalSinkConfig): string {
  return config.database === null
    ? `level ${levelIntervalLocation(config.dataDir)}`
    : `postgres ${PostgresIntervalSink.describe(config.database)}`;
}
