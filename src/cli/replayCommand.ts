import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { SiteReplay } from '../actors/index.ts';
import { type ConfigOverrides, loadConfig, natsConnectOptions, type WfmConfig } from '../config/index.ts';
import {
  applyWhatIf,
  compareIntervals,
  defaultDecodeOptions,
  describeWhatIf,
  intervalReport,
  parseWhatIfSettings,
  type SiteRules,
} from '../domain/index.ts';
import { WfmError } from '../errors.ts';
import { SiteInputFileReader } from '../persistence/index.ts';
import { connectNats, readSiteHistory } from '../streams/index.ts';
import { formatComparison } from './formatComparison.ts';
import { formatReport, REPORT_FORMATS, type ReportFormat } from './formatReport.ts';
import { ProgressBar } from './ProgressBar.ts';
import { closedBy, liveRows, ReplayCollector, type ReplayRange } from './ReplayCollector.ts';
import { fileInput, natsInput, type ReplayInput } from './replayInput.ts';
import { isoTime, parseMarginMs, parseRange, resolveSiteRange } from './siteRange.ts';
import { siteRules } from './siteRules.ts';

/** Flags of `wfm-agg replay`. */
export interface ReplayFlags {
  config: string;
  /** Replay this site's input read from `WFM_IN` … */
  site?: string;
  /** … or an export file's. */
  input?: string;
  from?: string;
  to?: string;
  /** `KEY=VALUE` what-if assignments. */
  set: string[];
  compare?: boolean;
  format?: string;
  /** Seconds of input past `--to` (with `--site`). */
  margin: string;
  nats?: string;
}

type Connection = Awaited<ReturnType<typeof connectNats>>;

/**
 * Reruns a site's input through `decodeInput` and a fresh `SiteSupervisor` in process (the code a
 * node runs), under the site's rules from the configuration with the `--set` overrides, writing
 * nothing anywhere. Prints the range's interval report as `wfm-agg report` does (`--format json`:
 * one `wfm.interval` payload per line, as the live site would have published them) or, with
 * `--compare`, the differences from the live history in `WFM_OUT`. On stderr: bad file lines with
 * their numbers, a summary (input, rules, dead letters, what is still open) and, on a TTY, a
 * progress bar and the replay rate. A refusal is one line and exit code 2.
 */
