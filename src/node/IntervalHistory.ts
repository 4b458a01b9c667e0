import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import type { OperationalClock, SiteRole } from '../actors/index.ts';
import { DatabaseError, type FencedWriteError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import {
  type DumpedSite,
  type IntervalSink,
  isStoredTransfer,
  readDumpFile,
  removeDumpFile,
  type StoredHistoryItem,
  writeDumpFile,
} from '../persistence/index.ts';
import { readSiteHistory } from '../streams/index.ts';
import { DatabaseHealth, type DatabaseState } from './DatabaseHealth.ts';
import type { DatabaseMetrics } from './NodeMetrics.ts';
import { SiteHistoryWriter, type SiteHistoryWriterOptions } from './SiteHistoryWriter.ts';

/** What the node's interval history is made of. */
export interface IntervalHistoryOptions {
  tenant: string;
  node: string;
  sink: IntervalSink;
  /** A safe name of the sink for logs (never the URL). */
  sinkLabel: string;
  /** `dbDumpFile`. */
  dumpFile: string;
  /** `dbRetrySeconds` in milliseconds. */
  retryMs: number;
  js: JetStreamClient;
  jsm: JetStreamManager;
  clock: OperationalClock;
  logger: Logger;
  writer?: Partial<SiteHistoryWriterOptions>;
  /** The sink stayed unreachable past `retryMs`: the node must stop (it dumps on close). */
  onOutage(error: DatabaseError): void;
}

/** One site's history writing, as status shows it. */
export interface SiteHistoryStatus {
  writing: boolean;
  /** The last `WFM_OUT` sequence the sink holds for the site (as far as this node knows). */
  position: number;
  backlog: number;
}

interface Writing {
  writer: SiteHistoryWriter;
  epoch: number | null;
}

/**
 * The WFM database side of a node (DESIGN guarantees 3 and 4): opens the sink (retrying up to
 * `dbRetrySeconds`), writes back a dump file left by an outage and deletes it, then runs one
 * {@link SiteHistoryWriter} per site this node writes — a shared database only for the sites it
 * leads (fenced by the lease epoch), a node-local store for every site it hosts. When the sink
 * stays unreachable it reports an outage once; `close()` then writes everything the sink lacks to
 * the dump file.
 */
export class IntervalHistory {
  readonly health: DatabaseHealth;
  readonly #o: IntervalHistoryOptions;
  readonly #writing = new Map<string, Writing>();
  /** What to dump, captured when the outage began (later role changes do not matter). */
  #dumpTargets: { site: string; epoch: number; from: number }[] | null = null;
  rowsWritten = 0;

  private constructor(options: IntervalHistoryOptions) {
    this.#o = options;
    this.health = new DatabaseHealth(options.clock, options.retryMs, (error) => this.#outage(error));
  }

  /**
   * Opens the sink and writes back a dump file. @throws DatabaseError (unreachable past
   * `dbRetrySeconds`; a dump file is kept), DumpFileError (a dump that is not this node's: kept)
   */
  static async open(options: IntervalHistoryOptions): Promise<IntervalHistory> {
    const history = new IntervalHistory(options);
    const { sink, dumpFile, tenant, logger, sinkLabel } = options;
    // Read the dump first: a foreign or corrupt one refuses the start before anything connects.
    const dump = await readDumpFile(dumpFile, tenant);
    await history.#openSink();
    if (dump !== null) {
      let rows = 0;
      let transfers = 0;
      for (const entry of dump.sites) {
        // One batch per entry: its transfers apply at their place among its rows.
        await sink.write({ tenant, site: entry.site, epoch: null, rows: entry.rows, upTo: entry.upTo });
        const moves = countTransfers(entry.rows);
        transfers += moves;
        rows += entry.rows.length - moves;
      }
      await removeDumpFile(dumpFile);
      logger.info(
        { dumpFile, rows, transfers, sink: sinkLabel },
        'dump file written to the database and deleted',
      );
    }
    return history;
  }

  async #openSink(): Promise<void> {
    const { sink, clock, retryMs, logger, sinkLabel } = this.#o;
    const since = clock.now();
    let delay = 100;
    for (;;) {
      try {
        await sink.open();
        return;
      } catch (err) {
        await sink.close().catch(() => undefined);
        const waited = clock.now() - since;
        if (waited >= retryMs) {
          throw new DatabaseError(
            `the WFM database (${sinkLabel}) stayed unreachable for ${Math.round(waited / 1000)} s`,
            { cause: err },
          );
        }
        logger.warn({ err, sink: sinkLabel, retryInMs: delay }, 'cannot open the WFM database; retrying');
        await new Promise<void>((resolve) => clock.setTimeout(() => resolve(), delay));
        delay = Math.min(2 * delay, 2000);
      }
    }
  }

  /** The sink, to read reports from (`wfm.admin.T.report`). */
  get sinkForReports(): IntervalSink {
    return this.#o.sink;
  }

  /** Which sink. */
  get sink(): 'postgres' | 'level' {
    return this.#o.sink.kind;
  }

  get state(): DatabaseState {
    return this.health.state;
  }

  /** What the metrics show. */
  metrics(): DatabaseMetrics {
    return {
      sink: this.#o.sink.kind,
      state: this.health.state,
      rowsWritten: this.rowsWritten,
      failures: this.health.failures,
      sites: [...this.#writing].map(([site, w]) => ({
        site,
        position: w.writer.position,
        backlog: w.writer.backlog,
      })),
    };
  }

  /** A site's history writing (null when this node does not write it). */
  site(site: string): SiteHistoryStatus | null {
    const w = this.#writing.get(site);
    return w === undefined ? null : { writing: true, position: w.writer.position, backlog: w.writer.backlog };
  }

  /**
   * A hosted site's role changed (`null`: it left the node). A shared sink is written by the
   * site's primary only, under its epoch; a node-local one by every replica.
   */
  roleChanged(
    site: string,
    role: SiteRole | null,
    epoch: number,
    onFenced: (e: FencedWriteError) => void,
  ): void {
    const shared = this.#o.sink.shared;
    const wanted = this.#dumpTargets === null && (shared ? role === 'primary' : role !== null);
    const wantedEpoch = shared ? epoch : null;
    const current = this.#writing.get(site);
    if (current !== undefined && (!wanted || current.epoch !== wantedEpoch)) {
      this.#writing.delete(site);
      void current.writer.stop();
    }
    if (!wanted || this.#writing.get(site) !== undefined) return;
    const { tenant, sink, js, clock, logger } = this.#o;
    const writer = new SiteHistoryWriter(
      {
        tenant,
        site,
        sink,
        js,
        clock,
        logger,
        health: this.health,
        epoch: wantedEpoch,
        onFenced: (e) => {
          // A writer of an older epoch of this very node, still finishing, is no news.
          if (this.#writing.get(site)?.writer !== writer) return;
          this.#writing.delete(site);
          onFenced(e);
        },
        onWritten: (rows) => {
          this.rowsWritten += rows;
        },
      },
      this.#o.writer,
    );
    this.#writing.set(site, { writer, epoch: wantedEpoch });
    writer.start();
  }

  #outage(error: DatabaseError): void {
    this.#dumpTargets = [...this.#writing].map(([site, w]) => ({
      site,
      epoch: w.epoch ?? 0,
      from: w.writer.position,
    }));
    this.#o.logger.error(
      { err: error, sink: this.#o.sinkLabel, retrySeconds: this.#o.retryMs / 1000 },
      'the WFM database stayed unreachable: the node dumps what it has not written and stops',
    );
    for (const w of this.#writing.values()) void w.writer.stop();
    this.#writing.clear();
    this.#o.onOutage(error);
  }

  /**
   * Stops every writer (what they did not write stays in `WFM_OUT` after the sink's mark). After an
   * outage, writes everything the sink lacks of the sites this node was writing (interval rows and
   * transfers) to the dump file, read from `WFM_OUT` (call it once the sites have flushed their
   * outputs).
   * @returns the interval rows dumped (null: no outage)
   */
  async close(): Promise<number | null> {
    await Promise.all([...this.#writing.values()].map((w) => w.writer.stop()));
    this.#writing.clear();
    let dumped: number | null = null;
    if (this.#dumpTargets !== null) dumped = await this.#dump(this.#dumpTargets);
    await this.#o.sink.close().catch(() => undefined);
    return dumped;
  }

  async #dump(targets: readonly { site: string; epoch: number; from: number }[]): Promise<number> {
    const { js, jsm, tenant, node, dumpFile, logger } = this.#o;
    const sites: DumpedSite[] = [];
    let rows = 0;
    let transfers = 0;
    for (const t of targets) {
      const { items, upTo } = await readSiteHistory(js, jsm, tenant, t.site, t.from);
      sites.push({ site: t.site, epoch: t.epoch, from: t.from, upTo, rows: items });
      const moves = countTransfers(items);
      transfers += moves;
      rows += items.length - moves;
    }
    await writeDumpFile(dumpFile, { tenant, node, sites });
    logger.error({ dumpFile, rows, transfers, sites: sites.map((s) => s.site) }, 'wrote the dump file');
    return rows;
  }
}

function countTransfers(items: readonly StoredHistoryItem[]): number {
  return items.reduce((n, item) => (isStoredTransfer(item) ? n + 1 : n), 0);
}
