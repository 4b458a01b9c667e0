// The visualizer: three hash-routed views over the node's JSON/SSE API.
//   #/cluster            nodes, sites, rates, lag, DLQ (live from SSE `status`)
//   #/agents             the RTA grid, one page at a time (refetched on SSE `agents`)
//   #/agent/<site>/<id>  one agent actor: its statechart lit, the inputs that brought it there
// The DOM is built with createElement/textContent only: nothing from the server is ever parsed as
// HTML, so a reason code like `<img onerror=…>` stays text.

import { listTransitions, renderStatechart } from './statechart.js';

// ---------------------------------------------------------------------------------------------
// DOM and formatting helpers
// ---------------------------------------------------------------------------------------------

/** `h('td', { class: 'x' }, 'text', child)`: an element; strings become text nodes. */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const dash = (v) => (v === undefined || v === null || v === '' ? '—' : String(v));

/** Seconds as m:ss (h:mm:ss past an hour). */
export function clock(secs) {
  if (typeof secs !== 'number' || !Number.isFinite(secs) || secs < 0) return '—';
  const s = Math.floor(secs);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return hh > 0 ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${String(mm).padStart(2, '0')}:${ss}`;
}

function time(ts) {
  if (typeof ts !== 'number' || ts < 0) return '—';
  return new Date(ts)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.000Z$|Z$/, ' UTC');
}

/** A state value (string or nested object) as "running.role.primary / running.checkpoints.idle". */
function valueText(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'string') return v;
  if (typeof v !== 'object') return String(v);
  return Object.entries(v)
    .map(([k, sub]) =>
      sub && typeof sub === 'object' && Object.keys(sub).length > 0
        ? `${k}.${valueText(sub)}`
        : `${k}.${sub}`,
    )
    .join(' / ');
}

/** The row colour class an RTA grid gives an adherence state. */
export function adherenceClass(state, impact) {
  if (state === 'InAdherence') return 'adh-in';
  if (state === 'OutOfAdherence') return impact === 'Negative' ? 'adh-out-neg' : 'adh-out';
  return 'adh-none';
}

async function getJson(url) {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) {
    const err = new Error(body?.error ?? `${res.status} ${res.statusText}`);
    err.status = res.status;
    throw err;
  }
  return body;
}

const view = () => document.getElementById('view');
const banner = (text) => {
  const el = document.getElementById('conn');
  el.textContent = text;
  el.className = text === 'live' ? 'live' : 'down';
};

// ---------------------------------------------------------------------------------------------
// Live data: one EventSource for the whole page
// ---------------------------------------------------------------------------------------------

const live = { status: null, sites: null, onStatus: null, onAgents: null };

function connectEvents() {
  const es = new EventSource('/api/events');
  es.addEventListener('open', () => banner('live'));
  es.addEventListener('error', () => banner('reconnecting…'));
  es.addEventListener('status', (e) => {
    const status = JSON.parse(e.data);
    live.status = status;
    if (Array.isArray(status.sites)) live.sites = status.sites;
    live.onStatus?.(status);
  });
  es.addEventListener('agents', (e) => live.onAgents?.(JSON.parse(e.data)));
}

// ---------------------------------------------------------------------------------------------
// Cluster view
// ---------------------------------------------------------------------------------------------

function table(headers, rows, attrs = {}) {
  return h(
    'table',
    attrs,
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        headers.map((t) => h('th', {}, t)),
      ),
    ),
    h('tbody', {}, rows),
  );
}

/**
 * Which node leads and which back each site: of the whole cluster as every live node answered
 * (`cluster`), or without it of the sites this node hosts (its leader and its placement's replicas).
 */
function nodeTable(nodes, sites, cluster) {
  const rows = cluster?.rows ?? [];
  const names = [
    ...new Set([
      ...nodes.map(String),
      ...sites.flatMap((x) => x.replicas ?? []),
      ...rows.flatMap((r) => [...(r.primary ? [r.primary] : []), ...r.backups]),
    ]),
  ].sort();
  return table(
    ['node', 'leads', 'backs'],
    names.map((n) => {
      const leads = cluster
        ? rows.filter((r) => r.primary === n).map((r) => r.site)
        : sites.filter((x) => x.leader === n).map((x) => x.site);
      const backs = cluster
        ? rows.filter((r) => r.backups.includes(n)).map((r) => r.site)
        : sites.filter((x) => x.leader !== n && (x.replicas ?? []).includes(n)).map((x) => x.site);
      const silent = cluster && !cluster.answered.includes(n);
      return h(
        'tr',
        { 'data-node': n },
        h(
          'td',
          {},
          n,
          silent ? h('span', { class: 'tag', title: 'did not answer this second' }, 'silent') : null,
        ),
        h('td', {}, leads.join(', ') || '—'),
        h('td', {}, backs.join(', ') || '—'),
      );
    }),
    { class: 'grid', id: 'nodes' },
  );
}

/** Every site of the cluster: its primary (none: leaderless), backups and how far they lag. */
function clusterSiteTable(cluster) {
  return table(
    ['site', 'primary', 'epoch', 'backups', 'processedSeq', 'backup lag', 'agents'],
    cluster.rows.map((r) =>
      h(
        'tr',
        { class: r.primary ? 'role-primary' : 'leaderless', 'data-site': r.site },
        h('td', {}, h('a', { href: `#/agents?site=${encodeURIComponent(r.site)}` }, r.site)),
        h('td', {}, r.primary ?? 'none'),
        h('td', { class: 'num' }, dash(r.epoch)),
        h('td', {}, r.backups.join(', ') || '—'),
        h('td', { class: 'num' }, dash(r.processedSeq)),
        h('td', { class: 'num' }, dash(r.backupLag)),
        h('td', { class: 'num' }, dash(r.agents)),
      ),
    ),
    { class: 'grid', id: 'cluster-sites' },
  );
}

