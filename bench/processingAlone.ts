/**
 * The throughput scenario's bound on processing (#12: "what the profile says bounds it"): the
 * same backlog the node read, run through the node's processing alone — `decodeInput` and each
 * site's `SiteSupervisor` with its agent actors, the very code a node runs, as `wfm-agg replay`
 * does (`SiteReplay`) — in this process, with no NATS, no checkpoints and no interval history.
 * Its CPU per input is the least any node running this code adds to the I/O floor's; a node at
 * 0.8 × the floor may add at most a quarter of the floor's CPU per input (both runs keep the
 * cores busy, so their rates follow their CPU per input), for all of it and its checkpoints.
 *
 * Also the CPU of what the floor does too and so costs the node nothing extra: turning each
 * payload into text and `JSON.parse` (which `decodeInput` does first).
 */
import { SiteReplay } from '../src/actors/index.ts';
import { parseSubject, type SiteInputMessage } from '../src/domain/index.ts';
import type { WireMessage } from './nodeBench.ts';

/** What {@link processingAlone} measured, CPU of this process per input in µs. */
export interface ProcessingAlone {
  /** Decoding and the sites' agent steps, outputs built (not encoded for the wire). */
  processing: number;
  /** UTF-8 decoding and `JSON.parse` of the payloads alone (part of `processing`). */
  parsing: number;
  /** Inputs processed. */
  inputs: number;
  /** Outputs the sites produced: the node's count from the same backlog, if it is deterministic. */
  outputs: number;
}

/**
 * CPU µs (user + system) of this process while `fn` runs, from a collected heap when node runs
 * with `--expose-gc` (as `npm run bench` does): what earlier scenarios left is not collected on
 * this one's time.
 */
function cpuMicros(fn: () => void): number {
  (globalThis as { gc?: () => void }).gc?.();
  const before = process.cpuUsage();
  fn();
  const used = process.cpuUsage(before);
  return used.user + used.system;
}

/**
 * Runs `backlog` — what `WFM_IN` holds from sequence 1, in order — through a fresh
 * {@link SiteReplay} per site of tenant `tenant` (its agent options otherwise the defaults, as the
 * bench's node runs them), and parses every payload once more on its own.
 * @throws Error when a message is for another tenant or a site not in `sites`.
 */
export function processingAlone(
  backlog: Iterable<WireMessage>,
  tenant: string,
  sites: readonly string[],
): ProcessingAlone {
  const messages: SiteInputMessage[] = [];
  for (const m of backlog) messages.push({ seq: messages.length + 1, subject: m.subject, data: m.data });
  const replays = new Map(
    sites.map((site) => [site, new SiteReplay({ agent: { tenant, site }, decode: {} })] as const),
  );
  // Routed as the node routes it, by its subject's site.
  const routed = messages.map((m) => {
    const address = parseSubject(m.subject);
    const replay = address?.tenant === tenant ? replays.get(address.site) : undefined;
    if (replay === undefined) throw new Error(`${m.subject}: not a site of ${tenant} here`);
    return replay;
  });
  let outputs = 0;
  const processing = cpuMicros(() => {
    for (let i = 0; i < messages.length; i++) outputs += routed[i]!.apply(messages[i]!).outputs.length;
  });
  for (const replay of replays.values()) replay.stop();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let sink = 0;
  const parsing = cpuMicros(() => {
    for (const m of messages) sink += (JSON.parse(decoder.decode(m.data)) as { ts?: number }).ts ?? 0;
  });
  if (sink === 0) throw new Error('nothing parsed');
  const n = messages.length;
  return { processing: processing / n, parsing: parsing / n, inputs: n, outputs };
}
