import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cliArgs, localNodeConfig, NatsServer } from '../dev/index.ts';
import type { NodeStatus } from '../node/index.ts';
import { parseHttpAddress } from '../web/index.ts';

/** Flags of `wfm-agg demo`. */
export interface DemoFlags {
  nats?: string;
  http: string;
  agents: string;
  rate: string;
  seconds?: string;
}

/** How long after the nodes listen the demo watches who leads which site. */
const LEADERSHIP_WATCH_MS = 20_000;

/** What a child's JSON log line may carry that the demo shows or uses. */
export interface DemoLogEntry {
  msg?: string;
  url?: string;
  startSeq?: number;
  site?: string;
  /** An election's move (`election state`): the state it left and the one it entered. */
  from?: string;
  to?: string;
}

/**
 * What the demo prints of a node's JSON log line: its message, with the site, the election move,
 * the URL or the start sequence it names (`election state london: candidate → campaigning`).
 */
export function demoLogText(entry: DemoLogEntry): string {
  const move =
    typeof entry.from === 'string' && typeof entry.to === 'string' ? `${entry.from} → ${entry.to}` : '';
  const site = typeof entry.site === 'string' ? entry.site : '';
  return [
    entry.msg,
    site !== '' && move !== '' ? `${site}: ${move}` : site || move,
    entry.url,
    entry.startSeq !== undefined ? `from seq ${entry.startSeq}` : '',
  ]
    .filter(Boolean)
    .join(' ');
}

function run(
  name: string,
  args: string[],
  onEntry: (entry: DemoLogEntry) => void = () => undefined,
): ChildProcess {
  const child = spawn(process.execPath, cliArgs(args), { stdio: ['ignore', 'pipe', 'pipe'] });
  // Node logs are JSON lines: show their message and what it names, prefixed with who said it.
  const show = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      let text = line;
      let entry: DemoLogEntry | null = null;
      try {
        entry = JSON.parse(line) as DemoLogEntry;
        text = demoLogText(entry);
      } catch {
        // Not JSON (the simulator's progress): print as is.
      }
      process.stdout.write(`[${name}] ${text}\n`);
      if (entry !== null) onEntry(entry);
    }
  };
  child.stdout?.on('data', show);
  child.stderr?.on('data', show);
  return child;
}

/** The two nodes' `--http`: the flag's, and the next port (both 0 when it is 0: each picks a free one). */
export function demoHttpAddresses(http: string): [string, string] {
  const { host, port } = parseHttpAddress(http);
  const next = port === 0 || port === 65_535 ? 0 : port + 1;
  return [`${host}:${port}`, `${host}:${next}`];
}

/** Who leads and who backs each site, as one node's `/api/status` tells it (null: not known yet). */
export function leadershipLines(status: NodeStatus): string[] | null {
  if (status.sites.length === 0) return null;
  const lines: string[] = [];
  for (const site of [...status.sites].sort((a, b) => a.site.localeCompare(b.site))) {
    const primary = site.role === 'primary' ? status.nodeId : site.leader;
    // Known once the site has a leader and its backup is placed on a live node.
    const backups = site.replicas.filter((n) => n !== primary && status.nodes.includes(n));
    if (primary === null || backups.length === 0) return null;
    lines.push(`${site.site}: primary ${primary}, backup ${backups.join(', ')}`);
  }
  return lines;
}

/**
 * Everything on one machine: a local nats-server on a free port (unless `--nats` is given), two
 * nodes (node-a and node-b, each with its own data dir and HTTP port) so every site has a primary
 * and a hot backup, and the simulator feeding them two sites. Prints which node leads which site
 * once known (and when that changes, for a while: leadership spreads over the nodes). Runs until
 * Ctrl-C (or `--seconds`), then stops everything and removes its temp dir.
 */
export async function demoCommand(flags: DemoFlags): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wfm-demo-'));
  const server = flags.nats === undefined ? await NatsServer.start() : null;
  const natsUrl = flags.nats ?? server!.url;
  const configFile = join(dir, 'config.json');
  const { dbDumpFile: _sharedDumpFile, ...config } = localNodeConfig({
    tenant: 'demo',
    natsUrl,
    dataDir: join(dir, 'data'),
    businessUnit: { id: 'emea', name: 'EMEA' },
    sites: [
      { id: 'london', name: 'London', timeZone: 'Europe/London', statServer: 'Stat Server London' },
      { id: 'paris', name: 'Paris', timeZone: 'Europe/Paris', statServer: 'Stat Server Paris' },
    ],
  });
  // Without dbDumpFile in the file, each node's follows its own --data-dir.
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  process.stdout.write(`demo: NATS ${natsUrl}${server !== null ? ' (local, started for this demo)' : ''}\n`);
  process.stdout.write(`demo: config ${configFile}\n`);
  let stopping = false;
  /** Polls a node's status for a while; prints the leaders once known and whenever they change. */
  const showLeadership = async (base: string) => {
    let shown = '';
    const until = Date.now() + LEADERSHIP_WATCH_MS;
    while (!stopping && Date.now() < until) {
      try {
        const lines = leadershipLines((await (await fetch(`${base}/api/status`)).json()) as NodeStatus);
        if (lines !== null && lines.join('\n') !== shown) {
          shown = lines.join('\n');
          for (const line of lines) process.stdout.write(`demo: ${line}\n`);
        }
      } catch {
        // Not answering yet (or stopping): try again.
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  };
  const names = ['node-a', 'node-b'];
  const addresses = demoHttpAddresses(flags.http);
  // The nodes log their URLs (the only way to know a port 0 picked): print both, then watch.
  const urls = new Map<string, string>();
  const listening = (name: string, url: string) => {
    if (urls.has(name)) return;
    urls.set(name, url);
    if (urls.size < names.length) return;
    for (const n of names) {
      const base = urls.get(n)!;
      process.stdout.write(
        `demo: ${n} web UI ${base}/  status ${base}/api/status  metrics ${base}/metrics\n`,
      );
    }
    // The nodes hold their embedded interval stores: report asks them over NATS.
    process.stdout.write(
      `demo: interval history: npx wfm-agg report --config ${configFile} --data-dir ${join(dir, names[0]!)} --business-unit emea --from 2026-01-05 --to 2026-01-06\n`,
    );
    process.stdout.write('demo: Ctrl-C stops\n');
    void showLeadership(urls.get(names[0]!)!);
  };
  const nodes = names.map((name, i) =>
    run(
      name,
      [
        'node',
        '--config',
        configFile,
        '--node-id',
        name,
        '--data-dir',
        join(dir, name),
        '--http',
        addresses[i]!,
      ],
      (entry) => {
        if (entry.msg === 'http listening' && entry.url !== undefined) listening(name, entry.url);
      },
    ),
  );
  const simulator = run('simulate', [
    'simulate',
    '--config',
    configFile,
    '--agents',
    flags.agents,
    '--rate',
    flags.rate,
    '--minutes',
    String(24 * 60),
    '--quiet',
  ]);
  const exited = (child: ChildProcess) =>
    new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('demo: stopping\n');
    // Input first, then the nodes one by one: each hands its leases to one still running, and
    // none is handed a lease while it drains itself (stopping both at once takes seconds longer).
    await exited(simulator);
    for (const node of [...nodes].reverse()) await exited(node);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (flags.seconds !== undefined) setTimeout(() => void stop(), Number(flags.seconds) * 1000);
}
