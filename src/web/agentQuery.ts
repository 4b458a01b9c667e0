import type {
  ActivityCategory,
  ActualCategory,
  AdherenceState,
  AgentStatus,
  Impact,
  Presence,
  RoutingStatus,
} from '../domain/index.ts';

/** One agent as the visualizer's grid shows it (`GET /api/agents`). */
export interface AgentRow {
  site: string;
  agentId: string;
  /** This node's part in the agent's site. */
  role: 'primary' | 'backup';
  presence: Presence | null;
  routingStatus: RoutingStatus | null;
  status: AgentStatus | null;
  reason: string | null;
  /** Null: unknown (no adherence evaluated yet). */
  adherenceState: AdherenceState | null;
  /** Event time the adherence state began (null: unknown). */
  since: number | null;
  /** `(siteTime − since) / 1000`, on the site's event time, never the wall clock (null: unknown). */
  secondsInState: number | null;
  scheduledCategory: ActivityCategory | null;
  actualCategory: ActualCategory | null;
  impact: Impact | null;
  /** Out-of-adherence seconds since the start of the agent's oldest open interval (see `agentRow`). */
  outOfAdherenceTodaySecs: number;
}

export const AGENT_SORTS = ['severity', 'agent', 'state', 'since'] as const;
/** How `GET /api/agents` orders its rows. */
export type AgentSort = (typeof AGENT_SORTS)[number];

/** The `state` filter: an adherence state, or `Unknown` for none yet. */
export const AGENT_STATE_FILTERS = ['InAdherence', 'OutOfAdherence', 'Unscheduled', 'Unknown'] as const;
export type AgentStateFilter = (typeof AGENT_STATE_FILTERS)[number];

/** Most rows one page holds; a larger `limit` is clamped to it. */
export const MAX_AGENT_PAGE = 500;
export const DEFAULT_AGENT_PAGE = 50;

export interface AgentQuery {
  site?: string | undefined;
  state?: AgentStateFilter | undefined;
  /** Case-insensitive substring of the agent id or the reason. */
  q?: string | undefined;
  /** @defaultValue `'severity'` */
  sort?: AgentSort | undefined;
  /** @defaultValue 0 */
  offset?: number | undefined;
  /** Clamped to 0..{@link MAX_AGENT_PAGE}. @defaultValue {@link DEFAULT_AGENT_PAGE} */
  limit?: number | undefined;
}

/** `GET /api/agents`. */
export interface AgentPage {
  /** Rows matching the filters (all pages). */
  total: number;
  offset: number;
  limit: number;
  rows: AgentRow[];
}

/** Thrown for a query parameter out of its domain (the server answers 400). */
export class AgentQueryError extends Error {
  override name = 'AgentQueryError';
}

/**
 * Reads the query string of `GET /api/agents`.
 * @throws AgentQueryError for an unknown `state` or `sort`, or an `offset`/`limit` that is no
 *   non-negative integer
 */
export function parseAgentQuery(params: URLSearchParams): AgentQuery {
  const state = params.get('state') ?? undefined;
  if (state !== undefined && state !== '' && !(AGENT_STATE_FILTERS as readonly string[]).includes(state))
    throw new AgentQueryError(`state must be one of ${AGENT_STATE_FILTERS.join(', ')}, got ${state}`);
  const sort = params.get('sort') ?? undefined;
  if (sort !== undefined && sort !== '' && !(AGENT_SORTS as readonly string[]).includes(sort))
    throw new AgentQueryError(`sort must be one of ${AGENT_SORTS.join(', ')}, got ${sort}`);
  const count = (name: string): number | undefined => {
    const text = params.get(name);
    if (text === null || text === '') return undefined;
    if (!/^\d{1,15}$/.test(text)) throw new AgentQueryError(`${name} must be a non-negative integer`);
    return Number(text);
  };
  return {
    site: params.get('site') || undefined,
    state: (state || undefined) as AgentStateFilter | undefined,
    q: params.get('q') || undefined,
    sort: (sort || undefined) as AgentSort | undefined,
    offset: count('offset'),
    limit: count('limit'),
  };
}

