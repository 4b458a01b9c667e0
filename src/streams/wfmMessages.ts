import { headers, type Match, type MsgHdrs } from '@nats-io/transport-node';
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
  /** Its headers, `Nats-Msg-Id` (= msgId) among them. */
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

const decoder = new TextDecoder('utf-8', { fatal: false });

// A value nats.js would change (trim) or refuse (CR, LF) when set: such headers are built by nats.js.
const NOT_PLAIN = /[\r\n]|^\s|\s$/;

/**
 * The headers of one message this node writes, set once as `key, value` pairs in order. Its wire
 * form — exactly the bytes nats.js's `headers()` with the same `set()` calls encodes — is built
 * straight from the pairs, with none of the per-call key/value checks and lookups of nats.js's
 * implementation (two `set()`s and an encode were ~14 % of what the processing path allocated).
 * Reading or changing them through {@link MsgHdrs} makes nats.js's headers from the pairs and
 * uses those from then on, so they behave as nats.js's own in every other use.
 */
export class OutputHeaders implements MsgHdrs, Iterable<[string, string[]]> {
  #pairs: readonly string[];
  #full: MsgHdrs | null = null;

  /** `pairs`: key, value, key, value… (keys valid header names, set in this order). */
  constructor(pairs: readonly string[]) {
    this.#pairs = pairs;
    for (let i = 1; i < pairs.length; i += 2) if (NOT_PLAIN.test(pairs[i]!)) this.#headers();
  }

  #headers(): MsgHdrs {
    if (this.#full === null) {
      const h = headers();
      for (let i = 0; i < this.#pairs.length; i += 2) h.set(this.#pairs[i]!, this.#pairs[i + 1]!);
      this.#full = h;
    }
    return this.#full;
  }

  /** The wire form nats.js's publish writes (it calls this on the headers it is given). */
  encode(): Uint8Array {
    if (this.#full !== null) return (this.#full as MsgHdrs & { encode(): Uint8Array }).encode();
    const pairs = this.#pairs;
    if (pairs.length === 0) return new Uint8Array(0);
    let text = 'NATS/1.0';
    for (let i = 0; i < pairs.length; i += 2) text += `\r\n${pairs[i]}: ${pairs[i + 1]}`;
    return Buffer.from(`${text}\r\n\r\n`);
  }

  [Symbol.iterator](): Iterator<[string, string[]]> {
    return this.#headers()[Symbol.iterator]();
  }
  get hasError(): boolean {
    return this.#headers().hasError;
  }
  get status(): string {
    return this.#headers().status;
  }
  get code(): number {
    return this.#headers().code;
  }
  get description(): string {
    return this.#headers().description;
  }
  get(k: string, match?: Match): string {
    return this.#headers().get(k, match);
  }
  set(k: string, v: string, match?: Match): void {
    this.#headers().set(k, v, match);
  }
  append(k: string, v: string, match?: Match): void {
    this.#headers().append(k, v, match);
  }
  has(k: string, match?: Match): boolean {
    return this.#headers().has(k, match);
  }
  keys(): string[] {
    return this.#headers().keys();
  }
  values(k: string, match?: Match): string[] {
    return this.#headers().values(k, match);
  }
  delete(k: string, match?: Match): void {
    this.#headers().delete(k, match);
  }
  last(k: string, match?: Match): string {
    return this.#headers().last(k, match);
  }
}

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

/**
 * An output as a `WFM_OUT` message. Headers: `Wfm-Source-Seq`, then `Nats-Msg-Id`. The payload is
 * UTF-8 JSON (`Buffer.from` writes the same bytes as a TextEncoder, into a shared pool rather than
 * a new ArrayBuffer per message).
 */
export function outputMessage(output: Output): WfmMessage {
  const msgId = outputMsgId(output);
  return {
    subject: outputSubject(output),
    data: Buffer.from(JSON.stringify(output.payload)),
    msgId,
    headers: new OutputHeaders([SOURCE_SEQ_HEADER, String(output.payload.sourceSeq), MSG_ID_HEADER, msgId]),
  };
}

/** A dead letter as a `WFM_DLQ` message. Headers: `Wfm-Source-Seq`, `Wfm-Site`, `Nats-Msg-Id`. */
export function deadLetterMessage(letter: DeadLetter): WfmMessage {
  const msgId = deadLetterMsgId(letter);
  return {
    subject: dlqSubject(letter.tenant),
    data: Buffer.from(JSON.stringify(deadLetterBody(letter))),
    msgId,
    headers: new OutputHeaders([
      SOURCE_SEQ_HEADER,
      String(letter.seq),
      SITE_HEADER,
      letter.site,
      MSG_ID_HEADER,
      msgId,
    ]),
  };
}
