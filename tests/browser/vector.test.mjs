// Vector tiles in a real client: MapLibre GL JS loads tessera's /style.json (vector tiles,
// sprite, glyphs, events) in headless Chromium. The style passes MapLibre's style-spec
// validator in every language; the names are drawn (rendered text features at zooms 6, 9 and
// 12, and screenshots with and without them differ where the names are, and only there);
// Arabic comes out joined and right to left with the RTL plugin, compared with the raster
// tile's own shaping; the glyph ranges decode with protobufjs; the viewer's vector view works
// with its filters and popups, from the CDN and from local copies; and no page logs an error.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
// validateStyleMin is the style-spec's validator of a style object (validateStyle parses text first).
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { HERE, REPO, startServer } from './lib/server.mjs';
import { hostServer, launch, newPage } from './lib/browser.mjs';

const ARTIFACTS = path.join(HERE, 'artifacts');
const MAPLIBRE = 'https://unpkg.com/maplibre-gl@5.24.1/dist';
const RTL_PLUGIN = 'https://unpkg.com/@mapbox/mapbox-gl-rtl-text@0.3.0/dist/mapbox-gl-rtl-text.js';
const IDLIB = [36.63393, 35.93062];
const TERMANIN = [36.817, 36.233];

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

/**
 * A page on the test's own origin with MapLibre (from the CDN, answered from node_modules) and
 * `script` run after it; `window.map` must be set by the script. With `rtl`, the RTL plugin is
 * set first. The canvas keeps its pixels so that they can be read.
 */
function mapPage(name, script, { rtl = true } = {}) {
  host.set(`/${name}.html`, `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="${MAPLIBRE}/maplibre-gl.css">
<script src="${MAPLIBRE}/maplibre-gl.js"></script>
<style>html, body, #map { height: 100%; margin: 0; }</style></head>
<body><div id="map"></div><script>
${rtl ? `maplibregl.setRTLTextPlugin('${RTL_PLUGIN}', false);` : ''}
const tessera = '${server.url}';
${script}
window.map.on('idle', () => { window.idle = (window.idle || 0) + 1; });
/** Resolves at the map's next idle, or after 20 s (a map with nothing to redraw fires none). */
window.nextIdle = () => new Promise((r) => { window.map.once('idle', r); window.map.triggerRepaint(); setTimeout(r, 20000); });
/** The canvas's pixels (RGBA, device px). */
window.pixels = () => {
  const c = window.map.getCanvas();
  const ctx = Object.assign(document.createElement('canvas'), { width: c.width, height: c.height }).getContext('2d');
  ctx.drawImage(c, 0, 0);
  return { width: c.width, height: c.height, data: ctx.getImageData(0, 0, c.width, c.height).data };
};
</script></body></html>`);
  return `${host.origin}/${name}.html`;
}

/** Opens a page from mapPage and waits until MapLibre is idle (tiles, glyphs and all). */
async function openMapPage(url, options = {}) {
  const opened = await newPage(browser, options);
  await opened.page.goto(url);
  await opened.page.waitForFunction(() => window.idle >= 1 && window.map.loaded(), null, { timeout: 90_000 });
  return opened;
}

/** The style layers that draw names (not the invisible boxes of the places' symbols). */
const NAME_LAYERS = (style) => style.layers.filter((l) => l.id.startsWith('labels-') && l.layout && l.layout['text-field']).map((l) => l.id);

