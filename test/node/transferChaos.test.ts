/**
 * DESIGN.md "User data transfer" under the "Guarantees": a transfer is an input on
 * `wfm.command.T.S`, applied in stream order by every replica, so it must be exactly-once across
 * SIGKILLs, restarts and takeovers — in `WFM_OUT` (the agents' gc / adherence outputs and the
 * `wfm.transfer` audit record) and in the WFM database (the `agent_interval` rows it moves,
 * once, at the audit record's place; its `wfm_transfer` audit row).
 *
 * The input is seeded simulator traffic for two sites (12 agents each, invalid input mixed in)
 * with seven transfer commands at fixed event times: two agents that both have state, chains
 * (A → B, then B → C, on both sites), one refused when applied because its target has had no
 * input yet at that place in the stream (the target logs in a little later, and the same move,
 * asked again, is applied: the stream order decides), and one to the agent itself.
 *
 * An undisturbed node over that input (PostgreSQL as the database) gives the reference:
 * `WFM_OUT`, `WFM_DLQ`, the `agent_interval` rows and the transfer audit rows — the latter two
 * checked against a model that replays the reference `WFM_OUT` (rows upserted, each applied
 * transfer deleting the target's rows and re-keying the source's, in stream order).
 *
 * Then, on fresh streams with a 100 ms duplicate window (the server's dedupe cannot hide a re-sent
 * output) and a fresh database:
 * - restart chaos: one node SIGKILLed 21 times around each transfer (while the traffic before
 *   the command goes out; right after the command's ack, at its first output, at its audit
 *   record, while the database applies it; at startup while it replays the command, and around
 *   a timed checkpoint), restarted on the same data dir;
 * - takeover chaos: a primary and a hot backup, the command's site's primary SIGKILLed 21 times at
 *   the same moments (startup aside: the kill after the command lands at any phase of the
 *   primary's timed checkpoints), the backup taking over, the victim restarted to back it up.
 * The three runs go side by side (own NATS server, database and nodes): a node start costs about
 * 3 s of CPU, and they mostly wait.
 * Each must end with exactly the reference's `WFM_OUT` and `WFM_DLQ` (0 lost, 0 doubled, 0
 * different, per-subject order), the reference's `agent_interval` rows and audit rows (a transfer
 * moved the rows once: before or after, never a mix), each audit row at the place of its record
 * in this run's `WFM_OUT`.
 *
 * The seed is in every failure message; `TRANSFER_SEED=n` replays a schedule (timing aside).
 */
import type { JetStreamClient } from '@nats-io/jetstream';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type IntervalRecord, outputSubject, type TransferRecord } from '../../src/domain/index.ts';
import { PostgresIntervalSink, type TransferAudit } from '../../src/persistence/index.ts';
import { SeededRandom, TrafficGenerator, wireText } from '../../src/simulator/index.ts';
import { ClusterRun } from '../helpers/ClusterRun.ts';
import { allRows, rowDifferences } from '../helpers/intervalTable.ts';
import { NodeHome, NodeProcess, type NodeStatusJson, waitFor } from '../helpers/NodeProcess.ts';
import {
  compareDeadLetters,
  compareRuns,
  readStream,
  type SentWatch,
  type StreamRecord,
  watchSent,
} from '../helpers/outputs.ts';
import { PostgresServer } from '../helpers/PostgresServer.ts';
import { type StandbyNats, standbyNats } from '../helpers/standbyTraffic.ts';

const SEED = Number(process.env.TRANSFER_SEED ?? 20261202);
const TENANT = 'T1';
const SITES = ['S1', 'S2'];
const AGENTS_PER_SITE = 12;
const START_TS = Date.UTC(2026, 0, 5, 7, 0, 0);
const HOURS = 2;
const TICK_MS = 5000;
const MINUTE = 60_000;
/** An agent the traffic does not have until it logs in at {@link NEW_AGENT_MINUTE}. */
const NEW_AGENT = 'S1-0900';
const NEW_AGENT_MINUTE = 85;
const LEASE_SECONDS = 3;

/** One transfer command of the input, at `minute` after the start (event time). */
interface PlannedTransfer {
  id: string;
  site: string;
  from: string;
  to: string;
  minute: number;
  result: 'applied' | 'refused';
}

