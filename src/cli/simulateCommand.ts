import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  type ConfigOverrides,
  defaultSiteConfig,
  listSites,
  loadConfig,
  natsConnectOptions,
} from '../config/index.ts';
import { TrafficGenerator } from '../simulator/index.ts';
import { connectNats, ensureStreams } from '../streams/index.ts';
import { ProgressBar } from './ProgressBar.ts';

/** Flags of `wfm-agg simulate`. */
export interface SimulateFlags {
  config?: string;
  nats?: string;
  tenant?: string;
  sites?: string;
  agents: string;
  seed: string;
  start?: string;
  count?: string;
  minutes?: string;
  rate?: string;
  quiet?: boolean;
}

const encoder = new TextEncoder();

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new RangeError(`--${name} wants a non-negative integer, got ${text}`);
  return n;
}

/**
 * A Stat Server stand-in: publishes seeded, realistic traffic (schedules, state changes with
 * reasons and call types, clock ticks) to `WFM_IN`, paced by `--rate` or as fast as possible.
 */
export async function simulateCommand(flags: SimulateFlags): Promise<void> {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  if (flags.tenant !== undefined) overrides.tenant = { id: flags.tenant };
  const fromFlags = flags.sites?.split(',').map((id) => ({ ...defaultSiteConfig, id, name: id }));
  if (fromFlags !== undefined) overrides.businessUnits = [{ id: 'bu', name: 'bu', sites: fromFlags }];
  const config = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), overrides });
  const sites = listSites(config);
  const startTs = flags.start !== undefined ? Date.parse(flags.start) : Date.UTC(2026, 0, 5, 7, 0, 0);
  if (Number.isNaN(startTs)) throw new RangeError(`--start wants an ISO date-time, got ${flags.start}`);
  const generator = new TrafficGenerator({
    tenant: config.tenant.id,
    sites: sites.map((s) => s.site),
    agentsPerSite: positiveInt('agents', flags.agents),
    seed: positiveInt('seed', flags.seed),
    startTs,
    intervalMinutes: sites[0]?.intervalMinutes ?? 15,
    reasonCodeKeyName: config.reasonCodeKeyName,
  });
  const untilTs =
    flags.minutes !== undefined ? startTs + positiveInt('minutes', flags.minutes) * 60_000 : Infinity;
  const count = flags.count !== undefined ? positiveInt('count', flags.count) : Infinity;
  const rate = flags.rate !== undefined ? positiveInt('rate', flags.rate) : 0;
  if (count === Infinity && untilTs === Infinity) throw new RangeError('give --count N or --minutes M');

  const nc = await connectNats(natsConnectOptions(config, 'wfm-agg simulate'));
  const js = jetstream(nc);
  await ensureStreams(await jetstreamManager(nc));
  // Progress by message count when one is given, else by event time reached.
  const byCount = count !== Infinity;
  const total = byCount ? count : Math.round((untilTs - startTs) / 1000);
  const bar = flags.quiet ? null : new ProgressBar('simulate', total);
  const pending = new Set<Promise<unknown>>();
  const began = performance.now();
  let sent = 0;
  for (;;) {
    if (sent >= count || generator.peekTs() >= untilTs) break;
    const message = generator.next();
    const p = js.publish(message.subject, encoder.encode(JSON.stringify(message.payload)));
    pending.add(p);
    void p.finally(() => pending.delete(p)).catch(() => undefined);
    sent++;
    if (pending.size >= 1000) await Promise.race(pending);
    if (rate > 0) {
      // Pace by wall clock: this is the traffic source, not the processing path.
      const due = began + (sent / rate) * 1000;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    bar?.update(
      byCount ? sent : Math.round((message.ts - startTs) / 1000),
      `${sent} msgs, event time ${new Date(message.ts).toISOString()}`,
    );
  }
  await Promise.all(pending);
  bar?.done();
  const secs = (performance.now() - began) / 1000;
  process.stderr.write(
    `simulate: published ${sent} messages in ${secs.toFixed(1)} s (${Math.round(sent / secs)}/s)\n`,
  );
  await nc.drain();
}
