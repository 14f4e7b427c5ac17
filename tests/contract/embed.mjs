// The embed for partner sites, in a real browser: a partner page on another origin carries the
// one-line snippet (`<script src="BASE/embed/widget.js" data-region="…" async>`), and headless
// Chromium checks what a reader of that page gets.
//
//   node tests/contract/embed.mjs http://127.0.0.1:8080
//
// Checks, one line each (`ok` or `FAILED`, then a detail); exits 1 when one failed:
// - widget.js inserts a titled iframe; the frame shows an h1 and an ol whose items are the events
//   GET /api/v1/events gives under the same filter and edition (the latest edition with matching
//   events), each with a link, and the count the API gives;
// - the iframe is sized to its content (from the frame's postMessage) and does not scroll;
// - Tab from the link before the snippet lands on the frame's first link, with a visible focus
//   indicator, and Tab goes on out of the frame (no keyboard trap);
// - no console error, page error or Content Security Policy violation, in the page or the frame;
// - every request goes to the API's origin or the partner page's own;
// - axe-core finds no serious or critical violation in the frame: light, dark by the reader's
//   setting (prefers-color-scheme), dark by data-theme with data-lang="en", and data-compact
//   (which must also make the frame shorter); axe is evaluated into the frame over the DevTools
//   protocol, which the frame's CSP does not govern (an inline <script> would be refused);
// - the frame's "next" link shows the next page (the API's next page) and the frame is resized;
// - a last sanity check that an inline script in the frame is refused and the refusal is seen,
//   so that "no CSP violation" above means something.
// The partner page is served by this script on http://localhost:<free port> (127.0.0.1 when the
// API itself is on localhost): another origin and another site than the API.
//
// Environment: CHROMIUM (default /usr/bin/chromium: a system Chromium, no browser is
// downloaded), EMBED_SCREENSHOT (a path: a PNG of the partner page with the embed, as in the
// README). Tools: playwright-core and axe-core from this directory's package.json.