function renderCluster(root, s) {
  const sites = s.sites ?? [];
  const rates = s.rates ?? {};
  const dlq = Object.entries(s.dlq ?? {});
  const nodes = Array.isArray(s.nodes) ? s.nodes : [];
  root.replaceChildren(
    h(
      'section',
      { class: 'cards' },
      card('node', s.nodeId),
      card(
        'live nodes',
        nodes.length,
        nodes.map((n) => (typeof n === 'string' ? n : (n.nodeId ?? JSON.stringify(n)))).join(', '),
      ),
      card('events/s', fmtNum(rates.eventsPerSec)),
      card('outputs/s', fmtNum(rates.outputsPerSec)),
      card('lag', dash(s.lag)),
      card(
        'checkpoint age',
        s.checkpointAgeSecs === undefined || s.checkpointAgeSecs === null
          ? '—'
          : `${fmtNum(s.checkpointAgeSecs)} s`,
      ),
      card(
        'database',
        s.database === null || s.database === undefined
          ? 'none'
          : typeof s.database === 'object'
            ? (s.database.state ?? JSON.stringify(s.database))
            : s.database,
        typeof s.database === 'object' && s.database?.sink ? s.database.sink : null,
      ),
    ),
    h('h2', {}, 'Nodes'),
    nodeTable(nodes, sites, s.cluster ?? null),
    ...(s.cluster ? [h('h2', {}, 'Sites in the cluster'), clusterSiteTable(s.cluster)] : []),
    h('h2', {}, 'Sites on this node'),
    table(
      [
        'site',
        'role',
        'epoch',
        'leader',
        'lifecycle',
        'election',
        'site time',
        'processedSeq',
        'checkpointSeq',
        'agents',
      ],
      sites.map((x) =>
        h(
          'tr',
          { class: `role-${x.role}`, 'data-site': x.site },
          h('td', {}, h('a', { href: `#/agents?site=${encodeURIComponent(x.site)}` }, x.site)),
          h('td', {}, dash(x.role)),
          h('td', { class: 'num' }, dash(x.epoch)),
          h('td', {}, dash(x.leader)),
          h('td', {}, valueText(x.state)),
          h('td', {}, valueText(x.election)),
          h('td', {}, time(x.siteTime)),
          h('td', { class: 'num' }, dash(x.processedSeq)),
          h('td', { class: 'num' }, dash(x.checkpointSeq)),
          h('td', { class: 'num' }, dash(x.agents)),
        ),
      ),
      { class: 'grid', id: 'sites' },
    ),
    h('h2', {}, 'Dead-letter queue'),
    dlq.length === 0
      ? h('p', { class: 'muted' }, 'no rejected input')
      : table(
          ['reason', 'count'],
          dlq.map(([r, n]) => h('tr', {}, h('td', {}, r), h('td', { class: 'num' }, n))),
          { class: 'grid small', id: 'dlq' },
        ),
  );
}

