/**
 * How `LevelCheckpointStore` lays checkpoints out in LevelDB: the keys of a site's range and
 * its meta record's format.
 */
import { CheckpointError } from '../errors.ts';
import { formatSiteKey, parseStoredJson, type SiteKey } from './CheckpointStore.ts';

/** The meta record format this code writes and reads. */
export const META_VERSION = 1;

/** Stored under the meta key: `{"v":1,"seq":n,"site":…}` (`site` absent when it is `undefined`). */
export interface MetaRecord {
  v: typeof META_VERSION;
  seq: number;
  site?: unknown;
}

// Key layout (ids match [A-Za-z0-9_-], so '!' never occurs inside one and sorts below every id
// character): one site's entries are the contiguous range `cp!T!S!…`, agents before meta.
export const ROOT = 'cp!';
// Above every ASCII key byte under utf8 encoding, so `prefix + END` closes a prefix range.
export const END = '\xff';
export const AGENT = 'a!';
export const META = 'meta';
// A staged commit's agents (written before it is the checkpoint), and the key whose presence says
// they are part of the checkpoint (written with its meta record): 'a!' < 'meta' < 's!' < 'staged'.
export const STAGED = 's!';
export const STAGED_MARK = 'staged';

export function sitePrefix(key: SiteKey): string {
  return `${ROOT}${key.tenant}!${key.site}!`;
}

/**
 * Parses a stored meta record. A record of another format version is refused with its own error:
 * a newer wfm-aggregator may lay agents out differently, so nothing of it may be read, nor
 * overwritten with this version's format.
 */
export function readMeta(key: SiteKey, text: string): MetaRecord {
  const where = formatSiteKey(key);
  const value = parseStoredJson(key, 'meta record', text);
  if (value === null || typeof value !== 'object' || !('v' in value)) {
    throw new CheckpointError(`corrupt checkpoint for ${where}: unreadable meta record (no format version)`);
  }
  const { v, seq } = value as { v: unknown; seq?: unknown };
  if (v !== META_VERSION) {
    throw new CheckpointError(
      `checkpoint for ${where} has format version ${JSON.stringify(v)}, but this version of wfm-aggregator reads only version ${META_VERSION}; refusing to read or overwrite it (run the version that wrote it, or clear this site's checkpoint)`,
    );
  }
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 0) {
    throw new CheckpointError(
      `corrupt checkpoint for ${where}: unreadable meta record (seq ${JSON.stringify(seq)})`,
    );
  }
  return value as MetaRecord;
}

/** The meta record's JSON text, with the site state's text spliced in as it is. */
export function metaText(seq: number, siteText: string | undefined): string {
  const head = `{"v":${META_VERSION},"seq":${seq}`;
  return siteText === undefined ? `${head}}` : `${head},"site":${siteText}}`;
}