describe('MapLibre GL JS with /style.json', () => {
  test('the style is valid against the MapLibre style specification in every language', async () => {
    for (const lang of ['', 'en', 'ar', 'both', 'none']) {
      const style = await (await fetch(`${server.url}/style.json${lang ? `?lang=${lang}` : ''}`)).json();
      assert.deepEqual(validateStyleMin(style).map((e) => e.message), [], `lang=${lang}`);
      assert.equal(style.glyphs, `${server.url}/fonts/{fontstack}/{range}.pbf`);
      assert.equal(NAME_LAYERS(style).length > 0, lang !== 'none', `lang=${lang}`);
    }
  });

  test('renders the events and the observation points with no error', async () => {
    // Zoom 9 over the Idlib front: the Termanin and Darat Izza strikes and several posts.
    const url = mapPage('vector', `window.map = new maplibregl.Map({ container: 'map', style: tessera + '/style.json',
  center: [36.85, 36.05], zoom: 9 });`);
    const { context, page, problems } = await newPage(browser);
    const mvt = [];
    page.on('response', (r) => { if (r.url().includes('.mvt')) mvt.push(r.status()); });
    await page.goto(url);
    await page.waitForFunction(() => window.idle >= 1, null, { timeout: 60_000 });
    const seen = await page.evaluate(() => {
      const fs = window.map.queryRenderedFeatures();
      return {
        events: fs.filter((f) => f.sourceLayer === 'events').map((f) => f.properties.id || `cluster:${f.properties.count}`),
        posts: fs.filter((f) => f.sourceLayer === 'observation-points').map((f) => f.properties.id),
        layers: [...new Set(fs.map((f) => f.layer.id))],
      };
    });
    await context.close();
    assert.deepEqual(problems, []);
    assert.ok(mvt.length > 0 && mvt.every((s) => s === 200 || s === 204), `vector tiles: ${mvt}`);
    assert.ok(seen.events.length > 0, `events rendered: ${JSON.stringify(seen)}`);
    assert.ok(seen.layers.some((l) => l.startsWith('events-')), 'an events style layer drew something');
    assert.ok(seen.posts.length >= 3, `observation points rendered: ${JSON.stringify(seen.posts)}`);
    assert.ok(seen.layers.some((l) => l.startsWith('observation-points-') && l.endsWith('-icon')), 'with their sprite icons');
  });

  test('names are drawn at zooms 6, 9 and 12, cluster counts too', async () => {
    // MapLibre's zoom z shows the tiles of zoom z (drawn 512 px wide).
    const views = [
      { z: 6, center: [37.0, 35.5], names: ['Aleppo', 'Idlib', 'Damascus', 'Beirut', 'SYRIA'] },
      { z: 9, center: IDLIB, names: ['Idlib', 'Saraqib', 'Jisr al-Shughur', 'Tal Tuqan'] },
      { z: 12, center: TERMANIN, names: ['Termanin (Turmanin)'] },
    ];
    for (const { z, center, names } of views) {
      const url = mapPage(`names-${z}`, `window.map = new maplibregl.Map({ container: 'map', style: tessera + '/style.json',
  center: ${JSON.stringify(center)}, zoom: ${z} });`);
      const { context, page, problems } = await openMapPage(url);
      const drawn = await page.evaluate(() => {
        const layers = window.map.getStyle().layers.filter((l) => l.id.startsWith('labels-') && l.layout && l.layout['text-field']).map((l) => l.id);
        const fs = window.map.queryRenderedFeatures({ layers });
        return {
          names: fs.filter((f) => f.properties.name).map((f) => f.properties.name),
          counts: window.map.queryRenderedFeatures({ layers: ['events-cluster-count', 'events-region-count'] }).map((f) => f.properties.count),
        };
      });
      await context.close();
      assert.deepEqual(problems, [], `z${z}`);
      for (const n of names) assert.ok(drawn.names.includes(n), `z${z}: ${n} not among ${JSON.stringify(drawn.names)}`);
      assert.equal(new Set(drawn.names).size, drawn.names.length, `z${z}: a name twice: ${drawn.names}`);
      if (z === 6) assert.ok(drawn.counts.length > 0 && drawn.counts.every((c) => c >= 2), `cluster counts: ${drawn.counts}`);
    }
  });

  test('names in both languages, for the README', async () => {
    // The front at MapLibre's zoom 8.5: the report's places, the posts, the towns' dots. (The
    // README's caption carries the credits.)
    const url = mapPage('both', `window.map = new maplibregl.Map({ container: 'map', style: tessera + '/style.json?lang=both',
  center: [36.8, 36.02], zoom: 8.5, attributionControl: false });`);
    const { context, page, problems } = await openMapPage(url, { viewport: { width: 720, height: 460 } });
    const names = await page.evaluate(() => {
      const map = window.map;
      const layers = map.getStyle().layers.filter((l) => l.id.startsWith('labels-') && l.layout && l.layout['text-field']).map((l) => l.id);
      return map.queryRenderedFeatures({ layers }).filter((f) => f.properties.name_ar).map((f) => f.properties.name_ar);
    });
    const file = path.join(ARTIFACTS, 'vector-names-both.png');
    await page.screenshot({ path: file });
    await context.close();
    assert.deepEqual(problems, []);
    assert.ok(names.includes('إدلب') && names.includes('سراقب'), JSON.stringify(names));
    if (process.env.TESSERA_UPDATE_README_IMAGE === '1') copyFileSync(file, path.join(REPO, 'docs', 'img', 'vector-names.png'));
  });

  test('screenshots with the names and without them differ where the names are, and only there', async () => {
    const url = mapPage('shown-hidden', `window.map = new maplibregl.Map({ container: 'map', style: tessera + '/style.json',
  center: [36.75, 36.0], zoom: 9, canvasContextAttributes: { preserveDrawingBuffer: true } });`);
    const { context, page, problems } = await openMapPage(url);
    await page.screenshot({ path: path.join(ARTIFACTS, 'vector-names-shown.png') });
    const result = await page.evaluate(async () => {
      const map = window.map;
      const ratio = window.devicePixelRatio;
      const layers = map.getStyle().layers.filter((l) => l.id.startsWith('labels-') && l.layout && l.layout['text-field']).map((l) => l.id);
      const anchors = map.queryRenderedFeatures({ layers }).filter((f) => f.properties.name)
        .map((f) => { const p = map.project(f.geometry.coordinates); return { name: f.properties.name, x: p.x * ratio, y: p.y * ratio }; });
      const shown = window.pixels();
      layers.forEach((id) => map.setLayoutProperty(id, 'visibility', 'none'));
      await window.nextIdle();
      const hidden = window.pixels();
      // A name is drawn within this many device px of its anchor (a wrapped line of 10 ems of
      // 12 px beside a symbol).
      const reach = 150 * ratio;
      let changed = 0, near = 0;
      const around = anchors.map(() => 0);
      for (let y = 0; y < shown.height; y++) {
        for (let x = 0; x < shown.width; x++) {
          const i = (y * shown.width + x) * 4;
          const d = Math.abs(shown.data[i] - hidden.data[i]) + Math.abs(shown.data[i + 1] - hidden.data[i + 1]) + Math.abs(shown.data[i + 2] - hidden.data[i + 2]);
          if (d < 30) continue;
          changed++;
          let close = false;
          anchors.forEach((a, k) => {
            const dist = Math.hypot(a.x - x, a.y - y);
            if (dist < reach) close = true;
            if (dist < 60 * ratio) around[k]++;
          });
          if (close) near++;
        }
      }
      return { anchors: anchors.length, changed, near, bare: anchors.filter((a, k) => around[k] < 20).map((a) => a.name) };
    });
    await page.screenshot({ path: path.join(ARTIFACTS, 'vector-names-hidden.png') });
    await context.close();
    assert.deepEqual(problems, []);
    assert.ok(result.anchors >= 10, `names drawn: ${result.anchors}`);
    assert.ok(result.changed > 100 * result.anchors, `changed pixels: ${JSON.stringify(result)}`);
    assert.equal(result.near, result.changed, `pixels changed away from every name: ${JSON.stringify(result)}`);
    assert.deepEqual(result.bare, [], 'names whose place did not change');
  });
});