function card(label, value, detail) {
  return h(
    'div',
    { class: 'card' },
    h('div', { class: 'card-label' }, label),
    h('div', { class: 'card-value' }, dash(value)),
    detail ? h('div', { class: 'card-detail' }, detail) : null,
  );
}

function fmtNum(n) {
  return typeof n === 'number' ? (Math.round(n * 10) / 10).toLocaleString('en') : '—';
}

function showCluster() {
  const root = h('div', { id: 'cluster' }, h('p', { class: 'muted' }, 'waiting for the node…'));
  view().replaceChildren(h('h1', {}, 'Cluster'), root);
  const draw = (s) => renderCluster(root, s);
  if (live.status) draw(live.status);
  else
    getJson('/api/status')
      .then((s) => {
        if (!live.status) draw({ ...s, nodes: s.nodes ?? [] });
      })
      .catch(() => {});
  live.onStatus = draw;
}

// ---------------------------------------------------------------------------------------------
// Agents view: the RTA grid
// ---------------------------------------------------------------------------------------------

const STATES = ['InAdherence', 'OutOfAdherence', 'Unscheduled', 'Unknown'];
const SORTS = [
  ['severity', 'severity'],
  ['agent', 'agent'],
  ['state', 'adherence state'],
  ['since', 'time in state'],
];
const PAGE = 50;

const grid = {
  query: { site: '', state: '', q: '', sort: 'severity', offset: 0 },
  page: null,
  inFlight: false,
  pending: false,
  visible: new Set(),
  /** The drawn rows by agent (`site/agentId`): the page's, kept across redraws. */
  rows: new Map(),
  els: null,
};

function gridUrl() {
  const q = grid.query;
  const p = new URLSearchParams();
  if (q.site) p.set('site', q.site);
  if (q.state) p.set('state', q.state);
  if (q.q) p.set('q', q.q);
  p.set('sort', q.sort);
  p.set('offset', String(q.offset));
  p.set('limit', String(PAGE));
  return `/api/agents?${p}`;
}

/** Fetches the visible page; at most one request in flight and one pending behind it. */
function refreshGrid() {
  if (grid.inFlight) {
    grid.pending = true;
    return;
  }
  grid.inFlight = true;
  const url = gridUrl();
  getJson(url)
    .then((page) => {
      // A newer query is waiting: skip this stale page, the pending fetch brings the right one.
      if (grid.els && !(grid.pending && url !== gridUrl())) drawGrid(page);
    })
    .catch((err) => {
      if (grid.els) grid.els.status.textContent = `could not load agents: ${err.message}`;
    })
    .finally(() => {
      grid.inFlight = false;
      if (grid.pending) {
        grid.pending = false;
        refreshGrid();
      }
    });
}

function siteOptions(select, sites, current) {
  const names = [...new Set((sites ?? []).map((s) => s.site))].sort();
  if (current && !names.includes(current)) names.push(current);
  const have = [...select.options].map((o) => o.value).join('|');
  if (have === ['', ...names].join('|')) return;
  select.replaceChildren(
    h('option', { value: '' }, 'all sites'),
    names.map((n) => h('option', { value: n }, n)),
  );
  select.value = current;
}

