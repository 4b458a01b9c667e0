/**
 * What {@link place} decides from: the lanes (site ids) to host, the cluster's node ids and how
 * many copies of each lane to keep. Order and duplicates do not matter.
 */
export interface PlacementInput {
  lanes: readonly string[];
  nodes: readonly string[];
  /** Copies per lane including the primary: 1 + standby replicas. At least 1. */
  replicas: number;
}

/** Which nodes host which lanes, as {@link place} decides it. */
export interface Placement {
  /** lane -> node ids, preferred primary first, then backups in takeover order */
  byLane: ReadonlyMap<string, readonly string[]>;
  /** node -> lanes it hosts (sorted by lane id); every node is a key, possibly with no lanes */
  byNode: ReadonlyMap<string, readonly string[]>;
  /** copies each lane gets: min(replicas, nodes.length) */
  copies: number;
}

/**
 * The rendezvous (highest random weight) score of a node for a lane: an unsigned 32-bit hash of
 * `${lane}\u0000${node}` (FNV-1a over the UTF-16 code units, then the murmur3 finalizer so that
 * near-identical ids still spread). Stable across processes and versions: every node of the
 * cluster must compute the same number.
 */
export function rendezvousScore(lane: string, node: string): number {
  const key = `${lane}\u0000${node}`;
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  // murmur3 fmix32: FNV-1a alone leaves the high bits poorly mixed for short keys.
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Decides which nodes host which lanes, deterministically: every node computing it from the same
 * inputs (in any order) gets the same answer. Pure: no I/O, clock or randomness.
 *
 * Each lane gets `copies = min(replicas, nodes)` distinct nodes. A lane prefers nodes by
 * {@link rendezvousScore}, highest first (ties by node id), which keeps placement sticky: adding or
 * removing a node moves mostly the lanes that gain or lose that node. Balance comes from caps,
 * filled greedily with lanes in lane-id order:
 * - primaries first: each lane takes its highest-ranked node that is primary of fewer than
 *   ceil(lanes / nodes) lanes;
 * - then backups: each lane takes its highest-ranked other nodes that host fewer than
 *   ceil(lanes * copies / nodes) lanes, in rank order.
 * Greedy can corner a late lane (the only nodes with room already host it): then backups of other
 * lanes shift along an augmenting path (a max-flow step) to make room; under these caps one always
 * exists. As a guard only, a lane still short takes its highest-ranked nodes not yet on it,
 * ignoring the caps. A lane never gets the same node twice.
 *
 * Throws RangeError when `replicas` is not an integer of at least 1. With no nodes every lane
 * gets no node.
 */
export function place(input: PlacementInput): Placement {
  const { replicas } = input;
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new RangeError(`replicas must be an integer of at least 1, got ${replicas}`);
  }
  const lanes = sortedUnique(input.lanes);
  const nodes = sortedUnique(input.nodes);
  const copies = Math.min(replicas, nodes.length);

  const ranked = new Map<string, readonly string[]>();
  for (const lane of lanes) ranked.set(lane, rankNodes(lane, nodes));

  const assigned = new Map<string, string[]>(lanes.map((lane) => [lane, []]));
  const hosted = new Map<string, number>(nodes.map((node) => [node, 0]));

  if (copies > 0) {
    const primaryCap = Math.ceil(lanes.length / nodes.length);
    const hostCap = Math.ceil((lanes.length * copies) / nodes.length);
    const primaries = new Map<string, number>(nodes.map((node) => [node, 0]));

    for (const lane of lanes) {
      const chosen = assigned.get(lane)!;
      const pick =
        ranked.get(lane)!.find((n) => primaries.get(n)! < primaryCap && hosted.get(n)! < hostCap) ??
        ranked.get(lane)![0]!;
      chosen.push(pick);
      primaries.set(pick, primaries.get(pick)! + 1);
      hosted.set(pick, hosted.get(pick)! + 1);
    }

    for (const lane of lanes) {
      const chosen = assigned.get(lane)!;
      for (const node of ranked.get(lane)!) {
        if (chosen.length >= copies) break;
        if (chosen.includes(node) || hosted.get(node)! >= hostCap) continue;
        chosen.push(node);
        hosted.set(node, hosted.get(node)! + 1);
      }
    }

    // Greedy can corner a late lane: the only nodes with room already host it. Shift backups of
    // earlier lanes along an augmenting path to make room; one always exists under these caps.
    for (const lane of lanes) {
      const chosen = assigned.get(lane)!;
      while (chosen.length < copies) {
        if (!augment(lane, lanes, ranked, assigned, hosted, hostCap)) break;
      }
      // Guard only: should no path exist, take the lane's best remaining nodes regardless.
      for (const node of ranked.get(lane)!) {
        if (chosen.length >= copies) break;
        if (chosen.includes(node)) continue;
        chosen.push(node);
        hosted.set(node, hosted.get(node)! + 1);
      }
    }
  }

  // Backups in takeover order: the rank order among them (the primary stays first).
  const byLane = new Map<string, readonly string[]>();
  const byNode = new Map<string, string[]>(nodes.map((node) => [node, []]));
  for (const lane of lanes) {
    const [primary, ...backups] = assigned.get(lane)!;
    const order = ranked.get(lane)!;
    backups.sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const hosts = primary === undefined ? [] : [primary, ...backups];
    byLane.set(lane, Object.freeze(hosts));
    for (const node of hosts) byNode.get(node)!.push(lane);
  }
  const frozenByNode = new Map<string, readonly string[]>();
  for (const [node, hostedLanes] of byNode) frozenByNode.set(node, Object.freeze(hostedLanes));
  return { byLane, byNode: frozenByNode, copies };
}

