import { listSites, type SiteRef, type WfmConfig } from '../config/index.ts';

/** A `wfm.admin.T.restart` request: one site, or every site of one business unit. */
export interface RestartRequest {
  site?: string;
  businessUnit?: string;
}

/** One node's answer to a restart request. */
export type RestartReply =
  | { nodeId: string; ok: true; restarted: string[]; added: string[] }
  | { nodeId: string; ok: false; error: string };

/**
 * The sites a restart request names in `config`, or why it names none: exactly one of `site` and
 * `businessUnit`, and it must be in the configuration.
 */
export function resolveRestart(
  config: WfmConfig,
  request: RestartRequest,
): { ok: true; sites: SiteRef[] } | { ok: false; error: string } {
  const { site, businessUnit } = request ?? {};
  const hasSite = typeof site === 'string' && site !== '';
  const hasUnit = typeof businessUnit === 'string' && businessUnit !== '';
  if (hasSite === hasUnit) return { ok: false, error: 'name exactly one of --site and --business-unit' };
  const refs = listSites(config);
  if (hasSite) {
    const ref = refs.find((r) => r.site === site);
    return ref === undefined
      ? { ok: false, error: `unknown site ${site}: not in the configuration` }
      : { ok: true, sites: [ref] };
  }
  if (!config.businessUnits.some((unit) => unit.id === businessUnit)) {
    return { ok: false, error: `unknown business unit ${businessUnit}: not in the configuration` };
  }
  return { ok: true, sites: refs.filter((r) => r.businessUnit === businessUnit) };
}
