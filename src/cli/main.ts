import { Command, Option } from 'commander';
import { WfmError } from '../errors.ts';

/**
 * A command's action, imported when it runs: `wfm-agg --help` or one command then loads only
 * what it needs (the node's dependencies are most of the start-up time).
 */
function lazy<M extends Record<K, (...args: never[]) => unknown>, K extends string>(
  load: () => Promise<M>,
  name: K,
): (...args: Parameters<M[K]>) => Promise<void> {
  return async (...args) => {
    await (await load())[name](...args);
  };
}

const program = new Command()
  .name('wfm-agg')
  .description(
    'wfm-aggregator: agent state statistics in; Genesys Cloud state, adherence and interval history out',
  )
  .showHelpAfterError();

program
  .command('demo')
  .description(
    'run everything on this machine: a local nats-server, two nodes (a primary and a hot backup per site) with their HTTP APIs, and the simulator',
  )
  .option('--nats <urls>', 'use this NATS instead of starting a local nats-server')
  .option(
    '--http <host:port>',
    'where the first node serves /api/status and /metrics (the second: the next port)',
    '127.0.0.1:8080',
  )
  .option('--agents <n>', 'agents per site', '50')
  .option('--rate <n>', 'simulated messages per second', '200')
  .option('--seconds <n>', 'stop after N seconds (default: run until Ctrl-C)')
  .action(lazy(() => import('./demoCommand.ts'), 'demoCommand'));

program
  .command('node')
  .description('run a cluster node')
  .requiredOption('--config <file>', 'configuration file (JSON)')
  .option('--node-id <id>', "this node's id (default: config nodeId or the host name)")
  .option('--nats <urls>', 'NATS server URL(s), comma-separated (overrides config and WFM_NATS_URL)')
  .option('--data-dir <dir>', 'where checkpoints live (overrides config and WFM_DATA_DIR)')
  .option(
    '--http <host:port>',
    'serve the web UI, /api/status and /metrics (binds 127.0.0.1 unless a host is given)',
  )
  .addOption(
    new Option('--log-level <level>', 'log level')
      .choices(['trace', 'debug', 'info', 'warn', 'error'])
      .default('info'),
  )
  .option('--inspect <ws-url>', 'stream actor events to a @statelyai/inspect WebSocket inspector')
  .option(
    '--inspect-actors <patterns>',
    'with --inspect: actors to stream, comma-separated, * any characters: site:<site>, election:<site>, agent:<site>/<agent> (default: site:*,election:*)',
  )
  .option(
    '--heap-growing-percent <n>',
    'let the JS heap grow to (1 + n/100) × what the last full GC kept (see --heap-growing-above); 0: V8 decides (default: 50)',
  )
  .option(
    '--heap-growing-above <MiB>',
    'apply --heap-growing-percent only once a full GC keeps more than this, and below 3/4 of it let V8 decide again (a small node answers faster); 0: from the start (default: 0)',
  )
  .option(
    '--compact-heap-when-quiet <seconds>',
    'compact the JS heap once the node has done no work for this long after a burst, giving its memory back (a pause of ~2 s at 100k agents: use with leaseSeconds ≥ 15); 0: never (default: 0)',
  )
  .action(lazy(() => import('./nodeCommand.ts'), 'nodeCommand'));

program
  .command('simulate')
  .description('publish realistic Stat Server traffic (a seeded stand-in) to WFM_IN')
  .option('--config <file>', 'configuration file: tenant and sites come from it')
  .option('--nats <urls>', 'NATS server URL(s)')
  .option('--tenant <id>', 'tenant id (without --config)')
  .option('--sites <ids>', 'comma-separated site ids (without --config)')
  .option('--agents <n>', 'agents per site', '100')
  .option('--seed <n>', 'generator seed: the same seed gives the same traffic', '1')
  .option('--start <iso>', 'event time of the first message', '2026-01-05T07:00:00Z')
  .option('--count <n>', 'stop after N messages')
  .option('--minutes <m>', 'stop after M minutes of event time')
  .option('--rate <n>', 'messages per second (default: as fast as possible)')
  .option('--quiet', 'no progress bar')
  .action(lazy(() => import('./simulateCommand.ts'), 'simulateCommand'));

program
  .command('status')
  .description('ask every running node of the tenant for its sites, roles and sequences')
  .option('--config <file>', 'configuration file')
  .option('--nats <urls>', 'NATS server URL(s)')
  .option('--tenant <id>', 'tenant id (without --config)')
  .option('--json', 'print JSON')
  .option('--wait-ms <ms>', 'longest wait for the live nodes to answer', '1000')
  .action(lazy(() => import('./statusCommand.ts'), 'statusCommand'));

program
  .command('restart')
  .description(
    'restart a site, or every site of a business unit, from its checkpoint under the settings the configuration file has now',
  )
  .requiredOption('--config <file>', 'configuration file (JSON): the nodes re-read theirs')
  .option('--nats <urls>', 'NATS server URL(s)')
  .option('--site <id>', 'the site to restart')
  .option('--business-unit <id>', 'restart every site of this business unit')
  .option('--wait-ms <ms>', "how long to collect the nodes' replies", '1000')
  .action(lazy(() => import('./restartCommand.ts'), 'restartCommand'));

