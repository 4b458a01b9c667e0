import { UNROUTED_SITE_ID } from '../config/index.ts';
import type { Decoded, Rejection } from '../domain/index.ts';
import type {
  ProcessorCapture,
  ProcessorCaptureStream,
  ProcessorResult,
  SiteProcessor,
} from './SiteProcessor.ts';

/**
 * The lane id of input no configured site owns (another tenant's subject, an unreadable one, a
 * site not configured, or a site's input from before it was added). Configuration refuses it as
 * a site id, so it never collides with one.
 */
export const UNROUTED_LANE = UNROUTED_SITE_ID;

/**
 * The processor of the unrouted lane: every input it is given goes to the DLQ with the reason it
 * belongs to no site. Being a lane like a site's, those dead letters are checkpointed and
 * exactly-once the same way.
 */
export class UnroutedProcessor implements SiteProcessor {
  readonly #tenant: string;
  #seq: number;

  constructor(tenant: string, seq = 0) {
    this.#tenant = tenant;
    this.#seq = seq;
  }

  process(seq: number, subject: string, decoded: Decoded): ProcessorResult {
    this.#seq = seq;
    const rejection = this.#why(decoded);
    return { outputs: [], dlq: [{ tenant: this.#tenant, seq, subject, ordinal: 0, ...rejection }] };
  }

  #why(decoded: Decoded): Rejection {
    const address = decoded.address;
    if (address === null || address.tenant !== this.#tenant) {
      return decoded.ok ? { reason: 'bad_subject', detail: 'subject of another tenant' } : decoded.rejection;
    }
    return { reason: 'unknown_site', detail: `site ${address.site} is not configured` };
  }

  capture(): ProcessorCapture {
    return { seq: this.#seq, site: null, agents: [] };
  }

  readonly dirtyCount = 0;

  captureStream(): ProcessorCaptureStream {
    return { seq: this.#seq, site: null, agentIds: [], agents: noAgents() };
  }

  markDirty(): void {
    // No agents.
  }

  stop(): void {
    // No actors.
  }
}

async function* noAgents(): AsyncGenerator<[string, string]> {
  // A lane with no agents captures none.
}
