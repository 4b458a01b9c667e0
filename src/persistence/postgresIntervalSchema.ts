/**
 * The PostgreSQL schema of the interval history (DESIGN guarantee 3) and the SQL that reads and
 * writes its rows, for `PostgresIntervalSink`.
 */
import type pg from 'pg';
import type { IntervalRecord } from '../domain/index.ts';
import { DatabaseError } from '../errors.ts';
import type { IntervalQuery, SiteWriteMark, StoredInterval } from './IntervalSink.ts';

/** The schema version this build creates and reads (row of `wfm_schema_version`). */
export const POSTGRES_SCHEMA_VERSION = 1;

// Serializes schema creation of nodes starting at once: any constant only wfm-aggregator uses.
const MIGRATION_LOCK = 0x77666d01;
/** Statements that bring the schema from version `index` to `index + 1`. */
const MIGRATIONS: readonly (readonly string[])[] = [
  [
    // COLLATE "C": the key index then orders by byte, the order query() promises on every server.
    `CREATE TABLE agent_interval (
      tenant text COLLATE "C" NOT NULL, site text COLLATE "C" NOT NULL,
      agent_id text COLLATE "C" NOT NULL, interval_start bigint NOT NULL,
      interval_minutes int NOT NULL, seconds_by_presence jsonb NOT NULL,
      adherence_schedule_secs double precision NOT NULL, exception_duration_secs double precision NOT NULL,
      adherence_percentage double precision NULL, conformance_schedule_secs double precision NOT NULL,
      conformance_actual_secs double precision NOT NULL, conformance_percentage double precision NULL,
      source_seq bigint NOT NULL, out_seq bigint NOT NULL,
      PRIMARY KEY (tenant, site, agent_id, interval_start))`,
    `CREATE TABLE wfm_site_writer (
      tenant text COLLATE "C" NOT NULL, site text COLLATE "C" NOT NULL,
      epoch bigint NOT NULL, position bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (tenant, site))`,
  ],
];

const KEY_COLUMNS = ['tenant', 'site', 'agent_id', 'interval_start'] as const;
const VALUE_COLUMNS = [
  ...['interval_minutes', 'seconds_by_presence', 'adherence_schedule_secs', 'exception_duration_secs'],
  ...['adherence_percentage', 'conformance_schedule_secs', 'conformance_actual_secs'],
  ...['conformance_percentage', 'source_seq', 'out_seq'],
] as const;
const COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS];
const JSONB_COLUMN = COLUMNS.indexOf('seconds_by_presence');
// PostgreSQL takes at most 65535 parameters per statement (14 per row); 1000 rows stay well below
// and keep each statement's text and parse time small.
const ROWS_PER_INSERT = 1000;
const UPSERT_TAIL = ` ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${VALUE_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`;

interface IntervalRow {
  site: string;
  agent_id: string;
  interval_start: string;
  interval_minutes: number;
  seconds_by_presence: IntervalRecord['secondsByPresence'];
  adherence_schedule_secs: number;
  exception_duration_secs: number;
  adherence_percentage: number | null;
  conformance_schedule_secs: number;
  conformance_actual_secs: number;
  conformance_percentage: number | null;
  source_seq: string;
}

/**
 * Creates the schema, or migrates it to {@link POSTGRES_SCHEMA_VERSION}, inside the caller's
 * transaction; the advisory lock makes nodes starting together take turns.
 * @throws DatabaseError when the database holds a newer schema than this build reads
 */
