import type { Decoded, Output } from '../domain/index.ts';
import type { SiteCheckpoint } from '../persistence/index.ts';
import type { DeadLetter } from '../streams/index.ts';

/** A refused input as a processor reports it; the site adds its id and the input's bytes. */
export type ProcessorDeadLetter = Omit<DeadLetter, 'site' | 'data'>;

/** What one input produced, in production order. */
export interface ProcessorResult {
  outputs: readonly Output[];
  dlq: readonly ProcessorDeadLetter[];
}

/** A processor's state to persist, serialized at capture (agent snapshots as JSON text). */
export interface ProcessorCapture {
  seq: number;
  site: unknown;
  agents: [agentId: string, json: string][];
}

/**
 * A {@link ProcessorCapture} taken now whose agents' JSON is made as `agents` is read (the state
 * at capture, whatever is applied meanwhile); `agentIds` are the agents taken, in that order.
 */
export interface ProcessorCaptureStream {
  seq: number;
  site: unknown;
  agentIds: string[];
  agents: AsyncIterable<[agentId: string, json: string]>;
}

/**
 * What computes a site's outputs from its input: the site's supervisor and agent actors, or,
 * for the node's lane of input no configured site owns, a rule that dead-letters it. A
 * `SiteRuntime` drives one through restores, checkpoints and rebuilds without knowing which.
 */
export interface SiteProcessor {
  /** Applies one input (synchronously, event time only). */
  process(seq: number, subject: string, decoded: Decoded): ProcessorResult;
  /** The state to persist now; the dirty set is taken. */
  capture(): ProcessorCapture;
  /** Agents a capture would serialize now. */
  readonly dirtyCount: number;
  /**
   * {@link capture} as a stream, serialized `chunk` agents at a time with `pause()` between them
   * as it is read: the state when it is called (taken synchronously), whatever input is applied
   * while it serializes.
   */
  captureStream(chunk: number, pause: () => Promise<void>): ProcessorCaptureStream;
  /** Puts agents back in the dirty set (their capture was not committed). */
  markDirty(agentIds: Iterable<string>): void;
  /** Stops its actors. */
  stop(): void;
}

/** Makes a site's processor from its checkpoint (`site` is the processor's own state) or anew. */
export type SiteProcessorFactory = (checkpoint: SiteCheckpoint | null) => SiteProcessor;
