import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { localNodeConfig, NatsServer } from '../dev/index.ts';

/** Flags of `wfm-agg demo`. */
export interface DemoFlags {
  nats?: string;
  http: string;
  agents: string;
  rate: string;
  seconds?: string;
}

const cliMain = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bin', 'wfm-agg.js');

function run(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, [cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // Node logs are JSON lines: show their message only, prefixed with who said it.
  const show = (chunk: Buffer) => {
    for (const line of chunk.toString().split('\n')) {
      if (line.trim() === '') continue;
      let text = line;
      try {
        const entry = JSON.parse(line) as { msg?: string; url?: string; startSeq?: number };
        text = [entry.msg, entry.url, entry.startSeq !== undefined ? `from seq ${entry.startSeq}` : '']
          .filter(Boolean)
          .join(' ');
      } catch {
        // Not JSON (the simulator's progress): print as is.
      }
      process.stdout.write(`[${name}] ${text}\n`);
    }
  };
  child.stdout?.on('data', show);
  child.stderr?.on('data', show);
  return child;
}

/**
 * Everything on one machine: a local nats-server on a free port (unless `--nats` is given), a
 * node serving `/api/status` and `/metrics`, and the simulator feeding it two sites. Runs until
 * Ctrl-C (or `--seconds`), then stops everything and removes its temp dir.
 */
export async function demoCommand(flags: DemoFlags): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'wfm-demo-'));
  const server = flags.nats === undefined ? await NatsServer.start() : null;
  const natsUrl = flags.nats ?? server!.url;
  const configFile = join(dir, 'config.json');
  const config = localNodeConfig({
    tenant: 'demo',
    natsUrl,
    dataDir: join(dir, 'data'),
    businessUnit: { id: 'emea', name: 'EMEA' },
    sites: [
      { id: 'london', name: 'London', timeZone: 'Europe/London', statServer: 'Stat Server London' },
      { id: 'paris', name: 'Paris', timeZone: 'Europe/Paris', statServer: 'Stat Server Paris' },
    ],
  });
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  process.stdout.write(`demo: NATS ${natsUrl}${server !== null ? ' (local, started for this demo)' : ''}\n`);
  process.stdout.write(`demo: config ${configFile}\n`);
  const children = [
    run('node-a', ['node', '--config', configFile, '--node-id', 'node-a', '--http', flags.http]),
    run('simulate', [
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
    ]),
  ];
  const host = flags.http.includes(':') ? flags.http : `127.0.0.1:${flags.http}`;
  process.stdout.write(
    `demo: status http://${host}/api/status  metrics http://${host}/metrics  (Ctrl-C stops)\n`,
  );
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write('demo: stopping\n');
    await Promise.all(
      children.map(
        (child) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      ),
    );
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  if (flags.seconds !== undefined) setTimeout(() => void stop(), Number(flags.seconds) * 1000);
}
