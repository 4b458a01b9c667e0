/**
 * True when every subject matched by `subject` (which may hold `*` and `>` wildcards) is also
 * matched by `pattern`. With a literal `subject` this is plain NATS subject matching.
 */
export function subjectCovers(pattern: string, subject: string): boolean {
  const p = pattern.split('.');
  const s = subject.split('.');
  for (let i = 0; i < p.length; i++) {
    const pt = p[i];
    const st = s[i];
    // `>` needs at least one more token, as in NATS.
    if (pt === '>') return st !== undefined;
    if (st === undefined || st === '>') return false;
    if (pt !== '*' && pt !== st) return false;
  }
  return p.length === s.length;
}

/**
 * A predicate true for the literal subjects any of `patterns` covers (as `subjectCovers`),
 * compiled once to one regular expression: a client-side input filter runs it per message.
 */
export function subjectMatcher(patterns: readonly string[]): (subject: string) => boolean {
  const alternatives = patterns.map((pattern) =>
    pattern
      .split('.')
      .map((token) => (token === '>' ? '[^.]+(?:\\.[^.]+)*' : token === '*' ? '[^.]+' : escapeRegExp(token)))
      .join('\\.'),
  );
  const re = new RegExp(`^(?:${alternatives.join('|')})$`);
  return (subject) => re.test(subject);
}

function escapeRegExp(token: string): string {
  return token.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
}
