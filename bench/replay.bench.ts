/**
 * `wfm-agg replay`'s rate: 1M events of a simulated day for one site of 10k agents (TrafficGenerator:
 * schedules, state changes with reasons and call types, logoffs, a clock tick a second), run
 * through decoding and the agent actors in process — the processing ceiling with no I/O, beside
 * the agent bench — and the same input replayed from an export file (read, parse, decode, actors,
 * the report's rows), which is what the command does. Run alone: node --import tsx bench/replay.bench.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { SiteReplay } from '../src/actors/index.ts';
import { ReplayCollector } from '../src/cli/ReplayCollector.ts';
import type { SiteInputMessage } from '../src/domain/index.ts';
import { SiteInputFileReader, SiteInputFileWriter } from '../src/persistence/index.ts';
import { TrafficGenerator, wireText } from '../src/simulator/index.ts';
import { type BenchRow, printRows, progress, timeIt } from './BenchRow.ts';

const START = Date.UTC(2026, 0, 5, 0, 0, 0);
const AGENTS = 10_000;
const EVENTS = 1_000_000;

/** The day's first `EVENTS` messages, as `WFM_IN` would store them (seq 1…n, payload bytes). */
function day(): { messages: SiteInputMessage[]; lastTs: number } {
  const generator = new TrafficGenerator({
    tenant: 'T1',
    sites: ['S1'],
    agentsPerSite: AGENTS,
    seed: 1,
    startTs: START,
  });
  const encoder = new TextEncoder();
  const messages: SiteInputMessage[] = [];
  let lastTs = START;
  for (let seq = 1; seq <= EVENTS; seq++) {
    const m = generator.next();
    messages.push({ seq, subject: m.subject, data: encoder.encode(wireText(m)) });
    lastTs = m.ts;
  }
  return { messages, lastTs };
}

function newReplay(): { replay: SiteReplay; collector: ReplayCollector } {
  return {
    replay: new SiteReplay({ agent: { tenant: 'T1', site: 'S1' }, decode: {} }),
    collector: new ReplayCollector({ from: null, to: null }),
  };
}

export default async function replayBench(): Promise<BenchRow[]> {
  progress('replay', `generating ${EVENTS} events of a ${AGENTS}-agent day`);
  const { messages, lastTs } = day();
  const hours = (lastTs - START) / 3_600_000;
  const label = `${AGENTS / 1000}k agents, ${EVENTS / 1e6}M events (${hours.toFixed(1)} h of event time)`;

  progress('replay', 'replay in memory');
  const inMemory = newReplay();
  const secs = timeIt(() => {
    for (const m of messages) inMemory.collector.add(inMemory.replay.apply(m));
  });
  const intervals = inMemory.collector.published.length;
  const dlq = inMemory.replay.dlqCount;
  inMemory.replay.stop();

  const dir = mkdtempSync(join(tmpdir(), 'wfm-replay-bench-'));
  try {
    const file = join(dir, 'day.jsonl');
    progress('replay', 'writing the export file, then replaying it');
    const writer = SiteInputFileWriter.create(file);
    for (const m of messages) await writer.write(m);
    await writer.finish({ tenant: 'T1', site: 'S1', from: null, to: null, firstSeq: 1, lastSeq: EVENTS });
    messages.length = 0;
    const fromFile = newReplay();
    const t0 = process.hrtime.bigint();
    const opened = await SiteInputFileReader.open(file);
    if (!opened.ok) throw new Error(opened.error);
    for await (const line of opened.value.lines()) {
      if (line.ok) fromFile.collector.add(fromFile.replay.apply(line.message));
    }
    const fileSecs = Number(process.hrtime.bigint() - t0) / 1e9;
    const rows = fromFile.collector.rows().length;
    fromFile.replay.stop();
    if (rows !== intervals || dlq !== 0)
      throw new Error(`replays differ: ${rows} vs ${intervals} rows, ${dlq} dead letters`);
    return [
      {
        bench: 'replay',
        scenario: `${label}: decode + agent actors, in memory`,
        value: Math.round(EVENTS / secs),
        unit: 'events/s',
      },
      {
        bench: 'replay',
        scenario: `${label}: from an export file (read, parse, decode, actors, report rows)`,
        value: Math.round(EVENTS / fileSecs),
        unit: 'events/s',
      },
      { bench: 'replay', scenario: `${label}: interval records produced`, value: intervals, unit: 'records' },
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await replayBench());
