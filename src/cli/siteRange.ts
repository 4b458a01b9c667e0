import { listSites, type SiteRef, type WfmConfig } from '../config/index.ts';
import type { Parsed } from '../domain/index.ts';
import { parseReportTime } from './reportCommand.ts';

/** A configured site and a time range, as `export` and `replay` are given them. */
export interface SiteRange {
  ref: SiteRef;
  /** Epoch ms, inclusive; null: from the start. */
  from: number | null;
  /** Epoch ms, exclusive; null: to the end of what is stored. */
  to: number | null;
}

/**
 * The site `site` of `config` and the range `--from` / `--to` give (each optional; the times as
 * `wfm-agg report` reads them: ISO 8601 with `Z` or an offset, or a date meaning midnight UTC), or
 * why they do not name one: an unknown site, a text that is not such a time, `from` not before `to`.
 */
export function resolveSiteRange(
  config: WfmConfig,
  flags: { site: string; from?: string | undefined; to?: string | undefined },
): Parsed<SiteRange> {
  const ref = listSites(config).find((r) => r.site === flags.site);
  if (ref === undefined) {
    return {
      ok: false,
      error: `unknown site ${flags.site}: not in the configuration of tenant ${config.tenant.id}`,
    };
  }
  const times = parseRange(flags);
  if (!times.ok) return times;
  return { ok: true, value: { ref, ...times.value } };
}

/** `--from` / `--to` as epoch ms (null when not given), or why they are refused. */
export function parseRange(flags: {
  from?: string | undefined;
  to?: string | undefined;
}): Parsed<{ from: number | null; to: number | null }> {
  const parsed: { from: number | null; to: number | null } = { from: null, to: null };
  for (const name of ['from', 'to'] as const) {
    const text = flags[name];
    if (text === undefined) continue;
    const value = parseReportTime(text);
    if (value === undefined) {
      return {
        ok: false,
        error: `--${name} ${text} is not a time: give an ISO 8601 timestamp with Z or an offset (2026-01-05T08:00:00Z) or a date (2026-01-05, midnight UTC)`,
      };
    }
    parsed[name] = value;
  }
  if (parsed.from !== null && parsed.to !== null && parsed.from >= parsed.to) {
    return { ok: false, error: `--from ${flags.from} must be before --to ${flags.to}` };
  }
  return { ok: true, value: parsed };
}

/** `--margin` (whole seconds ≥ 0) in ms, or undefined when the text is not one. */
export function parseMarginMs(text: string): number | undefined {
  return /^\d{1,7}$/.test(text) ? Number(text) * 1000 : undefined;
}

/** An epoch-ms time as ISO 8601 UTC without the milliseconds when there are none (null: `-`). */
export function isoTime(ts: number | null): string {
  return ts === null ? '-' : new Date(ts).toISOString().replace('.000Z', 'Z');
}
