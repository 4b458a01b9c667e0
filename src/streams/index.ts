/**
 * src/streams: NATS JetStream in and out. Connects, makes sure the contract's streams exist,
 * reads `WFM_IN` as an RxJS Observable, publishes outputs and dead letters per site, and reads
 * back what a site already stored.
 */
export { type CloseNatsOptions, closeNats, defaultCloseNatsOptions } from './closeNats.ts';
export {
  type ConnectNatsOptions,
  connectNats,
  defaultConnectNatsOptions,
  type NatsStatusEvent,
  natsStatusEvents,
} from './connectNats.ts';
export {
  defaultEnsureStreamsOptions,
  type EnsuredStream,
  type EnsureStreamsOptions,
  ensureStreams,
  PUBLISHED_STREAMS,
  WFM_STREAMS,
  type WfmStreamName,
} from './ensureStreams.ts';
export { type GatherRepliesOptions, gatherReplies } from './gatherReplies.ts';
export {
  defaultInputMessagesOptions,
  type InputMessagesEvent,
  type InputMessagesOptions,
  inputMessages,
  type RawInput,
} from './inputMessages.ts';
export {
  type HistoryMessage,
  type IntervalDelivery,
  type IntervalMessage,
  type IntervalRecordsOptions,
  intervalRecords,
  intervalSubject,
  lastStoredSeq,
  mergeByOutSeq,
  parseHistoryMessage,
  readSiteHistory,
  readTransfers,
  type TransferMessage,
  transferSubject,
} from './intervalRecords.ts';
export {
  LEADER_BUCKET,
  type LeaseEntry,
  type LeaseMark,
  type LeaseRecord,
  LeaseStore,
  type LeaseWrite,
  parseLeaseRecord,
} from './LeaseStore.ts';
export { monotonicMs } from './monotonicMs.ts';
export { NodeBeacon, type NodeBeaconOptions } from './NodeBeacon.ts';
export { NODES_BUCKET, type NodeAnnouncement, NodeRegistry } from './NodeRegistry.ts';
export { defaultNatsErrorFromOptions, type NatsErrorFromOptions, natsErrorFrom } from './natsErrorFrom.ts';
export {
  defaultPublisherOptions,
  type FlushPoint,
  Publisher,
  type PublisherOptions,
  type PublishStats,
} from './Publisher.ts';
export { type LaneStep, PublishLane, type PublishOrder } from './PublishLane.ts';
export {
  defaultPublishSiteInputOptions,
  type PublishedInput,
  type PublishSiteInputOptions,
  publishSiteInput,
} from './publishSiteInput.ts';
export { type ReadSiteInputOptions, readSiteInput, type SiteInputRead } from './readSiteInput.ts';
export {
  type ReadStoredIdsOptions,
  readStoredIds,
  type StoredIds,
  WHOLE_RANGE_MAX,
  wholeRangeMaxFor,
} from './readStoredIds.ts';
export { readStoredRange, readStoredRanges, type StoredRange, type StoredRanges } from './readStoredRange.ts';
export { subjectCovers, subjectMatcher } from './subjectCovers.ts';
export {
  type DeadLetter,
  type DeadLetterBody,
  deadLetterBody,
  deadLetterMessage,
  deadLetterMsgId,
  MSG_ID_HEADER,
  OutputHeaders,
  outputMessage,
  outputMsgId,
  SITE_HEADER,
  SOURCE_SEQ_HEADER,
  type WfmMessage,
} from './wfmMessages.ts';
