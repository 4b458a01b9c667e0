import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import type { RejectionReason } from '../domain/types.ts';
import { SOURCE_SEQ_HEADER } from './OutputPublisher.ts';
import {
  defaultPublishPipelineOptions,
  type PublishMode,
  PublishPipeline,
  type PublishPipelineOptions,
  type PublishStats,
} from './PublishPipeline.ts';

/** Options of a DlqPublisher. */
export interface DlqPublisherOptions extends PublishPipelineOptions {
  /**
   * The stream dead letters must land in.
   * @defaultValue `'WFM_DLQ'`
   */
  stream: string;
}

export const defaultDlqPublisherOptions: DlqPublisherOptions = {
  ...defaultPublishPipelineOptions,
  stream: 'WFM_DLQ',
};

/** One refused input, as the caller knows it. */
export interface DeadLetter {
  /** The node's tenant (the DLQ subject is `wfm.dlq.${tenant}` even when the input's subject is unreadable). */
  tenant: string;
  reason: RejectionReason;
  /** The input's subject. */
  subject: string;
  /** The input's `WFM_IN` sequence. */
  seq: number;
  /** The input's bytes as received. */
  data: Uint8Array;
  /** Human-readable detail of what was wrong. */
  detail: string;
}

/** The JSON body of a `wfm.dlq.T` message, keys in this order. */
export interface DeadLetterBody {
  reason: RejectionReason;
  subject: string;
  seq: number;
  /** The original payload as text (bytes that are not UTF-8 become U+FFFD). */
  payload: string;
  detail: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: false });

/** The DLQ message body of a dead letter. */
export function deadLetterBody(letter: DeadLetter): DeadLetterBody {
  return {
    reason: letter.reason,
    subject: letter.subject,
    seq: letter.seq,
    payload: decoder.decode(letter.data),
    detail: letter.detail,
  };
}

/**
 * Publishes refused inputs to `wfm.dlq.${tenant}` with `Nats-Msg-Id` `dlq:${tenant}:${seq}`,
 * pipelined like OutputPublisher (same `whenReady` / `flush` / mode).
 */
export class DlqPublisher {
  private readonly pipeline: PublishPipeline;

  constructor(js: JetStreamClient, options: Partial<DlqPublisherOptions> = {}) {
    const o: DlqPublisherOptions = { ...defaultDlqPublisherOptions, ...options };
    this.pipeline = new PublishPipeline(js, o.stream, o);
  }

  /** Sends one dead letter without waiting for its ack. */
  publish(letter: DeadLetter): void {
    this.pipeline.submit(() => {
      const h = headers();
      h.set(SOURCE_SEQ_HEADER, String(letter.seq));
      return {
        subject: `wfm.dlq.${letter.tenant}`,
        data: encoder.encode(JSON.stringify(deadLetterBody(letter))),
        msgId: `dlq:${letter.tenant}:${letter.seq}`,
        headers: h,
      };
    });
  }

  /** Undefined when another publish may go now; otherwise resolves when the window has room. */
  whenReady(): Promise<void> | undefined {
    return this.pipeline.whenReady();
  }

  /** Awaits every pending ack; rejects with PublishError if any publish since the last flush failed. */
  flush(): Promise<void> {
    return this.pipeline.flush();
  }

  /** Current mode. */
  get mode(): PublishMode {
    return this.pipeline.mode;
  }

  /** `write` when this node leads the site, `discard` while it is a backup. */
  setMode(mode: PublishMode): void {
    this.pipeline.setMode(mode);
  }

  /** Counters since construction. */
  get stats(): PublishStats {
    return this.pipeline.stats;
  }
}
