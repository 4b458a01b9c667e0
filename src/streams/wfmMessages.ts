import { headers, type MsgHdrs } from '@nats-io/transport-node';
import { dlqSubject, type Output, outputSubject, type RejectionReason } from '../domain/index.ts';

/** Header carrying the `WFM_IN` sequence that caused an output or dead letter. */
export const SOURCE_SEQ_HEADER = 'Wfm-Source-Seq';
/** Header carrying the site (lane) that wrote a dead letter: `wfm.dlq.T` is one subject per tenant. */
export const SITE_HEADER = 'Wfm-Site';
/** The server's deduplication header; it is also the identity a restarted site skips by. */
export const MSG_ID_HEADER = 'Nats-Msg-Id';

/** One message ready to go to JetStream. */
export interface WfmMessage {
  subject: string;
  data: Uint8Array;
  /** `Nats-Msg-Id`: the message's identity (see {@link outputMsgId}, {@link deadLetterMsgId}). */
  msgId: string;
  headers: MsgHdrs;
}

/** One refused input, as the site that refused it knows it. */
export interface DeadLetter {
  /** The node's tenant (the DLQ subject is `wfm.dlq.${tenant}` even when the input's subject is unreadable). */
  tenant: string;
  /** The lane that refused it: a site id, or the node's lane for input no site owns. */
  site: string;
  reason: RejectionReason;
  /** The input's subject. */
  subject: string;
  /** The input's `WFM_IN` sequence. */
  seq: number;
  /** Position among the dead letters this input produced (one input may yield several). */
  ordinal: number;
  /** The input's bytes as received. */
  data: Uint8Array;
  /** Human-readable detail of what was wrong. */
  detail: string;
}

/** The JSON body of a `wfm.dlq.T` message, keys in this order (DESIGN.md). */
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

/**
 * The deterministic identity of an output: its site, input sequence and position among what that
 * input produced at the site. An interval record is identified by its interval alone, so a replay
 * that closes the interval from a different input (a restart under another time profile) is still
 * the same record.
 */
export function outputMsgId(output: Output): string {
  const who = `${output.tenant}.${output.site}.${output.agentId}`;
  if (output.kind === 'interval') return `interval:${who}:${output.payload.intervalStart}`;
  return `${output.kind}:${who}:${output.payload.sourceSeq}:${output.ordinal}`;
}

/** The deterministic identity of a dead letter: the input's sequence and its position. */
export function deadLetterMsgId(letter: Pick<DeadLetter, 'tenant' | 'seq' | 'ordinal'>): string {
  return `dlq:${letter.tenant}:${letter.seq}:${letter.ordinal}`;
}

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

/** An output as a `WFM_OUT` message. */
export function outputMessage(output: Output): WfmMessage {
  const h = headers();
  h.set(SOURCE_SEQ_HEADER, String(output.payload.sourceSeq));
  return {
    subject: outputSubject(output),
    data: encoder.encode(JSON.stringify(output.payload)),
    msgId: outputMsgId(output),
    headers: h,
  };
}

/** A dead letter as a `WFM_DLQ` message. */
export function deadLetterMessage(letter: DeadLetter): WfmMessage {
  const h = headers();
  h.set(SOURCE_SEQ_HEADER, String(letter.seq));
  h.set(SITE_HEADER, letter.site);
  return {
    subject: dlqSubject(letter.tenant),
    data: encoder.encode(JSON.stringify(deadLetterBody(letter))),
    msgId: deadLetterMsgId(letter),
    headers: h,
  };
}
