import type { WfmConfig } from './WfmConfig.ts';

/**
 * How a process of this tenant connects to NATS: the configured servers, and the tenant as the
 * NATS user when a tenant password is set (DESIGN.md: "NATS password for user T").
 */
export function natsConnectOptions(
  config: WfmConfig,
  name: string,
): { servers: string[]; name: string; user: string | undefined; pass: string | undefined } {
  const hasPassword = config.tenant.password !== undefined;
  return {
    servers: config.nats.servers,
    name,
    user: hasPassword ? config.tenant.id : undefined,
    pass: config.tenant.password,
  };
}
