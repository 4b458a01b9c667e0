/**
 * The PostgreSQL schema of the interval history (DESIGN guarantee 3) and of the transfer audit log
 * (DESIGN "User data transfer"), and the SQL that reads and writes them, for `PostgresIntervalSink`.
 */
import type pg from 'pg';
import type { IntervalRecord } from '../domain/index.ts';
import { DatabaseError } from '../errors.ts';
import type {
  IntervalQuery,
  SiteWriteMark,
  StoredInterval,
  StoredTransfer,
  TransferAudit,
  TransferQuery,
} from './IntervalSink.ts';
import { transferAudit } from './intervalSinkSupport.ts';

/**
 * The schema version this build creates and reads (row of `wfm_schema_version`). 1: interval rows
 * and write marks; 2: the transfer audit table `wfm_transfer`.
 */
export const POSTGRES_SCHEMA_VERSION = 2;

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
  [
    // One row per transfer a site applied or refused, keyed like the command (its id is unique).
    `CREATE TABLE wfm_transfer (
      tenant text COLLATE "C" NOT NULL, site text COLLATE "C" NOT NULL, id text COLLATE "C" NOT NULL,
      from_agent text COLLATE "C" NOT NULL, to_agent text COLLATE "C" NOT NULL,
      requested_by text NOT NULL, requested_at bigint NOT NULL, applied_at bigint NOT NULL,
      result text NOT NULL CHECK (result IN ('applied', 'refused')), reason text NULL,
      counts jsonb NULL, rows_moved int NOT NULL, rows_deleted int NOT NULL,
      source_seq bigint NOT NULL, out_seq bigint NOT NULL,
      PRIMARY KEY (tenant, site, id))`,
    // transfers() reads a tenant's log in (site, out_seq) order.
    'CREATE INDEX wfm_transfer_by_place ON wfm_transfer (tenant, site, out_seq)',
  ],
];

const KEY_COLUMNS = ['tenant', 'site', 'agent_id', 'interval_start'] as const;
const VALUE_COLUMNS = [
  ...['interval_minutes', 'seconds_by_presence', 'adherence_schedule_secs', 'exception_duration_secs'],
  ...['adherence_percentage', 'conformance_schedule_secs', 'conformance_actual_secs'],
  ...['conformance_percentage', 'source_seq', 'out_seq'],
] as const;
const COLUMNS = [...KEY_COLUMNS, ...VALUE_COLUMNS];
type Column = (typeof COLUMNS)[number];
/**
 * Each column of a row written: its SQL type (what `unnest` casts its array to) and its value in a
 * {@link StoredInterval} — one entry per column, so a column without either does not compile.
 */
const COLUMN: Record<Column, { type: string; value: (row: StoredInterval) => unknown }> = {
  tenant: { type: 'text', value: (row) => row.tenant },
  site: { type: 'text', value: (row) => row.record.site },
  agent_id: { type: 'text', value: (row) => row.record.agentId },
  interval_start: { type: 'bigint', value: (row) => row.record.intervalStart },
  interval_minutes: { type: 'int', value: (row) => row.record.intervalMinutes },
  // JSON text: the array's element is the jsonb value's text.
  seconds_by_presence: { type: 'jsonb', value: (row) => JSON.stringify(row.record.secondsByPresence) },
  adherence_schedule_secs: { type: 'float8', value: (row) => row.record.adherenceScheduleSecs },
  exception_duration_secs: { type: 'float8', value: (row) => row.record.exceptionDurationSecs },
  adherence_percentage: { type: 'float8', value: (row) => row.record.adherencePercentage },
  conformance_schedule_secs: { type: 'float8', value: (row) => row.record.conformanceScheduleSecs },
  conformance_actual_secs: { type: 'float8', value: (row) => row.record.conformanceActualSecs },
  conformance_percentage: { type: 'float8', value: (row) => row.record.conformancePercentage },
  source_seq: { type: 'bigint', value: (row) => row.record.sourceSeq },
  out_seq: { type: 'bigint', value: (row) => row.outSeq },
};
/**
 * The upsert of any number of rows as one statement text: one array per column, zipped by
 * `unnest`. Its text never changes, so each connection prepares it once (a named statement) and
 * PostgreSQL parses and plans it once; a multi-row `VALUES` with 14 parameters per row was a new
 * text for every row count, parsed and planned at each write (the database bench measured
 * PostgreSQL's CPU per row written).
 */
const UPSERT = {
  name: 'wfm_upsert_agent_interval_v1',
  text:
    `INSERT INTO agent_interval (${COLUMNS.join(', ')}) SELECT * FROM unnest(` +
    `${COLUMNS.map((column, i) => `$${i + 1}::${COLUMN[column].type}[]`).join(', ')})` +
    ` ON CONFLICT (${KEY_COLUMNS.join(', ')}) DO UPDATE SET ${VALUE_COLUMNS.map((c) => `${c} = EXCLUDED.${c}`).join(', ')}`,
};

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