export async function replayCommand(flags: ReplayFlags): Promise<void> {
  const fail = (message: string) => {
    process.stderr.write(`wfm-agg replay: ${message}\n`);
    process.exitCode = 2;
  };
  const overrides: ConfigOverrides = {};
  if (flags.nats !== undefined) overrides.nats = { servers: flags.nats.split(',') };
  const config = loadConfig({ file: flags.config, overrides });
  const format = (flags.format ?? (process.stdout.isTTY ? 'table' : 'csv')) as ReportFormat;
  if (!REPORT_FORMATS.includes(format)) return fail(`--format must be one of ${REPORT_FORMATS.join(', ')}`);
  const settings = parseWhatIfSettings(flags.set);
  if (!settings.ok) return fail(settings.error);
  const marginMs = parseMarginMs(flags.margin);
  if (marginMs === undefined) return fail(`--margin ${flags.margin} must be a whole number of seconds`);
  if ((flags.site === undefined) === (flags.input === undefined)) {
    return fail('name either --site (read WFM_IN) or --input (an export file), not both or neither');
  }
  let nc: Connection | null = null;
  const connect = async (): Promise<Connection> => {
    nc ??= await connectNats({ ...natsConnectOptions(config, 'wfm-agg replay'), reconnect: false });
    return nc;
  };
  let reader: SiteInputFileReader | null = null;
  try {
    // Where the input comes from, which site it is, and the range to report.
    let siteId: string;
    let range: ReplayRange;
    if (flags.input !== undefined) {
      const opened = await SiteInputFileReader.open(flags.input);
      if (!opened.ok) return fail(opened.error);
      reader = opened.value;
      const { header } = reader;
      if (header.tenant !== config.tenant.id) {
        return fail(
          `${flags.input} holds input of tenant ${header.tenant}; the configuration is tenant ${config.tenant.id}'s`,
        );
      }
      const times = parseRange(flags);
      if (!times.ok) return fail(times.error);
      siteId = header.site;
      range = { from: times.value.from ?? header.from, to: times.value.to ?? header.to };
    } else {
      siteId = flags.site!;
    }
    const resolved = resolveSiteRange(config, { ...flags, site: siteId });
    if (!resolved.ok) return fail(resolved.error);
    const { ref } = resolved.value;
    range = flags.input !== undefined ? range! : { from: resolved.value.from, to: resolved.value.to };
    const base = siteRules(config, ref);
    const applied = applyWhatIf(base, settings.value);
    if (!applied.ok) return fail(applied.error);
    const rules = applied.value;
    const decode = { ...defaultDecodeOptions, reasonCodeKeyName: rules.reasonCodeKeyName };
    let input: ReplayInput;
    if (reader !== null) {
      const file = flags.input!;
      input = fileInput(reader, (line, error) =>
        process.stderr.write(`${file} line ${line}: ${error}; skipped\n`),
      );
    } else {
      const c = await connect();
      const site = { tenant: config.tenant.id, site: ref.site, to: range.to, marginMs };
      input = natsInput(jetstream(c), await jetstreamManager(c), site, decode);
    }

    const replay = new SiteReplay({ agent: { tenant: config.tenant.id, site: ref.site, ...rules }, decode });
    const collector = new ReplayCollector(range);
    const began = performance.now();
    let bar: ProgressBar | null = null;
    await input.run(
      (message) => collector.add(replay.apply(message)),
      (seq, last) => {
        if (!process.stderr.isTTY) return;
        bar ??= new ProgressBar('replay', last);
        const secs = (performance.now() - began) / 1000;
        bar.update(seq, `${Math.round(replay.applied / Math.max(secs, 1e-3))} events/s`);
      },
    );
    replay.stop();
    (bar as ProgressBar | null)?.done();
    const secs = (performance.now() - began) / 1000;

    const zoneOf = () => ref.timeZone;
    const summary = summaryLines(
      config,
      ref.site,
      replay,
      base,
      settings.value,
      flags.input,
      input.skippedLines,
    );
    if (flags.compare === true) {
      const c = await connect();
      const js = jetstream(c);
      const { items: history } = await readSiteHistory(
        js,
        await jetstreamManager(c),
        config.tenant.id,
        ref.site,
        0,
      );
      const lastSeq = replay.seqRange?.last ?? 0;
      const threshold = Math.max(
        base.adherenceExceptionThresholdSeconds,
        rules.adherenceExceptionThresholdSeconds,
      );
      const until = replay.siteTime - threshold * 1000;
      const comparison = compareIntervals(
        closedBy(liveRows(history, lastSeq, range), until),
        closedBy(collector.rows(), until),
      );
      summary.push(`compared the intervals that end by ${isoTime(until)} (closed under both rules)`);
      process.stdout.write(formatComparison(comparison, format, zoneOf));
    } else if (format === 'json') {
      process.stdout.write(collector.published.map((r) => `${JSON.stringify(r)}\n`).join(''));
    } else {
      process.stdout.write(formatReport(intervalReport(collector.rows(), zoneOf), format, zoneOf));
    }
    if (process.stderr.isTTY) {
      summary.push(
        `replay rate: ${Math.round(replay.applied / Math.max(secs, 1e-3))} events/s (${secs.toFixed(1)} s)`,
      );
    }
    process.stderr.write(`${summary.join('\n')}\n`);
  } catch (err) {
    if (err instanceof WfmError || err instanceof RangeError) return fail(err.message);
    throw err;
  } finally {
    (reader as SiteInputFileReader | null)?.close();
    await (nc as Connection | null)?.close();
  }
}

/** The summary on stderr: what was replayed under which rules, dead letters, what is still open. */
function summaryLines(
  config: WfmConfig,
  site: string,
  replay: SiteReplay,
  base: SiteRules,
  settings: Partial<SiteRules>,
  file: string | undefined,
  skipped: number,
): string[] {
  const seqs = replay.seqRange === null ? 'none' : `seq ${replay.seqRange.first}–${replay.seqRange.last}`;
  const whatIf = describeWhatIf(base, settings);
  const rules = whatIf.length === 0 ? "the configuration's rules" : whatIf.join(', ');
  const lines = [
    `replayed ${replay.applied} messages of site ${config.tenant.id}/${site} (${seqs}) under ${rules}`,
  ];
  const reasons = replay.dlqByReason.map(([reason, n]) => `${reason} ${n}`).join(', ');
  lines.push(
    replay.dlqCount === 0
      ? 'dead letters: none'
      : `dead letters (as the live node publishes them): ${replay.dlqCount} (${reasons})`,
  );
  if (skipped > 0) lines.push(`skipped ${skipped} bad lines of ${file}`);
  const threshold = replay.options.adherenceExceptionThresholdSeconds * 1000;
  lines.push(
    replay.siteTime < 0
      ? 'the input moves no event time: no interval closed'
      : `input ends at event time ${isoTime(replay.siteTime)}: intervals ending after ${isoTime(replay.siteTime - threshold)} are still open and not reported`,
  );
  return lines;
}
