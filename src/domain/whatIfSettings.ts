/**
 * `wfm-agg replay --set KEY=VALUE`: the rules an analyst may change for a what-if, parsed and
 * checked one by one so a typo fails naming the key, before anything is read. Pure.
 */
import type { AgentOptions } from './AgentOptions.ts';
import { MAPPABLE_REASONS } from './gcMapping.ts';
import type { Parsed } from './siteInputFile.ts';

/** The rules a site runs under that decide its outputs: its agent options and the reason key. */
export interface SiteRules extends Omit<AgentOptions, 'tenant' | 'site'> {
  /** Key of the reason in `CurrentStateReason.reasons` (Genesys option ReasonCodeKeyName). */
  reasonCodeKeyName: string;
}

/** What a list of `--set` assignments changes; keys not set keep the configuration's value. */
export type WhatIfSettings = Partial<SiteRules>;

/** The keys `--set` accepts, in the order the help lists them. */
export const WHAT_IF_KEYS = [
  'adherenceExceptionThresholdSeconds',
  'nonOnQueueActivitiesEquivalent',
  'mappedReasons',
  'intervalMinutes',
  'offsetMinutes',
  'reasonCodeKeyName',
] as const satisfies readonly (keyof SiteRules)[];

type Key = (typeof WHAT_IF_KEYS)[number];

const nonNegativeInt = (text: string): number | undefined =>
  /^\d{1,9}$/.test(text) ? Number(text) : undefined;

/** Each key's parser: its value, or a sentence saying what it must be. */
const PARSERS: { [K in Key]: (text: string) => { value: SiteRules[K] } | { error: string } } = {
  adherenceExceptionThresholdSeconds: (text) => {
    const n = nonNegativeInt(text);
    return n === undefined ? { error: 'must be a whole number of seconds ≥ 0' } : { value: n };
  },
  nonOnQueueActivitiesEquivalent: (text) =>
    text === 'true' || text === 'false' ? { value: text === 'true' } : { error: 'must be true or false' },
  mappedReasons: (text) => {
    // `mappedReasons=` maps no reason at all: every NotReady reason shows as BUSY.
    const reasons = text === '' ? [] : text.split(',').map((r) => r.trim());
    const allowed = Object.keys(MAPPABLE_REASONS);
    const bad = reasons.find((r) => !allowed.includes(r));
    if (bad !== undefined) {
      return { error: `${JSON.stringify(bad)} is not one of ${allowed.join(', ')} (comma-separated)` };
    }
    if (new Set(reasons).size !== reasons.length) return { error: 'names a reason twice' };
    return { value: reasons };
  },
  intervalMinutes: (text) => {
    const n = nonNegativeInt(text);
    return n === undefined || n < 1 || 1440 % n !== 0
      ? { error: 'must be a whole number of minutes that divides 1440 (a day), e.g. 5, 10, 15, 30 or 60' }
      : { value: n };
  },
  offsetMinutes: (text) => {
    const n = nonNegativeInt(text);
    return n === undefined ? { error: 'must be a whole number of minutes ≥ 0' } : { value: n };
  },
  reasonCodeKeyName: (text) => (text === '' ? { error: 'must not be empty' } : { value: text }),
};

/**
 * Parses `KEY=VALUE` assignments (the value may contain `=`). Refused, naming the key: an unknown
 * key, a bad value, a key set twice, an assignment without `=`.
 */
export function parseWhatIfSettings(assignments: readonly string[]): Parsed<WhatIfSettings> {
  const settings: Record<string, unknown> = {};
  for (const assignment of assignments) {
    const at = assignment.indexOf('=');
    if (at <= 0) return { ok: false, error: `--set ${assignment}: give KEY=VALUE` };
    const key = assignment.slice(0, at);
    const text = assignment.slice(at + 1);
    if (!(WHAT_IF_KEYS as readonly string[]).includes(key)) {
      return { ok: false, error: `--set ${key}: unknown key; one of ${WHAT_IF_KEYS.join(', ')}` };
    }
    if (Object.hasOwn(settings, key)) return { ok: false, error: `--set ${key}: given twice` };
    const parsed = PARSERS[key as Key](text);
    if ('error' in parsed) return { ok: false, error: `--set ${key}=${text}: ${parsed.error}` };
    settings[key] = parsed.value;
  }
  return { ok: true, value: settings as WhatIfSettings };
}

/**
 * `rules` with `settings` applied, checked as a whole: an offset must stay below the interval it
 * shifts, whichever of the two the settings changed.
 */
export function applyWhatIf(rules: SiteRules, settings: WhatIfSettings): Parsed<SiteRules> {
  const applied: SiteRules = { ...rules, ...settings };
  if (applied.offsetMinutes >= applied.intervalMinutes) {
    const key = settings.offsetMinutes !== undefined ? 'offsetMinutes' : 'intervalMinutes';
    return {
      ok: false,
      error: `--set ${key}: offsetMinutes (${applied.offsetMinutes}) must be less than intervalMinutes (${applied.intervalMinutes})`,
    };
  }
  return { ok: true, value: applied };
}

/** The settings that differ from `rules`, as `KEY=VALUE` texts in key order (for the summary). */
export function describeWhatIf(rules: SiteRules, settings: WhatIfSettings): string[] {
  const changed: string[] = [];
  for (const key of WHAT_IF_KEYS) {
    const value = settings[key];
    if (value === undefined) continue;
    const text = Array.isArray(value) ? value.join(',') : String(value);
    const before = rules[key];
    const beforeText = Array.isArray(before) ? before.join(',') : String(before);
    changed.push(text === beforeText ? `${key}=${text} (unchanged)` : `${key}=${text} (was ${beforeText})`);
  }
  return changed;
}