const TRANSFERS: readonly PlannedTransfer[] = [
  // Two agents that both have state (logged in, schedule, closed intervals).
  { id: 'xfer-1', site: 'S1', from: 'S1-0001', to: 'S1-0002', minute: 40, result: 'applied' },
  { id: 'xfer-2', site: 'S2', from: 'S2-0003', to: 'S2-0004', minute: 50, result: 'applied' },
  // Chained: S1-0001's data, now S1-0002's, moves on to S1-0003.
  { id: 'xfer-3', site: 'S1', from: 'S1-0002', to: 'S1-0003', minute: 62, result: 'applied' },
  // Refused when applied: at this place in the stream the site has had no input for the target.
  { id: 'xfer-4', site: 'S1', from: 'S1-0005', to: NEW_AGENT, minute: 75, result: 'refused' },
  // The same move after the target logged in (minute 85): applied.
  { id: 'xfer-5', site: 'S1', from: 'S1-0005', to: NEW_AGENT, minute: 95, result: 'applied' },
  // Chained on S2: S2-0003's data, now S2-0004's, moves on to S2-0007.
  { id: 'xfer-6', site: 'S2', from: 'S2-0004', to: 'S2-0007', minute: 100, result: 'applied' },
  // Refused: an agent cannot be transferred to itself.
  { id: 'xfer-7', site: 'S2', from: 'S2-0008', to: 'S2-0008', minute: 108, result: 'refused' },
];

/** One `WFM_IN` message as the test publishes it (at sequence index + 1). */
interface InputMessage {
  subject: string;
  text: string;
  ts: number;
  msgId: string;
  transfer?: PlannedTransfer;
}

/** What is going on when a SIGKILL lands. */
type Moment =
  /** The traffic before the command is being published (or has just been). */
  | 'before'
  /** Right after the command's publish ack. */
  | 'ack'
  /** At the command's first output seen on the wire (gc / adherence, or the audit record). */
  | 'outputs'
  /** At the command's audit record seen on the wire. */
  | 'audit'
  /** 20–400 ms after the audit record: the database applies the transfer then. */
  | 'database'
  /** A restarted node that is still starting: restoring, replaying the command. */
  | 'startup'
  /** Around a timed checkpoint (5 s) after the command. */
  | 'checkpoint';

const AT_MOMENTS = ['ack', 'outputs', 'audit', 'database'] as const;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** The seeded traffic with the transfer commands and the new agent's arrival merged in by event time. */
function buildInput(): InputMessage[] {
  const generator = new TrafficGenerator({
    tenant: TENANT,
    sites: SITES,
    agentsPerSite: AGENTS_PER_SITE,
    seed: SEED,
    startTs: START_TS,
    tickMs: TICK_MS,
    invalidEvery: 50,
  });
  const extras: Omit<InputMessage, 'msgId'>[] = TRANSFERS.map((t) => {
    const ts = START_TS + t.minute * MINUTE;
    const command = { command: 'transfer', id: t.id, from: t.from, to: t.to, ts, requestedBy: 'x' };
    return { subject: `wfm.command.${TENANT}.${t.site}`, text: JSON.stringify(command), ts, transfer: t };
  });
  const arrival = START_TS + NEW_AGENT_MINUTE * MINUTE;
  const dayStart = START_TS - 7 * 60 * MINUTE;
  extras.push(
    {
      subject: `wfm.schedule.${TENANT}.S1.${NEW_AGENT}`,
      ts: arrival,
      text: JSON.stringify({
        agentId: NEW_AGENT,
        from: dayStart,
        to: dayStart + 24 * 60 * MINUTE,
        activities: [{ start: arrival + 5 * MINUTE, end: arrival + 120 * MINUTE, category: 'OnQueueWork' }],
      }),
    },
    {
      subject: `wfm.stat.${TENANT}.S1.${NEW_AGENT}`,
      ts: arrival,
      text: JSON.stringify({
        statistic: 'CurrentState',
        agentId: NEW_AGENT,
        status: 'Ready',
        callType: null,
        ts: arrival,
      }),
    },
  );
  extras.sort((a, b) => a.ts - b.ts);
  const input: InputMessage[] = [];
  const push = (m: Omit<InputMessage, 'msgId'>) =>
    input.push({
      ...m,
      msgId: m.transfer === undefined ? `in-${input.length}` : `transfer:${m.transfer.id}`,
    });
  for (const m of generator.messages(START_TS + HOURS * 60 * MINUTE)) {
    // Before the first message at or after the extra's time: the site's event time is then
    // below it, and every agent's data up to it is in.
    while (extras.length > 0 && extras[0]!.ts <= m.ts) push(extras.shift()!);
    push({ subject: m.subject, text: wireText(m), ts: m.ts });
  }
  if (extras.length > 0) throw new Error('an extra message falls after the traffic');
  return input;
}

