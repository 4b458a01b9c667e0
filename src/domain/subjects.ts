import type { Output, SubjectAddress } from './types.ts';

/** Ids of tenants, sites and agents (DESIGN.md: `[A-Za-z0-9_-]{1,64}`). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/** Parses a `WFM_IN` subject; null when it is not one of the contract's input subjects. */
export function parseSubject(subject: string): SubjectAddress | null {
  const parts = subject.split('.');
  if (parts[0] !== 'wfm') return null;
  const [, kind, tenant, site, agentId] = parts;
  if (tenant === undefined || site === undefined || !ID_PATTERN.test(tenant) || !ID_PATTERN.test(site)) {
    return null;
  }
  if (kind === 'clock' || kind === 'command') return parts.length === 4 ? { kind, tenant, site } : null;
  if (kind !== 'stat' && kind !== 'schedule') return null;
  if (parts.length !== 5 || agentId === undefined || !ID_PATTERN.test(agentId)) return null;
  return { kind, tenant, site, agentId };
}

/**
 * The `WFM_OUT` subject of an output: `wfm.<kind>.T.S.A`, except a transfer's audit record, which
 * is the site's: `wfm.transfer.T.S`.
 */
export function outputSubject(output: Output): string {
  if (output.kind === 'transfer') return `wfm.transfer.${output.tenant}.${output.site}`;
  return `wfm.${output.kind}.${output.tenant}.${output.site}.${output.agentId}`;
}

/** The `WFM_IN` subject of a site's operator commands: `wfm.command.T.S`. */
export function commandSubject(tenant: string, site: string): string {
  return `wfm.command.${tenant}.${site}`;
}

/** The DLQ subject of a tenant: `wfm.dlq.T`. */
export function dlqSubject(tenant: string): string {
  return `wfm.dlq.${tenant}`;
}

/** Subject filter matching every `WFM_IN` subject of one tenant (one string: nats-server 2.9 takes no arrays). */
export function tenantInputFilter(tenant: string): string {
  return `wfm.*.${tenant}.>`;
}
