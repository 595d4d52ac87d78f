// The timeline of the viewer and /embed (issue 20, item 2) in headless Chromium, against the
// real server: it plays a span day by day, each step asking for the overlay tiles in view once
// each, with that day's window, and getting the server's own tiles for it; the address keeps
// the position; the slider, the width and play/pause work from the keyboard.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { HERE, REPO, postEvent, reportPlace, startServer } from './lib/server.mjs';
import { launch, newPage, waitForTiles } from './lib/browser.mjs';

const ARTIFACTS = path.join(HERE, 'artifacts');
let server, browser;

const SARAQIB = reportPlace('Saraqib');
const MAARAT = reportPlace('Maarat al-Numan');

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  [server, browser] = await Promise.all([startServer(), launch()]);
  // Two test events in the first week of February (the seed's events are of 18 February and
  // of periods around it), on places of the report.
  const event = (id, time, [lon, lat], title) => postEvent(server.url, {
    type: 'Feature', id, geometry: { type: 'Point', coordinates: [lon, lat] },
    properties: { time, kind: 'shelling', title, location_precision: 'town', killed: 2, sources: ['browser test'] },
  });
  await event('timeline-test-saraqib', '2020-02-03', SARAQIB, 'Timeline test: shelling of Saraqib');
  await event('timeline-test-maarat', '2020-02-05', MAARAT, 'Timeline test: shelling of Maarat al-Numan');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

function noProblems(problems) {
  assert.deepEqual(problems, [], `problems on the page:\n${problems.join('\n')}`);
}

/** The tile (z, x, y) holding a point, Web Mercator. */
function tileOf([lon, lat], z) {
  const n = 2 ** z, r = (lat * Math.PI) / 180;
  return [z, Math.floor(((lon + 180) / 360) * n), Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)];
}

