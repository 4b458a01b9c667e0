import { createInbox } from '@nats-io/transport-node';
import { type ConfigOverrides, defaultSiteConfig, loadConfig, natsConnectOptions } from '../config/index.ts';
import { adminSubject, type NodeStatus } from '../node/index.ts';
import { connectNats } from '../streams/index.ts';

/** Flags of `wfm-agg status`. */
export interface StatusFlags {
  config?: string;
  nats?: string;
  tenant?: string;
  json?: boolean;
  waitMs: string;
}

/** Asks every running node of the tenant for its status over NATS request/reply and prints them. */
export async function statusCommand(flags: StatusFlags): Promise<void> {
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  if (flags.tenant !== undefined) {
    overrides.tenant = { id: flags.tenant };
    overrides.businessUnits = [
      { id: 'any', name: 'any', sites: [{ ...defaultSiteConfig, id: 'any', name: 'any' }] },
    ];
  }
  const config = loadConfig({ ...(flags.config !== undefined ? { file: flags.config } : {}), overrides });
  const nc = await connectNats(natsConnectOptions(config, 'wfm-agg status'));
  // Every node answers the same request: collect replies on one inbox for a short while.
  const inbox = createInbox();
  const replies: NodeStatus[] = [];
  const sub = nc.subscribe(inbox, {
    callback: (_err, msg) => {
      replies.push(msg.json<NodeStatus>());
    },
  });
  nc.publish(adminSubject(config.tenant.id, 'status'), '', { reply: inbox });
  await new Promise((r) => setTimeout(r, Number(flags.waitMs)));
  sub.unsubscribe();
  await nc.drain();
  replies.sort((a, b) => a.nodeId.localeCompare(b.nodeId));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify(replies, null, 2)}\n`);
    return;
  }
  if (replies.length === 0) {
    process.stdout.write(`no node of tenant ${config.tenant.id} answered\n`);
    process.exitCode = 1;
    return;
  }
  const rows = replies.flatMap((n) =>
    n.sites.map((s) => ({
      node: n.nodeId,
      site: s.site,
      role: s.role,
      state: stateText(s.state),
      processedSeq: s.processedSeq,
      checkpointSeq: s.checkpointSeq,
      agents: s.agents,
      siteTime: s.siteTime >= 0 ? new Date(s.siteTime).toISOString() : '-',
    })),
  );
  console.table(rows);
}

/** A statechart value as one line: `{ running: { role: 'primary', checkpoints: 'idle' } }` → `running (primary, idle)`. */
function stateText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || typeof value !== 'object') return String(value);
  return Object.entries(value)
    .map(([key, inner]) => {
      const text =
        typeof inner === 'object' && inner !== null
          ? Object.values(inner).map(stateText).join(', ')
          : String(inner);
      return `${key} (${text})`;
    })
    .join(', ');
}