function showAgents(params) {
  const q = grid.query;
  if (params.has('site')) q.site = params.get('site') ?? '';
  const site = h('select', { id: 'f-site', 'aria-label': 'site' });
  const state = h(
    'select',
    { id: 'f-state', 'aria-label': 'adherence state' },
    h('option', { value: '' }, 'all states'),
    STATES.map((s) => h('option', { value: s }, s)),
  );
  const text = h('input', {
    id: 'f-q',
    type: 'search',
    placeholder: 'agent, status, reason…',
    'aria-label': 'search',
  });
  const sort = h(
    'select',
    { id: 'f-sort', 'aria-label': 'sort' },
    SORTS.map(([v, t]) => h('option', { value: v }, `sort: ${t}`)),
  );
  const prev = h('button', { id: 'prev', type: 'button' }, '‹ prev');
  const next = h('button', { id: 'next', type: 'button' }, 'next ›');
  const range = h('span', { id: 'range' });
  const status = h('span', { id: 'grid-status', class: 'muted' });
  const body = h('tbody');
  siteOptions(site, live.sites, q.site);
  state.value = q.state;
  text.value = q.q;
  sort.value = q.sort;

  const requery = () => {
    q.offset = 0;
    refreshGrid();
  };
  site.addEventListener('change', () => {
    q.site = site.value;
    requery();
  });
  state.addEventListener('change', () => {
    q.state = state.value;
    requery();
  });
  sort.addEventListener('change', () => {
    q.sort = sort.value;
    requery();
  });
  let debounce;
  text.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => {
      q.q = text.value.trim();
      requery();
    }, 250);
  });
  prev.addEventListener('click', () => {
    q.offset = Math.max(0, q.offset - PAGE);
    refreshGrid();
  });
  next.addEventListener('click', () => {
    if (grid.page && q.offset + PAGE < grid.page.total) {
      q.offset += PAGE;
      refreshGrid();
    }
  });

  grid.els = { body, range, prev, next, status, site };
  grid.rows = new Map();
  view().replaceChildren(
    h('h1', {}, 'Agents'),
    h(
      'div',
      { class: 'toolbar' },
      site,
      state,
      text,
      sort,
      h('span', { class: 'spacer' }),
      status,
      prev,
      range,
      next,
    ),
    table(
      GRID_CELLS.map((c) => c.head),
      [],
      { class: 'grid rta', id: 'agents' },
    ),
  );
  view().querySelector('#agents tbody').replaceWith(body);
  live.onAgents = (msg) => {
    const changed = msg.changed ?? [];
    if (msg.more || changed.some((id) => grid.visible.has(id))) refreshGrid();
    // A new agent may belong on this page: refetch when the page is not full yet.
    else if (changed.length > 0 && grid.page && grid.page.rows.length < PAGE) refreshGrid();
  };
  live.onStatus = () => siteOptions(site, live.sites, q.site);
  if (!live.sites)
    getJson('/api/sites')
      .then((s) => {
        live.sites = s;
        siteOptions(site, s, q.site);
      })
      .catch(() => {});
  refreshGrid();
}

/**
 * Where the keyboard is in the grid's rows: the agent of the focused row, and whether its link
 * (not the row) has the focus; null when the focus is elsewhere.
 */
function gridFocus(body) {
  const el = document.activeElement;
  const row = el !== null && body.contains(el) ? el.closest('tr[data-agent]') : null;
  return row === null ? null : { agent: row.dataset.agent, link: el.tagName === 'A' };
}

/**
 * The grid's columns, left to right: each its heading, and what it shows of a row as text
 * (`text`), or content it builds (`build`) with what that depends on (`key`).
 */
const GRID_CELLS = [
  {
    head: 'site',
    key: (r) => `${r.site}\u0000${r.role}`,
    build: (r) => [
      r.site,
      r.role === 'backup' ? h('span', { class: 'tag', title: 'read from a hot backup' }, 'backup') : null,
    ],
  },
  {
    head: 'agent',
    class: 'agent-id',
    key: () => '',
    build: (r) => [h('a', { href: agentHref(r) }, r.agentId)],
  },
  { head: 'presence', text: (r) => dash(r.presence) },
  { head: 'routing', text: (r) => dash(r.routingStatus) },
  {
    head: 'status / reason',
    class: 'reason',
    text: (r) => `${dash(r.status)}${r.reason ? ` · ${r.reason}` : ''}`,
  },
  { head: 'adherence', class: 'adh', text: (r) => r.adherenceState ?? 'Unknown' },
  { head: 'in state', class: 'num', text: (r) => clock(r.secondsInState) },
  { head: 'scheduled', text: (r) => dash(r.scheduledCategory) },
  { head: 'actual', text: (r) => dash(r.actualCategory) },
  { head: 'impact', text: (r) => dash(r.impact) },
  {
    head: 'min out today',
    class: 'num',
    text: (r) =>
      typeof r.outOfAdherenceTodaySecs === 'number'
        ? String(Math.floor(r.outOfAdherenceTodaySecs / 60))
        : '—',
  },
];

const agentHref = (r) => `#/agent/${encodeURIComponent(r.site)}/${encodeURIComponent(r.agentId)}`;

/**
 * The row of agent `key` (made on its first page), brought up to date with `r`: only a cell
 * whose text changed is written. The grid is redrawn about once a second while agents change;
 * rebuilding its rows each time took away, once a second, whatever the user had on them: a text
 * selection (an agent id being copied), the hover, the keyboard focus.
 */
