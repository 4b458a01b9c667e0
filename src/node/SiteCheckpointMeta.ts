import { CheckpointError } from '../errors.ts';

/** Version of the site-level record a `SiteRuntime` writes in its checkpoint. */
export const SITE_META_VERSION = 1;

interface SiteMetaRecord {
  v: typeof SITE_META_VERSION;
  startedAt: number;
  outSeq: number;
  dlqSeq: number;
  processor: unknown;
}

function isSeq(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

/**
 * What a site keeps beside its processor's state in each checkpoint, to resume exactly-once:
 * - `startedAt`: input at or before it is not the site's (a site added to a running tenant);
 * - `outSeq` / `dlqSeq`: `WFM_OUT` / `WFM_DLQ` positions after which everything the site wrote
 *   since the checkpoint is stored, so a restore reads its identities from there.
 * Immutable: a new checkpoint makes a new one.
 */
export class SiteCheckpointMeta {
  readonly startedAt: number;
  readonly outSeq: number;
  readonly dlqSeq: number;

  private constructor(startedAt: number, outSeq: number, dlqSeq: number) {
    this.startedAt = startedAt;
    this.outSeq = outSeq;
    this.dlqSeq = dlqSeq;
  }

  /** A site with no checkpoint yet: it owns input after `startedAt`; it stored nothing. */
  static initial(startedAt: number): SiteCheckpointMeta {
    if (!isSeq(startedAt)) throw new RangeError(`startedAt must be a sequence, got ${startedAt}`);
    return new SiteCheckpointMeta(startedAt, 0, 0);
  }

  /**
   * The meta of a stored checkpoint's site record.
   * @throws CheckpointError on a record of another version or shape: never misread.
   */
  static read(site: string, stored: unknown): SiteCheckpointMeta {
    const r = stored as Partial<SiteMetaRecord> | null;
    if (r === null || typeof r !== 'object' || r.v !== SITE_META_VERSION) {
      const found = r !== null && typeof r === 'object' ? JSON.stringify(r.v) : typeof r;
      throw new CheckpointError(
        `checkpoint of site ${site} has site record version ${found}; this version reads ${SITE_META_VERSION}`,
      );
    }
    if (!isSeq(r.startedAt) || !isSeq(r.outSeq) || !isSeq(r.dlqSeq)) {
      throw new CheckpointError(`checkpoint of site ${site} has an unreadable site record`);
    }
    return new SiteCheckpointMeta(r.startedAt, r.outSeq, r.dlqSeq);
  }

  /** The processor's own state inside a stored site record (read after {@link read} accepted it). */
  static processorState(stored: unknown): unknown {
    return (stored as SiteMetaRecord).processor;
  }

  /** The same site, with new stream positions. */
  at(outSeq: number, dlqSeq: number): SiteCheckpointMeta {
    return new SiteCheckpointMeta(this.startedAt, outSeq, dlqSeq);
  }

  /** The site record to store, wrapping the processor's own state. */
  toJSON(processor: unknown): SiteMetaRecord {
    return {
      v: SITE_META_VERSION,
      startedAt: this.startedAt,
      outSeq: this.outSeq,
      dlqSeq: this.dlqSeq,
      processor,
    };
  }
}