export async function migrateSchema(client: pg.ClientBase, label: string): Promise<void> {
  await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
  await client.query('CREATE TABLE IF NOT EXISTS wfm_schema_version (version int NOT NULL)');
  const { rows } = await client.query<{ v: number | null }>(
    'SELECT max(version) AS v FROM wfm_schema_version',
  );
  const current = rows[0]?.v ?? 0;
  if (current > POSTGRES_SCHEMA_VERSION) {
    throw new DatabaseError(
      `PostgreSQL ${label}: schema version ${current} is newer than version ${POSTGRES_SCHEMA_VERSION} this build reads: run a newer wfm-aggregator`,
    );
  }
  for (let version = current; version < POSTGRES_SCHEMA_VERSION; version++) {
    for (const statement of MIGRATIONS[version] ?? []) await client.query(statement);
  }
  if (current !== POSTGRES_SCHEMA_VERSION) {
    await client.query('DELETE FROM wfm_schema_version');
    await client.query('INSERT INTO wfm_schema_version (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION]);
  }
}

/** Reads a site's write mark, `FOR UPDATE` when `lock` (in a transaction: writers take turns). */
export async function selectMark(
  client: pg.ClientBase,
  tenant: string,
  site: string,
  lock: boolean,
): Promise<SiteWriteMark> {
  const { rows } = await client.query<{ epoch: string; position: string }>(
    `SELECT epoch, position FROM wfm_site_writer WHERE tenant = $1 AND site = $2${lock ? ' FOR UPDATE' : ''}`,
    [tenant, site],
  );
  const row = rows[0];
  // bigint columns come back as strings (they may exceed 2^53; epochs and positions never do).
  return row === undefined
    ? { epoch: 0, position: 0 }
    : { epoch: Number(row.epoch), position: Number(row.position) };
}

/** Upserts `rows` (no key twice) with one multi-row statement per {@link ROWS_PER_INSERT}. */
export async function upsertIntervals(client: pg.ClientBase, rows: readonly StoredInterval[]): Promise<void> {
  for (let start = 0; start < rows.length; start += ROWS_PER_INSERT) {
    const params: unknown[] = [];
    const tuples = rows.slice(start, start + ROWS_PER_INSERT).map(({ tenant, outSeq, record: r }) => {
      const first = params.length;
      // Same order as COLUMNS; JSON text for the jsonb column (pg would send an array as one).
      params.push(tenant, r.site, r.agentId, r.intervalStart, r.intervalMinutes);
      params.push(JSON.stringify(r.secondsByPresence), r.adherenceScheduleSecs, r.exceptionDurationSecs);
      params.push(r.adherencePercentage, r.conformanceScheduleSecs, r.conformanceActualSecs);
      params.push(r.conformancePercentage, r.sourceSeq, outSeq);
      return `(${COLUMNS.map((_, i) => `$${first + i + 1}${i === JSONB_COLUMN ? '::jsonb' : ''}`).join(', ')})`;
    });
    await client.query(
      `INSERT INTO agent_interval (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')}${UPSERT_TAIL}`,
      params,
    );
  }
}

/** The records matching `query`, ordered by site, agent, `intervalStart` (byte order: COLLATE "C"). */
export async function selectIntervals(
  client: pg.ClientBase,
  query: IntervalQuery,
): Promise<IntervalRecord[]> {
  const where = ['tenant = $1', 'interval_start >= $2', 'interval_start < $3'];
  const params: unknown[] = [query.tenant, query.from, query.to];
  if (query.sites !== undefined) where.push(`site = ANY($${params.push([...query.sites])}::text[])`);
  if (query.agentId !== undefined) where.push(`agent_id = $${params.push(query.agentId)}`);
  // Every column but tenant (the query's) and out_seq (not part of a record).
  const columns = COLUMNS.slice(1, -1).join(', ');
  const { rows } = await client.query<IntervalRow>(
    `SELECT ${columns} FROM agent_interval WHERE ${where.join(' AND ')} ORDER BY site, agent_id, interval_start`,
    params,
  );
  return rows.map((row) => ({
    agentId: row.agent_id,
    site: row.site,
    intervalStart: Number(row.interval_start),
    intervalMinutes: row.interval_minutes,
    secondsByPresence: row.seconds_by_presence,
    adherenceScheduleSecs: row.adherence_schedule_secs,
    exceptionDurationSecs: row.exception_duration_secs,
    adherencePercentage: row.adherence_percentage,
    conformanceScheduleSecs: row.conformance_schedule_secs,
    conformanceActualSecs: row.conformance_actual_secs,
    conformancePercentage: row.conformance_percentage,
    sourceSeq: Number(row.source_seq),
  }));
}