/**
 * Gives `lane` one more backup without exceeding `hostCap`, breadth-first over the flow network
 * lanes -> nodes: `lane` takes node n1; if n1 is full, a lane holding n1 as a backup hands it over
 * and takes n2 instead, and so on until a node with room. Primaries never move. Visits nodes in
 * rank order and lanes in id order, so the path found is deterministic. False when none exists.
 */
function augment(
  lane: string,
  lanes: readonly string[],
  ranked: ReadonlyMap<string, readonly string[]>,
  assigned: Map<string, string[]>,
  hosted: Map<string, number>,
  hostCap: number,
): boolean {
  // Each reached node remembers the lane that would take it (and the node that lane gives up).
  const via = new Map<string, { taker: string; gives: string | null }>();
  const seenLanes = new Set<string>([lane]);
  const queue: { taker: string; gives: string | null }[] = [{ taker: lane, gives: null }];
  for (let head = 0; head < queue.length; head++) {
    const step = queue[head]!;
    const holds = assigned.get(step.taker)!;
    for (const node of ranked.get(step.taker)!) {
      if (holds.includes(node) || via.has(node)) continue;
      via.set(node, step);
      if (hosted.get(node)! < hostCap) {
        applyPath(node, via, assigned, hosted);
        return true;
      }
      for (const other of lanes) {
        const otherHolds = assigned.get(other)!;
        if (seenLanes.has(other) || otherHolds[0] === node || !otherHolds.includes(node)) continue;
        seenLanes.add(other);
        queue.push({ taker: other, gives: node });
      }
    }
  }
  return false;
}

/** Applies the augmenting path ending at `last` (a node with room) that {@link augment} found. */
function applyPath(
  last: string,
  via: ReadonlyMap<string, { taker: string; gives: string | null }>,
  assigned: Map<string, string[]>,
  hosted: Map<string, number>,
): void {
  hosted.set(last, hosted.get(last)! + 1);
  let node: string | null = last;
  while (node !== null) {
    const { taker, gives }: { taker: string; gives: string | null } = via.get(node)!;
    const holds = assigned.get(taker)!;
    if (gives !== null) holds.splice(holds.indexOf(gives), 1);
    holds.push(node);
    node = gives;
  }
}

/** A lane's nodes, best first: rendezvous score descending, ties by node id. */
function rankNodes(lane: string, nodes: readonly string[]): readonly string[] {
  return nodes
    .map((node) => ({ node, score: rendezvousScore(lane, node) }))
    .sort((a, b) => b.score - a.score || compareIds(a.node, b.node))
    .map((entry) => entry.node);
}

function sortedUnique(ids: readonly string[]): string[] {
  return [...new Set(ids)].sort(compareIds);
}

/** Code-unit order, independent of locale (unlike localeCompare). */
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
