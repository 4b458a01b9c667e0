/** What a secret is replaced with wherever it would be shown or logged. */
export const REDACTED = '[redacted]';

// `scheme://user:password@` — the userinfo password of any URL (postgres, nats, http…).
const URL_PASSWORD = /\b([a-z][a-z0-9+.-]*:\/\/[^\s:/?#@"]*):([^\s@/?#"]*)@/gi;
// `?password=…` or `&pass=…` query parameters, as libpq-style URLs allow.
const QUERY_PASSWORD = /([?&](?:password|pass|passwd|pwd)=)[^&#\s"]*/gi;

/**
 * Masks the password of a URL (`postgres://u:pw@h/db` → `postgres://u:[redacted]@h/db`) and any
 * password query parameter; works on any text containing URLs. Text without one is returned as is.
 */
export function maskUrlPassword(text: string): string {
  if (!text.includes('://')) return text;
  return text.replace(URL_PASSWORD, `$1:${REDACTED}@`).replace(QUERY_PASSWORD, `$1${REDACTED}`);
}

/**
 * Returns a function that removes every occurrence of the given secret values (raw and as they
 * appear inside a JSON string) and every URL password from a text, such as a log line.
 */
export function createSecretScrubber(secrets: readonly string[]): (text: string) => string {
  const forms = new Set<string>();
  for (const secret of secrets) {
    if (secret === '') continue;
    forms.add(secret);
    forms.add(JSON.stringify(secret).slice(1, -1));
  }
  // Longest first, so a secret containing another is removed whole.
  const ordered = [...forms].sort((a, b) => b.length - a.length);
  return (text) => {
    let out = maskUrlPassword(text);
    for (const form of ordered) if (out.includes(form)) out = out.replaceAll(form, REDACTED);
    return out;
  };
}
