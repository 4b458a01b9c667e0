import type { InspectionEvent } from 'xstate';
import type { OperationalClock } from '../actors/index.ts';
import type { WfmConfig } from '../config/index.ts';
import type { WfmError } from '../errors.ts';
import type { Logger } from '../logging/index.ts';
import type { CheckpointStore, IntervalSink } from '../persistence/index.ts';
import type { PublisherOptions } from '../streams/index.ts';
import type { SiteHistoryWriterOptions } from './SiteHistoryWriter.ts';
import { defaultSiteRuntimeOptions } from './SiteHost.ts';

/** How a node runs. */
export interface WfmNodeOptions {
  config: WfmConfig;
  /** This node's id, unique in the cluster. */
  nodeId: string;
  logger: Logger;
  /**
   * Reads the configuration again (the file it came from) for `wfm-agg restart`.
   * @defaultValue `undefined`: restarts reuse the configuration the node started with
   */
  reloadConfig: (() => WfmConfig) | undefined;
  /**
   * The checkpoint store (tests wrap one to inject failures).
   * @defaultValue a LevelCheckpointStore in `${config.dataDir}/checkpoints`
   */
  store: CheckpointStore | undefined;
  /** Checkpoint every site at least this often (operational time). @defaultValue 5000 */
  checkpointEveryMs: number;
  /**
   * Checkpoint a site after this many applied messages, a bound on re-processing after a crash
   * for bursts faster than `checkpointEveryMs`. @defaultValue 250000
   */
  checkpointEveryMessages: number;
  /**
   * Operational clock of the site and election actors (checkpoint cadence, retry backoff, leases).
   * @defaultValue the real one (monotonic)
   */
  clock: OperationalClock | undefined;
  /** Changed agents a checkpoint serializes per event-loop turn (see `SiteRuntimeOptions`). @defaultValue 250 */
  captureChunk: number;
  /** Longest wait, stopping, for the leases this node holds to be handed over. @defaultValue 2000 */
  handoverTimeoutMs: number;
  /**
   * How long a start tries again when NATS answers a setup step (streams, KV buckets) with a
   * transient failure — a timeout, no responders, no leader yet — before it fails.
   * @defaultValue 30000
   */
  setupRetryMs: number;
  /** Publisher tuning. @defaultValue `defaultPublisherOptions` */
  publisher: Partial<PublisherOptions>;
  /** Longest wait for every site to restore at start before `start()` fails. @defaultValue 60000 */
  startTimeoutMs: number;
  /**
   * Where interval history goes (tests pass one to watch or break it).
   * @defaultValue PostgreSQL when `config.database` is set, else LevelDB in `${config.dataDir}/intervals`
   */
  intervalSink: IntervalSink | undefined;
  /** Batching and retry of each site's history writer. @defaultValue `defaultSiteHistoryWriterOptions` */
  historyWriter: Partial<SiteHistoryWriterOptions>;
  /**
   * Called once when the node cannot go on (the WFM database stayed unreachable past
   * `dbRetrySeconds`); the owner stops the node — which writes the dump file — and exits non-zero.
   * @defaultValue `undefined`: the node only logs it
   */
  onFatal: ((error: WfmError) => void) | undefined;
  /**
   * xstate `inspect` observer given to every site, election and agent actor (`InspectBridge.observer`).
   * @defaultValue undefined
   */
  inspect: ((event: InspectionEvent) => void) | undefined;
}

export const defaultWfmNodeOptions: Omit<WfmNodeOptions, 'config' | 'nodeId' | 'logger'> = {
  reloadConfig: undefined,
  store: undefined,
  // A site's own defaults, so each has one owner (SiteHost's SiteRuntimeOptions).
  checkpointEveryMs: defaultSiteRuntimeOptions.checkpointEveryMs,
  checkpointEveryMessages: defaultSiteRuntimeOptions.checkpointEveryMessages,
  clock: undefined,
  publisher: {},
  startTimeoutMs: 60_000,
  handoverTimeoutMs: 2000,
  setupRetryMs: 30_000,
  captureChunk: defaultSiteRuntimeOptions.captureChunk,
  intervalSink: undefined,
  historyWriter: {},
  onFatal: undefined,
  inspect: undefined,
};