describe('Arabic in the vector map', () => {
  /**
   * The ink of a word along x: for each device-px column, how many pixels are dark, between the
   * first and the last column that has any. `rect` is { x0, y0, x1, y1 } in device px.
   */
  function inkProfile(img, rect, dark) {
    const cols = [];
    for (let x = rect.x0; x < rect.x1; x++) {
      let n = 0;
      for (let y = rect.y0; y < rect.y1; y++) {
        const i = (y * img.width + x) * 4;
        if (dark(img.data[i], img.data[i + 1], img.data[i + 2])) n++;
      }
      cols.push(n);
    }
    const first = cols.findIndex((n) => n > 0);
    const last = cols.length - 1 - [...cols].reverse().findIndex((n) => n > 0);
    return first < 0 ? [] : cols.slice(first, last + 1);
  }

  /**
   * Pearson correlation of two profiles, each smoothed over 3 columns and the second resampled
   * to the first's length, at the best shift of up to 2 columns: the glyphs' advances are whole
   * pixels in MapLibre and fractional on the raster tiles, so letters may sit a pixel apart.
   */
  function correlation(a0, b0) {
    const smooth = (p) => p.map((_, i) => { const w = p.slice(Math.max(0, i - 1), i + 2); return w.reduce((s, t) => s + t, 0) / w.length; });
    const [a, b] = [smooth(a0), smooth(b0)];
    const r = a.map((_, i) => b[Math.min(b.length - 1, Math.round((i * (b.length - 1)) / Math.max(1, a.length - 1)))]);
    const pearson = (x, y) => {
      const mean = (v) => v.reduce((s, t) => s + t, 0) / v.length;
      const [mx, my] = [mean(x), mean(y)];
      let num = 0, dx = 0, dy = 0;
      x.forEach((t, i) => { num += (t - mx) * (y[i] - my); dx += (t - mx) ** 2; dy += (y[i] - my) ** 2; });
      return num / Math.sqrt(dx * dy);
    };
    let best = -1;
    for (let s = -2; s <= 2; s++) best = Math.max(best, pearson(a, a.map((_, i) => r[i + s] ?? 0)));
    return best;
  }

  /** The Arabic name of Idlib drawn alone by MapLibre, bold 12 px at 2x, black on white. */
  async function vectorWord(rtl) {
    const url = mapPage(`arabic-${rtl ? 'rtl' : 'plain'}`, `window.map = new maplibregl.Map({ container: 'map',
  center: [0, 0], zoom: 2, canvasContextAttributes: { preserveDrawingBuffer: true },
  style: { version: 8, glyphs: tessera + '/fonts/{fontstack}/{range}.pbf',
    sources: { p: { type: 'geojson', data: { type: 'Point', coordinates: [0, 0] } } },
    layers: [{ id: 'bg', type: 'background', paint: { 'background-color': '#ffffff' } },
      { id: 'name', type: 'symbol', source: 'p', layout: { 'text-field': 'إدلب', 'text-size': 12,
        'text-font': ['Noto Sans Bold', 'Noto Sans Arabic Bold'] }, paint: { 'text-color': '#000000' } }] } });`, { rtl });
    const { context, page, problems } = await openMapPage(url, { viewport: { width: 200, height: 100 }, deviceScaleFactor: 2 });
    const img = await page.evaluate(() => { const p = window.pixels(); return { width: p.width, height: p.height, data: [...p.data] }; });
    const png = await page.screenshot({ clip: { x: 50, y: 30, width: 100, height: 40 } });
    await context.close();
    assert.deepEqual(problems, []);
    return { profile: inkProfile(img, { x0: 0, y0: 0, x1: img.width, y1: img.height }, (r, g, b) => r + g + b < 3 * 128), png };
  }

  /** The same name on the raster tile at zoom 9 (report-places only, in Arabic, at 2x): Idlib's label, right of its symbol. */
  async function rasterWord() {
    const z = 9, n = 2 ** z;
    const wx = ((IDLIB[0] + 180) / 360) * n * 512;
    const s = Math.sin((IDLIB[1] * Math.PI) / 180);
    const wy = (0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n * 512;
    const [tx, ty] = [Math.floor(wx / 512), Math.floor(wy / 512)];
    const [px, py] = [Math.round(wx - tx * 512), Math.round(wy - ty * 512)];
    const tile = `${server.url}/tiles/${z}/${tx}/${ty}@2x.png?layers=report-places&lang=ar`;
    const { context, page, problems } = await newPage(browser, { viewport: { width: 600, height: 600 } });
    await page.goto(`${server.url}/health`);
    const img = await page.evaluate(async (src) => {
      const im = new Image();
      im.src = src;
      await im.decode();
      const ctx = Object.assign(document.createElement('canvas'), { width: im.width, height: im.height }).getContext('2d');
      ctx.drawImage(im, 0, 0);
      return { width: im.width, height: im.height, data: [...ctx.getImageData(0, 0, im.width, im.height).data] };
    }, tile);
    await context.close();
    assert.deepEqual(problems, []);
    // The label starts 7 CSS px right of the point (its box touches the 8 px symbol's reach);
    // the text is #641e16 over a white halo: dark and red.
    const rect = { x0: px + 10, y0: py - 24, x1: Math.min(512, px + 140), y1: py + 24 };
    const dark = (r, g, b) => r + g + b < 3 * 128 && r > b;
    return { profile: inkProfile(img, rect, dark), tile, rect };
  }

  test('Arabic names are joined and right to left, as the raster tiles shape them', async () => {
    const raster = await rasterWord();
    const [shaped, plain] = [await vectorWord(true), await vectorWord(false)];
    const width = (p) => p.profile.length;
    const stats = {
      raster: width(raster), withPlugin: width(shaped), withoutPlugin: width(plain),
      corrWithPlugin: correlation(raster.profile, shaped.profile),
      corrWithoutPlugin: correlation(raster.profile, plain.profile),
    };
    writeFileSync(path.join(ARTIFACTS, 'arabic-shaping.json'), JSON.stringify({ stats, profiles: { raster: raster.profile, shaped: shaped.profile, plain: plain.profile } }));
    // For the eye: the raster tile's label, then MapLibre with the plugin and without.
    const { context, page } = await newPage(browser, { viewport: { width: 420, height: 90 }, deviceScaleFactor: 2 });
    await page.goto(`${server.url}/health`);
    await page.evaluate(async ({ tile, rect, shaped, plain }) => {
      document.body.innerHTML = '';
      document.body.style.cssText = 'margin:0;padding:8px;font:12px sans-serif;display:flex;gap:16px;background:#fff';
      const figure = (node, text) => {
        const f = document.createElement('figure');
        f.style.margin = '0';
        const c = document.createElement('figcaption');
        c.textContent = text;
        f.append(node, c);
        document.body.appendChild(f);
      };
      const im = new Image();
      im.src = tile;
      await im.decode();
      const canvas = Object.assign(document.createElement('canvas'), { width: 200, height: 80 });
      canvas.style.width = '100px';
      canvas.getContext('2d').drawImage(im, rect.x0 - 30, rect.y0 - 16, 200, 80, 0, 0, 200, 80);
      figure(canvas, 'raster tile');
      for (const [png, text] of [[shaped, 'MapLibre + RTL plugin'], [plain, 'MapLibre alone']]) {
        const img = new Image();
        img.src = `data:image/png;base64,${png}`;
        img.style.width = '100px';
        await img.decode();
        figure(img, text);
      }
    }, { tile: raster.tile, rect: raster.rect, shaped: shaped.png.toString('base64'), plain: plain.png.toString('base64') });
    await page.screenshot({ path: path.join(ARTIFACTS, 'arabic-shaping.png') });
    await context.close();
    console.log(JSON.stringify(stats));
    assert.ok(Math.abs(stats.withPlugin / stats.raster - 1) < 0.1, `joined, the word is as wide as the raster's: ${JSON.stringify(stats)}`);
    assert.ok(stats.corrWithPlugin > 0.8, `and its ink runs as the raster's: ${JSON.stringify(stats)}`);
    assert.ok(stats.corrWithPlugin - stats.corrWithoutPlugin > 0.4, `unshaped, it does not: ${JSON.stringify(stats)}`);
  });
});

describe('glyph ranges', () => {
  // The glyphs message as MapLibre reads it (maplibre-gl-native's glyphs.proto).
  const PROTO = `syntax = "proto2"; package llmr;
message glyph { required uint32 id = 1; optional bytes bitmap = 2; required uint32 width = 3; required uint32 height = 4;
  required sint32 left = 5; required sint32 top = 6; required uint32 advance = 7; }
message fontstack { required string name = 1; required string range = 2; repeated glyph glyphs = 3; }
message glyphs { repeated fontstack stacks = 1; extensions 16 to 8191; }`;
  const Glyphs = protobuf.parse(PROTO).root.lookupType('llmr.glyphs');

  async function range(stack, r) {
    const res = await fetch(`${server.url}/fonts/${encodeURIComponent(stack)}/${r}.pbf`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/x-protobuf');
    const msg = Glyphs.toObject(Glyphs.decode(new Uint8Array(await res.arrayBuffer())), { defaults: true });
    assert.equal(msg.stacks.length, 1);
    return msg.stacks[0];
  }

  test('decode with protobufjs into distance fields of the right size', async () => {
    const stack = 'Noto Sans Regular,Noto Sans Arabic Regular';
    const latin = await range(stack, '0-255');
    assert.equal(latin.name, 'Noto Sans Regular, Noto Sans Arabic Regular');
    assert.equal(latin.range, '0-255');
    for (const g of latin.glyphs) {
      assert.ok(g.id <= 255);
      assert.equal(g.bitmap.length, (g.width + 6) * (g.height + 6), `U+${g.id.toString(16)}`);
    }
    // 'l' at 24 px: a stem from the ascender to the baseline; inside it the field is above the
    // edge value (192 of 255), in the border far below.
    const l = latin.glyphs.find((g) => g.id === 0x6c);
    assert.ok(l.height >= 17 && l.width >= 2 && l.advance >= 5, JSON.stringify({ ...l, bitmap: undefined }));
    const at = (x, y) => l.bitmap[y * (l.width + 6) + x];
    assert.ok(at(3 + Math.floor(l.width / 2), 3 + Math.floor(l.height / 2)) > 192);
    assert.ok(at(0, 0) < 100);
    const arabic = await range(stack, '1536-1791');
    assert.ok(arabic.glyphs.some((g) => g.id === 0x0644 && g.width > 0), 'lam');
    const forms = await range(stack, '65024-65279');
    assert.ok(forms.glyphs.filter((g) => g.width > 0).length > 100, `presentation forms: ${forms.glyphs.length}`);
  });
});

describe("the viewer's vector view (?renderer=vector)", () => {
  /** Opens a vector view and waits for the RTL plugin and a first idle map. */
  async function openVector(url, opened, frame = opened.page) {
    await opened.page.goto(url);
    await frame.waitForFunction(() => document.body.getAttribute('data-rtl-plugin') === 'loaded' &&
      document.body.hasAttribute('data-vector-idle') && window.tesseraMap.loaded(), null, { timeout: 90_000 });
  }

  /** The names drawn and the event count shown. */
  const drawn = (frame) => frame.evaluate(() => {
    const map = window.tesseraMap;
    const layers = map.getStyle().layers.filter((l) => l.id.startsWith('labels-') && l.layout && l.layout['text-field']).map((l) => l.id);
    return {
      names: map.queryRenderedFeatures({ layers }).filter((f) => f.properties.name).map((f) => f.properties.name),
      count: document.getElementById('event-count').textContent,
    };
  });

  test('draws the map with names, opens a cluster\'s events, follows the dates and keeps the renderer in the embed code', async () => {
    const opened = await newPage(browser);
    const { context, page, problems, cdn } = opened;
    const mvt = [];
    page.on('request', (r) => { if (r.url().includes('.mvt')) mvt.push(r.url()); });
    // The raster map's zoom 8 (MapLibre's 7) over the front, in February 2020: clusters.
    await openVector(`${server.url}/?renderer=vector&lat=36.05&lon=36.75&zoom=8&from=2020-02-01&to=2020-02-29`, opened);
    const first = await drawn(page);
    assert.ok(first.names.includes('Idlib') && first.names.includes('Saraqib'), JSON.stringify(first));
    assert.match(first.count, /^\d+ events? in view$/);
    assert.ok(mvt.every((u) => u.includes('from=2020-02-01') && u.includes('to=2020-02-29')), mvt[0]);
    assert.ok(cdn.some((u) => u.includes('mapbox-gl-rtl-text')) && cdn.some((u) => u.endsWith('maplibre-gl.js')), JSON.stringify(cdn));
    assert.equal(new URL(page.url()).searchParams.get('renderer'), 'vector');
    assert.equal(new URL(page.url()).searchParams.get('zoom'), '8');
    await page.screenshot({ path: path.join(ARTIFACTS, 'viewer-vector.png') });

    // A cluster's popup lists its events, as the raster view's does.
    const cluster = await page.evaluate(() => {
      const map = window.tesseraMap;
      const f = map.queryRenderedFeatures({ layers: ['events-cluster'] })[0];
      if (!f) return null;
      const p = map.project(f.geometry.coordinates);
      const box = map.getCanvas().getBoundingClientRect();
      return { x: box.left + p.x, y: box.top + p.y, count: f.properties.count };
    });
    assert.ok(cluster, 'a cluster in view');
    await page.mouse.click(cluster.x, cluster.y);
    await page.waitForSelector('.maplibregl-popup .tessera-popup section.event', { timeout: 20_000 });
    const listed = await page.locator('.maplibregl-popup section.event').count();
    assert.equal(listed, Math.min(cluster.count, 20), `events listed for a cluster of ${cluster.count}`);

    // The dates change the tiles asked for.
    mvt.length = 0;
    await page.fill('#from', '2020-02-18');
    await page.fill('#to', '2020-02-18');
    await page.locator('#to').dispatchEvent('change');
    await page.waitForFunction(() => new URL(window.location.href).searchParams.get('from') === '2020-02-18');
    await page.waitForFunction(() => window.tesseraMap.loaded(), null, { timeout: 60_000 });
    await page.waitForTimeout(500);
    assert.ok(mvt.length > 0 && mvt.every((u) => u.includes('from=2020-02-18')), JSON.stringify(mvt.slice(0, 3)));

    // The embed code opens the same view in the vector renderer.
    await page.click('#embed-open');
    const code = await page.inputValue('#embed-code');
    assert.match(code, /\/embed\?[^"]*renderer=vector/);
    await page.click('#embed-close');

    // The switch of the events hides them, and the address says so.
    await page.locator('.tessera-switcher input[data-layer="overlay"]').uncheck();
    const hidden = await page.evaluate(() => window.tesseraMap.getLayoutProperty('events-cluster', 'visibility'));
    assert.equal(hidden, 'none');
    await context.close();
    assert.deepEqual(problems, []);
  });

  test('/embed?renderer=vector runs in another site\'s frame under its Content-Security-Policy', async () => {
    host.set('/article.html', `<!doctype html><html><body><h1>Article</h1>
<iframe src="${server.url}/embed?renderer=vector&lat=35.93&lon=36.63&zoom=9" width="800" height="500" style="border:0"></iframe></body></html>`);
    const opened = await newPage(browser);
    const { context, page, problems } = opened;
    const csp = [];
    page.on('response', (r) => { if (r.url().includes('/embed?')) csp.push(r.headers()['content-security-policy']); });
    await page.goto(`${host.origin}/article.html`);
    const frame = page.frames().find((f) => f.url().includes('/embed?')) || (await (await page.waitForSelector('iframe')).contentFrame());
    await frame.waitForFunction(() => document.body.getAttribute('data-rtl-plugin') === 'loaded' &&
      document.body.hasAttribute('data-vector-idle'), null, { timeout: 90_000 });
    const seen = await drawn(frame);
    await context.close();
    assert.ok(seen.names.includes('Idlib'), JSON.stringify(seen));
    assert.match(csp[0], /worker-src blob:/);
    assert.deepEqual(problems, []);
  });

  test('MapLibre and the RTL plugin come from local copies with --maplibre-dir and --rtl-text-dir', async () => {
    const local = await startServer([
      '--maplibre-dir', path.join(HERE, 'node_modules/maplibre-gl/dist'),
      '--rtl-text-dir', path.join(HERE, 'node_modules/@mapbox/mapbox-gl-rtl-text/dist'),
    ]);
    try {
      const opened = await newPage(browser);
      const { context, page, problems, cdn } = opened;
      const own = [];
      page.on('request', (r) => { if (r.url().includes('/web/maplibre/') || r.url().includes('/web/rtl-text/')) own.push(new URL(r.url()).pathname); });
      await openVector(`${local.url}/?renderer=vector&lat=35.93&lon=36.63&zoom=9&lang=ar`, opened);
      const seen = await drawn(page);
      await context.close();
      assert.deepEqual(cdn, [], 'nothing from the CDN');
      assert.deepEqual([...new Set(own)].sort(), ['/web/maplibre/maplibre-gl.css', '/web/maplibre/maplibre-gl.js', '/web/rtl-text/mapbox-gl-rtl-text.js']);
      assert.ok(seen.names.includes('Idlib'), JSON.stringify(seen));
      assert.deepEqual(problems, []);
    } finally {
      await local.stop();
    }
  });
});
