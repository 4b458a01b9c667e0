/**
 * src/streams: NATS JetStream in and out. Connects, makes sure the contract's streams exist,
 * reads `WFM_IN` as an RxJS Observable, publishes outputs and dead letters, and finds where a
 * site's published outputs stop.
 */
export {
  type ConnectNatsOptions,
  connectNats,
  defaultConnectNatsOptions,
  type NatsStatusEvent,
  natsStatusEvents,
} from './connectNats.ts';
export {
  type DeadLetter,
  type DeadLetterBody,
  DlqPublisher,
  type DlqPublisherOptions,
  deadLetterBody,
  defaultDlqPublisherOptions,
} from './DlqPublisher.ts';
export {
  defaultEnsureStreamsOptions,
  type EnsuredStream,
  type EnsureStreamsOptions,
  ensureStreams,
  PUBLISHED_STREAMS,
  WFM_STREAMS,
  type WfmStreamName,
} from './ensureStreams.ts';
export { findPublishedMark, type PublishedMark } from './findPublishedMark.ts';
export {
  defaultInputMessagesOptions,
  type InputMessagesEvent,
  type InputMessagesOptions,
  inputMessages,
  type RawInput,
} from './inputMessages.ts';
export { defaultNatsErrorFromOptions, type NatsErrorFromOptions, natsErrorFrom } from './natsErrorFrom.ts';
export {
  defaultOutputPublisherOptions,
  ORDINAL_HEADER,
  OutputPublisher,
  type OutputPublisherOptions,
  outputMsgId,
  SOURCE_SEQ_HEADER,
} from './OutputPublisher.ts';
export { PipelinedPublisher } from './PipelinedPublisher.ts';
export {
  defaultPublishPipelineOptions,
  type PipelineMessage,
  type PublishMode,
  PublishPipeline,
  type PublishPipelineOptions,
  type PublishStats,
} from './PublishPipeline.ts';
export { subjectCovers, subjectMatcher } from './subjectCovers.ts';
