// Vector tiles in a real client: MapLibre GL JS loads tessera's /style.json (vector tiles,
// sprite, events) in headless Chromium and renders the events and the observation points with
// no error; the style itself passes MapLibre's style-spec validator.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { validateStyleMin } from '@maplibre/maplibre-gl-style-spec';
import { startServer } from './lib/server.mjs';
import { hostServer, launch, newPage } from './lib/browser.mjs';

let server, browser, host;

before(async () => {
  [server, browser, host] = await Promise.all([startServer(), launch(), hostServer()]);
});

after(async () => {
  await browser?.close();
  await host?.close();
  await server?.stop();
});

describe('MapLibre GL JS with /style.json', () => {
  test('the style is valid against the MapLibre style specification', async () => {
    const style = await (await fetch(`${server.url}/style.json`)).json();
    const errors = validateStyleMin(style);
    assert.deepEqual(errors.map((e) => e.message), []);
  });

  test('renders the events and the observation points with no error', async () => {
    // Zoom 9 over the Idlib front: the Termanin and Darat Izza strikes and several posts.
    const page_html = `<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="https://unpkg.com/maplibre-gl@5.24.1/dist/maplibre-gl.css">
<script src="https://unpkg.com/maplibre-gl@5.24.1/dist/maplibre-gl.js"></script>
<style>html, body, #map { height: 100%; margin: 0; }</style></head>
<body><div id="map"></div><script>
window.map = new maplibregl.Map({ container: 'map', style: '${server.url}/style.json',
  center: [36.85, 36.05], zoom: 9 });
window.map.on('idle', () => { window.idle = true; });
</script></body></html>`;
    host.set('/vector.html', page_html);
    const { context, page, problems } = await newPage(browser);
    const mvt = [];
    page.on('response', (r) => { if (r.url().includes('.mvt')) mvt.push(r.status()); });
    await page.goto(`${host.origin}/vector.html`);
    await page.waitForFunction(() => window.idle === true, null, { timeout: 60_000 });
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
});
