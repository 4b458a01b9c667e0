import type { JetStreamClient } from '@nats-io/jetstream';
import { headers } from '@nats-io/transport-node';
import { type Output, outputSubject } from '../domain/index.ts';
import { PipelinedPublisher } from './PipelinedPublisher.ts';
import { defaultPublishPipelineOptions, type PublishPipelineOptions } from './PublishPipeline.ts';

/** Header carrying the `WFM_IN` sequence that caused an output. */
export const SOURCE_SEQ_HEADER = 'Wfm-Source-Seq';
/** Header carrying the caller's ordinal of an output (see `findPublishedMark`). */
export const ORDINAL_HEADER = 'Wfm-Ordinal';

/** Options of an OutputPublisher. */
export interface OutputPublisherOptions extends PublishPipelineOptions {
  /**
   * The stream outputs must land in.
   * @defaultValue `'WFM_OUT'`
   */
  stream: string;
}

export const defaultOutputPublisherOptions: OutputPublisherOptions = {
  ...defaultPublishPipelineOptions,
  stream: 'WFM_OUT',
};

/**
 * The deterministic `Nats-Msg-Id` of an output. An interval record is identified by its
 * interval alone, so a replay that closes the interval from a different input still dedupes.
 */
export function outputMsgId(output: Output): string {
  const who = `${output.tenant}.${output.site}.${output.agentId}`;
  if (output.kind === 'interval') return `interval:${who}:${output.payload.intervalStart}`;
  return `${output.kind}:${who}:${output.payload.sourceSeq}:${output.index}`;
}

const encoder = new TextEncoder();

/**
 * Publishes outputs to `WFM_OUT`, pipelined: `publish()` never waits, `whenReady()` bounds the
 * window, `flush()` awaits the acks. In `discard` mode (a hot-standby backup) nothing is written.
 */
export class OutputPublisher extends PipelinedPublisher {
  constructor(js: JetStreamClient, options: Partial<OutputPublisherOptions> = {}) {
    const o: OutputPublisherOptions = { ...defaultOutputPublisherOptions, ...options };
    super(js, o.stream, o);
  }

  /**
   * Sends one output. `ordinal` is the caller's position of this output among its site's
   * outputs; it travels in the `Wfm-Ordinal` header so a restarted node can find where it stopped.
   */
  publish(output: Output, ordinal: number): void {
    this.submit(() => {
      const h = headers();
      h.set(SOURCE_SEQ_HEADER, String(output.payload.sourceSeq));
      h.set(ORDINAL_HEADER, String(ordinal));
      return {
        subject: outputSubject(output),
        data: encoder.encode(JSON.stringify(output.payload)),
        msgId: outputMsgId(output),
        headers: h,
      };
    });
  }
}