/** Publishes the input in order from where it stopped, checking each lands at its sequence. */
class InputPublisher {
  published = 0;
  readonly #js: JetStreamClient;
  readonly #input: readonly InputMessage[];
  readonly #encoder = new TextEncoder();

  constructor(js: JetStreamClient, input: readonly InputMessage[]) {
    this.#js = js;
    this.#input = input;
  }

  /** Publishes up to (not including) index `end`, as live traffic: slices of 40, 20 ms apart. */
  async publishTo(end: number): Promise<void> {
    while (this.published < end) {
      const from = this.published;
      const to = Math.min(end, from + 40);
      await Promise.all(
        this.#input.slice(from, to).map(async (m, i) => {
          const seq = from + i + 1;
          const ack = await this.#js.publish(m.subject, this.#encoder.encode(m.text), { msgID: m.msgId });
          if (ack.stream !== 'WFM_IN' || ack.seq !== seq || ack.duplicate)
            throw new Error(
              `${m.subject} stored as ${ack.stream} seq ${ack.seq}, expected WFM_IN seq ${seq}`,
            );
        }),
      );
      this.published = to;
      if (this.published < end) await sleep(20);
    }
  }
}

/** One round of chaos: the command it is about and what is going on when the SIGKILL lands. */
interface Round {
  command: number;
  moment: Moment;
}

/** Three kills per command: before it is published, at it, after it (startup or checkpoint). */
function roundPlan(rng: SeededRandom, startupAllowed: boolean): Round[] {
  const at = TRANSFERS.map((_, k) => AT_MOMENTS[k % AT_MOMENTS.length]!);
  const after = TRANSFERS.map((_, k): Moment => (k % 2 === 0 || !startupAllowed ? 'checkpoint' : 'startup'));
  shuffle(rng, at);
  shuffle(rng, after);
  return TRANSFERS.flatMap((_, k): Round[] => [
    { command: k, moment: 'before' },
    { command: k, moment: at[k]! },
    { command: k, moment: after[k]! },
  ]);
}

function shuffle<T>(rng: SeededRandom, items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}

/** Waits until a message matching `match` is among `watch`'s records. */
function seenOnWire(watch: SentWatch, match: (r: StreamRecord) => boolean, describe: () => string) {
  return waitFor(() => (watch.records.some(match) ? true : undefined), {
    timeoutMs: 30_000,
    intervalMs: 2,
    describe,
  });
}

/** The `WFM_OUT` subject of a transfer's audit record, as the product names it (`wfm.transfer.T.S…`). */
function auditSubject(t: PlannedTransfer): string {
  const payload = {} as TransferRecord;
  return outputSubject({
    kind: 'transfer',
    tenant: TENANT,
    site: t.site,
    agentId: t.to,
    ordinal: 0,
    payload,
  });
}

const sourceSeqOf = (r: StreamRecord) => (r.data as { sourceSeq?: unknown }).sourceSeq;

