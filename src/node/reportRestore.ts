import { SiteSupervisor } from '../actors/index.ts';
import type { SiteCounters, SiteHost } from './SiteHost.ts';
import type { SiteProcessor } from './SiteProcessor.ts';

/**
 * What a restore found that an operator must hear of: input the stream's retention dropped before
 * the site checkpointed it (lost: counted and logged as an error), and settings that changed since
 * the checkpoint (logged: a new time profile applies from the next interval boundary).
 */
export async function reportRestore(
  host: SiteHost,
  site: string,
  counters: SiteCounters,
  seq: number,
  processor: SiteProcessor,
): Promise<void> {
  const first = await host.firstInputSeq();
  if (first > seq + 1) {
    const missing = first - seq - 1;
    counters.inputGapMessages += missing;
    host.logger.error(
      { site, startSeq: seq + 1, firstSeq: first, missing },
      'WFM_IN no longer holds input this site had not checkpointed (retention dropped it): it is lost',
    );
  }
  if (processor instanceof SiteSupervisor && processor.restoredOptionsChanged) {
    host.logger.info(
      { site, before: processor.restoredOptionsFingerprint, now: processor.optionsFingerprint },
      'site options changed since its checkpoint: a new time profile applies from the next interval boundary, the rest from the next input',
    );
  }
}
