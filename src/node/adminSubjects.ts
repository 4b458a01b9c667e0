/** Admin requests a running cluster answers over NATS request/reply (core NATS, not a stream). */
export type AdminVerb = 'status' | 'restart' | 'transfer' | 'report';

/** Subject of an admin request: `wfm.admin.T.<verb>`. Outside every stream's subjects. */
export function adminSubject(tenant: string, verb: AdminVerb): string {
  return `wfm.admin.${tenant}.${verb}`;
}