/** The database rows and audit rows a run's `WFM_OUT` makes, replayed site by site in stream order. */
function databaseModel(out: readonly StreamRecord[]): { rows: IntervalRecord[]; audits: TransferAudit[] } {
  const bySite = new Map<string, Map<string, IntervalRecord>>();
  const audits: TransferAudit[] = [];
  for (const m of out) {
    const [, kind, tenant, site] = m.subject.split('.');
    if (kind !== 'interval' && kind !== 'transfer') continue;
    const rows = bySite.get(site!) ?? new Map<string, IntervalRecord>();
    bySite.set(site!, rows);
    if (kind === 'interval') {
      const r = m.data as IntervalRecord;
      rows.set(`${r.agentId}\u0000${r.intervalStart}`, r);
      continue;
    }
    const t = m.data as TransferRecord;
    let rowsMoved = 0;
    let rowsDeleted = 0;
    if (t.result === 'applied') {
      for (const [key, r] of [...rows]) {
        if (r.agentId === t.to) {
          rows.delete(key);
          rowsDeleted++;
        }
      }
      for (const [key, r] of [...rows]) {
        if (r.agentId !== t.from) continue;
        rows.delete(key);
        rows.set(`${t.to}\u0000${r.intervalStart}`, { ...r, agentId: t.to });
        rowsMoved++;
      }
    }
    audits.push({
      id: t.id,
      from: t.from,
      to: t.to,
      requestedBy: t.requestedBy,
      requestedAt: t.requestedAt,
      appliedAt: t.appliedAt,
      result: t.result,
      reason: t.reason,
      counts: t.counts,
      sourceSeq: t.sourceSeq,
      tenant: tenant!,
      site: site!,
      outSeq: m.seq,
      rowsMoved,
      rowsDeleted,
    });
  }
  audits.sort((a, b) => (a.site < b.site ? -1 : a.site > b.site ? 1 : a.outSeq - b.outSeq));
  return { rows: [...bySite.values()].flatMap((rows) => [...rows.values()]), audits };
}

const withoutOutSeq = (audits: readonly TransferAudit[]) => audits.map(({ outSeq: _, ...rest }) => rest);

/** What a run left: both streams, the rows and the audit rows of its database. */
interface RunResult {
  out: StreamRecord[];
  dlq: StreamRecord[];
  rows: IntervalRecord[];
  audits: TransferAudit[];
}

/**
 * Waits until the database has written each site's history up to its last interval or transfer
 * record in `WFM_OUT`, then reads both streams and the database.
 */
async function settledRun(nats: StandbyNats, dbUrl: string, describe: () => string): Promise<RunResult> {
  const out = await readStream(nats.js, nats.jsm, 'WFM_OUT');
  const dlq = await readStream(nats.js, nats.jsm, 'WFM_DLQ');
  const lastHistory = new Map<string, number>();
  for (const m of out) {
    const [, kind, , site] = m.subject.split('.');
    if (kind === 'interval' || kind === 'transfer') lastHistory.set(site!, m.seq);
  }
  const sink = new PostgresIntervalSink({ url: dbUrl });
  await sink.open();
  try {
    let marks: [string, number][] = [];
    await waitFor(
      async () => {
        marks = await Promise.all(
          SITES.map(
            async (site): Promise<[string, number]> => [site, (await sink.mark(TENANT, site)).position],
          ),
        );
        return marks.every(([site, position]) => position >= (lastHistory.get(site) ?? 0)) ? true : undefined;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 100,
        describe: () =>
          `database marks ${JSON.stringify(marks)}, WFM_OUT history up to ${JSON.stringify([...lastHistory])}\n${describe()}`,
      },
    );
    return { out, dlq, rows: await allRows(sink, TENANT), audits: await sink.transfers({ tenant: TENANT }) };
  } finally {
    await sink.close();
  }
}

/** Every way `run` differs from the reference, one line each (empty: the same). */
function differencesFrom(reference: RunResult, run: RunResult): string[] {
  const problems: string[] = [];
  const outs = compareRuns(reference.out, run.out, 'WFM_OUT');
  const dlqs = compareDeadLetters(reference.dlq, run.dlq);
  for (const c of [outs, dlqs]) if (!c.same) problems.push(c.summary);
  for (const d of rowDifferences(reference.rows, run.rows)) problems.push(`agent_interval: ${d}`);
  const want = JSON.stringify(withoutOutSeq(reference.audits));
  const got = JSON.stringify(withoutOutSeq(run.audits));
  if (want !== got) problems.push(`wfm_transfer: want ${want}\n  got ${got}`);
  // Each audit row sits at its record's place in this run's WFM_OUT.
  const placed = databaseModel(run.out).audits.map((a) => [a.id, a.outSeq]);
  const stored = run.audits.map((a) => [a.id, a.outSeq]);
  if (JSON.stringify(placed) !== JSON.stringify(stored))
    problems.push(
      `wfm_transfer outSeq: WFM_OUT has ${JSON.stringify(placed)}, database ${JSON.stringify(stored)}`,
    );
  return problems;
}

