import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { InputCut } from '../actors/index.ts';
import { type ConfigOverrides, loadConfig, natsConnectOptions } from '../config/index.ts';
import { decodeInput, defaultDecodeOptions } from '../domain/index.ts';
import { WfmError } from '../errors.ts';
import { SiteInputFileWriter } from '../persistence/index.ts';
import { connectNats, readSiteInput } from '../streams/index.ts';
import { ProgressBar } from './ProgressBar.ts';
import { isoTime, parseMarginMs, resolveSiteRange } from './siteRange.ts';

/** Flags of `wfm-agg export`. */
export interface ExportFlags {
  config: string;
  site: string;
  from?: string;
  to?: string;
  /** Destination file; stdout when not given. */
  out?: string;
  /** Seconds of input past `--to` (see `InputCut`). */
  margin: string;
  nats?: string;
}

/**
 * Writes one site's `WFM_IN` messages as JSON Lines (header, then one message per line; see
 * src/domain/siteInputFile.ts). What it takes, so that a replay is exact: every message of the site
 * from the stream's first stored one — state at `--from` needs the history before it; `--from` only
 * says which intervals a replay reports — in stream order, up to (not including) the first message
 * that moves the site's event time to `--to` + `--margin` or later, so the intervals before `--to`
 * can close (see `InputCut`). Without `--to`: everything stored. A progress bar on a TTY; a summary
 * and warnings on stderr; failures are one line and exit code 2.
 */
export async function exportCommand(flags: ExportFlags): Promise<void> {
  const fail = (message: string) => {
    process.stderr.write(`wfm-agg export: ${message}\n`);
    process.exitCode = 2;
  };
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  const config = loadConfig({ file: flags.config, overrides });
  const resolved = resolveSiteRange(config, flags);
  if (!resolved.ok) return fail(resolved.error);
  const marginMs = parseMarginMs(flags.margin);
  if (marginMs === undefined) return fail(`--margin ${flags.margin} must be a whole number of seconds`);
  const { ref, from, to } = resolved.value;
  const tenant = config.tenant.id;
  let nc: Awaited<ReturnType<typeof connectNats>>;
  try {
    nc = await connectNats({ ...natsConnectOptions(config, 'wfm-agg export'), reconnect: false });
  } catch (err) {
    return fail(`cannot connect to NATS: ${(err as Error).message}`);
  }
  const writer = SiteInputFileWriter.create(flags.out ?? null);
  const cut = new InputCut({ to, marginMs });
  const decode = { ...defaultDecodeOptions, reasonCodeKeyName: config.reasonCodeKeyName };
  let bar: ProgressBar | null = null;
  let firstSeq: number | null = null;
  let lastSeq: number | null = null;
  try {
    const read = await readSiteInput(
      jetstream(nc),
      await jetstreamManager(nc),
      {
        tenant,
        site: ref.site,
        onProgress: (seq, streamLast) => {
          if (!process.stderr.isTTY) return;
          bar ??= new ProgressBar('export', streamLast);
          bar.update(seq, `${writer.count} messages of ${ref.site}`);
        },
      },
      async (message) => {
        if (!cut.admits(decodeInput(message.subject, message.data, decode))) return false;
        firstSeq ??= message.seq;
        lastSeq = message.seq;
        await writer.write(message);
        return true;
      },
    );
    (bar as ProgressBar | null)?.done();
    await writer.finish({ tenant, site: ref.site, from, to, firstSeq, lastSeq });
    const where = flags.out ?? 'stdout';
    const seqs = firstSeq === null ? 'none' : `seq ${firstSeq}–${lastSeq}`;
    const lines = [`exported ${writer.count} messages of site ${tenant}/${ref.site} (${seqs}) to ${where}`];
    if (read.streamFirstSeq > 1) {
      lines.push(
        `warning: WFM_IN's first stored message is seq ${read.streamFirstSeq}: input before it is gone, so a replay starts agents as if they had none`,
      );
    }
    if (to !== null && !cut.ended) {
      lines.push(
        `warning: the site's event time reaches only ${isoTime(cut.siteTime < 0 ? null : cut.siteTime)}, short of --to + --margin (${isoTime(to + marginMs)}): intervals near --to may still be open in a replay`,
      );
    }
    process.stderr.write(`${lines.join('\n')}\n`);
  } catch (err) {
    await writer.abort();
    if (err instanceof WfmError) return fail(err.message);
    throw err;
  } finally {
    await nc.close();
  }
}
