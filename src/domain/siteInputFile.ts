/**
 * The file format of `wfm-agg export` / `import` / `replay --input`: one site's `WFM_IN` messages
 * as JSON Lines. Line 1 is a {@link SiteInputHeader}; every other line is one message in stream
 * order, `{"seq":n,"subject":"wfm.stat.T.S.A","data":"<payload text as published>"}`. A payload
 * whose bytes are not UTF-8 (the live node dead-letters it as `invalid_json`) is kept exactly as
 * `"dataBase64"` instead of `"data"`, so a replay decodes the very bytes the node decoded.
 * Pure: parsing and formatting only; reading and writing files is src/persistence's.
 */
import { ID_PATTERN, parseSubject } from './subjects.ts';

/** The `format` of the header line. */
export const SITE_INPUT_FORMAT = 'wfm-agg-input';
/** The `version` this build writes and reads. */
export const SITE_INPUT_VERSION = 1;

/**
 * Line 1 of an export. `from`/`to` (epoch ms, null: unbounded) are the report range the export was
 * made for; the messages themselves start at the site's first stored message (state at `from`
 * needs the history) and run past `to` (see `InputCut`). `firstSeq`/`lastSeq` are the first and
 * last `WFM_IN` sequences in the file (null: no message).
 */
export interface SiteInputHeader {
  format: typeof SITE_INPUT_FORMAT;
  version: typeof SITE_INPUT_VERSION;
  tenant: string;
  site: string;
  from: number | null;
  to: number | null;
  firstSeq: number | null;
  lastSeq: number | null;
}

/** One message of an export: its `WFM_IN` sequence, subject and payload bytes. */
export interface SiteInputMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** A parse result: the value, or why the text is refused (a sentence naming the field). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

/** The header line (no newline), keys in the documented order. */
export function siteInputHeaderText(header: Omit<SiteInputHeader, 'format' | 'version'>): string {
  const { tenant, site, from, to, firstSeq, lastSeq } = header;
  return JSON.stringify({
    format: SITE_INPUT_FORMAT,
    version: SITE_INPUT_VERSION,
    ...{ tenant, site, from, to, firstSeq, lastSeq },
  });
}

/**
 * One message line (no newline). The payload as text when its bytes are UTF-8 (a BOM kept as
 * U+FEFF, so the text encodes back to the same bytes), else base64.
 */
export function siteInputLineText(message: SiteInputMessage): string {
  const { seq, subject, data } = message;
  let text: string;
  try {
    text = utf8.decode(data);
  } catch {
    return JSON.stringify({ seq, subject, dataBase64: Buffer.from(data).toString('base64') });
  }
  return JSON.stringify({ seq, subject, data: text });
}

function parseObject(text: string): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return `not JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

const isSeq = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;
const isTimeOrNull = (v: unknown): v is number | null => v === null || Number.isSafeInteger(v);

/** Reads the header line; refuses anything but this format's version 1 with sound fields. */
export function parseSiteInputHeader(text: string): Parsed<SiteInputHeader> {
  const value = parseObject(text);
  if (typeof value === 'string') return { ok: false, error: `header: ${value}` };
  const fail = (field: string, what: string): Parsed<SiteInputHeader> => ({
    ok: false,
    error: `header: ${field} ${what}`,
  });
  if (value.format !== SITE_INPUT_FORMAT) return fail('format', `must be "${SITE_INPUT_FORMAT}"`);
  if (value.version !== SITE_INPUT_VERSION) {
    return fail('version', `${JSON.stringify(value.version)} is not supported; this build reads 1`);
  }
  const { tenant, site, from, to, firstSeq, lastSeq } = value;
  if (typeof tenant !== 'string' || !ID_PATTERN.test(tenant)) return fail('tenant', 'must be an id');
  if (typeof site !== 'string' || !ID_PATTERN.test(site)) return fail('site', 'must be an id');
  if (!isTimeOrNull(from)) return fail('from', 'must be epoch milliseconds or null');
  if (!isTimeOrNull(to)) return fail('to', 'must be epoch milliseconds or null');
  if (from !== null && to !== null && from >= to) return fail('from', 'must be before to');
  if (firstSeq !== null && !isSeq(firstSeq)) return fail('firstSeq', 'must be a stream sequence or null');
  if (lastSeq !== null && !isSeq(lastSeq)) return fail('lastSeq', 'must be a stream sequence or null');
  if ((firstSeq === null) !== (lastSeq === null) || (firstSeq ?? 0) > (lastSeq ?? 0)) {
    return fail('lastSeq', 'must be null with firstSeq, else at least firstSeq');
  }
  return {
    ok: true,
    value: {
      format: SITE_INPUT_FORMAT,
      version: SITE_INPUT_VERSION,
      tenant,
      site,
      from,
      to,
      firstSeq,
      lastSeq,
    },
  };
}

/**
 * Reads one message line of the file `header` heads. Refused: a line that is not a JSON object,
 * has no positive integer `seq`, string `subject` and string `data` (or `dataBase64`), a `seq` not
 * after `previousSeq` (stream order is what replay reproduces), or a subject that is not an input
 * subject of the header's tenant and site.
 */
export function parseSiteInputLine(
  text: string,
  header: Pick<SiteInputHeader, 'tenant' | 'site'>,
  previousSeq: number,
): Parsed<SiteInputMessage> {
  const value = parseObject(text);
  if (typeof value === 'string') return { ok: false, error: value };
  const { seq, subject, data, dataBase64 } = value;
  if (!isSeq(seq)) return { ok: false, error: 'seq must be a positive integer' };
  if (typeof subject !== 'string') return { ok: false, error: 'subject must be a string' };
  let bytes: Uint8Array;
  if (typeof data === 'string') bytes = encoder.encode(data);
  else if (typeof dataBase64 === 'string') bytes = Buffer.from(dataBase64, 'base64');
  else return { ok: false, error: 'data must be a string' };
  if (seq <= previousSeq) return { ok: false, error: `seq ${seq} does not follow seq ${previousSeq}` };
  const address = parseSubject(subject);
  if (address === null || address.tenant !== header.tenant || address.site !== header.site) {
    return {
      ok: false,
      error: `subject ${subject.slice(0, 200)} is not an input of site ${header.tenant}/${header.site}`,
    };
  }
  return { ok: true, value: { seq, subject, data: bytes } };
}