function gridRow(key, r) {
  let row = grid.rows.get(key);
  if (row === undefined) {
    const href = agentHref(r);
    const tr = h('tr', {
      'data-agent': key,
      tabindex: 0,
      onclick: () => {
        location.hash = href;
      },
      onkeydown: (e) => {
        if (e.key === 'Enter') location.hash = href;
      },
    });
    const cells = GRID_CELLS.map((c) => h('td', c.class ? { class: c.class } : {}));
    tr.append(...cells);
    row = { tr, cells, shown: [] };
    grid.rows.set(key, row);
  }
  const cls = `agent ${adherenceClass(r.adherenceState ?? 'Unknown', r.impact)}`;
  if (row.tr.className !== cls) row.tr.className = cls;
  GRID_CELLS.forEach((c, i) => {
    const shown = c.text ? c.text(r) : c.key(r);
    if (row.shown[i] === shown) return;
    row.shown[i] = shown;
    if (c.text) row.cells[i].textContent = shown;
    else row.cells[i].replaceChildren(...c.build(r).filter((x) => x !== null));
  });
  return row.tr;
}

function drawGrid(page) {
  const { body, range, prev, next, status } = grid.els;
  grid.page = page;
  const keys = page.rows.map((r) => `${r.site}/${r.agentId}`);
  grid.visible = new Set(keys);
  status.textContent = '';
  // Moving a row (a new order) takes the keyboard focus off it: put it back on the same agent.
  const focus = gridFocus(body);
  const rows = page.rows.map((r, i) => gridRow(keys[i], r));
  for (const [key, row] of grid.rows) {
    if (grid.visible.has(key)) continue;
    row.tr.remove();
    grid.rows.delete(key);
  }
  // In page order, moving only the rows out of place; what is left after them goes.
  let at = body.firstChild;
  for (const tr of rows) {
    if (at === tr) at = tr.nextSibling;
    else body.insertBefore(tr, at);
  }
  while (at !== null) {
    const after = at.nextSibling;
    at.remove();
    at = after;
  }
  if (focus !== null && !body.contains(document.activeElement)) {
    const row = grid.rows.get(focus.agent)?.tr;
    (focus.link ? row?.querySelector('a') : row)?.focus({ preventScroll: true });
  }
  if (page.rows.length === 0)
    body.append(h('tr', {}, h('td', { colspan: GRID_CELLS.length, class: 'muted' }, 'no agents match')));
  const from = page.total === 0 ? 0 : page.offset + 1;
  range.textContent = `${from}–${page.offset + page.rows.length} of ${page.total}`;
  prev.disabled = page.offset === 0;
  next.disabled = page.offset + page.rows.length >= page.total;
}

// ---------------------------------------------------------------------------------------------
// Agent view: one actor, its statechart, and why it is where it is
// ---------------------------------------------------------------------------------------------

let machines = null;

/** The `ts` of an input's raw text, or null. */
function inputTs(text) {
  try {
    const ts = JSON.parse(text)?.ts;
    return typeof ts === 'number' ? ts : null;
  } catch {
    return null;
  }
}

function prettyData(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return String(text);
  }
}

function chart(title, def, value, id) {
  if (!def)
    return h(
      'section',
      { class: 'chart' },
      h('h3', {}, title),
      h('p', { class: 'muted' }, 'machine not served'),
    );
  const rows = listTransitions(def, value);
  return h(
    'section',
    { class: 'chart', id },
    h('h3', {}, title, h('span', { class: 'muted' }, ` — ${valueText(value)}`)),
    renderStatechart(def, value),
    h(
      'details',
      {},
      h('summary', {}, `transitions (${rows.length})`),
      table(
        ['from', 'event', 'to', 'guard'],
        rows.map((t) =>
          h(
            'tr',
            { class: t.active ? 'enabled' : '' },
            h('td', {}, t.source),
            h('td', {}, t.event),
            h('td', {}, t.target),
            h('td', {}, t.guard),
          ),
        ),
        { class: 'grid small' },
      ),
    ),
  );
}

function generic(v) {
  if (v === null || v === undefined) return h('p', { class: 'muted' }, 'none');
  return h('pre', { class: 'json' }, JSON.stringify(v, null, 2));
}

const pct = (v) => (typeof v === 'number' ? `${v.toFixed(2)} %` : '—');

