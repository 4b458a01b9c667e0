import { MemoryCheckpointStore } from '../../src/persistence/index.ts';
import { checkpointStoreContract } from './checkpointStoreContract.ts';

checkpointStoreContract('MemoryCheckpointStore', () => new MemoryCheckpointStore());
