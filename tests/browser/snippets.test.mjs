// The README's "Using tessera in your own map" snippets, run as written: each is served as a
// page of another origin, with only the server's address changed, and must load tiles with no
// console error and no failed request.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO, startServer } from './lib/server.mjs';
import { hostServer, launch, newPage } from './lib/browser.mjs';

/** The fenced ```html blocks that follow a `<!-- snippet: NAME -->` line in README.md. */
export function readmeSnippets() {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const found = {};
  for (const m of readme.matchAll(/<!-- snippet: ([\w-]+) -->\n```html\n([\s\S]*?)\n```/g)) found[m[1]] = m[2];
  return found;
}

let server, browser, host;

before(async () => {
  [server, browser, host] = await Promise.all([startServer(), launch(), hostServer()]);
});

after(async () => {
  await browser?.close();
  await host?.close();
  await server?.stop();
});

const snippets = readmeSnippets();

/** Serves a snippet from the host origin and opens it; resolves when `done` holds. */
async function run(name, done) {
  assert.ok(snippets[name], `README.md has the ${name} snippet`);
  assert.ok(snippets[name].includes('http://127.0.0.1:8080'), 'the snippet names the default address');
  host.set(`/${name}.html`, snippets[name].replaceAll('http://127.0.0.1:8080', server.url));
  const { context, page, problems, cdn } = await newPage(browser);
  const responses = [];
  page.on('response', (r) => { if (r.url().startsWith(server.url)) responses.push({ url: r.url(), status: r.status(), type: r.headers()['content-type'] }); });
  await page.goto(`${host.origin}/${name}.html`);
  await page.waitForFunction(done, null, { timeout: 30_000 }).catch(() => {});
  await page.waitForLoadState('networkidle');
  await context.close();
  return { problems, cdn, responses };
}

function tilesLoaded(responses, pattern) {
  return responses.filter((r) => pattern.test(r.url) && r.status === 200 && r.type === 'image/png');
}

describe('README snippets', () => {
  test('there are the three of them', () => {
    assert.deepEqual(Object.keys(snippets).sort(), ['leaflet', 'maplibre', 'openlayers']);
  });

  test('Leaflet: XYZ tiles, the overlay and a GeoJSON layer', async () => {
    const { problems, cdn, responses } = await run('leaflet',
      () => document.querySelectorAll('img.leaflet-tile-loaded').length >= 8 && document.querySelectorAll('.leaflet-marker-icon').length >= 5);
    assert.deepEqual(problems, []);
    assert.ok(cdn.some((u) => u.includes('leaflet@1.9.4/dist/leaflet.js')));
    assert.ok(tilesLoaded(responses, /\/tiles\/8\//).length >= 4, 'base tiles');
    assert.ok(tilesLoaded(responses, /\/overlays\/events\/8\/.*from=2020-02-01&to=2020-02-29/).length >= 4, 'overlay tiles');
    assert.ok(responses.some((r) => r.url.endsWith('/collections/report-places/items') && r.status === 200), 'the GeoJSON layer');
  });

  test('OpenLayers: XYZ tiles', async () => {
    const { problems, cdn, responses } = await run('openlayers', () => performance.getEntriesByType('resource')
      .filter((e) => e.name.includes('/tiles/8/')).length >= 4);
    assert.deepEqual(problems, []);
    assert.ok(cdn.some((u) => u.includes('ol@10.11.0/dist/ol.js')));
    assert.ok(tilesLoaded(responses, /\/tiles\/8\//).length >= 4, 'tiles at zoom 8');
  });

  test('MapLibre GL JS: raster tiles through TileJSON', async () => {
    const { problems, cdn, responses } = await run('maplibre', () => performance.getEntriesByType('resource')
      .filter((e) => /\/tiles\/\d+\//.test(e.name)).length >= 4);
    assert.deepEqual(problems, []);
    assert.ok(cdn.some((u) => u.includes('maplibre-gl@5.24.1/dist/maplibre-gl.js')));
    assert.ok(responses.some((r) => r.url.endsWith('/tiles.json') && r.status === 200), 'TileJSON');
    assert.ok(tilesLoaded(responses, /\/tiles\/\d+\//).length >= 4, 'tiles');
  });
});