/** The tiles a map of `width` x `height` CSS px centred on [lon, lat] at zoom z shows. */
function tilesInView([lon, lat], z, width, height) {
  const n = 2 ** z, r = (lat * Math.PI) / 180;
  const cx = ((lon + 180) / 360) * n * 256, cy = ((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n * 256;
  const out = [];
  for (let y = Math.floor((cy - height / 2) / 256); y <= Math.floor((cy + height / 2 - 1e-9) / 256); y++) {
    for (let x = Math.floor((cx - width / 2) / 256); x <= Math.floor((cx + width / 2 - 1e-9) / 256); x++) out.push(`${z}/${x}/${y}`);
  }
  return out.sort();
}

/** Every overlay tile request of the page: { tile: 'z/x/y', from, to, response }. */
function recordOverlay(page) {
  const seen = [];
  page.on('request', (r) => {
    const m = r.url().match(/\/overlays\/events\/(\d+\/\d+\/\d+)(@2x)?\.png(\?.*)?$/);
    if (!m) return;
    const q = new URLSearchParams(m[3] ? m[3].slice(1) : '');
    seen.push({ tile: m[1], from: q.get('from'), to: q.get('to'), url: r.url(), request: r });
  });
  return seen;
}

const CENTRE = [36.75, 35.75];

/** Waits until every overlay tile on the map is of the window from/to, and loaded. */
function overlaySettled(page, from, to) {
  return page.waitForFunction((q) => {
    const imgs = Array.from(document.querySelectorAll('.tessera-overlay img'));
    return imgs.length > 0 && imgs.every((i) => i.src.includes(q) && i.complete);
  }, `from=${from}&to=${to}`);
}

describe('the timeline (issue 20, item 2)', () => {
  test('plays 1-7 February a day a step: each step asks once for each overlay tile in view, with its day, and gets the server\'s tile; a replay asks for none', async () => {
    const { context, page, problems } = await newPage(browser, { viewport: { width: 800, height: 500 } });
    const overlay = recordOverlay(page);
    const markerJson = [];
    page.on('request', (r) => { if (/\/overlays\/events\/\d+\/\d+\/\d+\.json/.test(r.url())) markerJson.push(r.url()); });
    const labels = [];
    await page.exposeFunction('__label', (t) => labels.push(t));
    await page.addInitScript(() => {
      document.addEventListener('DOMContentLoaded', () => {
        new MutationObserver(() => {
          const d = document.getElementById('timeline-date');
          if (d) window.__label(d.textContent);
        }).observe(document.body, { subtree: true, childList: true, characterData: true });
      });
    });
    const url = `${server.url}/embed?lat=${CENTRE[1]}&lon=${CENTRE[0]}&zoom=10&from=2020-02-01&to=2020-02-07&play=1`;
    await page.goto(url);
    await page.waitForSelector('body[data-timeline="playing"]');
    assert.match(page.url(), /from=2020-02-0[1-7]&to=2020-02-07&play=1/, 'while it plays the address says what plays, from the day shown');
    await page.waitForSelector('body[data-timeline="paused"]', { timeout: 60_000 });
    await page.waitForLoadState('networkidle');

    // Where it stopped: the last day, in the address, without play.
    assert.match(page.url(), /from=2020-02-07&to=2020-02-07/);
    assert.doesNotMatch(page.url(), /play=/);
    assert.equal(await page.textContent('#timeline-date'), '7 February 2020');
    const days = ['01', '02', '03', '04', '05', '06', '07'].map((d) => `2020-02-${d}`);
    for (const d of days) {
      const words = `${Number(d.slice(8))} February 2020`;
      assert.ok(labels.includes(words), `the map said ${words}: ${labels.join(' | ')}`);
    }

    // Each step: its own day, the tiles in view, once each.
    const box = await page.locator('#map').boundingBox();
    const inView = tilesInView(CENTRE, 10, box.width, box.height);
    const windows = [...new Set(overlay.map((o) => `${o.from}/${o.to}`))];
    assert.deepEqual(windows, days.map((d) => `${d}/${d}`), 'one window a step, in order, and no other');
    for (const d of days) {
      const tiles = overlay.filter((o) => o.from === d).map((o) => o.tile).sort();
      assert.deepEqual(tiles, inView, `${d}: each tile in view asked for once`);
    }
    // The markers wait for the pause: none is asked for on the way, those of the last day after.
    assert.ok(markerJson.length > 0 && markerJson.every((u) => u.endsWith('?from=2020-02-07&to=2020-02-07')), markerJson.join('\n'));

    // The tiles it got are the server's tiles of that day: the Saraqib event only on the 3rd,
    // Maarat al-Numan's only on the 5th.
    const clear = Buffer.from(await (await fetch(`${server.url}/overlays/events/10/0/0.png`)).arrayBuffer());
    for (const [where, id, day] of [[SARAQIB, 'timeline-test-saraqib', '2020-02-03'], [MAARAT, 'timeline-test-maarat', '2020-02-05']]) {
      const key = tileOf(where, 10).join('/');
      for (const d of days) {
        const got = overlay.find((o) => o.tile === key && o.from === d);
        assert.ok(got, `${key} on ${d} was asked for`);
        const response = await got.request.response();
        const body = await response.body();
        const truth = Buffer.from(await (await fetch(got.url)).arrayBuffer());
        assert.deepEqual(body, truth, `${key} on ${d}: the page's tile is the server's`);
        const markers = await (await fetch(`${server.url}/overlays/events/${key}.json?from=${d}&to=${d}`)).json();
        const ids = markers.features.flatMap((f) => f.properties.ids);
        assert.equal(ids.includes(id), d === day, `${id} is in the server's window of ${d}: ${ids}`);
        if (d === day) assert.notDeepEqual(body, clear, `${key} on ${d} draws the event`);
      }
    }
    // Paused, the markers of the last day are loaded again.
    await page.waitForSelector('body[data-events-loaded]');

    // Played again (Play at the end replays the span): the browser holds every tile of it and
    // asks the server for none.
    const asked = overlay.length;
    await page.click('#timeline-play');
    await page.waitForFunction(() => document.body.getAttribute('data-window') === '2020-02-01/2020-02-01');
    await page.waitForSelector('body[data-timeline="paused"]', { timeout: 60_000 });
    assert.equal(await page.evaluate(() => document.body.getAttribute('data-window')), '2020-02-07/2020-02-07');
    assert.deepEqual(overlay.slice(asked).map((o) => o.url), [], 'a replay comes from the cache');
    noProblems(problems);
    await context.close();
  });

  test('the slider, the width and play/pause work from the keyboard, one request per tile, and the address and date fields follow', async () => {
    const { context, page, problems } = await newPage(browser);
    const overlay = recordOverlay(page);
    await page.goto(`${server.url}/?lat=${CENTRE[1]}&lon=${CENTRE[0]}&zoom=10&from=2020-02-10&to=2020-02-12`);
    await waitForTiles(page, ['/tiles/', '/overlays/events/']);
    await page.waitForSelector('body[data-timeline="paused"]');
    const slider = page.locator('#timeline-day');
    assert.equal(await slider.getAttribute('aria-valuetext'), '10–12 February 2020');
    assert.equal(await page.inputValue('#timeline-width'), '3', 'the width is the window\'s');

    // Five quick presses: the label moves with each, the map once, when the keys rest.
    await slider.focus();
    const before = overlay.length;
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowRight');
    assert.equal(await page.textContent('#timeline-date'), '15–17 February 2020');
    await overlaySettled(page, '2020-02-15', '2020-02-17');
    const after = overlay.slice(before);
    assert.deepEqual([...new Set(after.map((o) => `${o.from}/${o.to}`))], ['2020-02-15/2020-02-17'], 'only the window the keys rested on');
    const tiles = after.map((o) => o.tile);
    assert.equal(new Set(tiles).size, tiles.length, `each tile once: ${tiles}`);
    assert.match(page.url(), /from=2020-02-15&to=2020-02-17/);
    assert.equal(await page.inputValue('#from'), '2020-02-15', 'the date fields follow');

    // One day wide, by keyboard.
    await page.focus('#timeline-width');
    await page.selectOption('#timeline-width', '1');
    await page.waitForFunction(() => document.body.getAttribute('data-window') === '2020-02-17/2020-02-17');
    assert.match(page.url(), /from=2020-02-17&to=2020-02-17/);

    // Home: the first day of the events.
    await slider.focus();
    await page.keyboard.press('Home');
    await page.waitForFunction(() => document.body.getAttribute('data-window') !== '2020-02-17/2020-02-17');
    const first = await (await fetch(`${server.url}/collections/events`, { headers: { Accept: 'application/json' } })).json();
    const firstDay = first.extent.temporal.interval[0][0].slice(0, 10);
    assert.equal(await page.evaluate(() => document.body.getAttribute('data-window')), `${firstDay}/${firstDay}`);

    // Play and pause with the keyboard: the address says play while it plays, not after.
    await slider.focus();
    await page.keyboard.press('End');
    await page.waitForFunction(() => /2020-02-1[0-9]\//.test(document.body.getAttribute('data-window')));
    await page.focus('#timeline-play');
    await page.keyboard.press('Space');
    await page.waitForSelector('body[data-timeline="playing"]');
    assert.equal(await page.getAttribute('#timeline-play', 'aria-label'), 'Pause');
    assert.match(page.url(), /play=1/);
    await page.keyboard.press('Space');
    await page.waitForSelector('body[data-timeline="paused"]');
    assert.doesNotMatch(page.url(), /play=/);
    assert.equal(await page.getAttribute('#timeline-play', 'aria-label'), 'Play');

    // The date fields move the timeline too.
    await page.fill('#from', '2020-02-01');
    await page.fill('#to', '2020-02-07');
    await page.waitForFunction(() => document.body.getAttribute('data-window') === '2020-02-01/2020-02-07');
    assert.equal(await page.inputValue('#timeline-width'), '7');
    assert.equal(await page.textContent('#timeline-date'), '1–7 February 2020');

    // "All": every date again, in the map, the address and the date fields.
    await page.selectOption('#timeline-width', 'all');
    await page.waitForFunction(() => document.body.getAttribute('data-window') === '../..');
    assert.doesNotMatch(page.url(), /from=|to=/);
    assert.deepEqual([await page.inputValue('#from'), await page.inputValue('#to')], ['', '']);
    assert.equal(await page.isHidden('#timeline-date'), true);
    noProblems(problems);
    await context.close();
  });

  test('playing waits while the page is hidden, and goes on when it is shown again', async () => {
    const { context, page, problems } = await newPage(browser, { viewport: { width: 800, height: 500 } });
    await page.goto(`${server.url}/embed?lat=${CENTRE[1]}&lon=${CENTRE[0]}&zoom=10&from=2020-02-01&to=2020-02-20&play=1`);
    await page.waitForFunction(() => document.body.getAttribute('data-window') === '2020-02-02/2020-02-02', null, { timeout: 20_000 });
    // What a browser says of a tab in the background.
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => true });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForTimeout(500);
    const held = await page.evaluate(() => document.body.getAttribute('data-window'));
    await page.waitForTimeout(3000);
    assert.equal(await page.evaluate(() => document.body.getAttribute('data-window')), held, 'no step while hidden');
    assert.equal(await page.getAttribute('body', 'data-timeline'), 'playing');
    await page.evaluate(() => {
      Object.defineProperty(document, 'hidden', { configurable: true, get: () => false });
      document.dispatchEvent(new Event('visibilitychange'));
    });
    await page.waitForFunction((w) => document.body.getAttribute('data-window') !== w, held, { timeout: 10_000 });
    noProblems(problems);
    await context.close();
  });

  test('/embed at 320 px: the timeline fits, with 44 px controls; a screenshot of it playing', async () => {
    const { context, page, problems } = await newPage(browser, { viewport: { width: 320, height: 480 }, isMobile: true, hasTouch: true });
    await page.goto(`${server.url}/embed?lat=${CENTRE[1]}&lon=${CENTRE[0]}&zoom=9&from=2020-02-01&to=2020-02-29&play=1`);
    await page.waitForSelector('body[data-timeline="playing"]');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `nothing sticks out sideways (${overflow} px)`);
    for (const sel of ['#timeline-play', '#timeline-width']) {
      const b = await page.locator(sel).boundingBox();
      assert.ok(b.height >= 44 && b.x >= 0 && b.x + b.width <= 320, `${sel}: ${JSON.stringify(b)}`);
    }
    const slider = await page.locator('#timeline-day').boundingBox();
    assert.ok(slider.width >= 100, `the slider keeps room: ${slider.width} px`);
    await page.tap('#timeline-play');
    await page.waitForSelector('body[data-timeline="paused"]');
    noProblems(problems);
    await context.close();

    // The README's picture: the offensive playing in an embed, on 18 February (the seed's
    // events). Taken while it plays, once that day's tiles have arrived; taken again if the
    // next step came first.
    const shot = await newPage(browser, { viewport: { width: 720, height: 460 } });
    await shot.page.goto(`${server.url}/embed?lat=36.02&lon=36.72&zoom=9&from=2020-02-16&to=2020-02-29&play=1`);
    const file = path.join(ARTIFACTS, 'timeline-embed-720x460.png');
    for (let tries = 0; ; tries++) {
      await overlaySettled(shot.page, '2020-02-18', '2020-02-18');
      await waitForTiles(shot.page, ['/tiles/']);
      await shot.page.screenshot({ path: file });
      const still = await shot.page.evaluate(() => document.body.getAttribute('data-window') === '2020-02-18/2020-02-18');
      if (still || tries === 2) break;
      await shot.page.goto(shot.page.url().replace(/from=[0-9-]+/, 'from=2020-02-16'));
    }
    if (process.env.TESSERA_UPDATE_README_IMAGE === '1') copyFileSync(file, path.join(REPO, 'docs', 'img', 'timeline.png'));
    noProblems(shot.problems);
    await shot.context.close();
  });
});
