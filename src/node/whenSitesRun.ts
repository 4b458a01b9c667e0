import { waitFor } from 'xstate';
import { NatsError, SiteStartError } from '../errors.ts';
import type { SiteRuntime } from './SiteRuntime.ts';

/** Restores of one site that may fail in a row before the node's start fails. */
const START_ATTEMPTS = 3;

/**
 * Resolves once every site runs. A site failing to restore three times in a row (an unreadable
 * checkpoint, a stream it cannot read) fails the start now rather than at the timeout.
 * @throws SiteStartError naming the site and its last error; NatsError after `timeoutMs`.
 */
export async function whenSitesRun(sites: readonly SiteRuntime[], timeoutMs: number): Promise<void> {
  await Promise.all(
    sites.map(async (site) => {
      const settled = await waitFor(
        site.actor,
        (s) => s.matches('running') || s.context.failures >= START_ATTEMPTS,
        { timeout: timeoutMs },
      ).catch((err: unknown) => {
        throw new NatsError(`site ${site.site} did not start within ${timeoutMs} ms`, { cause: err });
      });
      if (!settled.matches('running')) {
        throw new SiteStartError(`site ${site.site} could not be restored: ${settled.context.lastError}`);
      }
    }),
  );
}
