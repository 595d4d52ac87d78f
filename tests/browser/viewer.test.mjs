// The viewer (/) and /embed in headless Chromium, against the real server binary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { HERE, REPO, postEvent, startServer } from './lib/server.mjs';
import { hostServer, launch, newPage, waitForTiles } from './lib/browser.mjs';

const ARTIFACTS = path.join(HERE, 'artifacts');
const TERMANIN = '2020-02-18-termanin-air-raids';
const DARAT_IZZA = '2020-02-18-darat-izza-air-raids';
const REGION_EVENTS = [
  '2020-02-18-idlib-de-escalation-area-casualties', '2020-02-18-northwest-hospitals-camps-hit',
  '2019-12-01-northwest-displacement', '2018-09-17-sochi-casualties-since', '2017-05-04-astana-de-escalation-agreement',
];
// Termanin and Darat Izza both in view, as separate markers.
const TOWNS_VIEW = 'lat=36.25&lon=36.83&zoom=12';

let server, browser, host;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [server, browser, host] = await Promise.all([startServer(), launch(), hostServer()]);
});

after(async () => {
  await browser?.close();
  await host?.close();
  await server?.stop();
});

/** Opens a map page and waits for base and overlay tiles and the first event markers. */
async function openMap(page, url, frame = page) {
  await page.goto(url);
  await waitForTiles(frame, ['/tiles/', '/overlays/events/']);
  await frame.waitForSelector('body[data-events-loaded]');
}

/** The event ids of the markers on the page (each marker's group of events). */
function markerIds(frame) {
  return frame.evaluate(() => Array.from(document.querySelectorAll('[data-events]'))
    .flatMap((e) => e.getAttribute('data-events').split(' ')));
}

const metrics = {};
after(() => { if (Object.keys(metrics).length) writeFileSync(path.join(ARTIFACTS, 'metrics.json'), JSON.stringify(metrics, null, 2)); });