/**
 * Upserts `rows` (no key twice: ON CONFLICT may touch a row once per statement) in one statement,
 * {@link UPSERT}.
 */
export async function upsertIntervals(client: pg.ClientBase, rows: readonly StoredInterval[]): Promise<void> {
  if (rows.length === 0) return;
  const columns = COLUMNS.map((column) => rows.map(COLUMN[column].value));
  await client.query({ ...UPSERT, values: columns });
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

/** Rows of `agentId` at the site. */
export async function countAgentRows(
  client: pg.ClientBase,
  tenant: string,
  site: string,
  agentId: string,
): Promise<number> {
  const { rows } = await client.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM agent_interval WHERE tenant = $1 AND site = $2 AND agent_id = $3',
    [tenant, site, agentId],
  );
  return rows[0]?.n ?? 0;
}

const TRANSFER_COLUMNS = [
  ...['tenant', 'site', 'id', 'from_agent', 'to_agent', 'requested_by', 'requested_at', 'applied_at'],
  ...['result', 'reason', 'counts', 'rows_moved', 'rows_deleted', 'source_seq', 'out_seq'],
] as const;

interface TransferRow {
  tenant: string;
  site: string;
  id: string;
  from_agent: string;
  to_agent: string;
  requested_by: string;
  requested_at: string;
  applied_at: string;
  result: 'applied' | 'refused';
  reason: string | null;
  counts: TransferAudit['counts'];
  rows_moved: number;
  rows_deleted: number;
  source_seq: string;
  out_seq: string;
}

/**
 * Applies one transfer inside the caller's transaction: when applied, deletes the target's rows of
 * the site and re-keys the source's to the target (in that order: the target's key space is then
 * free, so the update cannot collide); then records its audit row unless one of its id exists.
 */
export async function applyTransfer(
  client: pg.ClientBase,
  site: string,
  item: StoredTransfer,
): Promise<void> {
  const { tenant, transfer: t } = item;
  // A transfer whose id is recorded already changes nothing: a second copy of its audit record
  // would otherwise delete the rows the first one moved. The site's writer row is locked by this
  // transaction, so no other writer of the site can record it meanwhile.
  const known = await client.query('SELECT 1 FROM wfm_transfer WHERE tenant = $1 AND site = $2 AND id = $3', [
    tenant,
    site,
    t.id,
  ]);
  if ((known.rowCount ?? 0) > 0) return;
  let moved = 0;
  let deleted = 0;
  if (t.result === 'applied') {
    const where = 'tenant = $1 AND site = $2 AND agent_id = $3';
    deleted =
      (await client.query(`DELETE FROM agent_interval WHERE ${where}`, [tenant, site, t.to])).rowCount ?? 0;
    const update = `UPDATE agent_interval SET agent_id = $4 WHERE ${where}`;
    moved = (await client.query(update, [tenant, site, t.from, t.to])).rowCount ?? 0;
  }
  const a = transferAudit(site, item, moved, deleted);
  await client.query(
    `INSERT INTO wfm_transfer (${TRANSFER_COLUMNS.join(', ')})
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb, $12, $13, $14, $15) ON CONFLICT DO NOTHING`,
    [
      ...[a.tenant, a.site, a.id, a.from, a.to, a.requestedBy, a.requestedAt, a.appliedAt, a.result],
      // JSON text for the jsonb column; SQL NULL (not JSON null) for a refused transfer's counts.
      ...[a.reason, a.counts === null ? null : JSON.stringify(a.counts), a.rowsMoved, a.rowsDeleted],
      ...[a.sourceSeq, a.outSeq],
    ],
  );
}

/** The audit rows matching `query`, ordered by site (byte order: COLLATE "C"), then `out_seq`. */
export async function selectTransfers(client: pg.ClientBase, query: TransferQuery): Promise<TransferAudit[]> {
  const where = ['tenant = $1'];
  const params: unknown[] = [query.tenant];
  if (query.sites !== undefined) where.push(`site = ANY($${params.push([...query.sites])}::text[])`);
  if (query.agentId !== undefined) {
    const n = params.push(query.agentId);
    where.push(`(from_agent = $${n} OR to_agent = $${n})`);
  }
  const { rows } = await client.query<TransferRow>(
    `SELECT ${TRANSFER_COLUMNS.join(', ')} FROM wfm_transfer WHERE ${where.join(' AND ')} ORDER BY site, out_seq`,
    params,
  );
  // Same field order as transferAudit() builds, so both sinks return equal objects.
  return rows.map((row) =>
    transferAudit(
      row.site,
      {
        tenant: row.tenant,
        outSeq: Number(row.out_seq),
        transfer: {
          id: row.id,
          from: row.from_agent,
          to: row.to_agent,
          requestedBy: row.requested_by,
          requestedAt: Number(row.requested_at),
          appliedAt: Number(row.applied_at),
          result: row.result,
          reason: row.reason,
          counts: row.counts,
          sourceSeq: Number(row.source_seq),
        },
      },
      row.rows_moved,
      row.rows_deleted,
    ),
  );
}