/** Kills and what the lives around them saw, for failure messages and the final log line. */
class ChaosLog {
  readonly kills: string[] = [];
  readonly seen: Partial<Record<Moment, number>> = {};
  #last = Date.now();
  /**
   * Lives that started from a checkpoint below an already published command, so they re-applied
   * it (counted by the restart chaos only).
   */
  replays: number | undefined;

  kill(round: number, r: Round, note: string): void {
    this.seen[r.moment] = (this.seen[r.moment] ?? 0) + 1;
    const now = Date.now();
    this.kills.push(`${round}:${TRANSFERS[r.command]!.id}/${r.moment}${note}(${now - this.#last}ms)`);
    this.#last = now;
  }

  toString(): string {
    const replays = this.replays === undefined ? '' : `lives re-applying a transfer ${this.replays}; `;
    return `seed ${SEED}; kills ${JSON.stringify(this.seen)}; ${replays}kills (round:command/moment, ms since the previous kill) ${this.kills.join(' ')}`;
  }
}

describe('transfer chaos: SIGKILLs around transfer commands, exactly-once in WFM_OUT and the database', () => {
  const input = buildInput();
  const lastSeq = input.length;
  /** Index (sequence − 1) of each command in the input. */
  const commandAt = TRANSFERS.map((t) => input.findIndex((m) => m.transfer === t));
  let pg: PostgresServer;
  /** The reference run, started in `beforeAll`. */
  let reference: Promise<RunResult>;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    pg = await PostgresServer.start();
    reference = runReference();
    // Awaited by every test; a failure is theirs to report.
    reference.catch(() => undefined);
  }, 60_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => undefined);
    await pg?.destroy();
  });

  /** A fresh NATS server (chaos: 100 ms duplicate windows) with a watch on the tenant's outputs. */
  async function freshNats(chaos: boolean): Promise<{ nats: StandbyNats; wire: SentWatch }> {
    const nats = await standbyNats(chaos);
    const wire = watchSent(nats.nc, [
      `wfm.gc.${TENANT}.>`,
      `wfm.adherence.${TENANT}.>`,
      `wfm.transfer.${TENANT}.>`,
    ]);
    cleanups.push(async () => {
      wire.stop();
      await nats.close();
    });
    return { nats, wire };
  }

  /** The undisturbed run: one node over the whole input, published before it starts. */
  async function runReference(): Promise<RunResult> {
    const { nats } = await freshNats(false);
    const dbUrl = await pg.createDatabase();
    await new InputPublisher(nats.js, input).publishTo(lastSeq);
    const home = await NodeHome.create({
      natsUrl: nats.server.url,
      sites: SITES,
      extraConfig: { standbyReplicas: 0, database: dbUrl },
    });
    cleanups.push(() => home.remove());
    const node = await NodeProcess.start(home, { nodeId: 'reference' });
    cleanups.push(() => node.kill());
    let status: NodeStatusJson | undefined;
    await waitFor(
      async () => {
        status = await node.status();
        return status.sites.length === SITES.length &&
          status.sites.every((s) => s.processedSeq === lastSeq && s.checkpointSeq === lastSeq)
          ? true
          : undefined;
      },
      { timeoutMs: 90_000, describe: () => `seed ${SEED}; status ${JSON.stringify(status)}\n${node.log}` },
    );
    const run = await settledRun(nats, dbUrl, () => node.log);
    const exit = await node.stop();
    if (exit.code !== 0)
      throw new Error(`the reference node exited with ${JSON.stringify(exit)}\n${node.log}`);
    return run;
  }

  // Every test runs side by side (own NATS server, database and nodes; they mostly wait): the
  // chaos runs need the reference only to compare with at their end.
  it.concurrent('an undisturbed node writes the reference; the database is its WFM_OUT replayed', async ({
    expect,
  }) => {
    expect(commandAt.every((i) => i > 0)).toBe(true);
    const run = await reference;

    // Every command gave one audit record, last of its outputs, as planned.
    // (Sites run side by side: in WFM_OUT, one site's records may come before the other's.)
    const records = run.out
      .filter((m) => m.subject.startsWith('wfm.transfer.'))
      .sort((a, b) => (sourceSeqOf(a) as number) - (sourceSeqOf(b) as number));
    expect(
      records.map((m) => {
        const t = m.data as TransferRecord;
        return [m.subject, t.id, t.from, t.to, t.result, t.sourceSeq];
      }),
      `seed ${SEED}`,
    ).toEqual(TRANSFERS.map((t, k) => [auditSubject(t), t.id, t.from, t.to, t.result, commandAt[k]! + 1]));
    for (const [k, t] of TRANSFERS.entries()) {
      const seq = commandAt[k]! + 1;
      const outputs = run.out.filter((m) => sourceSeqOf(m) === seq);
      const record = outputs[outputs.length - 1]!;
      expect(record.subject, `seed ${SEED}: ${t.id}`).toBe(auditSubject(t));
      const r = record.data as TransferRecord;
      // Applied at the site's event time: its last clock tick before the command's time.
      const ts = START_TS + t.minute * MINUTE;
      expect(r.appliedAt, t.id).toBeGreaterThanOrEqual(ts - TICK_MS);
      expect(r.appliedAt, t.id).toBeLessThan(ts);
      expect(r.requestedAt, t.id).toBe(ts);
      if (t.result === 'applied') {
        expect(r.reason, t.id).toBeNull();
        expect(r.counts?.liveState.moved, t.id).toBe(1);
        // The target publishes its new state (it took the source's).
        const targetOutputs = outputs.filter((m) => m !== record && m.subject.endsWith(`.${t.to}`));
        expect(targetOutputs.length, t.id).toBeGreaterThan(0);
      } else {
        expect(r.counts, t.id).toBeNull();
        expect(outputs, t.id).toHaveLength(1);
      }
    }
    expect((records[3]!.data as TransferRecord).reason).toBe(
      `unknown agent ${NEW_AGENT}: site S1 has had no input for it`,
    );
    expect((records[6]!.data as TransferRecord).reason).toBe(
      'an agent cannot be transferred to itself (S2-0008)',
    );

    // The database is the reference WFM_OUT replayed: rows upserted, transfers moving them in place.
    const model = databaseModel(run.out);
    expect(rowDifferences(model.rows, run.rows), `seed ${SEED}`).toEqual([]);
    expect(run.audits, `seed ${SEED}`).toEqual(model.audits);
    // The transfers really moved and deleted rows (they ran after intervals had closed).
    const byId = new Map(run.audits.map((a) => [a.id, a]));
    expect(byId.get('xfer-1')!.rowsMoved, `seed ${SEED}`).toBeGreaterThan(0);
    expect(byId.get('xfer-1')!.rowsDeleted, `seed ${SEED}`).toBeGreaterThan(0);
    expect(byId.get('xfer-3')!.rowsMoved, `seed ${SEED}`).toBeGreaterThan(byId.get('xfer-1')!.rowsMoved);
    expect(byId.get('xfer-6')!.rowsMoved, `seed ${SEED}`).toBeGreaterThan(0);
    expect([byId.get('xfer-4')!.rowsMoved, byId.get('xfer-7')!.rowsMoved]).toEqual([0, 0]);
    expect(run.rows.length).toBeGreaterThan(100);
    expect(run.dlq.length).toBeGreaterThan(50);
  }, 420_000);

  it.concurrent('restart chaos: a node SIGKILLed 21 times around transfers, restarted on its data dir, ends equal to the reference', async ({
    expect,
  }) => {
    const { nats, wire } = await freshNats(true);
    const dbUrl = await pg.createDatabase();
    const home = await NodeHome.create({
      natsUrl: nats.server.url,
      sites: SITES,
      extraConfig: { standbyReplicas: 0, database: dbUrl },
    });
    cleanups.push(() => home.remove());
    const rng = new SeededRandom(SEED);
    const plan = roundPlan(rng, true);
    const publisher = new InputPublisher(nats.js, input);
    const log = new ChaosLog();
    log.replays = 0;
    const nodes: NodeProcess[] = [];
    cleanups.push(() => Promise.all(nodes.map((n) => n.kill())));
    const context = () => `${log}; published ${publisher.published}/${lastSeq}`;
    let readyMs = 2000;

    for (const [round, r] of plan.entries()) {
      const seq = commandAt[r.command]! + 1;
      const spawnedAt = Date.now();
      const node = NodeProcess.spawn(home, { nodeId: 'chaos' });
      nodes.push(node);
      const stopWatching = watchLife(node, publisher, commandAt, log);
      let note = '';
      if (r.moment === 'startup') {
        // The command is published and not yet checkpointed: the node replays it while it starts.
        await sleep(Math.round(readyMs * (0.4 + 0.6 * rng.next())));
      } else {
        await node.ready;
        readyMs = Date.now() - spawnedAt;
        if (r.moment === 'before') {
          // While the traffic before the command goes out, or just after it did.
          const publishing = publisher.publishTo(seq - 1);
          const from = publisher.published;
          if (rng.chance(0.6)) {
            const until = from + Math.floor((seq - 1 - from) * rng.next());
            await waitFor(() => (publisher.published >= until ? true : undefined), {
              timeoutMs: 30_000,
              intervalMs: 2,
              describe: context,
            });
          } else {
            await publishing;
            await sleep(rng.int(0, 300));
          }
          note = `@${publisher.published}`;
          await node.kill();
          await publishing;
        } else if (r.moment === 'checkpoint') {
          // The node's first timed checkpoint is 5 s after it serves; the command is in it or not.
          await sleep(rng.int(4600, 6000));
        } else {
          await publisher.publishTo(seq);
          await killAt(r.moment, seq, wire, rng, context);
        }
      }
      await node.kill();
      await stopWatching();
      log.kill(round, r, note);
    }

    // The last life: the rest of the input, then drain with SIGTERM.
    const node = await NodeProcess.start(home, { nodeId: 'chaos' });
    nodes.push(node);
    await publisher.publishTo(lastSeq);
    let status: NodeStatusJson | undefined;
    await waitFor(
      async () => {
        status = await node.status();
        return status.sites.length === SITES.length &&
          status.sites.every((s) => s.processedSeq === lastSeq && s.checkpointSeq === lastSeq)
          ? true
          : undefined;
      },
      { timeoutMs: 60_000, describe: () => `${context()}; status ${JSON.stringify(status)}\n${node.log}` },
    );
    const run = await settledRun(nats, dbUrl, () => `${context()}\n${node.log}`);
    expect(await node.stop(), node.log).toEqual({ code: 0, signal: null });
    expect(differencesFrom(await reference, run), context()).toEqual([]);
    expect(plan).toHaveLength(21);
    expect(log.replays ?? 0, context()).toBeGreaterThanOrEqual(3);
    console.log(`transfer restart chaos: ${context()}`);
  }, 420_000);

  it.concurrent('takeover chaos: the primary SIGKILLed 21 times around transfers, a hot backup takes over, ends equal to the reference', async ({
    expect,
  }) => {
    const { nats, wire } = await freshNats(true);
    const dbUrl = await pg.createDatabase();
    const cluster = new ClusterRun({
      natsUrl: nats.server.url,
      sites: SITES,
      extraConfig: { leaseSeconds: LEASE_SECONDS, standbyReplicas: 1, database: dbUrl },
    });
    cleanups.push(() => cluster.stop());
    const rng = new SeededRandom(SEED + 1);
    const plan = roundPlan(rng, false);
    const publisher = new InputPublisher(nats.js, input);
    const log = new ChaosLog();
    const takeovers: number[] = [];
    const context = () =>
      `${log}; published ${publisher.published}/${lastSeq}; takeovers ms ${takeovers.join(',')}`;
    await Promise.all(['a', 'b'].map((id) => cluster.start(id)));

    /** The last victim's restart; the next kill waits for it (it is the site's hot backup then). */
    let returning: Promise<unknown> = Promise.resolve();
    /** Resolves when the victim's site has a backup on another serving node. */
    const backedUp = async (site: string, victim: string) => {
      await returning;
      let statuses: [string, NodeStatusJson][] = [];
      await waitFor(
        async () => {
          statuses = [...(await cluster.statuses())];
          return statuses.some(
            ([id, st]) => id !== victim && st.sites.some((x) => x.site === site && x.role === 'backup'),
          )
            ? true
            : undefined;
        },
        {
          timeoutMs: 30_000,
          intervalMs: 20,
          describe: () => `no backup of ${site} besides ${victim}: ${JSON.stringify(statuses)}; ${context()}`,
        },
      );
    };

    for (const [round, r] of plan.entries()) {
      const seq = commandAt[r.command]! + 1;
      const site = TRANSFERS[r.command]!.site;
      const leaders = await cluster.waitAllLed({ timeoutMs: 20_000 });
      const victim = leaders.get(site)!;
      let publishing: Promise<void> = Promise.resolve();
      // The previous victim restarts meanwhile; it must back the site up before this kill.
      if (r.moment === 'before') {
        publishing = publisher.publishTo(seq - 1);
        const from = publisher.published;
        const until = from + Math.floor((seq - 1 - from) * rng.next());
        await waitFor(() => (publisher.published >= until ? true : undefined), {
          timeoutMs: 30_000,
          intervalMs: 2,
          describe: context,
        });
        await backedUp(site, victim);
      } else if (r.moment === 'checkpoint') {
        // The primary checkpoints every 5 s from its own start: any phase of it.
        await Promise.all([sleep(rng.int(300, 5000)), backedUp(site, victim)]);
      } else {
        await backedUp(site, victim);
        await publisher.publishTo(seq);
        await killAt(r.moment, seq, wire, rng, context);
      }
      const killedAt = Date.now();
      await cluster.node(victim).kill();
      log.kill(round, r, `:${victim}@${publisher.published}`);
      await cluster.waitAllLed({ exclude: [victim], timeoutMs: LEASE_SECONDS * 1000 + 10_000 });
      takeovers.push(Date.now() - killedAt);
      returning = cluster.start(victim);
      await publishing;
    }
    await returning;

    await publisher.publishTo(lastSeq);
    // WFM_OUT is read next while the nodes still run.
    await cluster.waitCaughtUp(lastSeq, 60_000, { stored: true });
    const run = await settledRun(nats, dbUrl, () => `${context()}\n${cluster.logs()}`);
    for (const id of ['a', 'b']) expect(await cluster.node(id).stop()).toEqual({ code: 0, signal: null });
    expect(differencesFrom(await reference, run), context()).toEqual([]);
    expect(takeovers).toHaveLength(21);
    console.log(`transfer takeover chaos: ${context()}`);
  }, 420_000);
});