import { accessSync, constants, readFileSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE_SOURCE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const SCREENSHOT = process.env.EMBED_SCREENSHOT || '';
const DEADLINE_MS = 55_000;
const STEP_TIMEOUT_MS = 10_000;
const INITIAL_HEIGHT = 480; // widget.js's height before the frame tells its own
const TOLERANCE = 3; // pixels between the iframe's height and its document's

if (!process.argv[2]) {
  console.error('usage: node tests/contract/embed.mjs BASE_URL (e.g. http://127.0.0.1:8080)');
  process.exit(2);
}
const API = new URL(process.argv[2]).origin;
// Another origin, and another site, than the API: a partner's page.
const HOST_NAME = new URL(API).hostname === 'localhost' ? '127.0.0.1' : 'localhost';

const started = Date.now();
let failures = 0;
function check(name, ok, detail = '') {
  if (!ok) failures += 1;
  console.log(`${ok ? 'ok     ' : 'FAILED '} ${name}${detail ? ` — ${detail}` : ''}`);
  return ok;
}
function note(text) {
  console.log(`note    ${text}`);
}
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const esc = (text) =>
  String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

async function api(pathAndQuery) {
  let response;
  try {
    response = await fetch(API + pathAndQuery, { headers: { accept: 'application/json' } });
  } catch (error) {
    throw new Error(`GET ${API}${pathAndQuery}: ${error.cause?.code || error.cause?.errors?.[0]?.code || error.cause?.message || error.message}`);
  }
  if (!response.ok) throw new Error(`GET ${pathAndQuery}: HTTP ${response.status}`);
  return response.json();
}

// --- What the API says the embed should show ------------------------------------------------

/** A region with the most events in its latest edition (at least two, for a second page). */
async function chooseRegion() {
  const regions = (await api('/api/v1/events?facets=region&limit=1')).facets.region.filter((r) => r.count >= 2);
  let best = null;
  for (const region of regions.slice(0, 8)) {
    const editions = (await api(`/api/v1/events?region=${encodeURIComponent(region.value)}&facets=edition&limit=1`))
      .facets.edition;
    const latest = editions.reduce((a, b) => (Number(b.value) > Number(a.value) ? b : a), editions[0]);
    if (latest && (!best || latest.count > best.count)) {
      best = { code: region.value, label: region.label, edition: Number(latest.value), count: latest.count };
    }
  }
  return best;
}

// --- The partner's page ------------------------------------------------------------------------

function partnerPage(region, attributes) {
  const data = Object.entries(attributes)
    .map(([name, value]) => ` data-${name}="${esc(value)}"`)
    .join('');
  return `<!doctype html>
<html lang="fr">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Programme — Laboratoire d'innovation territoriale</title>
<style>
  body { margin: 0; font-family: Georgia, "DejaVu Serif", serif; color: #222; background: #f4f1ea; }
  header { background: #1f3d36; color: #fff; padding: 1.25rem 2rem; }
  header p { margin: 0; font-size: 1.4rem; font-weight: bold; }
  header nav { margin-top: .4rem; font-size: .95rem; }
  header nav a { color: #dfeee9; margin-right: 1.25rem; }
  main { max-width: 820px; margin: 0 auto; padding: 1.5rem 1rem 2rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .5rem; }
  main > p { line-height: 1.5; }
  main a { color: #1f3d36; }
  .embed { background: #fff; border: 1px solid #d8d2c4; border-radius: 6px; padding: .25rem; margin-top: 1rem; }
  footer { max-width: 820px; margin: 0 auto; padding: 0 1rem 2rem; font-size: .9rem; }
</style>
</head>
<body>
<header>
<p>Laboratoire d'innovation territoriale ${esc(region.label)} — Programme</p>
<nav aria-label="Site"><a href="#">Accueil</a><a href="#">Nos projets</a><a href="#" aria-current="page">Programme</a></nav>
</header>
<main>
<h1>Le Mois de l'innovation publique en ${esc(region.label)}</h1>
<p>Ateliers, rencontres et visites de laboratoires : voici les événements de la région, mis à jour
en continu. Vous organisez quelque chose ? <a id="before-embed" href="#">Proposez votre événement</a>.</p>
<div class="embed">
<script src="${API}/embed/widget.js"${data} async></script>
</div>
</main>
<footer><a id="after-embed" href="#">Contact</a></footer>
</body>
</html>
`;
}

function startPartnerServer(pages) {
  const server = http.createServer((request, response) => {
    const path = new URL(request.url, 'http://x').pathname;
    const body = pages.get(path);
    if (body === undefined) {
      response.writeHead(path === '/favicon.ico' ? 204 : 404).end();
      return;
    }
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

// --- In the browser ----------------------------------------------------------------------------

/** Reports every CSP violation of every frame as a console error (caught below). */
const CSP_LISTENER = `window.addEventListener('securitypolicyviolation', function (e) {
  console.error('CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || '(inline)') +
    ' in ' + e.documentURI + (e.sourceFile ? ' at ' + e.sourceFile + ':' + e.lineNumber : ''));
}, true);`;

/** A page of the context that records its console errors, page errors and requests. */
async function openPage(context, log) {
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('console', (message) => {
    const text = message.text();
    const where = message.location()?.url || '';
    const located = where ? `${text} (${where})` : text;
    if (/content security policy|CSP violation/i.test(text)) log.csp.push(located);
    else if (message.type() === 'error') log.errors.push(`console: ${located}`);
  });
  page.on('pageerror', (error) => log.errors.push(`page error: ${error.message}`));
  page.on('request', (request) => log.requests.push(request.url()));
  page.on('response', (response) => {
    if (response.status() >= 400 && !response.url().endsWith('/favicon.ico')) {
      log.errors.push(`HTTP ${response.status()} for ${response.url()}`);
    }
  });
  page.on('requestfailed', (request) => log.errors.push(`request failed: ${request.url()} (${request.failure()?.errorText})`));
  return page;
}

/** The iframe widget.js inserted and its frame, once the frame shows its heading. */
async function embedFrame(page) {
  const element = await page.waitForSelector('.embed iframe');
  const frame = await element.contentFrame();
  if (!frame) throw new Error('the iframe has no frame');
  await frame.waitForSelector('main h1');
  return { element, frame };
}

/** Waits until the iframe's height matches its document's and holds for a moment. */
async function settledHeights(element, frame) {
  const until = Date.now() + 5000;
  let last = null;
  let sameSince = 0;
  for (;;) {
    const box = await element.boundingBox();
    const doc = await frame.evaluate(() => ({
      height: document.documentElement.getBoundingClientRect().height,
      scrollHeight: document.documentElement.scrollHeight,
      innerHeight: window.innerHeight,
    }));
    const now = { frame: box ? box.height : 0, ...doc };
    const matches = Math.abs(now.frame - now.height) <= TOLERANCE;
    if (matches && last && last.frame === now.frame && last.height === now.height) {
      if (Date.now() - sameSince >= 300) return now;
    } else {
      sameSince = Date.now();
    }
    last = now;
    if (Date.now() > until) return now;
    await sleep(100);
  }
}

/** What the frame shows: its heading, count, events (id, title, link) and page links. */
function readEmbed(frame) {
  return frame.evaluate(() => {
    const items = Array.from(document.querySelectorAll('main ol.events > li'));
    return {
      h1: document.querySelector('main h1')?.textContent.trim() || '',
      count: document.querySelector('main .count')?.textContent.trim() || '',
      items: items.map((li) => {
        const article = li.querySelector('article[aria-labelledby]');
        const link = li.querySelector('h2 a[href]');
        const hidden = link?.querySelector('.visually-hidden')?.textContent || '';
        return {
          id: (article?.getAttribute('aria-labelledby') || '').replace(/^event-/, ''),
          title: link ? link.textContent.replace(hidden, '').trim() : null,
          href: link?.href || null,
        };
      }),
      next: document.querySelector('nav.pages a[rel="next"]')?.getAttribute('href') || null,
      first: Array.from(document.querySelectorAll('nav.pages a')).some((a) => a.getAttribute('rel') !== 'next'),
      links: document.querySelectorAll('a[href]').length,
      theme: document.documentElement.getAttribute('data-theme'),
      compact: document.body.classList.contains('compact'),
      summaries: document.querySelectorAll('.summary').length,
      lang: document.documentElement.lang,
      background: getComputedStyle(document.documentElement).backgroundColor,
    };
  });
}

function checkEvents(label, shown, expected) {
  const want = expected.data.map((e) => e.id);
  const got = shown.items.map((i) => i.id);
  check(
    `${label}: the list shows the API's events, in order`,
    got.length > 0 && JSON.stringify(got) === JSON.stringify(want),
    `${got.length} shown, ${want.length} expected${JSON.stringify(got) === JSON.stringify(want) ? '' : ` (shown ${got.join(',')}; expected ${want.join(',')})`}`,
  );
  const titles = expected.data.map((e) => e.title);
  const badLinks = shown.items.filter((item, i) => !item.href || !/^https?:\/\//.test(item.href) || item.title !== titles[i]);
  check(
    `${label}: each event has a link named by its title`,
    shown.items.length > 0 && badLinks.length === 0,
    badLinks.length ? `bad: ${JSON.stringify(badLinks.slice(0, 3))}` : `${shown.items.length} links`,
  );
}

async function checkHeight(label, element, frame, { expectChangeFrom = INITIAL_HEIGHT } = {}) {
  const h = await settledHeights(element, frame);
  const matches = Math.abs(h.frame - h.height) <= TOLERANCE;
  const scrolls = h.scrollHeight > h.innerHeight + 1;
  const moved = Math.round(h.frame) !== expectChangeFrom || Math.round(h.height) === expectChangeFrom;
  check(
    `${label}: the iframe is sized to its content`,
    matches && !scrolls && moved,
    `iframe ${h.frame}px, document ${h.height}px, scrollHeight ${h.scrollHeight}px in a ${h.innerHeight}px viewport` +
      (moved ? '' : ` (still ${expectChangeFrom}px)`),
  );
  return h;
}

/** axe-core in the frame's own document; fails on serious or critical violations. */
async function checkAxe(label, frame) {
  const loaded = await frame.evaluate(() => typeof window.axe === 'object');
  if (!loaded) await frame.evaluate(AXE_SOURCE);
  const results = await frame.evaluate(async () => {
    const run = await window.axe.run(document, { resultTypes: ['violations'] });
    return {
      version: window.axe.version,
      passes: run.passes.length,
      violations: run.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html.slice(0, 160), summary: n.failureSummary })),
      })),
    };
  });
  const blocking = results.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(
    `${label}: axe-core ${results.version} finds no serious or critical violation`,
    blocking.length === 0,
    blocking.length
      ? blocking.map((v) => `${v.id} (${v.impact}, ${v.nodes.length} nodes: ${v.nodes[0].target} ${v.nodes[0].html}; ${v.nodes[0].summary.replace(/\s+/g, ' ')})`).join(' | ')
      : `${results.passes} rules passed`,
  );
  for (const v of results.violations.filter((v) => !blocking.includes(v))) {
    note(`${label}: axe ${v.impact} ${v.id}: ${v.help} (${v.nodes.length} nodes, e.g. ${v.nodes[0].target})`);
  }
}

