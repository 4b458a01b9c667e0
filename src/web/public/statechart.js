// Draws an XState v5 machine definition (`machine.root.toJSON()`, as /api/machines serves it) as
// nested SVG boxes: a compound state stacks its children, a parallel state puts its regions side by
// side, and the states in the current value are lit. Transitions are listed, not drawn: a list
// stays readable for machines with many self- and cross-level transitions.

const SVG = 'http://www.w3.org/2000/svg';
const CHAR_W = 7.5;
const ATOM_H = 26;
const HEADER = 22;
const PAD = 10;
const GAP = 6;

function svg(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function childrenOf(node) {
  return Object.values(node?.states ?? {});
}

/**
 * The set of active state paths ("presence", "presence.onQueue", …) for a state value: a string
 * (possibly dotted, "running.role.primary"), an object ({ presence: "onQueue", … }) or null.
 */
export function activePaths(value, prefix = '') {
  const out = new Set();
  const join = (p, k) => (p === '' ? k : `${p}.${k}`);
  const walk = (v, p) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string') {
      let q = p;
      for (const part of v.split('.')) {
        q = join(q, part);
        out.add(q);
      }
      return;
    }
    if (typeof v === 'object') {
      for (const [k, sub] of Object.entries(v)) {
        const q = join(p, k);
        out.add(q);
        walk(sub, q);
      }
    }
  };
  walk(value, prefix);
  return out;
}

function measure(node, depth) {
  const kids = childrenOf(node);
  const labelW = String(node.key ?? '').length * CHAR_W + 2 * PAD + 4 + (node.type === 'parallel' ? 20 : 0);
  if (kids.length === 0) return { node, w: Math.max(70, labelW), h: ATOM_H, kids: [] };
  const m = kids.map((k) => measure(k, depth + 1));
  const header = depth === 0 ? 0 : HEADER;
  if (node.type === 'parallel') {
    const innerH = Math.max(...m.map((c) => c.h));
    for (const c of m) c.h = innerH;
    const innerW = m.reduce((s, c) => s + c.w, 0) + GAP * (m.length - 1);
    return {
      node,
      w: Math.max(labelW, innerW + 2 * PAD),
      h: header + innerH + PAD + (header ? 0 : PAD),
      kids: m,
    };
  }
  const innerW = Math.max(...m.map((c) => c.w));
  for (const c of m) c.w = innerW;
  const innerH = m.reduce((s, c) => s + c.h, 0) + GAP * (m.length - 1);
  return {
    node,
    w: Math.max(labelW, innerW + 2 * PAD),
    h: header + innerH + PAD + (header ? 0 : PAD),
    kids: m,
  };
}

function place(m, x, y, w, h, path, active, parent, depth) {
  const node = m.node;
  const isActive = depth === 0 || active.has(path);
  const type = node.type ?? 'atomic';
  const g = svg('g', {
    class: `state ${type}${isActive ? ' active' : ''}${depth === 0 ? ' root' : ''}`,
    'data-path': path,
  });
  const title = svg('title');
  title.textContent = depth === 0 ? String(node.key ?? '') : path;
  g.append(title);
  if (depth > 0) {
    g.append(svg('rect', { x, y, width: w, height: h, rx: 6, ry: 6 }));
    if (type === 'final')
      g.append(svg('rect', { class: 'inner', x: x + 3, y: y + 3, width: w - 6, height: h - 6, rx: 4 }));
    const label = svg('text', {
      x: x + PAD,
      y: m.kids.length === 0 ? y + h / 2 + 4 : y + 15,
      class: 'label',
    });
    label.textContent = String(node.key ?? '');
    g.append(label);
    if (type === 'parallel') {
      const badge = svg('text', { x: x + w - PAD, y: y + 15, class: 'badge', 'text-anchor': 'end' });
      badge.textContent = '∥';
      g.append(badge);
    }
  }
  parent.append(g);
  if (m.kids.length === 0) return;
  const header = depth === 0 ? PAD : HEADER;
  const initial = initialKey(node);
  let cx = x + PAD;
  let cy = y + header;
  for (const c of m.kids) {
    const key = String(c.node.key);
    const childPath = path === '' ? key : `${path}.${key}`;
    if (type !== 'parallel' && key === initial) {
      g.append(svg('circle', { class: 'initial', cx: cx - 5, cy: cy + ATOM_H / 2, r: 3 }));
    }
    place(c, cx, cy, c.w, c.h, childPath, active, g, depth + 1);
    if (type === 'parallel') cx += c.w + GAP;
    else cy += c.h + GAP;
  }
}

function initialKey(node) {
  const t = node.initial?.target?.[0];
  if (t === undefined || t === null) return undefined;
  const id = typeof t === 'string' ? t : `#${t.id ?? ''}`;
  return id.split('.').at(-1);
}

/** Renders `definition` with `value`'s states lit; returns an `<svg>` element. */
export function renderStatechart(definition, value) {
  const active = activePaths(value);
  const m = measure(definition, 0);
  const root = svg('svg', {
    class: 'statechart',
    width: m.w,
    height: m.h,
    viewBox: `0 0 ${m.w} ${m.h}`,
    role: 'img',
  });
  const label = svg('title');
  label.textContent = `${definition.key ?? 'machine'} statechart`;
  root.append(label);
  place(m, 0, 0, m.w, m.h, '', active, root, 0);
  return root;
}

/** A readable event name: XState's internal done/error/after events shortened. */
export function eventLabel(type) {
  const s = String(type);
  let match = /^xstate\.done\.actor\.(.*)$/.exec(s);
  if (match) return `done: ${match[1]?.split('.').at(-1)}`;
  match = /^xstate\.error\.actor\.(.*)$/.exec(s);
  if (match) return `error: ${match[1]?.split('.').at(-1)}`;
  match = /^xstate\.after\.([^.]+)\./.exec(s);
  if (match) return `after ${match[1]}`;
  return s;
}

function targetPath(rootKey, t) {
  const id = typeof t === 'string' ? t.replace(/^#/, '') : String(t?.id ?? '');
  return id.startsWith(`${rootKey}.`) ? id.slice(rootKey.length + 1) : id;
}

function guardLabel(guard) {
  if (guard === undefined || guard === null) return '';
  if (typeof guard === 'string') return guard;
  const params = guard.params === undefined ? '' : `(${Object.values(guard.params).join(', ')})`;
  return `${guard.type ?? '?'}${params}`;
}

/** Every transition of the machine: { source, event, target, guard, active }. */
export function listTransitions(definition, value) {
  const active = activePaths(value);
  const rows = [];
  const rootKey = String(definition.key ?? '');
  const walk = (node, path) => {
    for (const [event, ts] of Object.entries(node.on ?? {})) {
      for (const t of Array.isArray(ts) ? ts : [ts]) {
        if (t === null || typeof t !== 'object') continue;
        const targets = (t.target ?? []).map((x) => targetPath(rootKey, x));
        rows.push({
          source: path === '' ? rootKey : path,
          event: eventLabel(event),
          target: targets.length === 0 ? '(stays)' : targets.join(', '),
          guard: guardLabel(t.guard),
          active: path === '' || active.has(path),
        });
      }
    }
    for (const c of childrenOf(node)) walk(c, path === '' ? String(c.key) : `${path}.${c.key}`);
  };
  walk(definition, '');
  return rows;
}