program
  .command('transfer')
  .description(
    "move one agent's data to another agent of the same site (a user who got a new login): combined or overwritten per data type, atomically, recorded in the audit log",
  )
  .requiredOption('--config <file>', 'configuration file (JSON)')
  .requiredOption('--from <agent>', 'the source agent: it owns nothing afterwards')
  .requiredOption('--to <agent>', 'the target agent')
  .option('--dry-run', 'print what would be combined and overwritten, with counts; change nothing')
  .option('--json', 'print JSON')
  .option('--nats <urls>', 'NATS server URL(s)')
  .option('--wait-ms <ms>', "how long to wait for the nodes' replies", '2000')
  .option('--apply-timeout-ms <ms>', 'how long to wait for the site to apply the transfer', '10000')
  .action(lazy(() => import('./transferCommand.ts'), 'transferCommand'));

program
  .command('report')
  .description(
    'interval history (adherence, conformance, seconds by presence) of an agent, a site or a business unit over a time range, with totals per agent and local day',
  )
  .requiredOption('--config <file>', 'configuration file (JSON): sites, time zones, database')
  .option('--agent <id>', 'only this agent (with no --site: its one site, wherever that is)')
  .option('--site <id>', 'only this site')
  .option('--business-unit <id>', 'every site of this business unit')
  .option(
    '--from <time>',
    'start, inclusive (required, except with --transfers): ISO 8601 with Z or an offset (2026-01-05T08:00:00Z), or a date (midnight UTC)',
  )
  .option('--to <time>', 'end, exclusive: as --from')
  .option(
    '--transfers',
    'print the transfer audit log (who moved which agent to which, when, and what moved) instead',
  )
  .addOption(
    new Option('--format <format>', 'output format (default: table on a terminal, else csv)').choices([
      'table',
      'csv',
      'json',
    ]),
  )
  .option('--data-dir <dir>', 'data directory of the embedded store (overrides config and WFM_DATA_DIR)')
  .option('--nats <urls>', 'NATS server URL(s), to ask the running nodes when one holds the embedded store')
  .option('--wait-ms <ms>', "how long to collect the running nodes' replies", '2000')
  .action(lazy(() => import('./reportCommand.ts'), 'reportCommand'));

program
  .command('export')
  .description(
    "one site's WFM_IN messages as JSON Lines (a header, then one message per line), for import elsewhere or replay",
  )
  .requiredOption('--config <file>', 'configuration file (JSON): tenant, sites, NATS')
  .requiredOption('--site <id>', 'the site')
  .option(
    '--from <time>',
    "start of the range a replay reports (the export always starts at the site's first stored message: state needs the history): ISO 8601 with Z or an offset, or a date (midnight UTC)",
  )
  .option(
    '--to <time>',
    "end of the range, exclusive: the export runs until the site's event time reaches --to + --margin (default: everything stored)",
  )
  .option(
    '--margin <seconds>',
    'event time past --to the export includes, so intervals before --to can close',
    '900',
  )
  .option('--out <file>', 'write here (atomically) instead of stdout')
  .option('--nats <urls>', 'NATS server URL(s)')
  .action(lazy(() => import('./exportCommand.ts'), 'exportCommand'));

program
  .command('import')
  .description("publish an export file's messages into WFM_IN (same subjects, in order)")
  .argument('<file>', 'the export file')
  .requiredOption('--config <file>', 'configuration file (JSON): tenant, sites, NATS')
  .option('--nats <urls>', 'NATS server URL(s)')
  .action(lazy(() => import('./importCommand.ts'), 'importCommand'));

program
  .command('replay')
  .description(
    "rerun a site's input through the same decoding and actors in process, under the configuration with --set overrides (a what-if); writes nothing. Prints the interval report, or with --compare the differences from what the live system wrote",
  )
  .requiredOption('--config <file>', "configuration file (JSON): the site's rules, NATS")
  .option('--site <id>', "replay this site's input read from WFM_IN")
  .option('--input <file>', 'replay an export file instead')
  .option('--from <time>', "first interval reported (default with --input: the file's)")
  .option('--to <time>', "end of the intervals reported, exclusive (default with --input: the file's)")
  .option(
    '--set <key=value>',
    'what-if override, repeatable: adherenceExceptionThresholdSeconds, nonOnQueueActivitiesEquivalent, mappedReasons (comma list), intervalMinutes, offsetMinutes, reasonCodeKeyName',
    (value: string, previous: string[]) => [...previous, value],
    [] as string[],
  )
  .option('--compare', 'print the differences per agent and interval from the live history in WFM_OUT')
  .addOption(
    new Option(
      '--format <format>',
      'output format (default: table on a terminal, else csv); json without --compare: one wfm.interval payload per line',
    ).choices(['table', 'csv', 'json']),
  )
  .option('--margin <seconds>', 'with --site: event time past --to read, as export does', '900')
  .option('--nats <urls>', 'NATS server URL(s)')
  .action(lazy(() => import('./replayCommand.ts'), 'replayCommand'));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  // Known failures get one clear line (the ConfigError names the field); anything else a stack.
  if (err instanceof WfmError || err instanceof RangeError) {
    process.stderr.write(`wfm-agg: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}