/** What the first view cost: bytes of every response, and when the first tiles arrived. */
async function firstLoadMetrics(page, finished, own) {
  let bytes = 0, leaflet = 0, tiles = 0;
  for (const r of finished) {
    const s = await r.sizes();
    const n = s.responseBodySize + s.responseHeadersSize;
    bytes += n;
    if (!r.url().startsWith(own) || r.url().includes('/web/leaflet/')) leaflet += n;
    else if (/\/(tiles|overlays)\//.test(r.url())) tiles += n;
  }
  const timing = await page.evaluate(() => {
    const entries = performance.getEntriesByType('resource');
    const first = (s) => Math.min(...entries.filter((e) => e.name.includes(s)).map((e) => e.responseEnd));
    const last = (s) => Math.max(...entries.filter((e) => e.name.includes(s)).map((e) => e.responseEnd));
    return { base: first('/tiles/'), overlay: first('/overlays/events/'), all: Math.max(last('/tiles/'), last('/overlays/events/')) };
  });
  return {
    requests: finished.length,
    bytes,
    leafletBytes: leaflet,
    tileBytes: tiles,
    otherOwnBytes: bytes - leaflet - tiles,
    firstBaseTileMs: Math.round(timing.base),
    firstOverlayTileMs: Math.round(timing.overlay),
    firstTilesMs: Math.round(Math.max(timing.base, timing.overlay)),
    allTilesMs: Math.round(timing.all),
  };
}

function describeMetrics(m) {
  const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
  return `${m.requests} requests, ${kib(m.bytes)} (Leaflet ${kib(m.leafletBytes)}, tiles ${kib(m.tileBytes)}, ` +
    `page, script, style and events ${kib(m.otherOwnBytes)}); first base tile ${m.firstBaseTileMs} ms and first overlay tile ` +
    `${m.firstOverlayTileMs} ms after navigation start, all tiles ${m.allTilesMs} ms`;
}

function noProblems(problems) {
  assert.deepEqual(problems, [], `problems on the page:\n${problems.join('\n')}`);
}

describe('the viewer', () => {
  test('loads with no console error and no failed request; tiles and the February 2020 markers appear', async (t) => {
    const { context, page, problems, cdn, aborted } = await newPage(browser);
    const finished = [];
    page.on('requestfinished', (r) => finished.push(r));
    const response = await page.goto(`${server.url}/`);
    const headers = response.headers();
    assert.match(headers['content-type'], /^text\/html/);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.match(headers['content-security-policy'], /frame-ancestors 'none'/);
    assert.match(headers['content-security-policy'], /script-src 'self' https:\/\/unpkg\.com\/leaflet@1\.9\.4\/dist\/;/);
    assert.doesNotMatch(headers['content-security-policy'], /unsafe/);
    // The page's own files: a stylesheet and ES modules under a path that names the build.
    const own = await page.evaluate(() => ({
      css: document.querySelector('link[rel=stylesheet][href^="/web/"]').getAttribute('href'),
      main: document.querySelector('script[type=module]').getAttribute('src'),
    }));
    assert.match(own.main, /^\/web\/[0-9a-f]{12}\/main\.js$/);
    const version = own.main.split('/')[2];
    for (const [asset, type] of [[own.main, /^text\/javascript/], [own.css, /^text\/css/], [`/web/${version}/events.js`, /^text\/javascript/]]) {
      const r = await fetch(`${server.url}${asset}`);
      assert.match(r.headers.get('content-type'), type);
      assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
      assert.match(r.headers.get('cache-control'), /immutable/);
      const again = await fetch(`${server.url}${asset}`, { headers: { 'If-None-Match': r.headers.get('etag') } });
      assert.equal(again.status, 304, `${asset} answers If-None-Match`);
    }
    assert.equal((await fetch(`${server.url}/web/000000000000/main.js`)).status, 404, 'another build\'s files are not served');
    await waitForTiles(page, ['/tiles/', '/overlays/events/']);
    await page.waitForSelector('body[data-events-loaded]');
    await page.waitForLoadState('networkidle');

    const ids = await markerIds(page);
    for (const id of [TERMANIN, DARAT_IZZA, ...REGION_EVENTS]) assert.ok(ids.includes(id), `marker for ${id}: ${ids}`);
    assert.ok(cdn.some((u) => u.endsWith('/leaflet.js')), 'Leaflet came from the (local stand-in of the) CDN');
    const attribution = await page.textContent('.leaflet-control-attribution');
    assert.match(attribution, /Natural Earth/);
    assert.match(attribution, /GeoNames/);

    const m = await firstLoadMetrics(page, finished, server.url);
    metrics.cdn = m;
    t.diagnostic(`viewer, Leaflet from the CDN (answered by the test): ${describeMetrics(m)}`);
    noProblems(problems);
    assert.deepEqual(aborted, [], 'no tile of the first view is cancelled');
    await context.close();
  });

  test('clicking the Termanin marker shows its popup with its sources and location precision', async () => {
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/?${TOWNS_VIEW}`);
    await page.click(`[data-events~="${TERMANIN}"]`);
    const popup = page.locator('.leaflet-popup .tessera-popup');
    await popup.waitFor();
    const text = await popup.textContent();
    assert.match(text, /Russian air raids on Termanin/);
    assert.match(text, /2020-02-18/);
    assert.match(text, /Air strike/);
    assert.match(text, /Russian Aerospace Forces/);
    assert.match(text, /News report on the Russian-Turkish consultations on Idlib/, 'the source is shown');
    assert.match(text, /centre of the town/, 'the popup says how precise the position is');
    await page.click('.leaflet-popup-close-button');

    // Darat Izza's sources carry web addresses: they become links, and only they do.
    await page.click(`[data-events~="${DARAT_IZZA}"]`);
    // The popup asks the server for the marker's events: wait for them.
    await page.locator(`.leaflet-popup .tessera-popup [data-event="${DARAT_IZZA}"]`).waitFor();
    const links = await page.locator('.leaflet-popup .sources a').evaluateAll((as) => as.map((a) => a.href));
    assert.ok(links.includes('https://news.sn4hr.org/2020/02/17/russian-forces-bombed-hospital-darat-ezza-city-aleppo-feb-17/'), String(links));
    assert.ok(links.includes('https://syrianarchive.org/en/investigations/kinanaferdoushospitals/'), String(links));
    noProblems(problems);
    await context.close();
  });

  test('the clickable marker of a located event lies over the symbol the overlay hangs above the town', async () => {
    // The overlay draws Termanin's air strike above the town's point, on a leader; the invisible
    // marker that opens its popup must sit on that symbol: the overlay pixel under the marker's
    // centre is the air-strike red (#d7301f).
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/?${TOWNS_VIEW}`);
    for (const id of [TERMANIN, DARAT_IZZA]) {
      const under = await page.evaluate((eventId) => {
        const marker = document.querySelector(`[data-events~="${eventId}"]`);
        const r = marker.getBoundingClientRect();
        const [cx, cy] = [r.left + r.width / 2, r.top + r.height / 2];
        const tile = Array.from(document.querySelectorAll('.tessera-overlay img')).find((img) => {
          const b = img.getBoundingClientRect();
          return img.complete && cx >= b.left && cx < b.right && cy >= b.top && cy < b.bottom;
        });
        if (!tile) return null;
        const b = tile.getBoundingClientRect();
        const canvas = document.createElement('canvas');
        [canvas.width, canvas.height] = [tile.naturalWidth, tile.naturalHeight];
        const g = canvas.getContext('2d');
        g.drawImage(tile, 0, 0);
        const k = tile.naturalWidth / b.width;
        return Array.from(g.getImageData(Math.floor((cx - b.left) * k), Math.floor((cy - b.top) * k), 1, 1).data);
      }, id);
      assert.ok(under, `${id}: no overlay tile under its marker`);
      const [r, gr, bl, a] = under;
      assert.ok(a > 240 && Math.abs(r - 0xd7) < 8 && Math.abs(gr - 0x30) < 8 && Math.abs(bl - 0x1f) < 8,
        `${id}: the overlay under the marker is ${under}, not the air-strike symbol`);
    }
    noProblems(problems);
    await context.close();
  });

  test('an event carrying markup and a javascript: source shows them as text', async () => {
    await postEvent(server.url, {
      type: 'Feature', id: 'browser-test-hostile',
      geometry: { type: 'Point', coordinates: [40.2, 37.6] },
      properties: {
        time: '2020-02-10', kind: 'shelling', title: '<img src=x onerror="window.__xss=1">Hostile <b>title</b>',
        actors: ['<script>window.__xss=2</script>'], killed: 1,
        sources: ['javascript:window.__xss=3', 'https://example.org/report?a=1&b=2', 'see <a href="javascript:alert(1)">this</a>'],
        location_precision: 'exact',
      },
    });
    const { context, page, problems } = await newPage(browser);
    await page.addInitScript(() => { window.alert = () => { window.__xss = 'alert'; }; });
    await openMap(page, `${server.url}/?lat=37.6&lon=40.2&zoom=10`);
    await page.click('[data-events~="browser-test-hostile"]');
    const popup = page.locator('.leaflet-popup .tessera-popup');
    await popup.waitFor();
    assert.match(await popup.textContent(), /<img src=x onerror="window.__xss=1">Hostile <b>title<\/b>/);
    assert.equal(await popup.locator('img, b, script').count(), 0, 'no element came from the data');
    const links = await popup.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
    assert.deepEqual(links, ['https://example.org/report?a=1&b=2'], 'only the http(s) address is a link');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    noProblems(problems);
    await context.close();
  });

  test('popup_credentials_and_bidi_overrides: a source shows and links no user:password@, and a right-to-left override reorders nothing', async () => {
    await postEvent(server.url, {
      type: 'Feature', id: 'browser-test-bidi',
      geometry: { type: 'Point', coordinates: [40.6, 37.6] },
      properties: {
        time: '2020-02-11', kind: 'shelling', title: 'Strike report \u202Efdp.exe\u202C filed',
        actors: ['\u202Eside A', 'side B'], description: 'first \u2067hidden\u2069 last', killed: 1,
        sources: ['https://user:secret@example.org/report', 'see https://admin:pw@example.org/x for more'],
        location_precision: 'exact',
      },
    });
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/?lat=37.6&lon=40.6&zoom=10`);
    await page.click('[data-events~="browser-test-bidi"]');
    const popup = page.locator('.leaflet-popup .tessera-popup');
    await popup.waitFor();
    const text = await popup.textContent();
    assert.ok(!/[\u202A-\u202E\u2066-\u2069]/.test(text), 'a bidirectional control reached the page');
    assert.match(text, /Strike report fdp\.exe filed/);
    for (const secret of ['secret', 'user:', 'admin', ':pw']) assert.ok(!text.includes(secret), `the popup shows ${secret}`);
    const links = await popup.locator('a').evaluateAll((as) => as.map((a) => [a.getAttribute('href'), a.textContent]));
    assert.deepEqual(links, [['https://example.org/report', 'https://example.org/report'], ['https://example.org/x', 'https://example.org/x']]);
    // Each of the event's strings is isolated in its own direction.
    assert.equal(await popup.locator('h3').getAttribute('dir'), 'auto');
    assert.equal(await popup.locator('.description').getAttribute('dir'), 'auto');
    assert.equal(await popup.locator('.actors bdi[dir="auto"]').count(), 2);
    assert.equal(await popup.locator('.sources li[dir="auto"]').count(), 2);
    noProblems(problems);
    await context.close();
  });

  test('narrowing the dates hides events outside them, in the overlay and the markers', async () => {
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/?${TOWNS_VIEW}`);
    assert.ok((await markerIds(page)).includes(TERMANIN));
    const clear = Buffer.from(await (await fetch(`${server.url}/overlays/events/12/0/0.png`)).arrayBuffer());
    const termaninTile = '/overlays/events/12/2466/1605.png';
    const before = Buffer.from(await (await fetch(`${server.url}${termaninTile}`)).arrayBuffer());
    assert.notDeepEqual(before, clear, 'Termanin is drawn on its overlay tile when no dates are set');

    const overlayUrls = [];
    page.on('request', (r) => { if (r.url().includes('/overlays/events/')) overlayUrls.push(r.url()); });
    const narrowed = page.waitForResponse((r) => r.url().includes(termaninTile) && r.url().includes('to=2020-02-17'));
    await page.fill('#from', '2020-02-01');
    await page.fill('#to', '2020-02-17');
    const tile = await narrowed;
    assert.deepEqual(await tile.body(), clear, 'the overlay tile of Termanin is empty once 18 February is filtered out');
    await page.waitForFunction((id) => !document.querySelector(`[data-events~="${id}"]`), TERMANIN);
    await page.waitForFunction((id) => !!document.querySelector(`[data-events~="${id}"]`), DARAT_IZZA);
    const later = overlayUrls.filter((u) => u.includes('to=2020-02-17'));
    assert.ok(later.length > 0 && later.every((u) => u.includes('from=2020-02-01')), String(overlayUrls));
    assert.match(page.url(), /from=2020-02-01&to=2020-02-17/, 'the address carries the dates');

    // Kinds: hiding air strikes hides Darat Izza as well.
    const byKind = page.waitForRequest((r) => r.url().includes('/overlays/events/') && r.url().includes('kind='));
    await page.uncheck('#kind-airstrike');
    assert.doesNotMatch((await byKind).url(), /airstrike/);
    await page.waitForFunction((id) => !document.querySelector(`[data-events~="${id}"]`), DARAT_IZZA);
    noProblems(problems);
    await context.close();
  });

  test('screenshots at desktop and phone width', async () => {
    for (const [name, options] of [
      ['viewer-desktop-1280x800', { viewport: { width: 1280, height: 800 } }],
      ['viewer-phone-360x740', { viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true }],
    ]) {
      const { context, page, problems } = await newPage(browser, options);
      const retina = [];
      page.on('request', (r) => { if (r.url().includes('@2x.png')) retina.push(r.url()); });
      await openMap(page, `${server.url}/`);
      await page.waitForLoadState('networkidle');
      const file = path.join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file });
      if (options.deviceScaleFactor === 2) assert.ok(retina.length > 0, 'a high-density screen gets @2x tiles');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `nothing sticks out sideways (${overflow} px)`);
      if (name.includes('phone')) {
        // On a phone the dates and legend open from the handle of their sheet, below the map.
        await page.tap('#sheet-handle');
        await page.waitForSelector('#panel', { state: 'visible' });
        await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-phone-360x740-legend.png') });
        const panel = await page.locator('#panel').boundingBox();
        assert.ok(panel.width <= 360, 'the legend fits the phone');
      }
      if (name.includes('desktop') && process.env.TESSERA_UPDATE_README_IMAGE === '1') {
        copyFileSync(file, path.join(REPO, 'docs', 'img', 'viewer.png'));
      }
      noProblems(problems);
      await context.close();
    }
  });
});

