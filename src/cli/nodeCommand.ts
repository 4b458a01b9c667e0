import { hostname } from 'node:os';
import { type ConfigOverrides, loadConfig, redactConfig } from '../config/index.ts';
import { ID_PATTERN } from '../domain/index.ts';
import { ConfigError } from '../errors.ts';
import { createLogger } from '../logging/index.ts';
import { WfmNode } from '../node/index.ts';
import { parseHttpAddress, startHttpServer } from '../web/index.ts';

/** Flags of `wfm-agg node`. */
export interface NodeFlags {
  config?: string;
  nodeId?: string;
  nats?: string;
  dataDir?: string;
  http?: string;
  logLevel?: string;
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
  const secrets = [config.tenant.password].filter((s): s is string => s !== undefined);
  const logger = createLogger({
    level: (flags.logLevel ?? 'info') as 'info',
    name: `wfm-agg:${nodeId}`,
    secrets,
  });
  logger.info({ config: redactConfig(config) }, 'starting node');
  // `wfm-agg restart` makes the node read its file again for the sites it restarts.
  const node = await WfmNode.start({ config, nodeId, logger, reloadConfig: load });
  const http = flags.http !== undefined ? await startHttpServer(node, parseHttpAddress(flags.http)) : null;
  if (http !== null) logger.info({ url: http.url }, 'http listening');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'draining');
    await http?.close();
    await node.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
}