/** The open interval's figures as the interval record will have them (so far). */
function intervalFigures(iv) {
  if (iv === null || iv === undefined || typeof iv !== 'object')
    return h('p', { class: 'muted' }, 'none open');
  const presence = Object.entries(iv.secondsByPresence ?? {})
    .map(([p, s]) => `${p} ${clock(s)}`)
    .join(', ');
  const rows = [
    ['interval', `${time(iv.intervalStart)} (${dash(iv.intervalMinutes)} min)`],
    ['accounted to', time(iv.accountedTo)],
    ['time by presence', presence || '—'],
    ['scheduled (adherence)', clock(iv.adherenceScheduleSecs)],
    ['exceptions', clock(iv.exceptionDurationSecs)],
    ['out of adherence, not yet an exception', clock(iv.pendingExceptionSecs)],
    ['adherence', pct(iv.adherencePercentage)],
    ['scheduled on queue', clock(iv.conformanceScheduleSecs)],
    ['on queue', clock(iv.conformanceActualSecs)],
    ['conformance', pct(iv.conformancePercentage)],
  ];
  return table(
    ['figure', 'value'],
    rows.map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, k), h('td', { class: 'num' }, v))),
    { class: 'grid small', id: 'interval' },
  );
}

/** A table of `items` (an agent history, oldest first) newest first, or `none` when empty. */
function listOrNone(items, headers, cells, id, none) {
  if (!Array.isArray(items) || items.length === 0) return h('p', { class: 'muted' }, none);
  return table(
    headers,
    [...items].reverse().map((item) => h('tr', {}, ...cells(item).map((c) => h('td', {}, c)))),
    { class: 'grid small', id },
  );
}

function renderAgent(root, a, siteRow) {
  const c = a.context ?? {};
  const adh = c.adherence ?? {};
  const adhState = adh.adherenceState ?? adh.state ?? null;
  const history = [...(a.history ?? [])].sort((x, y) => (y.seq ?? 0) - (x.seq ?? 0));
  const schedule = Array.isArray(c.schedule) ? c.schedule : [];
  root.replaceChildren(
    h(
      'h1',
      { class: adherenceClass(adhState, adh.impact) },
      `${a.agentId}`,
      h('span', { class: 'muted' }, ` @ ${a.site}`),
      a.role ? h('span', { class: 'tag' }, a.role) : null,
    ),
    h(
      'section',
      { class: 'cards' },
      card('presence', c.gc?.presence),
      card('routing', c.gc?.routingStatus),
      card('status', c.status, c.callType ? `call: ${c.callType}` : null),
      card('reason', c.reason),
      card('adherence', adhState, adh.since !== undefined ? `since ${time(adh.since)}` : null),
      card('scheduled / actual', `${dash(adh.scheduledCategory)} / ${dash(adh.actualCategory)}`),
      card('impact', adh.impact),
    ),
    h(
      'div',
      { class: 'charts' },
      chart('Agent actor', machines?.agent, a.value, 'chart-agent'),
      chart('Site lifecycle', machines?.site, siteRow?.state, 'chart-site'),
      chart('Leader election', machines?.election, siteRow?.election, 'chart-election'),
    ),
    h('h2', {}, 'Recent inputs (newest first)'),
    history.length === 0
      ? h('p', { class: 'muted' }, 'no inputs kept')
      : table(
          ['seq', 'subject', 'event time', 'data'],
          history.map((m, i) => {
            const ts = inputTs(m.data);
            // The adherence state began at an input's event time: point at that input.
            const cause = ts !== null && ts === adh.since;
            return h(
              'tr',
              { class: [i === 0 ? 'latest' : '', cause ? 'cause' : ''].join(' ').trim() },
              h('td', { class: 'num' }, dash(m.seq)),
              h('td', {}, dash(m.subject)),
              h(
                'td',
                {},
                time(ts),
                cause ? h('div', { class: 'tag' }, `${dash(adhState)} since this time`) : null,
              ),
              h('td', {}, h('pre', { class: 'json' }, prettyData(m.data))),
            );
          }),
          { class: 'grid', id: 'history' },
        ),
    h('h2', {}, 'Schedule'),
    schedule.length === 0
      ? h('p', { class: 'muted' }, 'nothing scheduled')
      : table(
          ['start', 'end', 'category', 'code'],
          schedule.map((s) =>
            h(
              'tr',
              {},
              h('td', {}, time(s.start)),
              h('td', {}, time(s.end)),
              h('td', {}, dash(s.category)),
              h('td', {}, dash(s.code)),
            ),
          ),
          { class: 'grid small', id: 'schedule' },
        ),
    h('h2', {}, 'Open intervals'),
    Array.isArray(c.intervals) && c.intervals.length > 0
      ? table(
          ['start', 'by presence', 'scheduled', 'exceptions', 'pending', 'on-queue scheduled'],
          c.intervals.map((iv) =>
            h(
              'tr',
              {},
              h('td', {}, time(iv.start)),
              h(
                'td',
                {},
                Object.entries(iv.presenceMs ?? {})
                  .map(([p, ms]) => `${p} ${clock(ms / 1000)}`)
                  .join(', ') || '—',
              ),
              h('td', { class: 'num' }, clock((iv.schedMs ?? 0) / 1000)),
              h('td', { class: 'num' }, clock((iv.excMs ?? 0) / 1000)),
              h('td', { class: 'num' }, clock((iv.pendingMs ?? 0) / 1000)),
              h('td', { class: 'num' }, clock((iv.confSchedMs ?? 0) / 1000)),
            ),
          ),
          { class: 'grid small', id: 'intervals' },
        )
      : h('p', { class: 'muted' }, 'none open'),
    h('h2', {}, 'Current interval'),
    intervalFigures(a.interval),
    h('h2', {}, 'Adherence exceptions (newest first)'),
    listOrNone(
      c.exceptions,
      ['start', 'end', 'scheduled', 'actual', 'impact'],
      (e) => [time(e.start), time(e.end), dash(e.scheduledCategory), dash(e.actualCategory), dash(e.impact)],
      'exceptions',
      'no exceptions kept',
    ),
    h('h2', {}, 'Login sessions (newest first)'),
    listOrNone(
      c.sessions,
      ['logged in', 'logged off'],
      (x) => [time(x.start), x.end === null ? 'logged in now' : time(x.end)],
      'sessions',
      'no sessions kept',
    ),
    h('h2', {}, 'Transfers (audit events, newest first)'),
    listOrNone(
      c.audit,
      ['id', 'from', 'to', 'applied at', 'WFM_IN seq'],
      (e) => [dash(e.id), dash(e.from), dash(e.to), time(e.at), dash(e.sourceSeq)],
      'audit',
      'no transfers',
    ),
    h('details', {}, h('summary', {}, 'full actor context'), generic(c)),
  );
}

