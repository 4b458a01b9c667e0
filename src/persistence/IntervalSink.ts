import type { IntervalRecord, TransferRecord } from '../domain/index.ts';

/**
 * One closed interval record as stored in `WFM_OUT` (subject `wfm.interval.T.S.A`), with the
 * stream sequence it is stored at. `outSeq` orders a site's records and is what a sink's
 * write position counts in.
 */
export interface StoredInterval {
  tenant: string;
  /** `WFM_OUT` stream sequence of the record's message. */
  outSeq: number;
  record: IntervalRecord;
}

/**
 * One transfer audit record as stored in `WFM_OUT` (subject `wfm.transfer.T.S`), with the stream
 * sequence it is stored at: the place in the site's history where the transfer applies (rows
 * before it belong to the old agent ids, rows after it to whoever the site then wrote them for).
 * The site is the batch's (the record does not name it).
 */
export interface StoredTransfer {
  tenant: string;
  /** `WFM_OUT` stream sequence of the record's message. */
  outSeq: number;
  transfer: TransferRecord;
}

/** One item of a site's history in `WFM_OUT` order; `'transfer' in item` tells the two apart. */
export type StoredHistoryItem = StoredInterval | StoredTransfer;

/** Whether `item` is a transfer (the one test every reader of a batch uses). */
export function isStoredTransfer(item: StoredHistoryItem): item is StoredTransfer {
  return 'transfer' in item;
}

/**
 * A transfer as the database applied it (table `wfm_transfer`): the audit record, where it is in
 * the site's history and what it did to the site's `agent_interval` rows. A refused transfer is
 * recorded too, with 0 and 0.
 */
export interface TransferAudit extends TransferRecord {
  tenant: string;
  site: string;
  /** `WFM_OUT` stream sequence of the audit record. */
  outSeq: number;
  /** The source's rows re-keyed to the target. */
  rowsMoved: number;
  /** The target's own rows deleted (overwrite policy) before the source's took their place. */
  rowsDeleted: number;
}

/** Transfer audit records to read back. */
export interface TransferQuery {
  tenant: string;
  /** Only these sites (all when undefined). */
  sites?: readonly string[];
  /** Only transfers from or to this agent (all when undefined). */
  agentId?: string;
}

/**
 * Where a site's interval history stands in a sink: every record of the site stored in `WFM_OUT`
 * at or below `position` is written, nothing above it is. `epoch` is the highest lease epoch that
 * has written the site (0 and 0 for a site never written).
 */
export interface SiteWriteMark {
  epoch: number;
  position: number;
}

/** Rows and transfers of one site to write in one transaction. */
export interface IntervalBatch {
  tenant: string;
  site: string;
  /**
   * The writer's lease epoch: the write is refused (FencedWriteError) when the sink holds a higher
   * one for the site, and raises the stored epoch otherwise. `null`: records read back from a dump
   * file, which are stored outputs and so right whoever writes them: no epoch check, none stored.
   */
  epoch: number | null;
  /**
   * The site's interval rows and transfers, mixed, in ascending `outSeq` (a transfer applies to
   * the rows written before it, not to those after it); those at or below the stored position
   * are skipped.
   */
  rows: readonly StoredHistoryItem[];
  /**
   * The `WFM_OUT` position the site's history reaches with these rows (≥ the last row's `outSeq`:
   * the writer may have read past other subjects' messages). The stored position becomes the
   * greater of it and the stored one.
   */
  upTo: number;
}

/** Interval records to read back: `intervalStart` in `[from, to)`. */
export interface IntervalQuery {
  tenant: string;
  /** Only these sites (all when undefined). */
  sites?: readonly string[];
  /** Only this agent (all when undefined). */
  agentId?: string;
  /** Epoch milliseconds, inclusive. */
  from: number;
  /** Epoch milliseconds, exclusive. */
  to: number;
}

/**
 * The WFM database (DESIGN guarantee 3): table `agent_interval` in PostgreSQL, or the embedded
 * LevelDB store when no database is configured. Every implementation passes the one contract
 * suite in `test/persistence/intervalSinkContract.ts`.
 *
 * A write is one transaction: the site's write mark is read (locked), checked against the batch's
 * epoch, the items above it are applied in `outSeq` order — rows upserted on (`tenant`, `site`,
 * `agent_id`, `interval_start`); an applied transfer deletes the target's rows of the site and
 * re-keys the source's to the target; every transfer (refused ones too) leaves an audit row,
 * inserted if none of its id exists — and the mark advances: all or nothing. Writing the same
 * batch twice changes nothing.
 */
export interface IntervalSink {
  /** `'postgres'` or `'level'`: shown in status and logs (never the URL). */
  readonly kind: 'postgres' | 'level';
  /**
   * Whether nodes share it (PostgreSQL: only a site's primary writes, fenced by epoch) or each
   * node has its own (LevelDB: every replica of a site keeps its own copy of the history).
   */
  readonly shared: boolean;
  /**
   * Connects (or opens) and creates or migrates the schema.
   * @throws DatabaseError when unreachable; the original error is its `cause`.
   */
  open(): Promise<void>;
  /** Closes; safe to call more than once and after a failed open. */
  close(): Promise<void>;
  /** The site's write mark (`{epoch: 0, position: 0}` for a site never written). @throws DatabaseError */
  mark(tenant: string, site: string): Promise<SiteWriteMark>;
  /**
   * Writes one site's batch in one transaction and returns the mark after it.
   * @throws FencedWriteError when the sink holds a higher epoch for the site (nothing written)
   * @throws DatabaseError when the database fails or is unreachable (nothing written)
   */
  write(batch: IntervalBatch): Promise<SiteWriteMark>;
  /**
   * Interval records matching the query, ordered by site, agent, `intervalStart`.
   * @throws DatabaseError
   */
  query(query: IntervalQuery): Promise<IntervalRecord[]>;
  /**
   * Transfer audit records matching the query, ordered by site (byte order), then `outSeq`.
   * @throws DatabaseError
   */
  transfers(query: TransferQuery): Promise<TransferAudit[]>;
  /**
   * How many interval rows the agent has at the site: what a transfer would move or delete
   * (`wfm-agg transfer --dry-run`).
   * @throws DatabaseError
   */
  countRows(tenant: string, site: string, agentId: string): Promise<number>;
}
