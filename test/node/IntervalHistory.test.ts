import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { realClock } from '../../src/actors/index.ts';
import type { IntervalRecord, TransferRecord } from '../../src/domain/index.ts';
import { DatabaseError, DumpFileError, type FencedWriteError } from '../../src/errors.ts';
import { createLogger } from '../../src/logging/index.ts';
import { DatabaseHealth } from '../../src/node/DatabaseHealth.ts';
import { IntervalHistory, type IntervalHistoryOptions } from '../../src/node/IntervalHistory.ts';
import { SiteHistoryWriter } from '../../src/node/SiteHistoryWriter.ts';
import {
  type IntervalBatch,
  type IntervalSink,
  LevelIntervalSink,
  readDumpFile,
  type SiteWriteMark,
  writeDumpFile,
} from '../../src/persistence/index.ts';
import { useNats } from '../helpers/natsFixture.ts';
import {
  adherenceOutput,
  FIXTURE_INTERVAL_START,
  gcOutput,
  intervalOutput,
} from '../helpers/outputFixtures.ts';
import { transferRecord } from '../persistence/intervalSinkContract.ts';

const TENANT = 'T1';
const MINUTE = 60_000;
const logger = createLogger({ level: 'silent' });

/** A sink that fails (DatabaseError) while `failing`, or is slow, to inject database faults. */
class FaultySink implements IntervalSink {
  readonly kind = 'postgres';
  readonly shared: boolean;
  failing = false;
  delayMs = 0;
  writes = 0;
  readonly inner: IntervalSink;
  constructor(inner: IntervalSink, shared: boolean) {
    this.inner = inner;
    this.shared = shared;
  }
  open(): Promise<void> {
    if (this.failing) return Promise.reject(new DatabaseError('connection refused'));
    return this.inner.open();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  mark(tenant: string, site: string): Promise<SiteWriteMark> {
    if (this.failing) return Promise.reject(new DatabaseError('connection refused'));
    return this.inner.mark(tenant, site);
  }
  async write(batch: IntervalBatch): Promise<SiteWriteMark> {
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failing) throw new DatabaseError('connection refused');
    this.writes++;
    return this.inner.write(batch);
  }
  query: IntervalSink['query'] = (q) => this.inner.query(q);
  transfers: IntervalSink['transfers'] = (q) => this.inner.transfers(q);
  countRows: IntervalSink['countRows'] = (tenant, site, agentId) =>
    this.inner.countRows(tenant, site, agentId);
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('IntervalHistory', () => {
  const nats = useNats({ freshStream: 'WFM_OUT' });
  let dir: string;
  let level: LevelIntervalSink;
  let sink: FaultySink;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wfm-history-'));
    level = new LevelIntervalSink({ location: join(dir, 'intervals') });
    sink = new FaultySink(level, true);
  });
  afterEach(async () => {
    await level.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Publishes `n` interval records of `site` (agents A0…, one interval each) and a gc output between. */
  async function publishIntervals(site: string, n: number, from = 0): Promise<IntervalRecord[]> {
    const records: IntervalRecord[] = [];
    for (let i = from; i < from + n; i++) {
      const out = intervalOutput(site, `A${i % 7}`, 100 + i, FIXTURE_INTERVAL_START + i * 15 * MINUTE);
      await nats.js.publish(`wfm.interval.${TENANT}.${site}.${out.agentId}`, JSON.stringify(out.payload));
      await nats.js.publish(`wfm.gc.${TENANT}.${site}.A1`, JSON.stringify(gcOutput(site, 'A1', i).payload));
      records.push(out.payload);
    }
    return records;
  }

  /** Publishes one interval record of `agentId` at S1 (interval `k`) and a gc output after it. */
  async function publishOne(agentId: string, k: number): Promise<IntervalRecord> {
    const out = intervalOutput('S1', agentId, 500 + k, FIXTURE_INTERVAL_START + k * 15 * MINUTE);
    await nats.js.publish(`wfm.interval.${TENANT}.S1.${agentId}`, JSON.stringify(out.payload));
    await nats.js.publish(
      `wfm.gc.${TENANT}.S1.${agentId}`,
      JSON.stringify(gcOutput('S1', agentId, k).payload),
    );
    return out.payload;
  }

  /** Publishes a transfer's audit record as the site does; returns its `WFM_OUT` sequence. */
  async function publishTransfer(transfer: TransferRecord): Promise<number> {
    return (await nats.js.publish(`wfm.transfer.${TENANT}.S1`, JSON.stringify(transfer))).seq;
  }

  function open(over: Partial<IntervalHistoryOptions> = {}): Promise<IntervalHistory> {
    return IntervalHistory.open({
      tenant: TENANT,
      node: 'n1',
      sink,
      sinkLabel: 'test',
      dumpFile: join(dir, 'DBDumpFile.json'),
      retryMs: 10_000,
      js: nats.js,
      jsm: nats.jsm,
      clock: realClock,
      logger,
      writer: { retryDelayMs: 20, maxRetryDelayMs: 50 },
      onOutage: () => undefined,
      ...over,
    });
  }

  const all = { tenant: TENANT, from: 0, to: Number.MAX_SAFE_INTEGER };

  it("a primary writes exactly its site's records from WFM_OUT, and a restart continues after the mark", async () => {
    const s1 = await publishIntervals('S1', 30);
    await publishIntervals('S2', 5);
    const first = await open();
    first.roleChanged('S1', 'backup', 1, () => undefined);
    first.roleChanged('S1', 'primary', 1, () => undefined);
    await until('30 rows', async () => (await level.query(all)).length === 30);
    expect(first.site('S1')).toMatchObject({ writing: true, backlog: 0 });
    expect(first.site('S2')).toBeNull();
    await first.close();
    const more = await publishIntervals('S1', 10, 30);
    await level.open();
    const second = await open();
    second.roleChanged('S1', 'primary', 2, () => undefined);
    await until('40 rows', async () => (await level.query(all)).length === 40);
    const sortKey = (r: IntervalRecord) => `${r.agentId}:${String(r.intervalStart).padStart(16, '0')}`;
    const expected = [...s1, ...more].sort((a, b) => sortKey(a).localeCompare(sortKey(b)));
    expect(await level.query(all)).toEqual(expected);
    expect((await level.mark(TENANT, 'S1')).epoch).toBe(2);
    expect(second.rowsWritten).toBe(10);
    await second.close();
  });

  it('applies a transfer in WFM_OUT at its place: earlier rows move to the target, later ones do not', async () => {
    const a = [await publishOne('A', 0), await publishOne('A', 1)];
    await publishOne('B', 0);
    const transfer = transferRecord('h1', 'A', 'B');
    const seq = await publishTransfer(transfer);
    const later = await publishOne('A', 2);
    const history = await open();
    history.roleChanged('S1', 'primary', 1, () => undefined);
    await until('every row', async () => (await level.mark(TENANT, 'S1')).position > seq);
    expect(await level.query({ ...all, agentId: 'A' })).toEqual([later]);
    expect(await level.query({ ...all, agentId: 'B' })).toEqual(a.map((r) => ({ ...r, agentId: 'B' })));
    expect(await level.transfers({ tenant: TENANT, agentId: 'A' })).toEqual([
      { ...transfer, tenant: TENANT, site: 'S1', outSeq: seq, rowsMoved: 2, rowsDeleted: 1 },
    ]);
    // Interval rows only: the transfer is not a row.
    expect(history.rowsWritten).toBe(4);
    await history.close();
  });

  it('dumps a transfer with the rows around it, and writing the dump back applies it in place', async () => {
    const dumpFile = join(dir, 'DBDumpFile.json');
    const outages: DatabaseError[] = [];
    const history = await open({ retryMs: 300, onOutage: (e) => outages.push(e) });
    const a = await publishOne('A', 0);
    history.roleChanged('S1', 'primary', 2, () => undefined);
    await until('1 row', async () => (await level.query(all)).length === 1);
    sink.failing = true;
    const moved = await publishOne('A', 1);
    const seq = await publishTransfer(transferRecord('h2', 'A', 'B'));
    const later = await publishOne('A', 2);
    await until('outage', () => outages.length === 1);
    expect(await history.close()).toBe(2);
    const dump = await readDumpFile(dumpFile, TENANT);
    expect(dump?.sites[0]?.rows.map((row) => row.outSeq)).toEqual([seq - 2, seq, seq + 1]);
    expect(dump?.sites[0]?.rows[1]).toMatchObject({ outSeq: seq, transfer: { id: 'h2' } });

    sink.failing = false;
    await level.open();
    const restarted = await open();
    expect(await level.query({ ...all, agentId: 'B' })).toEqual(
      [a, moved].map((r) => ({ ...r, agentId: 'B' })),
    );
    expect(await level.query({ ...all, agentId: 'A' })).toEqual([later]);
    expect((await level.transfers({ tenant: TENANT })).map((t) => [t.id, t.rowsMoved])).toEqual([['h2', 2]]);
    await restarted.close();
  });

  /** `record` as it reads after a transfer moved it to `to`. */
  const movedTo = (to: string, records: readonly IntervalRecord[]) =>
    records.map((r) => ({ ...r, agentId: to }));

  it('a live writer puts a transfer between the rows around it: rows before it move, rows after it stay', async () => {
    // No poll: the transfer is found by rule 1 (asked for before the batch of the rows after it).
    const history = await open({ writer: { maxBatchRows: 4, idlePollMs: 60_000, pendingPollMs: 60_000 } });
    history.roleChanged('S1', 'primary', 1, () => undefined);
    const before: IntervalRecord[] = [];
    for (let k = 0; k < 10; k++) before.push(await publishOne('A', k));
    await publishOne('B', 20);
    await until('11 rows', async () => (await level.query(all)).length === 11);
    for (let k = 10; k < 15; k++) before.push(await publishOne('A', k));
    const transfer = transferRecord('live1', 'A', 'B');
    const seq = await publishTransfer(transfer);
    const after: IntervalRecord[] = [];
    for (let k = 15; k < 20; k++) after.push(await publishOne('A', k));
    const b21 = await publishOne('B', 21);
    const end = (await nats.jsm.streams.info('WFM_OUT')).state.last_seq;
    await until('every row', async () => (await level.mark(TENANT, 'S1')).position >= end - 1);
    expect(await level.query({ ...all, agentId: 'A' })).toEqual(after);
    // B's own row before the transfer was deleted (overwrite), A's earlier rows are B's now.
    expect(await level.query({ ...all, agentId: 'B' })).toEqual([...movedTo('B', before), b21]);
    expect(await level.transfers({ tenant: TENANT })).toEqual([
      { ...transfer, tenant: TENANT, site: 'S1', outSeq: seq, rowsMoved: 15, rowsDeleted: 1 },
    ]);
    expect(history.rowsWritten).toBe(22);
    await history.close();
  });

  it('a transfer read ahead of a slow reader waits for every row before it', async () => {
    // The start looks for transfers at once and finds this one long before the reader (held
    // back by a slow database) has delivered the 40 rows before it.
    const rows: IntervalRecord[] = [];
    for (let k = 0; k < 40; k++) rows.push(await publishOne('A', k));
    const seq = await publishTransfer(transferRecord('ahead', 'A', 'B'));
    sink.delayMs = 30;
    const history = await open({ writer: { maxBatchRows: 4, maxBufferedRows: 4 } });
    history.roleChanged('S1', 'primary', 1, () => undefined);
    await until('the transfer', async () => (await level.mark(TENANT, 'S1')).position >= seq, 20_000);
    expect(await level.query({ ...all, agentId: 'A' })).toEqual([]);
    expect(await level.query({ ...all, agentId: 'B' })).toEqual(movedTo('B', rows));
    expect((await level.transfers({ tenant: TENANT })).map((t) => [t.outSeq, t.rowsMoved])).toEqual([
      [seq, 40],
    ]);
    await history.close();
  });

  it('a transfer no interval row follows reaches the database within 2 s while the reader is idle', async () => {
    const history = await open();
    history.roleChanged('S1', 'primary', 1, () => undefined);
    const rows = [await publishOne('A', 0), await publishOne('A', 1)];
    await until('2 rows', async () => (await level.query(all)).length === 2);
    await new Promise((r) => setTimeout(r, 300));
    const started = Date.now();
    const seq = await publishTransfer(transferRecord('idle1', 'A', 'B'));
    await until('the transfer', async () => (await level.transfers({ tenant: TENANT })).length === 1, 2000);
    expect(Date.now() - started).toBeLessThan(2000);
    expect((await level.mark(TENANT, 'S1')).position).toBe(seq);
    expect(await level.query({ ...all, agentId: 'B' })).toEqual(movedTo('B', rows));
    expect(await level.query({ ...all, agentId: 'A' })).toEqual([]);
    await history.close();
  });

  it("the writer's reader is sent only the site's interval rows, never a gc or adherence output", async () => {
    const gcBurst = async (site: string, n: number, from: number) => {
      const out = Array.from({ length: n }, (_, i) => gcOutput(site, 'A1', from + i));
      await Promise.all(
        out.map((o) => nats.js.publish(`wfm.gc.${TENANT}.${site}.A1`, JSON.stringify(o.payload))),
      );
    };
    const rows: IntervalRecord[] = [];
    for (let k = 0; k < 5; k++) {
      const out = intervalOutput('S1', 'A', 100 + k, FIXTURE_INTERVAL_START + k * 15 * MINUTE);
      await nats.js.publish(`wfm.interval.${TENANT}.S1.A`, JSON.stringify(out.payload));
      rows.push(out.payload);
      await gcBurst('S1', 200, k * 200);
    }
    for (let i = 0; i < 100; i++) {
      const out = adherenceOutput('S1', 'A', i);
      await nats.js.publish(`wfm.adherence.${TENANT}.S1.A`, JSON.stringify(out.payload));
    }
    await publishIntervals('S2', 5);
    const seq = await publishTransfer(transferRecord('quiet', 'A', 'B'));
    await level.open();
    const writer = new SiteHistoryWriter({
      tenant: TENANT,
      site: 'S1',
      sink: level,
      js: nats.js,
      jsm: nats.jsm,
      clock: realClock,
      logger,
      health: new DatabaseHealth(realClock, 10_000, () => undefined),
      epoch: null,
      onFenced: () => undefined,
      onWritten: () => undefined,
    });
    writer.start();
    await until('the transfer', async () => (await level.mark(TENANT, 'S1')).position >= seq);
    expect(await level.query({ ...all, agentId: 'B' })).toEqual(movedTo('B', rows));
    expect(writer.delivered).toBe(5);
    const consumers = async () => {
      const infos = [];
      for await (const ci of nats.jsm.consumers.list('WFM_OUT')) infos.push(ci);
      return infos;
    };
    // One consumer (the transfer read's is gone), filtered by the server on the site's rows.
    const [reader, ...others] = await consumers();
    expect(others).toEqual([]);
    expect(reader?.config.filter_subject).toBe(`wfm.interval.${TENANT}.S1.>`);
    expect(reader?.delivered.consumer_seq).toBe(5);

    // Live: 1000 more gc outputs and one interval row; the reader gets the row only.
    await gcBurst('S1', 1000, 5000);
    const last = intervalOutput('S1', 'A', 999, FIXTURE_INTERVAL_START + 99 * 15 * MINUTE);
    const lastSeq = (await nats.js.publish(`wfm.interval.${TENANT}.S1.A`, JSON.stringify(last.payload))).seq;
    await until('the last row', () => writer.position === lastSeq);
    expect(writer.delivered).toBe(6);
    expect((await consumers()).map((ci) => [ci.config.filter_subject, ci.delivered.consumer_seq])).toEqual([
      [`wfm.interval.${TENANT}.S1.>`, 6],
    ]);
    expect(await level.query({ ...all, agentId: 'A' })).toEqual([last.payload]);
    await writer.stop();
  });

  it('a deposed primary is refused by the epoch fence and demotes its site', async () => {
    await publishIntervals('S1', 3);
    await level.open();
    await level.write({ tenant: TENANT, site: 'S1', epoch: 5, rows: [], upTo: 0 });
    const history = await open();
    const fenced: FencedWriteError[] = [];
    history.roleChanged('S1', 'primary', 4, (e) => fenced.push(e));
    await until('fenced', () => fenced.length === 1);
    expect(fenced[0]).toMatchObject({ code: 'WFM_WRITE_FENCED', epoch: 4, storedEpoch: 5 });
    expect(await level.query(all)).toEqual([]);
    expect(history.site('S1')).toBeNull();
    await history.close();
  });

  it('retries a failing database and writes everything once it is back', async () => {
    const history = await open();
    sink.failing = true;
    const records = await publishIntervals('S1', 20);
    history.roleChanged('S1', 'primary', 1, () => undefined);
    await until('retrying', () => history.state === 'retrying');
    expect(sink.writes).toBe(0);
    sink.failing = false;
    await until('20 rows', async () => (await level.query(all)).length === 20);
    expect(history.state).toBe('ok');
    expect((await level.query(all)).length).toBe(records.length);
    await history.close();
  });

  it('a slow database holds back only its reader: no outage, nothing lost', async () => {
    const outages: DatabaseError[] = [];
    const history = await open({
      retryMs: 200,
      onOutage: (e) => outages.push(e),
      writer: { maxBatchRows: 5, maxBufferedRows: 10 },
    });
    sink.delayMs = 100;
    await publishIntervals('S1', 60);
    history.roleChanged('S1', 'primary', 1, () => undefined);
    await until('60 rows', async () => (await level.query(all)).length === 60, 20_000);
    expect(outages).toEqual([]);
    expect(history.state).toBe('ok');
    expect(sink.writes).toBeGreaterThanOrEqual(12);
    await history.close();
  });

  it('an outage dumps what the database lacks; the next start writes the dump back once and deletes it', async () => {
    const dumpFile = join(dir, 'DBDumpFile.json');
    const outages: DatabaseError[] = [];
    const history = await open({ retryMs: 300, onOutage: (e) => outages.push(e) });
    await publishIntervals('S1', 20);
    history.roleChanged('S1', 'primary', 3, () => undefined);
    await until('20 rows', async () => (await level.query(all)).length === 20);
    sink.failing = true;
    await publishIntervals('S1', 15, 20);
    await until('outage', () => outages.length === 1);
    expect(history.state).toBe('outage');
    const position = (await level.mark(TENANT, 'S1')).position;
    expect(await history.close()).toBe(15);
    const dump = await readDumpFile(dumpFile, TENANT);
    expect(dump?.sites.map((s) => [s.site, s.epoch, s.rows.length])).toEqual([['S1', 3, 15]]);
    expect(dump?.sites[0]?.from).toBe(position);

    sink.failing = false;
    await level.open();
    const restarted = await open();
    expect(await readdir(dir)).not.toContain('DBDumpFile.json');
    expect((await level.query(all)).length).toBe(35);
    await restarted.close();
    await level.open();
    // Writing the same dump again (a SIGKILL after the write, before the delete) changes nothing.
    await writeDumpFile(dumpFile, dump!);
    const again = await open();
    expect((await level.query(all)).length).toBe(35);
    await again.close();
  });

  it('a foreign dump file refuses the start and is kept; so does a database that stays unreachable', async () => {
    const dumpFile = join(dir, 'DBDumpFile.json');
    await writeDumpFile(dumpFile, { tenant: 'T2', node: 'n9', sites: [] });
    await expect(open()).rejects.toBeInstanceOf(DumpFileError);
    expect(await readdir(dir)).toContain('DBDumpFile.json');
    await rm(dumpFile);
    await writeDumpFile(dumpFile, { tenant: TENANT, node: 'n1', sites: [] });
    sink.failing = true;
    const error = await open({ retryMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatabaseError);
    expect((error as DatabaseError).message).toMatch(/stayed unreachable/);
    expect(await readdir(dir)).toContain('DBDumpFile.json');
  });
});
