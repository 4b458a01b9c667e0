import { readStoredIds, SITE_HEADER, type StoredIds, transferSubject } from '../streams/index.ts';
import type { SiteCheckpointMeta } from './SiteCheckpointMeta.ts';
import type { SiteHost } from './SiteHost.ts';

/**
 * Everything a site wrote after its checkpoint: the `Nats-Msg-Id`s `WFM_OUT` holds on the site's
 * subjects after the checkpoint's `outSeq`, and those `WFM_DLQ` holds with the site's `Wfm-Site`
 * header after its `dlqSeq` (a tenant's dead letters share one subject). A range of at most
 * `host.wholeRangeMax()` messages is read in one pass (see `ReadStoredIdsOptions`). `signal`
 * stops the read between batches (rejecting with its reason).
 */
export async function storedSince(
  host: Pick<SiteHost, 'js' | 'jsm' | 'tenant' | 'wholeRangeMax'>,
  site: string,
  meta: SiteCheckpointMeta,
  signal?: AbortSignal,
): Promise<StoredIds> {
  const { js, jsm, tenant } = host;
  const wholeRangeMax = host.wholeRangeMax();
  const outputs = await readStoredIds(js, jsm, {
    stream: 'WFM_OUT',
    // Every output subject of the site, the site-level audit records of transfers included: one
    // missed here is published again after a restore or a takeover.
    subjects: [
      ...['gc', 'adherence', 'interval'].map((kind) => `wfm.${kind}.${tenant}.${site}.>`),
      transferSubject(tenant, site),
    ],
    afterSeq: meta.outSeq,
    signal,
    wholeRangeMax,
  });
  const letters = await readStoredIds(js, jsm, {
    stream: 'WFM_DLQ',
    subjects: [`wfm.dlq.${tenant}`],
    afterSeq: meta.dlqSeq,
    header: { name: SITE_HEADER, value: site },
    signal,
    wholeRangeMax,
  });
  for (const id of letters.ids) outputs.ids.add(id);
  return { ids: outputs.ids, maxSourceSeq: Math.max(outputs.maxSourceSeq, letters.maxSourceSeq) };
}
