/**
 * Public face of the persistence layer: site checkpoints (DESIGN.md guarantee 1 "Restart").
 */

export type { CheckpointCommit, CheckpointStore, SiteCheckpoint, SiteKey } from './CheckpointStore.ts';
export { JsonText } from './JsonText.ts';
export {
  defaultLevelCheckpointStoreOptions,
  LevelCheckpointStore,
  type LevelCheckpointStoreOptions,
} from './LevelCheckpointStore.ts';
export { MemoryCheckpointStore } from './MemoryCheckpointStore.ts';
