// Browser tests of the analyst UI against a real `vigie run` on the
// bundled scenario: the binary is built by `make test-ui` (VIGIE_BIN),
// started on a temporary data directory and a free port, and driven with
// Playwright (playwright-core) in Debian's Chromium; Playwright never
// downloads a browser. Screenshots go to $CI_ARTIFACTS/ui-screenshots, or
// web/ui/e2e/screenshots, with the page-load timings (timings.json) that
// docs/benchmarks.md reports: timings are measured, never asserted.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '../../..');
const bin = process.env.VIGIE_BIN || join(repo, 'bin/vigie');
const scenario = join(repo, 'testdata/scenario');
const shots = process.env.CI_ARTIFACTS ? join(process.env.CI_ARTIFACTS, 'ui-screenshots') : join(here, 'screenshots');
const chromiumPath = process.env.CHROMIUM || ['/usr/bin/chromium', '/usr/bin/chromium-browser'].find(existsSync);

let vigie, dataDir, base, browser, planted;
const timings = {};

function freePort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function api(path) {
  const res = await fetch(base + path);
  assert.equal(res.status, 200, `GET ${path}`);
  return res.json();
}

const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));

// waitForPipeline waits until the whole scenario is read, graphed and
// indexed, and the clusters stopped changing between two polls.
async function waitForPipeline(limitMs) {
  const deadline = Date.now() + limitMs;
  let last = '';
  for (;;) {
    assert.ok(vigie.exitCode === null, `vigie exited early with ${vigie.exitCode}`);
    assert.ok(Date.now() < deadline, `the pipeline did not settle in ${limitMs} ms (last stats ${last})`);
    try {
      const st = await api('/api/stats');
      const p = st.pipeline || {};
      const cur = JSON.stringify([st.store.posts, st.store.active_clusters, st.store.alerts, p.cluster_updates]);
      if (p.ingest_done && p.graphed === p.ingested && st.store.posts === p.ingested && st.store.active_clusters > 0 && cur === last) return;
      last = cur;
    } catch {
      // not listening yet
    }
    await sleep(1000);
  }
}

before(async () => {
  assert.ok(chromiumPath, 'no Chromium: install Debian\'s chromium package (or set CHROMIUM)');
  assert.ok(existsSync(bin), `no vigie binary at ${bin}: run make test-ui (or set VIGIE_BIN)`);
  mkdirSync(shots, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'vigie-ui-'));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  vigie = spawn(bin, ['run', '--quiet', '--data-dir', dataDir, '--http', `127.0.0.1:${port}`, '--source', join(scenario, 'posts.jsonl')], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  vigie.stderr.on('data', (b) => { stderr = (stderr + b).slice(-4000); });
  vigie.on('exit', (code) => { if (code) console.error(`vigie exited ${code}:\n${stderr}`); });
  await waitForPipeline(180_000);

  // The planted network to look for: the largest one of the truth file,
  // found in the API as the cluster sharing most of its accounts.
  const truth = JSON.parse(readFileSync(join(scenario, 'truth.json'), 'utf8'));
  const net = truth.networks.toSorted((a, b) => b.members.length - a.members.length)[0];
  const members = new Set(net.members);
  const { clusters } = await api('/api/clusters?limit=100');
  let best = null;
  for (const c of clusters) {
    const full = await api('/api/clusters/' + encodeURIComponent(c.id));
    const hit = full.members.filter((m) => members.has(m)).length;
    if (!best || hit > best.hit) best = { hit, cluster: full };
  }
  assert.ok(best && best.hit >= members.size / 2, `no cluster holds most of planted network ${net.name}`);
  planted = { name: net.name, cluster: best.cluster };

  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox', '--disable-gpu'] });
});

