import { hostname } from 'node:os';
import { type ConfigOverrides, loadConfig, redactConfig } from '../config/index.ts';
import { ID_PATTERN } from '../domain/index.ts';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../logging/index.ts';
import { type HeapCompactor, WfmNode } from '../node/index.ts';
import { InspectBridge, parseHttpAddress, parseInspectActors, startHttpServer } from '../web/index.ts';
import { parseCompactHeapWhenQuiet, startHeapCompactor } from './heapCompaction.ts';
import { parseHeapGrowingAbove, parseHeapGrowingPercent, startHeapGrowth } from './heapGrowth.ts';

/** Exit code of a node that stopped because the WFM database stayed unreachable (it wrote its dump file). */
export const EXIT_DATABASE_LOST = 3;

/** The password inside a database URL, so the logger masks it wherever it shows up. */
function databasePassword(database: string | null): string | undefined {
  if (database === null) return undefined;
  try {
    return decodeURIComponent(new URL(database).password);
  } catch {
    return undefined;
  }
}

/** Flags of `wfm-agg node`. */
export interface NodeFlags {
  config?: string;
  nodeId?: string;
  nats?: string;
  dataDir?: string;
  http?: string;
  logLevel?: string;
  /** Inspector WebSocket URL: stream actor events there (`@statelyai/inspect` messages). */
  inspect?: string;
  /** Comma-separated actor patterns to inspect (default `site:*,election:*`). */
  inspectActors?: string;
  /** How far V8 lets the JS heap outgrow what it keeps, once capped (see startHeapGrowth). */
  heapGrowingPercent?: string;
  /** MiB a full collection must keep for that cap to apply (see startHeapGrowth). */
  heapGrowingAbove?: string;
  /** Seconds of quiet after which the node compacts its JS heap (0: never; see startHeapCompactor). */
  compactHeapWhenQuiet?: string;
}

/** Config overrides from the flags shared by the commands that run a node. */
export function nodeOverrides(flags: Pick<NodeFlags, 'nats' | 'dataDir'>): ConfigOverrides {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  if (flags.dataDir !== undefined) overrides.dataDir = flags.dataDir;
  return overrides;
}

/**
 * Runs a cluster node until SIGTERM/SIGINT, which drain it (stop reading, flush outputs, write a
 * final checkpoint) and exit 0.
 */
export async function nodeCommand(flags: NodeFlags): Promise<void> {
  const load = () =>
    loadConfig({
      ...(flags.config !== undefined ? { file: flags.config } : {}),
      overrides: nodeOverrides(flags),
    });
  const config = load();
  const nodeId =
    flags.nodeId ??
    config.nodeId ??
    hostname()
      .replace(/[^A-Za-z0-9_-]/g, '-')
      .slice(0, 64);
  // The id names the node in WFM_NODES keys and in every lease: the same rule as other ids.
  if (!ID_PATTERN.test(nodeId))
    throw new ConfigError('--node-id', `must match ${ID_PATTERN}, got ${JSON.stringify(nodeId)}`);
  const secrets = [config.tenant.password, databasePassword(config.database)].filter(
    (s): s is string => s !== undefined && s !== '',
  );
  const logger = createLogger({
    level: (flags.logLevel ?? 'info') as 'info',
    name: `wfm-agg:${nodeId}`,
    secrets,
  });
  const heapGrowingPercent = parseHeapGrowingPercent(flags.heapGrowingPercent);
  const heapGrowingAbove = parseHeapGrowingAbove(flags.heapGrowingAbove);
  const compactHeapWhenQuiet = parseCompactHeapWhenQuiet(flags.compactHeapWhenQuiet);
  // nodeFlags: what node runs with (bin/wfm-agg.js's shebang sets V8's young generation).
  logger.info(
    {
      config: redactConfig(config),
      heapGrowingPercent,
      heapGrowingAbove,
      compactHeapWhenQuiet,
      nodeFlags: process.execArgv,
    },
    'starting node',
  );
  const heapGrowth = startHeapGrowth(heapGrowingPercent, heapGrowingAbove, logger);
  if (flags.inspectActors !== undefined && flags.inspect === undefined)
    throw new ConfigError('--inspect-actors', 'needs --inspect <ws-url>');
  const inspector =
    flags.inspect === undefined
      ? null
      : new InspectBridge({
          url: flags.inspect,
          logger,
          ...(flags.inspectActors !== undefined ? { actors: parseInspectActors(flags.inspectActors) } : {}),
        });
  let stopping = false;
  let http: Awaited<ReturnType<typeof startHttpServer>> | null = null;
  let node: WfmNode | null = null;
  let compactor: HeapCompactor | null = null;
  // Exit 0 after a signal; 3 when the WFM database stayed unreachable (the stop wrote the dump).
  const stop = async (reason: string, code: number) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'draining');
    compactor?.stop();
    heapGrowth?.stop();
    await http?.close();
    await node?.stop();
    await inspector?.close();
    if (code !== 0) logger.fatal({ reason, exitCode: code }, 'node stopped because it cannot go on');
    process.exit(code);
  };
  // `wfm-agg restart` makes the node read its file again for the sites it restarts.
  node = await WfmNode.start({
    config,
    nodeId,
    logger,
    reloadConfig: load,
    onFatal: (error) => void stop(error.message, EXIT_DATABASE_LOST),
    inspect: inspector?.observer,
  }).catch(async (err: unknown) => {
    await inspector?.close();
    throw err;
  });
  compactor = startHeapCompactor(compactHeapWhenQuiet, node, logger);
  http = flags.http !== undefined ? await startHttpServer(node, parseHttpAddress(flags.http)) : null;
  if (http !== null) logger.info({ url: http.url }, 'http listening');
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
}