function showAgent(site, agentId) {
  const root = h('div', { id: 'agent' }, h('p', { class: 'muted' }, 'loading…'));
  view().replaceChildren(h('p', {}, h('a', { href: '#/agents' }, '‹ all agents')), root);
  const key = `${site}/${agentId}`;
  let inFlight = false;
  let pending = false;
  const load = async () => {
    if (inFlight) {
      pending = true;
      return;
    }
    inFlight = true;
    try {
      const [a, sites] = await Promise.all([
        getJson(`/api/agents/${encodeURIComponent(site)}/${encodeURIComponent(agentId)}`),
        getJson('/api/sites').catch(() => live.sites ?? []),
        machines
          ? null
          : getJson('/api/machines').then((m) => {
              machines = m;
            }),
      ]);
      if (root.isConnected)
        renderAgent(
          root,
          a,
          sites.find((s) => s.site === site),
        );
    } catch (err) {
      if (root.isConnected)
        root.replaceChildren(
          h(
            'p',
            { class: 'error' },
            err.status === 404 ? `no agent ${key}` : `could not load ${key}: ${err.message}`,
          ),
        );
    } finally {
      inFlight = false;
      if (pending) {
        pending = false;
        load();
      }
    }
  };
  live.onAgents = (msg) => {
    if (msg.more || (msg.changed ?? []).includes(key)) load();
  };
  live.onStatus = null;
  load();
}

// ---------------------------------------------------------------------------------------------
// Router
// ---------------------------------------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const parts = (path ?? '').split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  live.onAgents = null;
  live.onStatus = null;
  grid.els = null;
  for (const a of document.querySelectorAll('nav a'))
    a.classList.toggle('current', a.dataset.view === parts[0]);
  if (parts[0] === 'cluster') return showCluster();
  if (parts[0] === 'agent' && parts.length >= 3) {
    for (const a of document.querySelectorAll('nav a'))
      a.classList.toggle('current', a.dataset.view === 'agents');
    return showAgent(parts[1], parts.slice(2).join('/'));
  }
  if (parts[0] !== 'agents') {
    location.replace('#/agents');
    return;
  }
  showAgents(new URLSearchParams(query));
}

window.addEventListener('hashchange', route);
connectEvents();
route();
