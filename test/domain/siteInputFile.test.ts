/**
 * The export file format, exactly: the header and message lines as written, the payload bytes a
 * replay gets back (UTF-8 text with a BOM kept, other bytes as base64), and every refusal with the
 * sentence that names what is wrong.
 */
import { describe, expect, it } from 'vitest';
import {
  parseSiteInputHeader,
  parseSiteInputLine,
  siteInputHeaderText,
  siteInputLineText,
} from '../../src/domain/index.ts';

const HEADER = { tenant: 'T1', site: 'S1', from: 1000, to: 2000, firstSeq: 3, lastSeq: 9 };
const SITE = { tenant: 'T1', site: 'S1' };
const bytes = (text: string) => new TextEncoder().encode(text);

describe('export header', () => {
  it('is written with its keys in the documented order and read back', () => {
    const text = siteInputHeaderText(HEADER);
    expect(text).toBe(
      '{"format":"wfm-agg-input","version":1,"tenant":"T1","site":"S1","from":1000,"to":2000,"firstSeq":3,"lastSeq":9}',
    );
    expect(parseSiteInputHeader(text)).toEqual({
      ok: true,
      value: { format: 'wfm-agg-input', version: 1, ...HEADER },
    });
    const open = { ...HEADER, from: null, to: null, firstSeq: null, lastSeq: null };
    expect(parseSiteInputHeader(siteInputHeaderText(open))).toEqual({
      ok: true,
      value: { format: 'wfm-agg-input', version: 1, ...open },
    });
  });

  it('is refused naming the field', () => {
    const good = { format: 'wfm-agg-input', version: 1, ...HEADER };
    const cases: [unknown, string][] = [
      ['x', `header: not JSON (Unexpected token 'x', "x" is not valid JSON)`],
      [[], 'header: not a JSON object'],
      [{ ...good, format: 'csv' }, 'header: format must be "wfm-agg-input"'],
      [{ ...good, version: '1' }, 'header: version "1" is not supported; this build reads 1'],
      [{ ...good, tenant: 'T 1' }, 'header: tenant must be an id'],
      [{ ...good, site: undefined }, 'header: site must be an id'],
      [{ ...good, from: '2026-01-05' }, 'header: from must be epoch milliseconds or null'],
      [{ ...good, to: 1.5 }, 'header: to must be epoch milliseconds or null'],
      [{ ...good, from: 2000 }, 'header: from must be before to'],
      [{ ...good, firstSeq: 0 }, 'header: firstSeq must be a stream sequence or null'],
      [{ ...good, lastSeq: null }, 'header: lastSeq must be null with firstSeq, else at least firstSeq'],
      [{ ...good, lastSeq: 2 }, 'header: lastSeq must be null with firstSeq, else at least firstSeq'],
    ];
    for (const [value, error] of cases) {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      expect(parseSiteInputHeader(text)).toEqual({ ok: false, error });
    }
  });
});

describe('export message lines', () => {
  it('keep the payload as text, and a replay gets the very bytes back', () => {
    const data = bytes('{"ts":1}');
    const text = siteInputLineText({ seq: 4, subject: 'wfm.clock.T1.S1', data });
    expect(text).toBe('{"seq":4,"subject":"wfm.clock.T1.S1","data":"{\\"ts\\":1}"}');
    expect(parseSiteInputLine(text, SITE, 3)).toEqual({
      ok: true,
      value: { seq: 4, subject: 'wfm.clock.T1.S1', data },
    });
  });

  it('keep a BOM as U+FEFF, and bytes that are not UTF-8 as base64', () => {
    const bom = new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('{}')]);
    const withBom = siteInputLineText({ seq: 1, subject: 'wfm.clock.T1.S1', data: bom });
    expect(withBom).toBe('{"seq":1,"subject":"wfm.clock.T1.S1","data":"\ufeff{}"}');
    expect(parseSiteInputLine(withBom, SITE, 0)).toEqual({
      ok: true,
      value: { seq: 1, subject: 'wfm.clock.T1.S1', data: bom },
    });
    const latin1 = new Uint8Array([0x7b, 0xe9, 0x7d]);
    const binary = siteInputLineText({ seq: 2, subject: 'wfm.stat.T1.S1.A1', data: latin1 });
    expect(binary).toBe('{"seq":2,"subject":"wfm.stat.T1.S1.A1","dataBase64":"e+l9"}');
    const parsed = parseSiteInputLine(binary, SITE, 1);
    expect(parsed.ok && [...parsed.value.data]).toEqual([0x7b, 0xe9, 0x7d]);
  });

  it('are refused when not a message of the site, or out of stream order', () => {
    const line = (o: object) => JSON.stringify({ seq: 5, subject: 'wfm.stat.T1.S1.A1', data: '{}', ...o });
    const cases: [string, string][] = [
      ['{"seq":', 'not JSON (Unexpected end of JSON input)'],
      ['7', 'not a JSON object'],
      [line({ seq: 0 }), 'seq must be a positive integer'],
      [line({ seq: '5' }), 'seq must be a positive integer'],
      [line({ subject: 5 }), 'subject must be a string'],
      [line({ data: { ts: 1 } }), 'data must be a string'],
      [line({ seq: 4 }), 'seq 4 does not follow seq 4'],
      [line({ subject: 'wfm.stat.T1.S2.A1' }), 'subject wfm.stat.T1.S2.A1 is not an input of site T1/S1'],
      [line({ subject: 'wfm.clock.T2.S1' }), 'subject wfm.clock.T2.S1 is not an input of site T1/S1'],
      [line({ subject: 'wfm.stat.T1.S1' }), 'subject wfm.stat.T1.S1 is not an input of site T1/S1'],
      [line({ subject: 'wfm.gc.T1.S1.A1' }), 'subject wfm.gc.T1.S1.A1 is not an input of site T1/S1'],
    ];
    for (const [text, error] of cases)
      expect(parseSiteInputLine(text, SITE, 4)).toEqual({ ok: false, error });
  });
});
