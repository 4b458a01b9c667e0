import type { WfmConfig } from './WfmConfig.ts';

/**
 * What the configuration says about creating the contract's streams, in the shape
 * `ensureStreams` (src/streams) takes: `replicas` from `streams.replicas`. Everything else keeps
 * `ensureStreams`' defaults.
 */
export function ensureStreamsOptions(config: WfmConfig): { replicas: number } {
  return { replicas: config.streams.replicas };
}
