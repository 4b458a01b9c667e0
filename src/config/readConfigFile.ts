import { readFileSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { isPlainObject } from './deepMerge.ts';

/**
 * Reads a JSON configuration file. `//` and `/* *\/` comments are allowed (the example in
 * DESIGN.md has them); YAML is not supported. Throws `ConfigError` with `field` = the file path
 * when the file cannot be read, is not JSON, or is not a JSON object.
 */
export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : `cannot read the file (${code ?? String(cause)})`;
    throw new ConfigError(file, why, { cause });
  }
  return parseConfigText(text, file);
}

/** Parses configuration text (JSON with comments); `source` names it in errors. */
export function parseConfigText(text: string, source = '(file)'): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(stripJsonComments(text.replace(/^\uFEFF/, '')));
  } catch (cause) {
    throw new ConfigError(source, `is not valid JSON: ${(cause as Error).message}`, { cause });
  }
  if (!isPlainObject(parsed)) throw new ConfigError(source, 'must contain a JSON object');
  return parsed;
}

/**
 * Replaces comments with spaces (newlines kept) so JSON.parse positions still point at the
 * right line and column. Text inside strings is left alone.
 */
export function stripJsonComments(text: string): string {
  let out = '';
  let i = 0;
  let copiedTo = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '/' && (text[i + 1] === '/' || text[i + 1] === '*')) {
      const block = text[i + 1] === '*';
      const close = block ? text.indexOf('*/', i + 2) : text.indexOf('\n', i + 2);
      const end = close === -1 ? text.length : block ? close + 2 : close;
      out += text.slice(copiedTo, i) + text.slice(i, end).replace(/[^\n]/g, ' ');
      copiedTo = end;
      i = end;
      continue;
    }
    i++;
  }
  return out + text.slice(copiedTo);
}