function checkLog(label, log) {
  check(`${label}: no console error or page error`, log.errors.length === 0, log.errors.slice(0, 5).join(' | '));
  check(`${label}: no Content Security Policy violation`, log.csp.length === 0, log.csp.slice(0, 5).join(' | '));
  const allowed = new Set([API, log.hostOrigin]);
  const elsewhere = log.requests.filter((url) => {
    try {
      return !allowed.has(new URL(url).origin);
    } catch {
      return true;
    }
  });
  check(
    `${label}: every request goes to the API or the partner page`,
    log.requests.length > 0 && elsewhere.length === 0,
    elsewhere.length ? `elsewhere: ${[...new Set(elsewhere)].slice(0, 5).join(', ')}` : `${log.requests.length} requests`,
  );
}

// --- The run -------------------------------------------------------------------------------------

async function main(resources) {
  let defaultHeight = 0;
  const region = await chooseRegion();
  if (!check('the demo data has a region with two events or more in its latest edition', !!region && region.count >= 2,
    region ? `region ${region.code} (${region.label}), edition ${region.edition}: ${region.count} events` : 'none')) return;
  const limit = Math.max(1, Math.min(3, region.count - 1));
  const filter = `region=${encodeURIComponent(region.code)}&edition=${region.edition}&sort=starts_at&limit=${limit}`;
  const page1 = await api(`/api/v1/events?${filter}`);
  const page2 = page1.next_cursor ? await api(`/api/v1/events?${filter}&cursor=${encodeURIComponent(page1.next_cursor)}`) : null;

  const pages = new Map([
    ['/', partnerPage(region, { region: region.code, limit })],
    ['/dark.html', partnerPage(region, { region: region.code, limit, theme: 'dark', lang: 'en' })],
    ['/compact.html', partnerPage(region, { region: region.code, limit, compact: 'true' })],
  ]);
  let executable = true;
  try {
    accessSync(CHROMIUM, constants.X_OK);
  } catch {
    executable = false;
  }
  if (!check('a Chromium to run', executable, `${CHROMIUM} ${executable ? 'found' : 'is missing: apt-get install chromium, or set CHROMIUM'}`)) return;

  const server = await startPartnerServer(pages);
  resources.server = server;
  const hostOrigin = `http://${HOST_NAME}:${server.address().port}`;

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    timeout: 20_000,
  });
  resources.browser = browser;
  note(`Chromium ${browser.version()} (${CHROMIUM}); partner page ${hostOrigin}, API ${API}`);
  const context = await browser.newContext({ viewport: { width: 900, height: 900 }, deviceScaleFactor: 1, colorScheme: 'light' });
  await context.addInitScript(CSP_LISTENER);

  // 1. The default embed, light.
  {
    const log = { errors: [], csp: [], requests: [], hostOrigin };
    const page = await openPage(context, log);
    await page.goto(`${hostOrigin}/`, { waitUntil: 'load' });
    const { element, frame } = await embedFrame(page);
    const src = await element.getAttribute('src');
    const title = await element.getAttribute('title');
    check('widget.js inserts a titled iframe to /embed/events with the filter and the page origin',
      !!src && src.startsWith(`${API}/embed/events?`) && new URL(src).searchParams.get('region') === region.code &&
        new URL(src).searchParams.get('origin') === hostOrigin && !!title,
      `src ${src}, title "${title}"`);
    await frame.waitForSelector('main ol.events > li');
    const shown = await readEmbed(frame);
    check('the frame has an h1 naming the edition', shown.h1.length > 0 && shown.h1.includes(String(region.edition)), `"${shown.h1}"`);
    check('the count is the API total', shown.count.startsWith(`${page1.total} `), `"${shown.count}", API total ${page1.total}`);
    checkEvents('page 1', shown, page1);
    check('a "next" link when the API has a next page', !!shown.next === !!page1.next_cursor, `next ${shown.next}`);
    const h1 = await checkHeight('page 1', element, frame);
    defaultHeight = h1.height;

    if (SCREENSHOT) {
      await page.screenshot({ path: SCREENSHOT, fullPage: true });
      note(`screenshot: ${SCREENSHOT}`);
    }

    // Keyboard: from the link just before the snippet, Tab enters the frame on its first link.
    await page.focus('#before-embed');
    await page.keyboard.press('Tab');
    const hostFocus = await page.evaluate(() => document.activeElement?.tagName);
    const inFrame = await frame.evaluate(() => {
      const active = document.activeElement;
      const first = document.querySelector('main a[href]');
      return {
        isFirst: !!first && active === first,
        focused: active ? `${active.tagName.toLowerCase()} "${active.textContent.trim().slice(0, 60)}"` : 'nothing',
        outline: active ? getComputedStyle(active).outlineStyle : 'none',
        outlineWidth: active ? getComputedStyle(active).outlineWidth : '0px',
        visible: active ? active.matches(':focus-visible') : false,
      };
    });
    check('Tab from the partner page focuses the first link inside the frame', hostFocus === 'IFRAME' && inFrame.isFirst,
      `host focus ${hostFocus}, frame focus ${inFrame.focused}`);
    check('the focused link shows a focus indicator', inFrame.visible && inFrame.outline !== 'none' && inFrame.outlineWidth !== '0px',
      `:focus-visible ${inFrame.visible}, outline ${inFrame.outline} ${inFrame.outlineWidth}`);
    for (let i = 1; i < shown.links; i += 1) await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const after = await page.evaluate(() => document.activeElement?.id || document.activeElement?.tagName);
    check('Tab goes through the frame\'s links and on out of it (no keyboard trap)', after === 'after-embed',
      `after ${shown.links} more Tabs: ${after}`);
    await page.focus('#before-embed');

    await checkAxe('light', frame);
    await page.emulateMedia({ colorScheme: 'dark' });
    const dark = await readEmbed(frame);
    check('dark by the reader\'s setting: the frame turns dark', dark.background === 'rgb(22, 22, 22)', `background ${dark.background}`);
    await checkAxe('dark (prefers-color-scheme)', frame);
    await page.emulateMedia({ colorScheme: 'light' });

    // The next page, in the frame.
    if (page2 && shown.next) {
      await frame.click('nav.pages a[rel="next"]');
      await frame.waitForURL(/[?&]cursor=/);
      await frame.waitForSelector('main ol.events > li');
      const second = await readEmbed(frame);
      checkEvents('page 2', second, page2);
      check('page 2 links back to the first page', second.first, second.first ? '' : 'no link to the first page');
      const h2 = await checkHeight('page 2', element, frame, { expectChangeFrom: Math.round(h1.frame) });
      if (Math.round(h2.height) === Math.round(h1.height)) note('pages 1 and 2 happen to be as tall: the resize is not told apart');
      check('the frame\'s links keep the origin, so page 2 still reports its height to the partner page',
        new URL(frame.url()).searchParams.get('origin') === hostOrigin, frame.url());
      await checkAxe('page 2', frame);
    } else {
      check('the "next" link navigates to the next page', false, `no next page (API next_cursor ${page1.next_cursor}, link ${shown.next})`);
    }
    checkLog('default embed', log);

    // Sanity: an inline script in the frame is refused, and the refusal is seen here.
    const before = log.csp.length;
    await frame.evaluate(() => {
      const script = document.createElement('script');
      script.textContent = 'window.__inline = 1';
      document.body.append(script);
    });
    const until = Date.now() + 3000;
    while (log.csp.length === before && Date.now() < until) await sleep(50);
    const ran = await frame.evaluate(() => window.__inline === 1);
    check('sanity: the frame refuses an inline script and the violation is reported here', !ran && log.csp.length > before,
      log.csp.slice(before, before + 1).join('') || `ran ${ran}, no report`);
    await page.close();
  }

  // 2. Dark by data-theme (in a light reader setting), in English.
  {
    const log = { errors: [], csp: [], requests: [], hostOrigin };
    const page = await openPage(context, log);
    await page.goto(`${hostOrigin}/dark.html`, { waitUntil: 'load' });
    const { element, frame } = await embedFrame(page);
    await frame.waitForSelector('main ol.events > li');
    const shown = await readEmbed(frame);
    check('data-theme="dark" data-lang="en": a dark, English frame',
      shown.theme === 'dark' && shown.background === 'rgb(22, 22, 22)' && shown.lang === 'en' && / events?$/.test(shown.count),
      `data-theme ${shown.theme}, background ${shown.background}, lang ${shown.lang}, "${shown.count}"`);
    checkEvents('dark', shown, page1);
    await checkHeight('dark', element, frame);
    await checkAxe('dark (data-theme)', frame);
    checkLog('dark embed', log);
    await page.close();
  }

  // 3. Compact.
  {
    const log = { errors: [], csp: [], requests: [], hostOrigin };
    const page = await openPage(context, log);
    await page.goto(`${hostOrigin}/compact.html`, { waitUntil: 'load' });
    const { element, frame } = await embedFrame(page);
    await frame.waitForSelector('main ol.events > li');
    const shown = await readEmbed(frame);
    checkEvents('compact', shown, page1);
    const h = await checkHeight('compact', element, frame);
    check('data-compact="true": a compact frame, without summaries and shorter than the default one',
      shown.compact && shown.summaries === 0 && h.height < defaultHeight,
      `body.compact ${shown.compact}, ${shown.summaries} summaries, ${h.height}px against ${defaultHeight}px`);
    await checkAxe('compact', frame);
    checkLog('compact embed', log);
    await page.close();
  }
  await context.close();
}

const resources = {};
async function cleanup() {
  await resources.browser?.close().catch(() => {});
  await new Promise((resolve) => (resources.server ? resources.server.close(() => resolve()) : resolve()));
}

let timedOut = false;
const deadline = setTimeout(() => {
  timedOut = true;
  check('the run ends within the deadline', false, `still running after ${DEADLINE_MS / 1000} s`);
  cleanup().finally(() => process.exit(1));
}, DEADLINE_MS);
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => cleanup().finally(() => process.exit(130)));
}

try {
  await main(resources);
} catch (error) {
  if (!timedOut) check('the run completes', false, error?.stack?.split('\n').slice(0, 3).join(' ') || String(error));
} finally {
  clearTimeout(deadline);
  await cleanup();
}
if (!timedOut) {
  console.log(`${failures === 0 ? 'embed: all checks passed' : `embed: ${failures} check(s) FAILED`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(failures === 0 ? 0 : 1);
}
