// Entry of the node beacon's worker thread: registers tsx's loader in this thread (workers do not
// inherit it) and runs the TypeScript worker, as bin/wfm-agg.js does for the CLI.
import { register } from 'tsx/esm/api';

register();
await import('./beaconWorkerMain.ts');
