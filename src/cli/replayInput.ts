import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { InputCut } from '../actors/index.ts';
import { type DecodeOptions, decodeInput, type SiteInputMessage } from '../domain/index.ts';
import type { SiteInputFileReader } from '../persistence/index.ts';
import { readSiteInput } from '../streams/index.ts';

/** Progress of a replay's read: the last sequence read and the last one there is. */
export type ReplayProgress = (seq: number, lastSeq: number) => void;

/** Where a replay's messages come from: an export file, or `WFM_IN` itself. */
export interface ReplayInput {
  /**
   * Gives every message in stream order to `visit`, then resolves. A file line that is not a message
   * of the site goes to `onBadLine` with its number and is skipped.
   */
  run(visit: (message: SiteInputMessage) => void, onProgress: ReplayProgress): Promise<void>;
  /** Lines skipped (file input only). */
  readonly skippedLines: number;
}

/**
 * The messages of an opened export file; its header's `lastSeq` is the progress total. Bad lines
 * (not JSON, not a message, out of order, for another site or tenant) go to `onBadLine`.
 */
export function fileInput(
  reader: SiteInputFileReader,
  onBadLine: (line: number, error: string) => void,
): ReplayInput {
  let skipped = 0;
  return {
    get skippedLines() {
      return skipped;
    },
    async run(visit, onProgress) {
      const last = reader.header.lastSeq ?? 0;
      for await (const line of reader.lines()) {
        if (!line.ok) {
          skipped += 1;
          onBadLine(line.line, line.error);
          continue;
        }
        visit(line.message);
        onProgress(line.message.seq, last);
      }
    },
  };
}

/**
 * The site's messages read from `WFM_IN` by the rule `wfm-agg export` writes a file by (every
 * message from the stream's first stored one, up to `to` + `marginMs` of event time: `InputCut`),
 * so `replay --site` and `replay --input` of an export made at the same moment see the same input.
 */
export function natsInput(
  js: JetStreamClient,
  jsm: JetStreamManager,
  site: { tenant: string; site: string; to: number | null; marginMs: number },
  decode: DecodeOptions,
): ReplayInput {
  return {
    skippedLines: 0,
    async run(visit, onProgress) {
      const cut = new InputCut({ to: site.to, marginMs: site.marginMs });
      await readSiteInput(js, jsm, { tenant: site.tenant, site: site.site, onProgress }, (message) => {
        if (!cut.admits(decodeInput(message.subject, message.data, decode))) return false;
        visit(message);
        return true;
      });
    },
  };
}
