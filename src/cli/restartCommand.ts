import { type ConfigOverrides, loadConfig, natsConnectOptions } from '../config/index.ts';
import { adminSubject, type RestartReply, type RestartRequest, resolveRestart } from '../node/index.ts';
import { connectNats, gatherReplies } from '../streams/index.ts';

/** Flags of `wfm-agg restart`. */
export interface RestartFlags {
  config: string;
  nats?: string;
  site?: string;
  businessUnit?: string;
  waitMs: string;
}

/**
 * Asks every running node of the tenant to restart a site (or every site of a business unit)
 * from its checkpoint under the settings its configuration file has now. Checked against the
 * same file first, so a name it does not know changes nothing anywhere. Exit code 0 when at least
 * one node answered and none refused, 1 otherwise.
 */
export async function restartCommand(flags: RestartFlags): Promise<void> {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  const config = loadConfig({ file: flags.config, overrides });
  const request: RestartRequest = {
    ...(flags.site !== undefined ? { site: flags.site } : {}),
    ...(flags.businessUnit !== undefined ? { businessUnit: flags.businessUnit } : {}),
  };
  const resolved = resolveRestart(config, request);
  if (!resolved.ok) {
    process.stderr.write(`wfm-agg restart: ${resolved.error}\n`);
    process.exitCode = 2;
    return;
  }
  const nc = await connectNats(natsConnectOptions(config, 'wfm-agg restart'));
  // Every node of the tenant answers the same request: collect the replies for a while.
  const replies = await gatherReplies(
    nc,
    adminSubject(config.tenant.id, 'restart'),
    JSON.stringify(request),
    {
      timeoutMs: Number(flags.waitMs),
      parse: (msg) => msg.json<RestartReply>(),
    },
  );
  await nc.drain();
  if (replies.length === 0) {
    process.stderr.write(`wfm-agg restart: no node of tenant ${config.tenant.id} answered\n`);
    process.exitCode = 1;
    return;
  }
  replies.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  for (const reply of replies) {
    if (reply.ok) {
      const what = [
        reply.restarted.length > 0 ? `restarted ${reply.restarted.join(', ')}` : '',
        reply.added.length > 0 ? `added ${reply.added.join(', ')}` : '',
      ].filter((s) => s !== '');
      process.stdout.write(`${reply.nodeId}: ${what.join('; ') || 'nothing to restart'}\n`);
    } else {
      process.stderr.write(`${reply.nodeId}: refused: ${reply.error}\n`);
      process.exitCode = 1;
    }
  }
}