/** Waits for the moment of a kill at command `seq` (published already). */
async function killAt(
  moment: Moment,
  seq: number,
  wire: SentWatch,
  rng: SeededRandom,
  context: () => string,
): Promise<void> {
  const describe = () => `waiting for ${moment} of command seq ${seq}; ${context()}`;
  if (moment === 'ack') await sleep(rng.int(0, 30));
  else if (moment === 'outputs') await seenOnWire(wire, (m) => sourceSeqOf(m) === seq, describe);
  else {
    await seenOnWire(wire, (m) => m.subject.startsWith('wfm.transfer.') && sourceSeqOf(m) === seq, describe);
    if (moment === 'database') await sleep(rng.int(20, 400));
  }
}

/**
 * Watches one life of a restart-chaos node over `GET /api/status`: when its first report shows a
 * site restored from a checkpoint below a command already published when it started, it is
 * counted as re-applying a transfer.
 */
function watchLife(
  node: NodeProcess,
  publisher: InputPublisher,
  commandAt: readonly number[],
  log: ChaosLog,
): () => Promise<void> {
  const publishedAtStart = publisher.published;
  let stopped = false;
  const loop = (async () => {
    try {
      await node.ready;
    } catch {
      return;
    }
    while (!stopped && node.running) {
      try {
        const status = await node.status();
        const restored = status.sites.filter((s) => s.checkpointSeq > 0).map((s) => s.checkpointSeq);
        if (restored.length > 0) {
          const from = Math.min(...restored);
          if (commandAt.some((i) => i + 1 > from && i + 1 <= publishedAtStart))
            log.replays = (log.replays ?? 0) + 1;
          return;
        }
      } catch {
        // Killed mid-request, or not serving yet.
      }
      await sleep(50);
    }
  })();
  return async () => {
    stopped = true;
    await loop;
  };
}
