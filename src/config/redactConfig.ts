import { maskUrlPassword, REDACTED } from '../logging/index.ts';
import { cloneJson } from './deepMerge.ts';
import type { WfmConfig } from './WfmConfig.ts';

/**
 * A deep copy of `config` safe to log or show: `tenant.password` becomes `"[redacted]"` and any
 * password inside the `database` URL or a NATS server URL is masked the same way.
 */
export function redactConfig(config: WfmConfig): WfmConfig {
  const copy = cloneJson(config);
  if (copy.tenant.password !== undefined) copy.tenant.password = REDACTED;
  if (copy.database !== null) copy.database = maskUrlPassword(copy.database);
  copy.nats.servers = copy.nats.servers.map(maskUrlPassword);
  return copy;
}
