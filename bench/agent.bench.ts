/**
 * Agent actors: events/s through a site of 10k and 100k agents on state-changing traffic, and
 * heap per idle agent. Run alone: node --expose-gc --import tsx bench/agent.bench.ts
 */
import { pathToFileURL } from 'node:url';
import { SiteSupervisor } from '../src/actors/index.ts';
import type { Decoded, InputEvent } from '../src/domain/index.ts';
import { type BenchRow, printRows, progress, settledHeap, timeIt } from './BenchRow.ts';

const START = Date.UTC(2026, 0, 5, 8, 0, 0);

/** A realistic cycle of state-changing stat events for one agent (each changes GC state). */
function cycleEvent(agentId: string, step: number, ts: number): InputEvent {
  switch (step % 6) {
    case 0:
      return { type: 'state', agentId, status: 'Ready', callType: null, ts };
    case 1:
      return { type: 'state', agentId, status: 'Ready', callType: 'Inbound', ts };
    case 2:
      return { type: 'state', agentId, status: 'AfterCallWork', callType: null, ts };
    case 3:
      return { type: 'reason', agentId, reason: 'Break', ts };
    case 4:
      return { type: 'state', agentId, status: 'NotReady', callType: null, ts };
    default:
      return { type: 'state', agentId, status: 'Ready', callType: 'Internal', ts };
  }
}

function decoded(agentId: string, event: InputEvent): Decoded {
  return { ok: true, address: { kind: 'stat', tenant: 'T1', site: 'S1', agentId }, event };
}

function schedule(agentId: string): Decoded {
  const h = 3_600_000;
  const activities = [
    { start: START, end: START + 2 * h, category: 'OnQueueWork' as const },
    { start: START + 2 * h, end: START + 2 * h + 900_000, category: 'Break' as const },
    { start: START + 2 * h + 900_000, end: START + 8 * h, category: 'OnQueueWork' as const },
  ];
  return {
    ok: true,
    address: { kind: 'schedule', tenant: 'T1', site: 'S1', agentId },
    event: { type: 'schedule', agentId, from: START, to: START + 8 * h, activities },
  };
}

function runScenario(agents: number, events: number): BenchRow[] {
  progress('agent', `${agents} agents: ${events} state-changing events through one SiteSupervisor`);
  const heap0 = settledHeap();
  const site = new SiteSupervisor({ tenant: 'T1', site: 'S1' });
  const ids = Array.from({ length: agents }, (_, i) => `agent-${i}`);
  let seq = 0;
  for (const id of ids) site.process(++seq, `wfm.schedule.T1.S1.${id}`, schedule(id));
  for (const id of ids) site.process(++seq, `wfm.stat.T1.S1.${id}`, decoded(id, cycleEvent(id, 0, START)));
  const heapIdle = settledHeap();
  // Pre-build inputs so the timed loop measures the actors only. Realistic pacing: each agent
  // changes state every 30 s of event time, so schedule boundaries and interval closes (site
  // deadlines) come at their real rate relative to agent events.
  const inputs: [string, Decoded][] = [];
  const spacingMs = 30_000 / agents;
  for (let i = 0; i < events; i++) {
    const id = ids[i % agents]!;
    const ts = START + Math.floor(i * spacingMs);
    inputs.push([`wfm.stat.T1.S1.${id}`, decoded(id, cycleEvent(id, 1 + Math.floor(i / agents), ts))]);
  }
  let outputs = 0;
  const before = site.stepCounts;
  const secs = timeIt(() => {
    for (const [subject, input] of inputs) outputs += site.process(++seq, subject, input).outputs.length;
  });
  const after = site.stepCounts;
  site.stop();
  const label = `${agents / 1000}k agents`;
  return [
    {
      bench: 'agent',
      scenario: `${label}: state-changing events`,
      value: Math.round(events / secs),
      unit: 'events/s',
      target: '≥ 100000',
    },
    {
      bench: 'agent',
      scenario: `${label}: agent steps that moved a statechart (XState transitions)`,
      value: (after.transitions - before.transitions) / (after.steps - before.steps),
      unit: 'share',
    },
    {
      bench: 'agent',
      scenario: `${label}: outputs produced`,
      value: Math.round(outputs / secs),
      unit: 'outputs/s',
    },
    {
      bench: 'agent',
      scenario: `${label}: heap per idle agent`,
      value: Math.round((heapIdle - heap0) / agents),
      unit: 'bytes',
      target: '≤ 4096',
    },
  ];
}

export default async function agentBench(): Promise<BenchRow[]> {
  return [...runScenario(10_000, 400_000), ...runScenario(100_000, 600_000)];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printRows(await agentBench());
