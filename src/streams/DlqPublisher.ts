import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { dlqSubject, type RejectionReason } from '../domain/index.ts';
import { SOURCE_SEQ_HEADER } from './OutputPublisher.ts';
import { PipelinedPublisher } from './PipelinedPublisher.ts';
import { defaultPublishPipelineOptions, type PublishPipelineOptions } from './PublishPipeline.ts';

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
export class DlqPublisher extends PipelinedPublisher {
  constructor(js: JetStreamClient, options: Partial<DlqPublisherOptions> = {}) {
    const o: DlqPublisherOptions = { ...defaultDlqPublisherOptions, ...options };
    super(js, o.stream, o);
  }

  /** Sends one dead letter without waiting for its ack. */
  publish(letter: DeadLetter): void {
    this.submit(() => {
      const h = headers();
      h.set(SOURCE_SEQ_HEADER, String(letter.seq));
      return {
        subject: dlqSubject(letter.tenant),
        data: encoder.encode(JSON.stringify(deadLetterBody(letter))),
        msgId: `dlq:${letter.tenant}:${letter.seq}`,
        headers: h,
      };
    });
  }
}
