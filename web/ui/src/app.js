// Vigie analyst UI: progressive enhancement of the server-rendered pages.
// Every page reads fully without this script; it adds the network picture
// (Cytoscape.js) and the charts (uPlot). It is served from /static under
// a CSP that forbids inline script, so it reads the data the pages embed
// in <script type="application/json"> blocks (never executed) or asks the
// JSON API of the same origin.
import cytoscape from 'cytoscape';
import uPlot from 'uplot';

const palette = ['#1a5fb4', '#c01c28', '#26a269', '#a05000', '#813d9c', '#1c71d8', '#5e5c64', '#e66100'];

function readJSON(id) {
  const el = document.getElementById(id);
  if (!el) return null;
  try {
    return JSON.parse(el.textContent);
  } catch {
    return null;
  }
}

function handle(key) {
  const i = key.indexOf(':');
  return i >= 0 ? key.slice(i + 1) : key;
}

// ---- network ----

// MAX_DRAWN_EDGES bounds the links drawn (the strongest first).
const MAX_DRAWN_EDGES = 300;

async function drawNetwork(el) {
  const status = document.getElementById('network-status');
  const say = (msg) => { if (status) status.textContent = msg; };
  let c;
  const f0 = performance.now();
  try {
    const res = await fetch('/api/clusters/' + encodeURIComponent(el.dataset.cluster) + '/graph', { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    c = await res.json();
  } catch (err) {
    el.textContent = '';
    say('The network could not be loaded (' + err.message + '); the member list below has the same accounts.');
    return;
  }
  const members = new Set(c.members || []);
  const weight = new Map();
  const elements = [];
  for (const m of members) weight.set(m, 0);
  // The strongest links only: past a few hundred, more lines add no
  // readable structure to the picture and cost most of its drawing time.
  const edges = (c.edges || []).filter((e) => members.has(e.a) && members.has(e.b));
  edges.sort((x, y) => y.weight - x.weight || (x.a < y.a ? -1 : x.a > y.a ? 1 : x.b < y.b ? -1 : x.b > y.b ? 1 : 0));
  edges.length = Math.min(edges.length, MAX_DRAWN_EDGES);
  edges.forEach((e, i) => {
    weight.set(e.a, weight.get(e.a) + e.weight);
    weight.set(e.b, weight.get(e.b) + e.weight);
    elements.push({ group: 'edges', data: { id: 'e' + i, source: e.a, target: e.b, weight: e.weight } });
  });
  let maxW = 1;
  for (const w of weight.values()) maxW = Math.max(maxW, w);
  let maxE = 1;
  for (const e of c.edges || []) maxE = Math.max(maxE, e.weight);
  for (const m of members) {
    elements.unshift({ group: 'nodes', data: { id: m, label: handle(m), size: 8 + 14 * Math.sqrt(weight.get(m) / maxW) } });
  }
  el.textContent = '';
  // Cytoscape injects a <style> element unless one with this ID exists;
  // the CSP forbids inline styles, so app.css carries its one rule and
  // an inert placeholder takes the ID.
  if (!document.getElementById('__________cytoscape_stylesheet')) {
    const ph = document.createElement('meta');
    ph.id = '__________cytoscape_stylesheet';
    document.head.appendChild(ph);
  }
  const t0 = performance.now();
  const cy = cytoscape({
    container: el,
    elements,
    minZoom: 0.2,
    maxZoom: 4,
    style: [
      { selector: 'node', style: { 'background-color': '#1a5fb4', width: 'data(size)', height: 'data(size)', 'font-size': 10, color: '#1d2330', 'text-valign': 'bottom', 'text-margin-y': 2, 'text-background-color': '#fff', 'text-background-opacity': 0.8 } },
      { selector: 'node.labelled, node:selected, node.hover', style: { label: 'data(label)' } },
      { selector: 'edge', style: { width: `mapData(weight, 1, ${maxE}, 0.6, 4.6)`, 'line-color': '#9aa3b2', opacity: 0.7, 'curve-style': 'haystack' } },
      { selector: 'node:selected', style: { 'background-color': '#f0a500', 'border-width': 2, 'border-color': '#1d2330' } },
      { selector: 'edge:selected', style: { 'line-color': '#f0a500', opacity: 1 } },
      { selector: '.faded', style: { opacity: 0.15 } },
    ],
    layout: { name: 'preset', positions: forceLayout([...members], elements.filter((x) => x.group === 'edges').map((x) => x.data)), fit: true, padding: 30 },
  });
  // A small cluster fitted to the box would be drawn huge: cap the zoom.
  if (cy.zoom() > 1.6) {
    cy.zoom(1.6);
    cy.center();
  }
  // Labels of every node when they fit, else on hover and selection.
  if (members.size <= 25) cy.nodes().addClass('labelled');
  cy.on('mouseover', 'node', (ev) => ev.target.addClass('hover'));
  cy.on('mouseout', 'node', (ev) => ev.target.removeClass('hover'));
  el.dataset.fetchMs = String(Math.round(t0 - f0));
  el.dataset.drawMs = String(Math.round(performance.now() - t0));
  el.dataset.nodes = String(cy.nodes().length);
  el.dataset.edges = String(cy.edges().length);
  const total = Math.max(c.edge_count || 0, (c.edges || []).length);
  const shown = total > cy.edges().length ? ` (the ${cy.edges().length} strongest of ${total} links)` : '';
  say(`${cy.nodes().length} accounts and ${cy.edges().length} links drawn${shown}. Select a link for its evidence, an account to highlight it.`);

  cy.on('tap', 'edge', (ev) => openEvidence(ev.target.data('source'), ev.target.data('target')));
  cy.on('tap', 'node', (ev) => {
    const n = ev.target;
    cy.elements().addClass('faded');
    n.closedNeighborhood().removeClass('faded');
    selectRow(document.getElementById('m-' + n.id()));
  });
  cy.on('tap', (ev) => { if (ev.target === cy) cy.elements().removeClass('faded'); });
  cy.on('dbltap', 'node', (ev) => { window.location.href = '/accounts/' + encodeURIComponent(ev.target.id()); });
  el.classList.add('drawn');
  window.vigieNetwork = cy; // for the browser tests and the console
}

// forceLayout places nodes with Fruchterman-Reingold from a circle, so
// the same cluster is always drawn the same way (Cytoscape's cose layout
// starts at random and took about 1 s for 40 dense nodes here; this takes
// a few milliseconds). Stronger links pull harder.
function forceLayout(ids, edges) {
  const n = ids.length;
  const index = new Map(ids.map((id, i) => [id, i]));
  const x = new Float64Array(n);
  const y = new Float64Array(n);
  const size = 100 * Math.sqrt(n);
  ids.forEach((_, i) => {
    x[i] = (size / 2) * Math.cos((2 * Math.PI * i) / n);
    y[i] = (size / 2) * Math.sin((2 * Math.PI * i) / n);
  });
  const k = size / Math.sqrt(n);
  let maxW = 1;
  for (const e of edges) maxW = Math.max(maxW, e.weight);
  const links = edges.map((e) => [index.get(e.source), index.get(e.target), 0.3 + 0.7 * (e.weight / maxW)]);
  const dx = new Float64Array(n);
  const dy = new Float64Array(n);
  const iters = n > 400 ? 60 : 250;
  let temp = size / 8;
  for (let it = 0; it < iters; it++) {
    dx.fill(0);
    dy.fill(0);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        let ux = x[i] - x[j];
        let uy = y[i] - y[j];
        let d2 = ux * ux + uy * uy;
        if (d2 < 0.01) { ux = 0.1 * ((i % 7) - 3); uy = 0.1; d2 = 0.02; }
        const f = (k * k) / d2;
        dx[i] += ux * f; dy[i] += uy * f;
        dx[j] -= ux * f; dy[j] -= uy * f;
      }
    }
    for (const [a, b, w] of links) {
      const ux = x[a] - x[b];
      const uy = y[a] - y[b];
      const d = Math.sqrt(ux * ux + uy * uy) || 0.01;
      const f = (w * d) / k;
      dx[a] -= ux * f; dy[a] -= uy * f;
      dx[b] += ux * f; dy[b] += uy * f;
    }
    for (let i = 0; i < n; i++) {
      const d = Math.sqrt(dx[i] * dx[i] + dy[i] * dy[i]) || 1;
      const step = Math.min(d, temp);
      x[i] += (dx[i] / d) * step;
      y[i] += (dy[i] / d) * step;
    }
    temp *= 0.97;
  }
  const pos = {};
  ids.forEach((id, i) => { pos[id] = { x: x[i], y: y[i] }; });
  return pos;
}

