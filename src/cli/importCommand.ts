import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import {
  type ConfigOverrides,
  ensureStreamsOptions,
  listSites,
  loadConfig,
  natsConnectOptions,
} from '../config/index.ts';
import type { SiteInputMessage } from '../domain/index.ts';
import { WfmError } from '../errors.ts';
import { SiteInputFileReader } from '../persistence/index.ts';
import { connectNats, ensureStreams, publishSiteInput } from '../streams/index.ts';

/** Flags of `wfm-agg import`. */
export interface ImportFlags {
  config: string;
  nats?: string;
}

/**
 * Publishes an export file's messages into `WFM_IN` of the configured NATS — same subjects, same
 * payload bytes, in file order — as a stat source would (another cluster, a laptop, a test). The
 * streams are created when missing. Refused whole, with nothing published: a file whose header is
 * not this format's, of another tenant than the configuration's, or of a site it does not have (no
 * node would process it). A bad message line is reported on stderr with its line number and
 * skipped. Prints how many messages were stored; failures are one line and exit code 2.
 */
export async function importCommand(file: string, flags: ImportFlags): Promise<void> {
  const fail = (message: string) => {
    process.stderr.write(`wfm-agg import: ${message}\n`);
    process.exitCode = 2;
  };
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  const config = loadConfig({ file: flags.config, overrides });
  const opened = await SiteInputFileReader.open(file);
  if (!opened.ok) return fail(opened.error);
  const reader = opened.value;
  const { tenant, site } = reader.header;
  if (tenant !== config.tenant.id) {
    reader.close();
    return fail(`${file} holds input of tenant ${tenant}; the configuration is tenant ${config.tenant.id}'s`);
  }
  if (!listSites(config).some((r) => r.site === site)) {
    reader.close();
    return fail(`${file} holds input of site ${site}, which the configuration does not have`);
  }
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats({ ...natsConnectOptions(config, 'wfm-agg import'), reconnect: false });
  } catch (err) {
    reader.close();
    return fail(`cannot connect to NATS: ${(err as Error).message}`);
  }
  let skipped = 0;
  async function* messages(): AsyncGenerator<SiteInputMessage & { tenant: string; site: string }> {
    for await (const line of reader.lines()) {
      if (line.ok) {
        yield { ...line.message, tenant, site };
      } else {
        skipped += 1;
        process.stderr.write(`${file} line ${line.line}: ${line.error}; skipped\n`);
      }
    }
  }
  try {
    await ensureStreams(await jetstreamManager(nc), ensureStreamsOptions(config));
    const stored = await publishSiteInput(jetstream(nc), messages());
    const seqs = stored.firstSeq === null ? '' : ` (WFM_IN seq ${stored.firstSeq}–${stored.lastSeq})`;
    const extra = [
      ...(stored.duplicates > 0 ? [`${stored.duplicates} already stored (same message id), not again`] : []),
      ...(skipped > 0 ? [`${skipped} bad lines skipped`] : []),
    ];
    process.stdout.write(
      `imported ${stored.stored} messages of site ${tenant}/${site} into WFM_IN${seqs}${extra.length > 0 ? `; ${extra.join('; ')}` : ''}\n`,
    );
  } catch (err) {
    if (err instanceof WfmError) return fail(err.message);
    throw err;
  } finally {
    reader.close();
    await nc.close();
  }
}