// Severity groups: 0 out of adherence with negative impact, 1 other out of adherence, 2 the rest.
function group(row: AgentRow): number {
  if (row.adherenceState !== 'OutOfAdherence') return 2;
  return row.impact === 'Negative' ? 0 : 1;
}

function byId(a: AgentRow, b: AgentRow): number {
  if (a.agentId !== b.agentId) return a.agentId < b.agentId ? -1 : 1;
  return a.site < b.site ? -1 : a.site > b.site ? 1 : 0;
}

/** Unknown (null) sorts after every known value. */
function nullsLast(a: number | null, b: number | null, desc: boolean): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return desc ? b - a : a - b;
}

const STATE_ORDER: Record<AdherenceState, number> = { InAdherence: 0, OutOfAdherence: 1, Unscheduled: 2 };

/** The comparator of each sort; every one ends on agent id, then site, so the order is total. */
export const AGENT_COMPARATORS: Record<AgentSort, (a: AgentRow, b: AgentRow) => number> = {
  severity: (a, b) => {
    const ga = group(a);
    const gb = group(b);
    if (ga !== gb) return ga - gb;
    if (ga < 2) return nullsLast(a.secondsInState, b.secondsInState, true) || byId(a, b);
    return byId(a, b);
  },
  agent: byId,
  state: (a, b) =>
    nullsLast(
      a.adherenceState === null ? null : STATE_ORDER[a.adherenceState],
      b.adherenceState === null ? null : STATE_ORDER[b.adherenceState],
      false,
    ) || byId(a, b),
  since: (a, b) => nullsLast(a.since, b.since, false) || byId(a, b),
};

/**
 * Filters, sorts and pages agent rows (pure; `rows` is not changed). One pass filters; the page
 * is then found by a bounded heap of the first `offset + limit` rows (O(n log k)), or, when that
 * is a large part of the matches, by sorting them.
 *
 * Sorts: `severity` — out of adherence with negative impact first, then other out of
 * adherence, each longest `secondsInState` first; then the rest by agent id. `agent` — agent
 * id. `state` — InAdherence, OutOfAdherence, Unscheduled, unknown. `since` — earliest `since`
 * (longest in its state) first, unknown last. Ties go by agent id, then site; ids compare by
 * UTF-16 code units.
 */
export function queryAgents(rows: Iterable<AgentRow>, query: AgentQuery = {}): AgentPage {
  const offset = Math.max(0, Math.floor(query.offset ?? 0));
  const limit = Math.min(MAX_AGENT_PAGE, Math.max(0, Math.floor(query.limit ?? DEFAULT_AGENT_PAGE)));
  const compare = AGENT_COMPARATORS[query.sort ?? 'severity'];
  const { site, state } = query;
  const needle = query.q?.toLowerCase();
  const wantState = state === undefined ? undefined : state === 'Unknown' ? null : state;
  const matches: AgentRow[] = [];
  for (const row of rows) {
    if (site !== undefined && row.site !== site) continue;
    if (wantState !== undefined && row.adherenceState !== wantState) continue;
    if (
      needle !== undefined &&
      !row.agentId.toLowerCase().includes(needle) &&
      !row.reason?.toLowerCase().includes(needle)
    )
      continue;
    matches.push(row);
  }
  const total = matches.length;
  const k = Math.min(total, offset + limit);
  let first: AgentRow[];
  if (offset >= total || limit === 0) first = [];
  else if (k * 4 >= total) first = matches.sort(compare);
  else first = smallest(matches, k, compare);
  return { total, offset, limit, rows: first.slice(offset, offset + limit) };
}

/** The `k` smallest items by `compare`, sorted: a max-heap of k, then a sort of it. */
function smallest<T>(items: readonly T[], k: number, compare: (a: T, b: T) => number): T[] {
  const heap: T[] = [];
  const up = (i: number) => {
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (compare(heap[parent]!, item) >= 0) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  };
  const down = (i: number) => {
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && compare(heap[child + 1]!, heap[child]!) > 0) child++;
      if (compare(heap[child]!, item) <= 0) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  };
  for (const item of items) {
    if (heap.length < k) {
      heap.push(item);
      up(heap.length - 1);
    } else if (compare(item, heap[0]!) < 0) {
      heap[0] = item;
      down(0);
    }
  }
  return heap.sort(compare);
}