function selectRow(row) {
  for (const r of document.querySelectorAll('tr.selected')) r.classList.remove('selected');
  if (!row) return;
  row.classList.add('selected');
  row.scrollIntoView({ block: 'center' });
}

// openEvidence opens the evidence of the link between a and b in the
// table below the picture and moves the keyboard focus there.
function openEvidence(a, b) {
  const [x, y] = a < b ? [a, b] : [b, a];
  for (const row of document.querySelectorAll('table.evidence tbody tr')) {
    if (row.dataset.a === x && row.dataset.b === y) {
      selectRow(row);
      const d = row.querySelector('details');
      if (d) {
        d.open = true;
        d.querySelector('summary').focus();
      }
      return;
    }
  }
  const status = document.getElementById('network-status');
  if (status) status.textContent = `The link ${handle(x)} – ${handle(y)} is not among the listed strongest links.`;
}

// ---- charts ----

function chartWidth(el) {
  return Math.max(280, el.clientWidth - 16);
}

function keepResized(el, plot) {
  let t;
  window.addEventListener('resize', () => {
    clearTimeout(t);
    t = setTimeout(() => plot.setSize({ width: chartWidth(el), height: plot.height }), 150);
  });
}

function drawTrends(el, data) {
  if (!data || !data.days || !data.series || data.series.length === 0) return;
  const xs = data.days.map((d) => Date.parse(d + 'T00:00:00Z') / 1000);
  const opts = {
    width: chartWidth(el),
    height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series: [{ label: 'Day' }].concat(data.series.map((s, i) => ({ label: '#' + s.tag, stroke: palette[i % palette.length], width: 2, points: { show: true } }))),
    axes: [{}, { label: 'posts' }],
    scales: { x: { time: true } },
  };
  const plot = new uPlot(opts, [xs].concat(data.series.map((s) => s.counts)), el);
  keepResized(el, plot);
  el.dataset.series = String(data.series.length);
}

