import { maskUrlPassword, REDACTED } from './scrubSecrets.ts';

/** Keys whose value is a secret wherever they appear (up to four levels deep). */
const SECRET_KEYS = [
  'password',
  'pass',
  'passwd',
  'secret',
  'token',
  'apiKey',
  'authorization',
  'credentials',
  'tenantPassword',
];

/** Keys whose value is a URL that may carry a password: only the password is masked. */
const URL_KEYS = ['database', 'databaseUrl', 'url', 'natsUrl'];

function atAnyDepth(keys: readonly string[]): string[] {
  return keys.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);
}

/** pino `redact.paths`: every password/secret field, and URL fields whose password is masked. */
export const REDACT_PATHS: readonly string[] = [
  ...atAnyDepth(SECRET_KEYS),
  ...atAnyDepth(URL_KEYS),
  'tenant.password',
  'config.tenant.password',
  'config.database',
  'nats.servers[*]',
  'config.nats.servers[*]',
];

const urlKeys = new Set(URL_KEYS);

/**
 * pino `redact.censor`: secrets become `"[redacted]"`; URL-valued fields keep everything but
 * their password. Absent values stay absent.
 */
export function censorSecret(value: unknown, path: readonly unknown[]): unknown {
  if (value === undefined) return undefined;
  const key = path[path.length - 1];
  const isUrlField = urlKeys.has(String(key)) || path.includes('servers');
  if (isUrlField) {
    if (value === null || typeof value !== 'string') return value;
    return maskUrlPassword(value);
  }
  return REDACTED;
}
