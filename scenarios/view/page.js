// The page of `replica view`: a space-time diagram of one run, to step through event by event.
// Everything it shows comes from the JSON in #replica-data; every text from the run goes into
// the page through textContent or an attribute, never as markup.
'use strict';
(function () {
  const started = performance.now();
  const D = JSON.parse(document.getElementById('replica-data').textContent);
  const parsed = performance.now();
  const NS = 'http://www.w3.org/2000/svg';
  const text = i => (i ? D.text[i] : '');
  const stateText = i => D.states[i].map(l => D.lines[l]).join('\n');
  const kind = {};
  D.whats.forEach((w, i) => { kind[w] = i; });
  const nodes = D.lanes.length;
  const CLIENTS = nodes; // the clients' lane comes after the nodes'
  const laneOf = id => id - 1;
  const entries = D.entries, events = D.events, msgs = D.msgs;
  const msgByID = new Map(msgs.map(m => [m.id, m]));
  const ev = i => entries[i].e;
  const state = { sel: -1, node: '', type: 0, faults: false, mode: D.untimed ? 'order' : 'time', zoom: 1 };
  const timings = (window.replicaTimings = []);

  // ---- small DOM helpers ----
  function el(tag, attrs, parent, txt) {
    const e = document.createElement(tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (txt !== undefined) e.textContent = txt;
    if (parent) parent.appendChild(e);
    return e;
  }
  function sv(tag, attrs, parent, txt) {
    const e = document.createElementNS(NS, tag);
    if (attrs) for (const k in attrs) e.setAttribute(k, attrs[k]);
    if (txt !== undefined) e.textContent = txt;
    if (parent) parent.appendChild(e);
    return e;
  }
  // Tooltips: kept beside the elements rather than as <title> children, which would double the
  // elements of a large diagram; one floating box shows the one under the pointer.
  let tips = new WeakMap();
  function title(e, s) { tips.set(e, s); return e; }
  const ms = ns => (ns / 1e6).toFixed(3) + 'ms';
  const nodeName = id => (id >= 1 && id <= nodes ? D.lanes[id - 1].name : 'n' + id);

  // ---- the header ----
  const head = document.getElementById('head');
  el('h1', null, head, D.title);
  for (const a of D.about) el('p', null, head, a);
  for (const n of D.notes || []) el('p', { class: 'note' }, head, n);
  if (D.violation) {
    const p = el('p', { class: 'vio' }, head, 'VIOLATION ' + D.violation.property + ' at event ' + D.violation.event +
      (D.untimed ? '' : ' (' + ms(D.violation.t) + ')') + ': ' + D.violation.message + ' ');
    const b = el('button', { class: 'link' }, p, 'show it');
    b.addEventListener('click', () => select(D.violation.event, true));
    if (D.lin) {
      p.appendChild(document.createTextNode(' · '));
      el('a', { href: D.lin }, p, "porcupine's visualization of the history");
    }
  } else {
    el('p', null, head, 'No violation in this run.');
  }
  const legend = el('p', { class: 'legend muted' }, head);
  [['#3b6fd4', '→ message'], ['#d11f35', '✕ crash / drop'], ['#11803a', '▲ restart'], ['#d08b00', '‖ pause'],
    ['#c2410c', '2× duplicate'], ['#d14b5a', '⊣ blocked by a cut'], ['#8e24aa', '✎ Byzantine / bent message'],
    ['#2e9d6a', '▮ client operation']].forEach(([c, s]) => el('span', { style: 'color:' + c }, legend, s));

  // ---- the controls ----
  const controls = document.getElementById('controls');
  const nodeSel = el('select', { id: 'f-node', 'aria-label': 'node' }, el('label', null, controls, 'node '));
  el('option', { value: '' }, nodeSel, 'all');
  D.lanes.forEach(l => el('option', { value: l.name }, nodeSel, l.name));
  el('option', { value: 'clients' }, nodeSel, 'clients');
  const typeSel = el('select', { id: 'f-type', 'aria-label': 'message type' }, el('label', null, controls, 'message '));
  el('option', { value: '0' }, typeSel, 'all types');
  D.types.forEach((t, i) => el('option', { value: String(i + 1) }, typeSel, t));
  const faultLab = el('label', null, controls);
  const faultBox = el('input', { type: 'checkbox', id: 'f-faults' }, faultLab);
  faultLab.appendChild(document.createTextNode(' faults only'));
  const modeSel = el('select', { id: 'f-mode', 'aria-label': 'layout' }, el('label', null, controls, 'layout '));
  el('option', { value: 'time' }, modeSel, 'virtual time');
  el('option', { value: 'order' }, modeSel, 'event order');
  modeSel.value = state.mode;
  if (D.untimed) modeSel.disabled = true;
  const zoomOut = el('button', { id: 'zoom-out', title: 'zoom out' }, controls, '−');
  const zoomLab = el('span', null, controls, '');
  const zoomIn = el('button', { id: 'zoom-in', title: 'zoom in' }, controls, '+');
  const zoomFit = el('button', { id: 'zoom-fit', title: 'the whole run in the window' }, controls, 'fit');
  el('span', { class: 'hint' }, controls, '↑↓ or ←→ step (j/k too), Home/End, v: the violation; click an event or an arrow');

  // ---- which events and elements the filters keep ----
  function entryKeep(i) {
    const e = entries[i];
    if (state.node === 'clients' && !e.c) return false;
    if (state.node && state.node !== 'clients' && nodeName(e.n) !== state.node && nodeName(e.p) !== state.node) return false;
    if (state.type && e.t !== state.type) return false;
    if (state.faults && !D.faults[e.w]) return false;
    return true;
  }
  function eventKeep(k) {
    if (D.violation && k === D.violation.event) return true;
    const x = events[k];
    for (let i = x.from; i < x.to; i++) if (entryKeep(i)) return true;
    if (state.faults && !state.type && x.s) {
      for (const s of x.s) if (s.a === -1 && (!state.node || nodeName(s.n) === state.node)) return true;
    }
    return false;
  }
  function msgKeep(m) {
    if (state.node === 'clients') return false;
    if (state.node && nodeName(m.from) !== state.node && nodeName(m.to) !== state.node) return false;
    if (state.type && m.t !== state.type) return false;
    if (state.faults && !msgFaulty(m)) return false;
    return true;
  }
  function msgFaulty(m) {
    if (m.dup || (m.bent && m.bent.length)) return true;
    return (m.fates || []).some(f => D.faults[entries[f].w]);
  }
  let visible = []; // the events the filters keep, in order

  // ---- layout ----
  const diagram = document.getElementById('diagram');
  const heads = document.getElementById('heads');
  const svg = document.getElementById('svg');
  const axisW = 74, top = 14, bottom = 44, gap = 18;
  let laneW = 100, Y = [], height = 0, width = 0;
  const clientCols = Math.max(1, Math.min(8, D.ops.reduce((a, o) => Math.max(a, o.c), 0)));
  const X = lane => axisW + laneW * (lane + 0.5);
  const XC = c => axisW + laneW * CLIENTS + laneW * (((c - 1) % clientCols) + 0.5) / clientCols;

  function layout() {
    const avail = Math.max(300, diagram.clientWidth - 16);
    laneW = Math.max(34, Math.min(220, (avail - axisW) / (nodes + 1)));
    Y = new Array(events.length);
    // At zoom 1 a short run fills the window; a long one gets gap pixels an event.
    const step = Math.max(gap, (diagram.clientHeight - 70) / Math.max(1, events.length));
    if (state.mode === 'order' || !D.end) {
      for (let k = 0; k < events.length; k++) Y[k] = top + k * step * state.zoom;
    } else {
      const scale = (events.length * step) / D.end;
      const minGap = 5 * state.zoom;
      for (let k = 0; k < events.length; k++) {
        const y = top + events[k].t * scale * state.zoom;
        Y[k] = k === 0 ? Math.max(top, y) : Math.max(Y[k - 1] + minGap, y);
      }
    }
    height = (events.length ? Y[events.length - 1] : top) + bottom;
    width = axisW + laneW * (nodes + 1) + 10;
    zoomLab.textContent = state.zoom.toFixed(state.zoom < 0.1 ? 3 : 2) + '×';
  }

  // ---- drawing ----
  let byEvent = new Map(); // event -> elements to highlight when it is selected
  let selRow = null, selected = [];
  function mark(k, e) {
    let a = byEvent.get(k);
    if (!a) byEvent.set(k, (a = []));
    a.push(e);
  }
  function arrowTo(g, x1, y1, x2, y2, cls, attrs) {
    let e;
    if (x1 === x2) { // a node's message to itself, over loopback
      const d = Math.max(8, Math.min(24, laneW / 3));
      e = sv('path', { d: `M${x1},${y1} C${x1 + d},${y1} ${x2 + d},${y2} ${x2 + 2},${y2}`, class: cls, 'marker-end': 'url(#arrow)' }, g);
    } else {
      e = sv('line', { x1, y1, x2, y2, class: cls, 'marker-end': 'url(#arrow)' }, g);
    }
    for (const k in attrs) e.setAttribute(k, attrs[k]);
    return e;
  }
  function glyph(g, x, y, ch, cls, attrs, tip) {
    const t = sv('text', { x, y, class: 'mark ' + cls }, g, ch);
    for (const k in attrs) t.setAttribute(k, attrs[k]);
    if (tip) title(t, tip);
    return t;
  }

  function draw() {
    const t0 = performance.now();
    layout();
    visible = [];
    for (let k = 0; k < events.length; k++) if (eventKeep(k)) visible.push(k);
    byEvent = new Map();
    tips = new WeakMap();
    selected = [];
    svg.textContent = '';
    svg.setAttribute('width', width);
    svg.setAttribute('height', height);
    heads.style.width = width + 'px';
    heads.textContent = '';
    D.lanes.forEach((l, i) => {
      const s = el('span', { class: l.byz ? 'byz' : '', style: `left:${X(i)}px` }, heads, l.name + (l.byz ? ' (Byzantine)' : ''));
      if (l.byz) s.title = 'a Byzantine node: the adversary drives what it sends';
    });
    el('span', { style: `left:${axisW + laneW * (CLIENTS + 0.5)}px` }, heads, 'clients');
    const defs = sv('defs', null, svg);
    const mk = sv('marker', { id: 'arrow', viewBox: '0 0 8 8', refX: '7', refY: '4', markerWidth: '7', markerHeight: '7', markerUnits: 'userSpaceOnUse', orient: 'auto-start-reverse' }, defs);
    sv('path', { d: 'M0,0 L8,4 L0,8 z', fill: 'context-stroke' }, mk);
    const hatch = sv('pattern', { id: 'hatch', width: '6', height: '6', patternUnits: 'userSpaceOnUse', patternTransform: 'rotate(45)' }, defs);
    sv('rect', { width: '6', height: '6', fill: 'rgba(209,75,90,.08)' }, hatch);
    sv('line', { x1: '0', y1: '0', x2: '0', y2: '6', stroke: 'rgba(209,75,90,.45)', 'stroke-width': '2' }, hatch);

    const gRows = sv('g', null, svg);
    selRow = sv('rect', { class: 'selrow', x: 0, width, height: 0, y: -10 }, gRows);
    const gBands = sv('g', null, svg), gLanes = sv('g', null, svg), gOps = sv('g', null, svg);
    const gMsgs = sv('g', null, svg), gMarks = sv('g', null, svg), gAx = sv('g', null, svg);
    drawBands(gBands);
    drawLanes(gLanes);
    drawOps(gOps);
    drawMessages(gMsgs, gMarks);
    drawEntries(gMarks);
    drawViolation(gMarks);
    axisTo = -1;
    drawAxis(gAx);
    if (state.sel >= 0) highlight(state.sel);
    return performance.now() - t0;
  }

  function drawBands(g) {
    const partitionEntries = new Map();
    entries.forEach((e, i) => { if (e.w === kind.partition) partitionEntries.set(e.e, i); });
    const used = new Set();
    for (const c of D.cuts) {
      const y1 = Y[c.from], y2 = c.to >= 0 ? Y[c.to] : height - bottom + 10;
      const cutLanes = new Set();
      c.links.forEach(([a, b]) => { cutLanes.add(a); cutLanes.add(b); });
      const side = components(c.links);
      const attrs = { class: 'band' + (c.oneway ? ' oneway' : '') };
      const pi = partitionEntries.get(c.from);
      if (pi !== undefined) { attrs['data-fault'] = c.oneway ? 'oneway' : 'partition'; used.add(pi); } else attrs['data-band'] = '';
      const grp = sv('g', attrs, g);
      title(grp, c.desc + ': ' + c.links.map(([a, b]) => nodeName(a) + '→' + nodeName(b)).join(' '));
      for (const id of [...cutLanes].sort((a, b) => a - b)) {
        const r = sv('rect', { x: X(laneOf(id)) - laneW / 2 + 3, width: laneW - 6, y: y1, height: Math.max(2, y2 - y1) }, grp);
        if (side.get(id)) r.setAttribute('style', 'fill: rgba(209, 75, 90, .24)');
      }
      sv('text', { x: X(laneOf(Math.min(...cutLanes))) - laneW / 2 + 5, y: y1 + 10 }, grp, '✂ ' + c.desc);
      mark(c.from, grp);
    }
    // A partition that cut nothing new still shows where it happened.
    partitionEntries.forEach((i, k) => {
      if (used.has(i)) return;
      const grp = sv('g', { class: 'band', 'data-fault': 'partition' }, g);
      sv('text', { x: axisW + 4, y: Y[k] + 10 }, grp, '✂ ' + text(entries[i].s));
    });
  }

  // components colours the cut lanes by which side of the cut they are on: the nodes that
  // still reach one another (over links not cut either way) form a side; all but the largest
  // side are shaded darker.
  function components(links) {
    const cut = new Set(links.map(([a, b]) => a + '>' + b));
    const comp = new Map();
    let next = 0;
    const sizes = [];
    for (let s = 1; s <= nodes; s++) {
      if (comp.has(s)) continue;
      const stack = [s];
      comp.set(s, next);
      sizes[next] = 0;
      while (stack.length) {
        const a = stack.pop();
        sizes[next]++;
        for (let b = 1; b <= nodes; b++) {
          if (!comp.has(b) && !cut.has(a + '>' + b) && !cut.has(b + '>' + a)) { comp.set(b, next); stack.push(b); }
        }
      }
      next++;
    }
    let big = 0;
    sizes.forEach((n, i) => { if (n > sizes[big]) big = i; });
    const out = new Map();
    comp.forEach((c, id) => out.set(id, c !== big));
    return out;
  }

  function drawLanes(g) {
    const y2 = height - bottom + 12;
    for (let i = 0; i <= nodes; i++) {
      const name = i < nodes ? D.lanes[i].name : 'clients';
      const lg = sv('g', { 'data-lane': name, class: 'lane' + (i < nodes && D.lanes[i].byz ? ' byz' : '') }, g);
      sv('line', { class: 'axis', x1: X(i), x2: X(i), y1: top - 8, y2 }, lg);
      if (i < nodes) downs(lg, i + 1, y2);
    }
  }

  // downs draws the stretches of a node's lane while it is crashed or paused.
  function downs(g, id, yEnd) {
    let down = -1, paused = -1;
    const seg = (from, to, cls) => sv('line', { class: cls, x1: X(id - 1), x2: X(id - 1), y1: Y[from], y2: to >= 0 ? Y[to] : yEnd }, g);
    for (const e of entries) {
      if (e.n !== id) continue;
      if (e.w === kind.crash) { if (paused >= 0) { seg(paused, e.e, 'paused'); paused = -1; } down = e.e; }
      if (e.w === kind.restart && down >= 0) { seg(down, e.e, 'down'); down = -1; }
      if (e.w === kind.pause) paused = e.e;
      if (e.w === kind.resume && paused >= 0) { seg(paused, e.e, 'paused'); paused = -1; }
    }
    if (down >= 0) seg(down, -1, 'down');
    if (paused >= 0) seg(paused, -1, 'paused');
  }

  function drawOps(g) {
    if (state.faults || state.type || (state.node && state.node !== 'clients')) return;
    const w = Math.max(4, Math.min(14, laneW / clientCols - 4));
    for (const o of D.ops) {
      if (o.call < 0) continue;
      const y1 = Y[ev(o.call)], y2 = o.end >= 0 ? Y[ev(o.end)] : height - bottom + 8;
      const cls = o.done ? 'op' : o.end >= 0 ? 'op unknown' : 'op open';
      const r = sv('rect', { class: cls, 'data-op': 'c' + o.c, x: XC(o.c) - w / 2, width: w, y: y1, height: Math.max(3, y2 - y1), rx: 2 }, g);
      title(r, 'c' + o.c + ': ' + o.in + (o.done ? ' → ' + o.out : o.end >= 0 ? ': outcome unknown (the client gave up)' : ': not answered by the end of the run'));
      mark(ev(o.call), r);
    }
    for (const c of D.calls) {
      const b = c.b >= 0 ? entries[c.b] : null, a = c.a >= 0 ? entries[c.a] : null;
      let line;
      if (c.k === 'req') {
        const y1 = a ? Y[a.e] : Y[b.e];
        line = arrowTo(g, XC(c.c), y1, X(laneOf(b.n)), Y[b.e], 'call', { 'data-req': 'c' + c.c });
        mark(b.e, line);
      } else {
        const y2 = b ? Y[b.e] : Y[a.e] + 8;
        const x2 = b ? XC(c.c) : X(laneOf(a.n)) + (XC(c.c) - X(laneOf(a.n))) * 0.3;
        line = arrowTo(g, X(laneOf(a.n)), Y[a.e], x2, y2, 'call', { 'data-reply': 'c' + c.c });
        mark(a.e, line);
        if (b) mark(b.e, line);
      }
    }
  }

  function drawMessages(g, gm) {
    for (const m of msgs) {
      if (!msgKeep(m)) continue;
      const s = entries[m.send];
      const x1 = X(laneOf(m.from)), y1 = Y[s.e], x2 = X(laneOf(m.to));
      const bent = m.bent && m.bent.length ? ' bent' : '';
      const tip = '#' + m.id + ' ' + nodeName(m.from) + '→' + nodeName(m.to) + ' ' + text(s.s);
      const fates = m.fates || [];
      if (!fates.length) { // still in flight when the run ended: it heads off past the end
        const yEnd = height - bottom + 30;
        const a = arrowTo(g, x1, y1, x1 === x2 ? x2 : x1 + (x2 - x1) * 0.5, yEnd, 'msg inflight' + bent, { 'data-msg': m.id, 'data-ev': s.e });
        title(a, tip + ' (in flight at the end)');
        mark(s.e, a);
      }
      for (const f of fates) {
        const fe = entries[f];
        let x = x2, y = Y[fe.e], cls = 'msg' + bent;
        if (fe.w === kind.drop) {
          if (fe.e === s.e) { x = x1 + (x2 - x1) * 0.4; y = y1 + Math.min(10, gap * state.zoom * 0.6) + 2; }
          cls += ' dropped';
        } else if (fe.w === kind.blocked) {
          x = x2 - Math.sign(x2 - x1 || 1) * 5; cls += ' blocked';
        } else if (fe.w === kind.lost) {
          cls += ' lost';
        }
        const a = arrowTo(g, x1, y1, x, y, cls, { 'data-msg': m.id, 'data-ev': fe.e });
        title(a, tip + ' — ' + D.whats[fe.w] + ' at event ' + fe.e);
        mark(s.e, a);
        mark(fe.e, a);
        if (fe.w === kind.drop) mark(fe.e, glyph(gm, x, y, '✕', 'drop', { 'data-fault': 'drop', 'data-ev': fe.e }, 'dropped by the network: ' + tip));
        if (fe.w === kind.blocked) mark(fe.e, glyph(gm, x, y, '⊣', 'blocked', { 'data-fault': 'blocked', 'data-ev': fe.e }, 'blocked by a cut link: ' + tip));
        if (fe.w === kind.lost) mark(fe.e, glyph(gm, x2, y, '○', 'lost', { 'data-ev': fe.e }, 'lost: ' + nodeName(m.to) + ' was down'));
      }
      if (m.dup) {
        const de = entries[m.dup - 1];
        mark(de.e, glyph(gm, x1 + (x2 > x1 ? 12 : -12), y1 - 6, '2×', 'dup', { 'data-fault': 'dup', 'data-ev': de.e }, 'duplicated by the network: ' + tip));
      }
    }
  }

  const nodeGlyphs = { crash: ['✕', 'crash'], restart: ['▲', 'restart'], pause: ['‖', 'pause'], resume: ['▶', 'resume'], skew: ['~', 'skew'], mutate: ['✎', 'mutate'] };
  function drawEntries(g) {
    const seen = new Set();
    entries.forEach((e, i) => {
      const w = D.whats[e.w];
      if (!entryKeep(i) && !(D.faults[e.w] && !state.type && (!state.node || nodeName(e.n) === state.node || !e.n))) return;
      const k = e.e;
      if (w === 'heal' || (w === 'phase')) {
        const grp = sv('g', { class: 'heal' }, g);
        if (w === 'heal') grp.setAttribute('data-fault', 'heal');
        sv('line', { x1: axisW, x2: width - 10, y1: Y[k], y2: Y[k] }, grp);
        sv('text', { x: width - 14, y: Y[k] - 3, 'text-anchor': 'end' }, grp, w === 'heal' ? 'partition healed' : text(e.s));
        mark(k, grp);
        return;
      }
      if (nodeGlyphs[w] && e.n) {
        const [ch, cls] = nodeGlyphs[w];
        let x = X(laneOf(e.n));
        if (w === 'mutate' && e.p) x += (X(laneOf(e.p)) > x ? 10 : -10);
        const t = glyph(g, x, Y[k], ch, cls, { 'data-fault': w, 'data-ev': k }, w + ' ' + nodeName(e.n) + (e.s ? ': ' + text(e.s) : ''));
        mark(k, t);
        return;
      }
      if (D.faults[e.w]) return; // drawn with their messages (drop, dup, blocked) or as bands
      if (!e.n && e.c) { // the client's side
        const key = k + ':c' + e.c;
        if (seen.has(key)) return;
        seen.add(key);
        mark(k, title(sv('circle', { class: 'dot client', cx: XC(e.c), cy: Y[k], r: 2.5 }, g), w + ' c' + e.c + ' ' + text(e.s)));
        return;
      }
      if (!e.n) return;
      const cls = w === 'timer' ? 'dot timer' : w === 'output' ? 'dot out' : (w === 'deliver' || w === 'request' || w === 'boot') ? 'dot' : '';
      if (!cls) return;
      const key = k + ':' + e.n + ':' + cls;
      if (seen.has(key)) return;
      seen.add(key);
      const x = X(laneOf(e.n)) + (w === 'output' ? 6 : 0);
      const d = w === 'output'
        ? sv('rect', { class: cls, x: x - 2.5, y: Y[k] - 2.5, width: 5, height: 5 }, g)
        : sv('circle', { class: cls, cx: x, cy: Y[k], r: 3 }, g);
      title(d, w + ' ' + nodeName(e.n) + ' ' + text(e.s));
      mark(k, d);
    });
  }

  function drawViolation(g) {
    const v = D.violation;
    if (!v) return;
    const y = Y[v.event];
    const grp = sv('g', { class: 'vmark', 'data-violation': v.property }, g);
    sv('line', { x1: axisW, x2: width - 10, y1: y, y2: y }, grp);
    sv('text', { x: axisW + 4, y: y - 5 }, grp, '✗ ' + v.property);
    const x = events[v.event];
    for (let i = x.from; i < x.to; i++) {
      if (entries[i].w === kind.output && entries[i].n) sv('circle', { cx: X(laneOf(entries[i].n)) + 6, cy: y, r: 8 }, grp);
    }
    title(grp, v.property + ': ' + v.message);
    mark(v.event, grp);
  }

  // The axis labels only near the window: a run of thousands of events would otherwise
  // spend most of its drawing on labels no one sees. Scrolling draws the next ones.
  let gAxis = null, axisFrom = 0, axisTo = -1;
  function drawAxis(g) {
    gAxis = g;
    const h = diagram.clientHeight || 800, from = diagram.scrollTop - h, to = diagram.scrollTop + 2 * h;
    if (g.firstChild && from >= axisFrom && to <= axisTo) return;
    axisFrom = from - h; axisTo = to + h;
    g.textContent = '';
    let last = -1e9;
    let i = 0, hi = visible.length;
    while (i < hi) { const mid = (i + hi) >> 1; if (Y[visible[mid]] < axisFrom) i = mid + 1; else hi = mid; }
    for (; i < visible.length && Y[visible[i]] <= axisTo; i++) {
      const k = visible[i];
      if (Y[k] - last < 11) continue;
      last = Y[k];
      sv('text', { class: 'axisnum', x: 30, y: Y[k] }, g, String(k));
      if (!D.untimed) sv('text', { class: 'axisnum t', x: axisW - 4, y: Y[k] }, g, (events[k].t / 1e6).toFixed(1));
    }
  }
  let axisPending = false;
  diagram.addEventListener('scroll', () => {
    if (axisPending || !gAxis) return;
    axisPending = true;
    requestAnimationFrame(() => { axisPending = false; drawAxis(gAxis); });
  });

  // ---- the detail pane ----
  const detail = document.getElementById('detail');
  function jump(p, k, label) {
    const b = el('button', { class: 'link', 'data-jump': k }, p, label || 'event ' + k);
    b.addEventListener('click', () => select(k, true));
    return b;
  }
  function where(e) {
    const w = D.whats[e.w];
    if (w === 'send') return nodeName(e.n) + ' → ' + nodeName(e.p);
    if (e.p) return nodeName(e.n) + ' ← ' + nodeName(e.p);
    if (e.n && e.c) return nodeName(e.n) + ' c' + e.c;
    if (e.c) return 'c' + e.c;
    if (e.n) return nodeName(e.n);
    return '';
  }
  function showDetail(k) {
    const x = events[k];
    detail.textContent = '';
    const h = el('h2', null, detail, 'Event ' + k + ' ');
    el('small', { class: 'muted' }, h, D.untimed ? 'step ' + k + ' of the path' : ms(x.t));
    const nav = el('div', { class: 'nav' }, detail);
    el('button', { id: 'prev' }, nav, '◀ previous').addEventListener('click', () => step(-1));
    el('button', { id: 'next' }, nav, 'next ▶').addEventListener('click', () => step(1));
    if (D.violation) jump(nav, D.violation.event, 'the violation');

    el('h3', null, detail, k === 0 ? 'What happened (the start of the run)' : 'What happened');
    for (let i = x.from; i < x.to; i++) {
      const e = entries[i];
      const d = el('div', { class: 'entry' + (D.faults[e.w] ? ' fault' : '') }, detail);
      el('span', { class: 'what' }, d, D.whats[e.w]);
      d.appendChild(document.createTextNode(' ' + where(e) + '  ' + text(e.s)));
      if (e.m) {
        const m = msgByID.get(e.m);
        if (m) {
          const p = el('div', { class: 'muted' }, d, 'message #' + m.id + ' (' + (m.t ? D.types[m.t - 1] : 'message') + '): sent at ');
          jump(p, entries[m.send].e);
          for (const f of m.fates || []) {
            p.appendChild(document.createTextNode(', ' + D.whats[entries[f].w] + ' at '));
            jump(p, entries[f].e);
          }
          if (!(m.fates || []).length) p.appendChild(document.createTextNode(', still in flight at the end'));
          for (const b of m.bent || []) {
            p.appendChild(document.createTextNode('; the adversary: ' + text(entries[b].s)));
          }
        }
      }
      if (e.f) el('pre', null, d, text(e.f));
    }
    if (x.q) {
      el('div', { class: 'muted' }, detail, 'Before it, ' + x.q + ' step' + (x.q > 1 ? 's' : '') + ' left no trace' +
        (x.qc && x.qc.length ? ', choosing ' + x.qc.map(text).join('; ') : '') + '.');
    }

    el('h3', null, detail, 'State');
    if (!x.s || !x.s.length) el('div', { class: 'muted' }, detail, 'No node’s state changed.');
    for (const s of x.s || []) {
      const box = el('div', null, detail);
      el('b', null, box, nodeName(s.n) + ' ');
      if (s.note) el('span', { class: 'muted' }, box, s.note);
      if (s.d && s.d.length) {
        const t = el('table', null, box);
        for (const c of s.d) {
          const tr = el('tr', null, t);
          el('td', null, tr, c.p);
          el('td', { class: 'b' }, tr, c.b);
          el('td', { class: 'a' }, tr, c.a);
        }
        if (s.m) el('div', { class: 'muted' }, box, '… and ' + s.m + ' more changes');
      } else if (s.b >= 0 && s.a >= 0 && !s.note) {
        el('div', { class: 'muted' }, box, 'changed where a field-by-field comparison sees no difference');
      }
      if (s.b >= 0) {
        const det = el('details', null, box);
        el('summary', null, det, 'state before');
        el('pre', null, det, stateText(s.b));
      }
      if (s.a >= 0) {
        const det = el('details', s.b < 0 ? { open: '' } : null, box);
        el('summary', null, det, 'state after');
        el('pre', null, det, stateText(s.a));
      } else {
        el('div', { class: 'muted' }, box, 'after: down');
      }
    }

    el('h3', null, detail, 'Choices made');
    if (!x.c || !x.c.length) el('div', { class: 'muted' }, detail, k === 0 ? 'None.' : 'None: nothing in this step was left to chance.');
    else {
      const ul = el('ul', null, detail);
      for (const c of x.c) el('li', null, ul, text(c));
    }

    el('h3', null, detail, 'Properties after it');
    propertyList(k);
  }

  function propertyList(k) {
    const v = D.violation;
    const atV = v && k === v.event;
    const ul = el('ul', null, detail);
    for (const name of D.invariants) {
      const li = el('li', null, ul);
      if (atV && name === v.property) el('span', { class: 'bad' }, li, '✗ ' + name + ' is violated');
      else if (atV && D.invariants.indexOf(name) > D.invariants.indexOf(v.property) && D.invariants.includes(v.property)) el('span', { class: 'muted' }, li, '· ' + name + ': not checked (the run stops at its first violation)');
      else el('span', { class: 'ok' }, li, '✓ ' + name + ' holds');
    }
    if (v && !D.invariants.includes(v.property)) {
      const li = el('li', null, ul);
      if (atV) el('span', { class: 'bad' }, li, '✗ ' + v.property + ' is violated');
      else el('span', { class: 'muted' }, li, v.property + ': violated later, at ').appendChild(document.createTextNode(''));
      if (!atV) jump(li, v.event);
    }
    const reached = new Map();
    for (let j = 0; j <= k; j++) for (const r of events[j].r || []) reached.set(r, j);
    for (let i = 0; i < D.sometimes.length; i++) {
      const li = el('li', null, ul);
      if (reached.has(i)) {
        el('span', { class: 'ok' }, li, '◆ sometimes ' + D.sometimes[i] + ': reached at ');
        jump(li, reached.get(i));
      } else el('span', { class: 'muted' }, li, '◇ sometimes ' + D.sometimes[i] + ': not reached yet');
    }
    for (const c of D.checks) {
      el('li', { class: 'muted' }, ul, c.name + ' (judged at the end of the run): ' + c.outcome);
    }
    if (atV) {
      const box = el('div', { class: 'violation', 'data-violation-detail': '' }, detail);
      el('b', null, box, 'VIOLATION ' + v.property);
      el('div', null, box, v.message);
      for (const p of v.pending || []) el('div', null, box, 'pending: ' + p);
      for (const d of v.details || []) el('div', null, box, d);
      if (v.nodes && v.nodes.length) el('pre', null, box, v.nodes.join('\n'));
      if (D.lin) el('a', { href: D.lin }, el('div', null, box), "porcupine's visualization of the history");
    }
  }

  // ---- selection and stepping ----
  function highlight(k) {
    for (const e of selected) e.classList.remove('sel');
    selected = byEvent.get(k) || [];
    const y = Y[k];
    selRow.setAttribute('y', y - 7);
    selRow.setAttribute('height', 14);
    for (const e of selected) e.classList.add('sel');
  }
  function select(k, scroll) {
    if (k < 0 || k >= events.length) return;
    state.sel = k;
    highlight(k);
    showDetail(k);
    detail.scrollTop = 0;
    if (scroll) {
      const y = Y[k], view = diagram.clientHeight;
      if (y < diagram.scrollTop + 40 || y > diagram.scrollTop + view - 40) diagram.scrollTop = Math.max(0, y - view / 2);
    }
    history.replaceState(null, '', '#event-' + k);
  }
  function step(d) {
    if (!visible.length) return;
    let i;
    if (d > 0) i = visible.findIndex(k => k > state.sel);
    else { i = -1; for (let j = visible.length - 1; j >= 0; j--) if (visible[j] < state.sel) { i = j; break; } }
    if (i < 0) return;
    select(visible[i], true);
  }
  function timed(label, f) {
    const t0 = performance.now();
    f();
    const t1 = performance.now();
    requestAnimationFrame(() => setTimeout(() => {
      timings.push({ action: label, event: state.sel, updateMs: t1 - t0, paintedMs: performance.now() - t0 });
    }, 0));
  }

  document.addEventListener('keydown', e => {
    const tag = (e.target && e.target.tagName) || '';
    if (tag === 'SELECT' || tag === 'INPUT' || e.ctrlKey || e.metaKey || e.altKey) return;
    const keys = { ArrowDown: 1, ArrowRight: 1, j: 1, n: 1, ArrowUp: -1, ArrowLeft: -1, k: -1, p: -1 };
    if (keys[e.key]) { e.preventDefault(); timed(e.key, () => step(keys[e.key])); return; }
    if (e.key === 'Home' && visible.length) { e.preventDefault(); timed(e.key, () => select(visible[0], true)); }
    if (e.key === 'End' && visible.length) { e.preventDefault(); timed(e.key, () => select(visible[visible.length - 1], true)); }
    if (e.key === 'v' && D.violation) timed(e.key, () => select(D.violation.event, true));
  });
  svg.addEventListener('click', e => {
    const t = e.target.closest('[data-ev]');
    if (t) { timed('click', () => select(Number(t.getAttribute('data-ev')), false)); return; }
    const y = e.clientY - svg.getBoundingClientRect().top;
    // The nearest visible event to the click.
    let lo = 0, hi = visible.length - 1;
    if (hi < 0) return;
    while (lo < hi) { const mid = (lo + hi) >> 1; if (Y[visible[mid]] < y) lo = mid + 1; else hi = mid; }
    let k = visible[lo];
    if (lo > 0 && Math.abs(Y[visible[lo - 1]] - y) < Math.abs(Y[k] - y)) k = visible[lo - 1];
    timed('click', () => select(k, false));
  });
  const tip = el('div', { id: 'tip' }, document.body);
  svg.addEventListener('mousemove', e => {
    let t = e.target, s;
    while (t && t !== svg && (s = tips.get(t)) === undefined) t = t.parentNode;
    if (s === undefined) { tip.style.display = 'none'; return; }
    tip.textContent = s;
    tip.style.display = 'block';
    tip.style.left = Math.min(e.clientX + 12, window.innerWidth - tip.offsetWidth - 8) + 'px';
    tip.style.top = (e.clientY + 14) + 'px';
  });
  svg.addEventListener('mouseleave', () => { tip.style.display = 'none'; });
  const redraw = () => { const keep = state.sel; draw(); if (keep >= 0) select(keep, true); };
  nodeSel.addEventListener('change', () => { state.node = nodeSel.value; redraw(); });
  typeSel.addEventListener('change', () => { state.type = Number(typeSel.value); redraw(); });
  faultBox.addEventListener('change', () => { state.faults = faultBox.checked; redraw(); });
  modeSel.addEventListener('change', () => { state.mode = modeSel.value; redraw(); });
  zoomIn.addEventListener('click', () => { state.zoom = Math.min(8, state.zoom * 1.5); redraw(); });
  zoomOut.addEventListener('click', () => { state.zoom = Math.max(0.01, state.zoom / 1.5); redraw(); });
  zoomFit.addEventListener('click', () => {
    const span = (events.length ? (state.mode === 'order' || !D.end ? events.length * gap : Y[events.length - 1] / state.zoom) : 1);
    state.zoom = Math.max(0.01, Math.min(8, (diagram.clientHeight - 60) / Math.max(1, span)));
    redraw();
  });
  diagram.addEventListener('wheel', e => {
    if (!e.ctrlKey) return;
    e.preventDefault();
    state.zoom = Math.max(0.01, Math.min(8, state.zoom * (e.deltaY < 0 ? 1.25 : 0.8)));
    redraw();
  }, { passive: false });

  // ---- start ----
  document.documentElement.style.setProperty('--top', (head.offsetHeight + controls.offsetHeight) + 'px');
  const drawMs = draw();
  const want = /^#event-(\d+)$/.exec(location.hash);
  select(want ? Number(want[1]) : D.violation ? D.violation.event : 0, true);
  // How long opening took, from the start of navigation (performance.now()'s origin): to the
  // script's start, to the diagram drawn, and to its first paint.
  const load = (window.replicaLoad = { scriptStartMs: started, parseMs: parsed - started, drawMs, readyMs: performance.now() });
  document.body.setAttribute('data-ready', '');
  requestAnimationFrame(() => setTimeout(() => { load.paintedMs = performance.now(); }, 0));
})();
