/**
 * Public face of the persistence layer: site checkpoints (DESIGN.md guarantee 1 "Restart").
 */

export type { CheckpointCommit, CheckpointStore, SiteCheckpoint, SiteKey } from './CheckpointStore.ts';
export {
  createIntervalSink,
  describeIntervalSink,
  type IntervalSinkConfig,
  levelIntervalLocation,
} from './createIntervalSink.ts';
export {
  type DumpContents,
  type DumpedSite,
  readDumpFile,
  removeDumpFile,
  writeDumpFile,
} from './DumpFile.ts';
export {
  type IntervalBatch,
  type IntervalQuery,
  type IntervalSink,
  isStoredTransfer,
  type SiteWriteMark,
  type StoredHistoryItem,
  type StoredInterval,
  type StoredTransfer,
  type TransferAudit,
  type TransferQuery,
} from './IntervalSink.ts';
export { JsonText } from './JsonText.ts';
export {
  defaultLevelCheckpointStoreOptions,
  LevelCheckpointStore,
  type LevelCheckpointStoreOptions,
} from './LevelCheckpointStore.ts';
export {
  defaultLevelIntervalSinkOptions,
  isLockedError,
  LevelIntervalSink,
  type LevelIntervalSinkOptions,
} from './LevelIntervalSink.ts';
export { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
export {
  defaultPostgresIntervalSinkOptions,
  PostgresIntervalSink,
  type PostgresIntervalSinkOptions,
} from './PostgresIntervalSink.ts';
export { PrefetchingCheckpointStore } from './PrefetchingCheckpointStore.ts';
export { POSTGRES_SCHEMA_VERSION } from './postgresIntervalSchema.ts';
export { SiteInputFileReader, type SiteInputLine } from './SiteInputFileReader.ts';
export { SiteInputFileWriter } from './SiteInputFileWriter.ts';