function drawActivity(el, data) {
  if (!data || !data.start || data.start.length === 0) return;
  const opts = {
    width: chartWidth(el),
    height: 200,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    series: [{ label: 'Hour (UTC)' }, { label: 'co-actions', stroke: '#1a5fb4', fill: '#1a5fb455', paths: uPlot.paths.bars({ size: [0.9, 40] }), points: { show: false } }],
    axes: [{}, { label: 'co-actions' }],
    scales: { x: { time: true } },
    legend: { show: true },
  };
  const plot = new uPlot(opts, [data.start, data.counts], el);
  keepResized(el, plot);
  el.dataset.points = String(data.start.length);
}

// ---- rising narratives (GET /api/trends) ----

function cell(tag, text, cls) {
  const el = document.createElement(tag);
  if (text !== undefined) el.textContent = text; // never innerHTML: keys come from posts
  if (cls) el.className = cls;
  return el;
}

async function drawRising(el) {
  let data;
  try {
    const res = await fetch(el.dataset.src, { headers: { Accept: 'application/json' } });
    if (!res.ok) throw new Error('HTTP ' + res.status);
    data = await res.json();
  } catch (err) {
    el.replaceChildren(cell('p', 'The ranking could not be loaded (' + err.message + ').', 'empty'));
    return;
  }
  const trends = data.trends || [];
  if (trends.length === 0) {
    el.replaceChildren(cell('p', 'No narrative pushed by cluster members in the latest window.', 'empty'));
    return;
  }
  const table = cell('table');
  table.className = 'rising';
  const cap = cell('caption', `Window ${data.window} up to ${String(data.now).replace('T', ' ').replace('Z', ' UTC')}`);
  const head = cell('thead');
  const hr = cell('tr');
  for (const [h, cls] of [['Kind'], ['Narrative'], ['Score', 'num'], ['Accounts', 'num'], ['Posts', 'num'], ['Pushed by']]) {
    const th = cell('th', h, cls);
    th.scope = 'col';
    hr.append(th);
  }
  head.append(hr);
  const body = cell('tbody');
  for (const t of trends) {
    const tr = cell('tr');
    const key = cell('td');
    if (t.kind === 'hashtag') {
      const a = cell('a', '#' + t.key);
      a.href = '/posts?hashtag=' + encodeURIComponent(t.key);
      key.append(a);
    } else {
      key.append(cell('code', t.key));
    }
    const by = cell('td');
    for (const id of t.clusters || []) {
      const a = cell('a', id);
      a.href = '/clusters/' + encodeURIComponent(id);
      by.append(a, ' ');
    }
    tr.append(cell('td', t.kind), key, cell('td', t.score.toFixed(1), 'num'), cell('td', String(t.accounts), 'num'), cell('td', String(t.posts), 'num'), by);
    body.append(tr);
  }
  table.append(cap, head, body);
  el.replaceChildren(table);
  el.dataset.rows = String(trends.length);
}

function init() {
  const rising = document.getElementById('rising');
  if (rising) drawRising(rising);
  const net = document.getElementById('network');
  if (net) drawNetwork(net);
  const trend = document.getElementById('trend-chart');
  if (trend) drawTrends(trend, readJSON('trend-data'));
  const act = document.getElementById('activity-chart');
  if (act) drawActivity(act, readJSON('activity-data'));
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