/** A box's overlap with another, in CSS px². */
function overlapArea(a, b) {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

/** How much of the map (#map's box, as a share of its area) the legend sheet covers. */
async function sheetCover(page) {
  const map = await page.locator('#map').boundingBox();
  let covered = 0;
  for (const sel of ['#panel', '#sheet-handle']) {
    const el = page.locator(sel);
    if (await el.isVisible()) covered += overlapArea(map, await el.boundingBox());
  }
  return covered / (map.width * map.height);
}

/** Controls on screen smaller than `min` CSS px in either direction (a checkbox's label counts: a tap on it works). */
function smallTargets(page, selector, min) {
  return page.evaluate(([sel, m]) => Array.from(document.querySelectorAll(sel)).flatMap((e) => {
    const box = e.type === 'checkbox' || e.type === 'radio';
    const target = (box && (e.closest('label') || document.querySelector(`label[for="${e.id}"]`))) || e;
    const r = target.getBoundingClientRect();
    const shown = r.width > 0 && getComputedStyle(e).visibility !== 'hidden' && e.offsetParent !== null;
    return shown && (r.width < m || r.height < m) ? [`${e.id || e.className || e.tagName} ${Math.round(r.width)}x${Math.round(r.height)}`] : [];
  }), [selector, min]);
}

/** Elements that stick out of the viewport sideways. */
function sideways(page) {
  return page.evaluate(() => Array.from(document.querySelectorAll('body *')).flatMap((e) => {
    const r = e.getBoundingClientRect();
    const shown = r.width > 0 && r.height > 0 && e.offsetParent !== null && !e.closest('.leaflet-pane');
    return shown && (r.left < -0.5 || r.right > window.innerWidth + 0.5) ? [`${e.id || e.className || e.tagName}: ${Math.round(r.left)}..${Math.round(r.right)}`] : [];
  }));
}

describe('on a phone (issue 12 item 6)', () => {
  const PHONE = { viewport: { width: 375, height: 700 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

  test('phone_title_cut_and_legend_sheet_covers_the_map: at 375x700 the whole title shows, the closed sheet leaves the map free, and the sheet opens and closes by tap and keyboard', async () => {
    const { context, page, problems } = await newPage(browser, PHONE);
    await openMap(page, `${server.url}/`);
    await page.waitForLoadState('networkidle');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-phone-375x700.png') });

    // The title: all of it, neither cut sideways nor clipped below.
    const full = JSON.parse(await page.textContent('#tessera-config')).title;
    const title = await page.$eval('.bar .title', (h) => ({
      text: h.textContent, sw: h.scrollWidth, cw: h.clientWidth, sh: h.scrollHeight, ch: h.clientHeight,
      right: h.getBoundingClientRect().right,
    }));
    assert.equal(title.text, full);
    assert.ok(title.sw <= title.cw, `the title is cut sideways: ${title.sw} px of text in ${title.cw} px`);
    assert.ok(title.sh <= title.ch, `the title is cut below: ${title.sh} px of text in ${title.ch} px`);
    assert.ok(title.right <= 375, `the title ends at ${title.right} px`);
    assert.deepEqual(await sideways(page), [], 'nothing sticks out sideways');

    // Closed, the sheet covers at most a sliver of the map, and the map has most of the screen.
    const handle = page.locator('#sheet-handle');
    assert.equal(await handle.getAttribute('aria-expanded'), 'false');
    assert.equal(await page.isVisible('#panel'), false, 'the sheet starts closed on a phone');
    assert.ok(await sheetCover(page) <= 0.1, `the closed sheet covers ${(await sheetCover(page) * 100).toFixed(0)}% of the map`);
    const map = await page.locator('#map').boundingBox();
    assert.ok(map.width * map.height >= 0.75 * 375 * 700, `the map has ${Math.round(map.width)}x${Math.round(map.height)} px of 375x700`);
    assert.deepEqual(await smallTargets(page, '.bar .button, #sheet-handle, .leaflet-control-zoom a, .leaflet-control-layers-toggle', 40), [],
      'every control in reach of a finger is at least 40 px');

    // A tap opens it: the legend and the dates show, on at most half of the map.
    await handle.tap();
    await page.waitForSelector('#panel', { state: 'visible' });
    assert.equal(await handle.getAttribute('aria-expanded'), 'true');
    assert.ok(await page.isVisible('#legend-kinds'));
    assert.ok(await page.locator('#from').isVisible());
    const open = await sheetCover(page);
    assert.ok(open <= 0.5, `the open sheet covers ${(open * 100).toFixed(0)}% of the map`);
    assert.deepEqual(await sideways(page), [], 'nothing sticks out sideways with the sheet open');
    assert.deepEqual(await smallTargets(page, '#panel input, #panel button', 40), [], 'the sheet\'s controls are at least 40 px');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-phone-375x700-sheet.png') });
    // Tapping a kind in the sheet still filters.
    const byKind = page.waitForRequest((r) => r.url().includes('/overlays/events/') && r.url().includes('kind='));
    await page.locator('label[for="kind-talks"]').tap();
    assert.doesNotMatch((await byKind).url(), /talks/);
    await handle.tap();
    await page.waitForSelector('#panel', { state: 'hidden' });
    assert.equal(await handle.getAttribute('aria-expanded'), 'false');

    // The keyboard: Enter opens, Tab goes into the sheet, Escape closes and gives focus back.
    await handle.focus();
    await page.keyboard.press('Enter');
    await page.waitForSelector('#panel', { state: 'visible' });
    await page.keyboard.press('Tab');
    assert.ok(await page.evaluate(() => document.getElementById('panel').contains(document.activeElement)), 'Tab leads into the sheet');
    await page.keyboard.press('Escape');
    await page.waitForSelector('#panel', { state: 'hidden' });
    assert.equal(await page.evaluate(() => document.activeElement.id), 'sheet-handle');
    await page.keyboard.press('Space');
    await page.waitForSelector('#panel', { state: 'visible' });
    await page.keyboard.press('Space');
    await page.waitForSelector('#panel', { state: 'hidden' });
    noProblems(problems);
    await context.close();
  });

  test('/embed at 320 px: nothing sticks out, and its dates and legend open and close by tap', async () => {
    const { context, page, problems } = await newPage(browser, { ...PHONE, viewport: { width: 320, height: 480 } });
    await openMap(page, `${server.url}/embed?${TOWNS_VIEW}`);
    assert.deepEqual(await sideways(page), []);
    await page.tap('#panel-toggle');
    await page.waitForSelector('#panel', { state: 'visible' });
    const panel = await page.locator('#panel').boundingBox();
    assert.ok(panel.x >= 0 && panel.x + panel.width <= 320, `the panel fits: ${JSON.stringify(panel)}`);
    assert.deepEqual(await sideways(page), []);
    await page.screenshot({ path: path.join(ARTIFACTS, 'embed-320x480-panel.png') });
    await page.tap('#panel-close');
    await page.waitForSelector('#panel', { state: 'hidden' });
    noProblems(problems);
    await context.close();
  });
});

/** Global pixel position of a point at zoom z (Web Mercator, 256 px tiles). */
function mercatorPx(lon, lat, z) {
  const world = 256 * 2 ** z, sin = Math.sin((lat * Math.PI) / 180);
  return [((lon + 180) / 360) * world, (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * world];
}

describe('markers, popups and legend from the server (issue 13 item 5)', () => {
  test('each hit area is a marker of the server, centred on the symbol its overlay tile draws', async () => {
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/`);
    await page.waitForLoadState('networkidle');
    const z = 8;
    const onPage = await page.evaluate(() => Array.from(document.querySelectorAll('path[data-events]')).map((p) => {
      const r = p.getBoundingClientRect();
      return { ids: p.getAttribute('data-events'), x: r.x + r.width / 2, y: r.y + r.height / 2 };
    }));
    const tiles = await page.evaluate(() => Array.from(document.querySelectorAll('img.tessera-overlay, .tessera-overlay img'))
      .map((i) => ({ src: i.src, r: i.getBoundingClientRect() })).filter((t) => t.r.width > 0));
    assert.ok(tiles.length >= 6, `overlay tiles on the page: ${tiles.length}`);
    let checked = 0;
    for (const t of tiles) {
      const [, tz, tx, ty] = new URL(t.src).pathname.match(/\/(\d+)\/(\d+)\/(\d+)(@2x)?\.png$/).map(Number);
      assert.equal(tz, z);
      const fc = await (await fetch(`${server.url}/overlays/events/${tz}/${tx}/${ty}.json`)).json();
      for (const f of fc.features) {
        const [gx, gy] = mercatorPx(...f.geometry.coordinates, z);
        // A located marker hangs lift_px above its point (the overlay's leader); the Rust test
        // events_markers checks that the overlay PNG draws the symbol there.
        const lift = f.properties.lift_px;
        assert.ok(typeof lift === 'number' && lift >= 0, `${f.properties.ids}: lift_px ${lift}`);
        const want = { x: t.r.x + (gx - tx * 256) * (t.r.width / 256), y: t.r.y + (gy - lift - ty * 256) * (t.r.height / 256) };
        const got = onPage.find((m) => m.ids === f.properties.ids.join(' '));
        assert.ok(got, `no hit area for the server's marker ${f.properties.ids}`);
        assert.ok(Math.hypot(got.x - want.x, got.y - want.y) < 1.5, `${f.properties.ids}: at ${got.x},${got.y}, drawn at ${want.x},${want.y}`);
        checked++;
      }
    }
    assert.ok(checked >= 3, `${checked} markers checked`);
    assert.equal(onPage.length, new Set(onPage.map((m) => m.ids)).size, 'no marker twice');
    noProblems(problems);
    await context.close();
  });

  test('a cluster of 45 events lists every one of them, 20 at a time', async () => {
    const ids = Array.from({ length: 45 }, (_, i) => `browser-cluster-${String(i).padStart(2, '0')}`);
    for (const [i, id] of ids.entries()) {
      await postEvent(server.url, {
        type: 'Feature', id, geometry: { type: 'Point', coordinates: [38.5 + (i % 5) * 0.001, 35.9 + Math.floor(i / 5) * 0.001] },
        properties: { time: '2020-02-12', kind: 'shelling', title: `Shelling ${i}`, location_precision: 'exact' },
      });
    }
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/?lat=35.9&lon=38.5&zoom=9`);
    const marker = page.locator(`[data-events~="${ids[0]}"]`);
    assert.deepEqual((await marker.getAttribute('data-events')).split(' ').sort(), ids, 'one marker holds the 45');
    assert.equal(await marker.getAttribute('aria-label'), '45 events');
    await marker.click();
    const sections = page.locator('.leaflet-popup .tessera-popup section.event');
    await page.locator('.leaflet-popup .tessera-popup').waitFor();
    assert.match(await page.textContent('.leaflet-popup .cluster-note'), /45 events close together/);
    assert.equal(await sections.count(), 20);
    await page.click('.leaflet-popup button.more');
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-popup section.event').length === 40);
    assert.match(await page.textContent('.leaflet-popup button.more'), /Show 5 more of 5/);
    await page.click('.leaflet-popup button.more');
    await page.waitForFunction(() => document.querySelectorAll('.leaflet-popup section.event').length === 45);
    assert.equal(await page.locator('.leaflet-popup button.more').count(), 0);
    const shown = await sections.evaluateAll((s) => s.map((e) => e.getAttribute('data-event')));
    assert.deepEqual(shown, ids, 'every event once, in the order of the marker');
    noProblems(problems);
    await context.close();
  });

  test('the legend shows the sprite\'s own drawings, and the layer notes of the manifest', async () => {
    const { context, page, problems } = await newPage(browser);
    await openMap(page, `${server.url}/`);
    await page.waitForSelector('body[data-legend-painted="true"]');
    const result = await page.evaluate(async () => {
      const base = window.devicePixelRatio >= 1.5 ? '/sprites/tessera@2x' : '/sprites/tessera';
      const index = await (await fetch(`${base}.json`)).json();
      const img = new Image();
      img.src = `${base}.png`;
      await img.decode();
      const sheet = document.createElement('canvas');
      [sheet.width, sheet.height] = [img.width, img.height];
      const ctx = sheet.getContext('2d');
      ctx.drawImage(img, 0, 0);
      return Array.from(document.querySelectorAll('#panel canvas[data-icon]')).map((c) => {
        const cell = index[c.dataset.icon];
        const mine = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        const theirs = cell ? ctx.getImageData(cell.x, cell.y, cell.width, cell.height).data : [];
        const same = mine.length === theirs.length && mine.every((v, i) => v === theirs[i]);
        const drawn = mine.some((v, i) => i % 4 === 3 && v > 0);
        return { icon: c.dataset.icon, same, drawn, h: c.getBoundingClientRect().height };
      });
    });
    const kinds = result.filter((r) => r.icon.startsWith('event-'));
    assert.equal(kinds.length, 10, 'a swatch per event kind');
    assert.ok(result.length >= 30, `${result.length} swatches`);
    for (const r of result) {
      assert.ok(r.same && r.drawn, `${r.icon}: the swatch is not the sprite's cell`);
      assert.ok(r.h > 4 && r.h <= 32, `${r.icon}: ${r.h} px high`);
    }
    const legend = await page.textContent('#legend-layers');
    for (const id of ['observation-points', 'de-escalation-zone', 'roads', 'borders', 'report-places']) {
      const { note } = await (await fetch(`${server.url}/collections/${id}`)).json();
      assert.ok(note && legend.includes(note), `${id}: the note "${note}" is in the legend`);
    }
    noProblems(problems);
    await context.close();
  });
});

describe('/embed', () => {
  test('loads from its URL with no error, may be framed, and keeps its URL in step with the map', async () => {
    const { context, page, problems } = await newPage(browser, { viewport: { width: 320, height: 480 } });
    const response = await page.goto(`${server.url}/embed?${TOWNS_VIEW}&from=2020-02-01&to=2020-02-29&kind=airstrike&layers=base,overlay,markers`);
    const h = response.headers();
    assert.match(h['content-security-policy'], /frame-ancestors \*/);
    assert.equal(h['x-frame-options'], undefined);
    assert.equal(h['x-content-type-options'], 'nosniff');
    await waitForTiles(page, ['/tiles/12/', '/overlays/events/12/']);
    await page.waitForSelector(`[data-events~="${TERMANIN}"]`);
    const overlay = await page.evaluate(() => Array.from(document.images).map((i) => i.src).find((s) => s.includes('/overlays/')));
    assert.match(overlay, /from=2020-02-01&to=2020-02-29&kind=airstrike/);
    assert.equal(await page.isVisible('#embed-open'), false, 'no embed button inside the embed');

    await page.locator('#map').focus();
    await page.keyboard.press('ArrowRight');
    await page.waitForFunction(() => !location.search.includes('lon=36.83000'));
    const url = new URL(page.url());
    assert.equal(url.pathname, '/embed');
    assert.equal(url.searchParams.get('zoom'), '12');
    assert.equal(url.searchParams.get('from'), '2020-02-01');
    assert.equal(url.searchParams.get('kind'), 'airstrike');
    assert.ok(Number(url.searchParams.get('lon')) > 36.83);
    noProblems(problems);
    await context.close();
  });

  test('layers= picks the map layers and narrows the base map to data layers', async () => {
    const { context, page, problems } = await newPage(browser);
    const base = page.waitForRequest((r) => r.url().includes('/tiles/12/'));
    await page.goto(`${server.url}/embed?${TOWNS_VIEW}&layers=countries,roads,overlay`);
    assert.match((await base).url(), /\?layers=countries%2Croads$/);
    await waitForTiles(page, ['/tiles/12/', '/overlays/events/12/']);
    await page.waitForSelector('body[data-events-loaded]');
    assert.deepEqual(await markerIds(page), [], 'no clickable markers: they were left out');
    assert.match(await page.textContent('.leaflet-control-attribution'), /Natural Earth/);
    assert.doesNotMatch(await page.textContent('.leaflet-control-attribution'), /Wikipedia/, 'only the shown layers are credited');
    noProblems(problems);
    await context.close();
  });

  test('works inside an iframe of a page on another origin, with the code from "Embed this map"', async () => {
    const viewer = await newPage(browser);
    await openMap(viewer.page, `${server.url}/?${TOWNS_VIEW}&from=2020-02-01`);
    await viewer.page.click('#embed-open');
    const code = await viewer.page.inputValue('#embed-code');
    assert.match(code, /^<iframe src="http:\/\/127\.0\.0\.1:\d+\/embed\?[^"]*lat=36\.25[^"]*"/);
    assert.match(code, /from=2020-02-01/);
    await viewer.context.close();

    host.set('/article.html', `<!doctype html><html><head><meta charset="utf-8"><title>An article</title></head>
<body><h1>An article</h1><p>Text before the map.</p>${code}<p>Text after the map.</p></body></html>`);
    const { context, page, problems } = await newPage(browser);
    await page.goto(`${host.origin}/article.html`);
    const frame = await (await page.waitForSelector('iframe')).contentFrame();
    await frame.waitForURL(/\/embed\?/);
    assert.notEqual(new URL(frame.url()).origin, host.origin, 'the map is on another origin than the page');
    await waitForTiles(frame, ['/tiles/', '/overlays/events/']);
    await frame.waitForSelector(`[data-events~="${TERMANIN}"]`);
    await frame.click(`[data-events~="${TERMANIN}"]`);
    await frame.waitForSelector('.leaflet-popup .tessera-popup');
    assert.match(await frame.textContent('.leaflet-popup'), /Russian air raids on Termanin/);
    noProblems(problems);
    await context.close();
  });
});

describe('hostile URLs', () => {
  const payloads = ['<script>window.__xss=1</script>', 'javascript:window.__xss=2', '"><img src=x onerror="window.__xss=3">',
    "'-alert(1)-'", '</script><script>alert(1)</script>'];
  const params = ['layers', 'lat', 'lon', 'zoom', 'from', 'to', 'kind'];

  for (const pagePath of ['/embed', '/']) {
    test(`${pagePath} with <script>, javascript: and markup in every parameter executes nothing`, async () => {
      for (const payload of payloads) {
        const q = new URLSearchParams(params.map((p) => [p, payload])).toString();
        const raw = await (await fetch(`${server.url}${pagePath}?${q}`, { headers: { Accept: 'text/html' } })).text();
        assert.ok(!raw.includes(payload) && !raw.includes('__xss') && !raw.includes('alert(1)'), `the page repeats the payload ${payload}`);

        const { context, page, problems } = await newPage(browser);
        await page.addInitScript(() => { window.alert = () => { window.__xss = 'alert'; }; });
        await openMap(page, `${server.url}${pagePath}?${q}`);
        assert.equal(await page.evaluate(() => window.__xss), undefined, payload);
        const injected = await page.evaluate(() => ({
          scripts: Array.from(document.scripts).map((s) => s.src || s.type),
          handlers: document.querySelectorAll('[onerror], [onload], [onclick], img[src="x"], a[href^="javascript"]').length,
        }));
        assert.equal(injected.handlers, 0, payload);
        assert.equal(injected.scripts.length, 3, `only the config, Leaflet and the viewer script: ${injected.scripts}`);
        const notes = await page.textContent('#notes');
        assert.match(notes, /'lat' was ignored/);
        assert.ok(!notes.includes(payload), 'the notes do not repeat the value');
        assert.ok((await markerIds(page)).includes(TERMANIN), 'the page still shows the default map');
        noProblems(problems);
        await context.close();
      }
    });
  }
});

describe('Leaflet from --leaflet-dir', () => {
  test('the viewer loads Leaflet from the server itself, with no third-party origin in its CSP', async (t) => {
    const local = await startServer(['--leaflet-dir', path.join(HERE, 'node_modules', 'leaflet', 'dist')]);
    try {
      const { context, page, problems, cdn } = await newPage(browser, { intercept: false });
      const finished = [];
      page.on('requestfinished', (r) => finished.push(r));
      const response = await page.goto(`${local.url}/`);
      const csp = response.headers()['content-security-policy'];
      assert.match(csp, /script-src 'self';/);
      assert.doesNotMatch(csp, /unpkg|https:/);
      await waitForTiles(page, ['/tiles/', '/overlays/events/']);
      await page.waitForSelector(`[data-events~="${TERMANIN}"]`);
      await page.waitForLoadState('networkidle');
      assert.deepEqual(cdn, [], 'nothing from the CDN');
      const m = await firstLoadMetrics(page, finished, local.url);
      metrics.local = m;
      t.diagnostic(`viewer, Leaflet from --leaflet-dir, nothing routed through the test: ${describeMetrics(m)}`);
      assert.ok(await page.evaluate(() => Array.from(document.scripts).some((s) => s.src.endsWith('/web/leaflet/leaflet.js'))));
      // The layer switcher's icon comes from the same directory.
      const icon = await fetch(`${local.url}/web/leaflet/images/layers.png`);
      assert.equal(icon.status, 200);
      assert.equal((await fetch(`${local.url}/web/leaflet/..%2F..%2FCargo.toml`)).status, 404);
      assert.equal((await fetch(`${local.url}/web/leaflet/package.json`)).status, 404);
      noProblems(problems);
      await context.close();
    } finally {
      await local.stop();
    }
  });
});
