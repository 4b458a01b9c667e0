import type { Output, SubjectAddress } from './types.ts';

/** Ids of tenants, sites and agents (DESIGN.md: `[A-Za-z0-9_-]{1,64}`). */
export const ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Parses a `WFM_IN` subject; null when it is not one of the contract's input subjects. Every
 * input goes through here, so it scans the subject once instead of splitting it and testing each
 * id with ID_PATTERN (what it is equal to: `subjects.test.ts` compares the two).
 */
export function parseSubject(subject: string): SubjectAddress | null {
  if (!subject.startsWith('wfm.')) return null;
  const kindEnd = subject.indexOf('.', 4);
  const tenantEnd = kindEnd < 0 ? -1 : idEnd(subject, kindEnd + 1);
  const siteEnd = tenantEnd < 0 || tenantEnd === subject.length ? -1 : idEnd(subject, tenantEnd + 1);
  if (siteEnd < 0) return null;
  const kind = subject.slice(4, kindEnd);
  const tenant = subject.slice(kindEnd + 1, tenantEnd);
  const site = subject.slice(tenantEnd + 1, siteEnd);
  if (kind === 'clock' || kind === 'command')
    return siteEnd === subject.length ? { kind, tenant, site } : null;
  if ((kind !== 'stat' && kind !== 'schedule') || siteEnd === subject.length) return null;
  const agentEnd = idEnd(subject, siteEnd + 1);
  if (agentEnd !== subject.length) return null;
  return { kind, tenant, site, agentId: subject.slice(siteEnd + 1) };
}

/**
 * Where the id (ID_PATTERN) starting at `from` ends: the index of the `.` after it or the
 * subject's length; -1 when no id starts there (empty, too long, or a character outside it).
 */
function idEnd(subject: string, from: number): number {
  let i = from;
  for (; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c === 46) break; // '.'
    const isIdChar =
      (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c === 95 || c === 45;
    if (!isIdChar) return -1;
  }
  const length = i - from;
  return length >= 1 && length <= 64 ? i : -1;
}

/**
 * The `WFM_OUT` subject of an output: `wfm.<kind>.T.S.A`, except a transfer's audit record, which
 * is the site's: `wfm.transfer.T.S`.
 */
export function outputSubject(output: Output): string {
  if (output.kind === 'transfer') return `wfm.transfer.${output.tenant}.${output.site}`;
  return `wfm.${output.kind}.${output.tenant}.${output.site}.${output.agentId}`;
}

/** The `WFM_IN` subjects of one agent's own inputs: its schedule's and its statistics'. */
export function agentInputSubjects(tenant: string, site: string, agentId: string): [string, string] {
  return [`wfm.schedule.${tenant}.${site}.${agentId}`, `wfm.stat.${tenant}.${site}.${agentId}`];
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