after(async () => {
  if (browser) await browser.close();
  if (vigie && vigie.exitCode === null) {
    vigie.kill('SIGTERM');
    await new Promise((ok) => vigie.once('exit', ok));
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  if (Object.keys(timings).length) {
    writeFileSync(join(shots, 'timings.json'), JSON.stringify(timings, null, 2) + '\n');
    console.log('page load, median of 5 (ms): first byte / load event / complete (network and charts drawn) / main-thread busy / graph fetch / network draw');
    for (const [k, v] of Object.entries(timings)) console.log(`  ${k}: ${typeof v === 'string' ? v : [v.ttfb, v.load, v.complete, v.cpu, v.fetch, v.draw].join(' / ')}`);
  }
});

// newPage opens a laptop-sized page that records CSP violations and
// script errors, which every test then requires to be none.
async function newPage() {
  const ctx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
  const page = await ctx.newPage();
  page.problems = [];
  page.on('pageerror', (e) => page.problems.push('page error: ' + e.message));
  page.on('console', (m) => { if (m.type() === 'error') page.problems.push('console: ' + m.text()); });
  return page;
}


test('overview to a planted cluster: network, evidence, activity', async () => {
  const page = await newPage();
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.waitForSelector('#trend-chart canvas', { timeout: 10_000 });
  // Rising narratives, from /api/trends, one row per trend.
  await page.waitForSelector('#rising[data-rows], #rising p.empty:not(.js-only)', { timeout: 20_000 });
  const { trends } = await api('/api/trends?limit=10');
  assert.equal(await page.locator('#rising tbody tr').count(), trends.length);
  await page.screenshot({ path: join(shots, '1-overview.png'), fullPage: true });

  // Keyboard: the first Tab lands on the skip link, which moves to main.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement.className), 'skip');
  await page.keyboard.press('Enter');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'main');

  // One click from the overview to the planted cluster.
  const id = planted.cluster.id;
  await Promise.all([page.waitForURL('**/clusters/' + id), page.click(`table.clusters a[href="/clusters/${id}"]`)]);
  await page.waitForLoadState('load');

  // The network is drawn with one node per member the API lists.
  await page.waitForSelector('#network[data-nodes]', { timeout: 15_000 });
  const drawn = await page.$eval('#network', (el) => ({ nodes: Number(el.dataset.nodes), edges: Number(el.dataset.edges) }));
  assert.equal(drawn.nodes, planted.cluster.members.length, 'nodes drawn = members in the API');
  const apiEdges = planted.cluster.edges.filter((e) => planted.cluster.members.includes(e.a) && planted.cluster.members.includes(e.b)).length;
  assert.equal(drawn.edges, Math.min(300, apiEdges), 'edges drawn = edges in the API record, at most the 300 strongest');
  if (apiEdges > 300) assert.match(await page.textContent('#network-status'), new RegExp(`the 300 strongest of ${Math.max(planted.cluster.edge_count, apiEdges)} links`));
  const painted = await page.$$eval('#network canvas', (cs) => cs.reduce((n, c) => {
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let k = 0;
    for (let i = 3; i < d.length; i += 4) if (d[i] !== 0) k++;
    return n + k;
  }, 0));
  assert.ok(painted > 1000, `network canvas nearly empty (${painted} painted pixels)`);

  // The keyboard alternative lists the same members.
  assert.equal(await page.locator('#members tbody tr').count(), planted.cluster.members.length);

  // The activity chart is drawn.
  await page.waitForSelector('#activity-chart canvas');
  await page.screenshot({ path: join(shots, '2-cluster.png'), fullPage: false });

  // Selecting a link in the picture opens its evidence below it. The
  // link clicked is the one whose midpoint lies farthest from any node, so
  // the click cannot land on a node instead.
  await page.locator('#network').scrollIntoViewIfNeeded();
  const target = await page.evaluate(() => {
    const cy = window.vigieNetwork;
    let best = null;
    cy.edges().forEach((e) => {
      const m = e.renderedMidpoint();
      let clear = Infinity;
      cy.nodes().forEach((n) => {
        const p = n.renderedPosition();
        clear = Math.min(clear, Math.hypot(p.x - m.x, p.y - m.y) - n.renderedWidth() / 2);
      });
      if (!best || clear > best.clear) best = { clear, m, ab: [e.data('source'), e.data('target')].sort() };
    });
    const box = document.getElementById('network').getBoundingClientRect();
    return { x: box.left + best.m.x, y: box.top + best.m.y, ab: best.ab };
  });
  await page.mouse.click(target.x, target.y);
  const tapped = await page.evaluate(() => window.vigieNetwork.edges(':selected').map((e) => [e.data('source'), e.data('target')].sort())[0] || null);
  assert.deepEqual(tapped, target.ab, 'a click on a link selects it');
  const opened = await page.evaluate(() => {
    const r = document.querySelector('table.evidence tr.selected');
    return r ? { ab: [r.dataset.a, r.dataset.b].sort(), open: r.querySelector('details').open, focus: document.activeElement.tagName } : null;
  });
  if (opened) {
    assert.deepEqual(opened.ab, tapped, 'the evidence row of the selected link is highlighted');
    assert.equal(opened.open, true);
    assert.equal(opened.focus, 'SUMMARY', 'focus moves to the evidence');
  } else {
    assert.match(await page.textContent('#network-status'), /not among the listed/);
  }

  // Evidence drill-down: open the strongest link's shared posts.
  await page.$$eval('table.evidence details', (ds) => ds.forEach((d) => { d.open = false; }));
  const first = page.locator('table.evidence details').first();
  await first.locator('summary').click();
  assert.equal(await first.evaluate((d) => d.open), true);
  const postLinks = first.locator('a[href^="/posts/"]');
  assert.ok((await postLinks.count()) >= 2, 'evidence lists the two shared posts');
  await first.scrollIntoViewIfNeeded();
  await page.screenshot({ path: join(shots, '3-evidence.png') });

  // ...and on to one of the shared posts (3rd click from the overview).
  await Promise.all([page.waitForURL('**/posts/**'), postLinks.first().click()]);
  await page.waitForLoadState('load');
  const author = await page.locator('dl.profile dd a').first().textContent();
  assert.ok(planted.cluster.members.includes(author), `the evidence post's author ${author} is a member`);
  await page.screenshot({ path: join(shots, '4-post.png') });

  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('post search from the header', async () => {
  const page = await newPage();
  await page.goto(base + '/', { waitUntil: 'load' });
  await page.fill('#quick-q', 'macronleaks');
  await Promise.all([page.waitForURL('**/posts?q=macronleaks'), page.press('#quick-q', 'Enter')]);
  const { total } = await api('/api/posts?q=macronleaks&limit=1');
  assert.ok(total > 0);
  const status = await page.textContent('#result-count');
  assert.ok(status.startsWith(`${total} posts found`), `result line "${status}", API total ${total}`);
  assert.equal(await page.locator('table.posts tbody tr').count(), Math.min(50, total));
  await page.screenshot({ path: join(shots, '5-search.png') });

  // Filters: the same words from one account only.
  await page.goto(base + '/posts?q=macronleaks&hashtag=macronleaks&from=2017-05-05&to=2017-05-06', { waitUntil: 'load' });
  const filtered = await api('/api/posts?q=macronleaks&hashtag=macronleaks&from=2017-05-05&to=2017-05-06&limit=1');
  assert.ok((await page.textContent('#result-count')).startsWith(`${filtered.total} post`));
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

test('account, alerts and briefings pages', async () => {
  const page = await newPage();
  const member = planted.cluster.members[0];
  await page.goto(base + '/accounts/' + member, { waitUntil: 'load' });
  assert.ok(await page.locator(`table.clusters a[href="/clusters/${planted.cluster.id}"]`).count() >= 1, 'the account page links its cluster');
  await page.screenshot({ path: join(shots, '6-account.png') });

  await page.goto(base + '/alerts', { waitUntil: 'load' });
  const { alerts } = await api('/api/alerts');
  assert.equal(await page.locator('table.alerts tbody tr').count(), Math.min(50, alerts.length));
  await page.screenshot({ path: join(shots, '7-alerts.png') });

  await page.goto(base + '/briefings', { waitUntil: 'load' });
  assert.equal(await page.locator('h1').textContent(), 'Briefings archive');
  await page.screenshot({ path: join(shots, '8-briefings.png') });
  assert.deepEqual(page.problems, []);
  await page.context().close();
});

// Page-load figures for docs/benchmarks.md: each page loaded 5 times in
// one browser context (so the bundle is cached after the first, as for an
// analyst), median of navigation start to the load event and to the page
// being complete (network drawn, charts drawn). Reported, not asserted.
test('page-load timings', async () => {
  const page = await newPage();
  const id = encodeURIComponent(planted.cluster.id);
  const member = planted.cluster.members[0];
  const pages = [
    ['overview', '/', '#trend-chart canvas'],
    ['cluster', '/clusters/' + id, '#network[data-nodes]'],
    ['account', '/accounts/' + member, 'h1'],
    ['post search', '/posts?q=macronleaks', '#result-count'],
    ['alerts', '/alerts', 'h1'],
    ['briefings', '/briefings', 'h1'],
  ];
  // Main-thread busy time (Chrome's TaskDuration) beside wall time: on a
  // shared 2-core machine the wall time also counts waiting for a core.
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const busy = async () => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === 'TaskDuration').value * 1000;
  await page.goto(base + '/', { waitUntil: 'load' }); // warm-up: first bundle fetch
  for (const [name, path, ready] of pages) {
    const runs = [];
    for (let i = 0; i < 5; i++) {
      const t0 = Date.now();
      await page.goto(base + path, { waitUntil: 'load' });
      await page.waitForSelector(ready);
      const complete = Date.now() - t0;
      const cpu = await busy(); // the metrics restart with each document
      const n = await page.evaluate(() => {
        const e = performance.getEntriesByType('navigation')[0];
        const net = document.getElementById('network');
        return { load: e.loadEventEnd - e.startTime, ttfb: e.responseStart - e.startTime, draw: net ? Number(net.dataset.drawMs) : 0, fetch: net ? Number(net.dataset.fetchMs) : 0 };
      });
      runs.push({ ...n, complete, cpu });
    }
    const med = (k) => Math.round(runs.map((r) => r[k]).sort((a, b) => a - b)[2]);
    timings[name] = { ttfb: med('ttfb'), load: med('load'), complete: med('complete'), cpu: med('cpu'), fetch: med('fetch'), draw: med('draw') };
  }
  timings.loadavg = (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' ');
  assert.deepEqual(page.problems, []);
  await page.context().close();
});
