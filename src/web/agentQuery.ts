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
  /** Out-of-adherence seconds of the site's local day so far (see `outOfAdherenceSecs`). */
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
 * Filters, sorts and pages agent rows (pure; `rows` is not changed). One pass over `rows`
 * filters and keeps the first `offset + limit` matches in a bounded heap (O(n log k)); a row
 * that is neither matched nor among them is dropped at once, so `rows` may be a generator
 * making rows on the fly: at 100k agents only the page's rows outlive the pass.
 *
 * Sorts: `severity` — out of adherence with negative impact first, then other out of
 * adherence, each longest `secondsInState` first; then the rest by agent id. `agent` — agent
 * id. `state` — InAdherence, OutOfAdherence, Unscheduled, unknown. `since` — earliest `since`
 * (longest in its state) first, unknown last. Ties go by agent id, then site; ids compare by
 * UTF-16 code units.
 */
export function queryAgents(rows: Iterable<AgentRow>, query: AgentQuery = {}): AgentPage {
  const page = new AgentPageCollector(query);
  for (const row of rows) page.offer(row);
  return page.page();
}

/**
 * {@link queryAgents} one agent at a time: filters each row offered and keeps the first
 * `offset + limit` matches in a bounded heap. An offered row may be a scratch object the caller
 * fills again for the next agent: it is filtered and compared as it is, and only what `keep`
 * makes of it — a copy with the fields no filter or sort reads — is held, for the few rows that
 * are among the first so far.
 */
export class AgentPageCollector {
  readonly #offset: number;
  readonly #limit: number;
  readonly #site: string | undefined;
  readonly #wantState: AdherenceState | null | undefined;
  readonly #needle: string | undefined;
  readonly #first: BoundedHeap<AgentRow>;
  #total = 0;

  constructor(query: AgentQuery = {}) {
    this.#offset = Math.max(0, Math.floor(query.offset ?? 0));
    this.#limit = Math.min(MAX_AGENT_PAGE, Math.max(0, Math.floor(query.limit ?? DEFAULT_AGENT_PAGE)));
    const { state } = query;
    this.#site = query.site;
    this.#wantState = state === undefined ? undefined : state === 'Unknown' ? null : state;
    this.#needle = query.q?.toLowerCase();
    this.#first = new BoundedHeap<AgentRow>(
      this.#limit === 0 ? 0 : this.#offset + this.#limit,
      AGENT_COMPARATORS[query.sort ?? 'severity'],
    );
  }

  /** Offers one agent's row; `keep` (default: the row itself) makes what the page holds of it. */
  offer(row: AgentRow, keep?: (row: AgentRow) => AgentRow): void {
    if (this.#site !== undefined && row.site !== this.#site) return;
    if (this.#wantState !== undefined && row.adherenceState !== this.#wantState) return;
    const needle = this.#needle;
    if (
      needle !== undefined &&
      !row.agentId.toLowerCase().includes(needle) &&
      !row.reason?.toLowerCase().includes(needle)
    )
      return;
    this.#total++;
    this.#first.offer(row, keep);
  }

  /** The page of the rows offered so far. */
  page(): AgentPage {
    const offset = this.#offset;
    const limit = this.#limit;
    return { total: this.#total, offset, limit, rows: this.#first.sorted().slice(offset, offset + limit) };
  }
}

/** The `k` smallest items offered, by `compare`: a max-heap of at most k. */
class BoundedHeap<T> {
  readonly #k: number;
  readonly #compare: (a: T, b: T) => number;
  readonly #heap: T[] = [];

  constructor(k: number, compare: (a: T, b: T) => number) {
    this.#k = k;
    this.#compare = compare;
  }

  /** Offers `item`; what is held is `keep(item)` (by default the item itself). */
  offer(item: T, keep?: (item: T) => T): void {
    const heap = this.#heap;
    if (heap.length < this.#k) {
      heap.push(keep === undefined ? item : keep(item));
      this.#up(heap.length - 1);
    } else if (heap.length > 0 && this.#compare(item, heap[0]!) < 0) {
      heap[0] = keep === undefined ? item : keep(item);
      this.#down(0);
    }
  }

  /** The items kept, smallest first. */
  sorted(): T[] {
    return this.#heap.slice().sort(this.#compare);
  }

  #up(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#compare(heap[parent]!, item) >= 0) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = item;
  }

  #down(i: number): void {
    const heap = this.#heap;
    const item = heap[i]!;
    const n = heap.length;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      if (child + 1 < n && this.#compare(heap[child + 1]!, heap[child]!) > 0) child++;
      if (this.#compare(heap[child]!, item) <= 0) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = item;
  }
}
