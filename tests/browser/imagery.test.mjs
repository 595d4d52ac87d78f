// A georeferenced image overlay in the viewer, in headless Chromium: the test pattern of
// tests/data/imagery/ (a grid with marks at known coordinates, not a map) served over the
// default data; its tiles load, it is in the layer switcher, and its opacity slider changes
// the layer's opacity. With TESSERA_UPDATE_README_IMAGE=1 the screenshot also replaces
// docs/img/image-overlay.png.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HERE, REPO, startServer } from './lib/server.mjs';
import { launch, newPage, waitForTiles } from './lib/browser.mjs';

const ARTIFACTS = path.join(HERE, 'artifacts');
const PATTERN = path.join(REPO, 'tests', 'data', 'imagery');
const TITLE = 'Test pattern (not a map)';

let server, browser, geodata;

/** The default geodata with the test pattern added as an [[images]] entry. */
function geodataWithPattern() {
  const dir = mkdtempSync(path.join(tmpdir(), 'tessera-imagery-'));
  const source = path.join(REPO, 'geodata');
  for (const name of readdirSync(source)) {
    if (statSync(path.join(source, name)).isFile()) copyFileSync(path.join(source, name), path.join(dir, name));
  }
  copyFileSync(path.join(PATTERN, 'test-pattern.png'), path.join(dir, 'test-pattern.png'));
  const { bounds } = JSON.parse(readFileSync(path.join(PATTERN, 'test-pattern.json'), 'utf8'));
  const manifest = readFileSync(path.join(dir, 'layers.toml'), 'utf8');
  writeFileSync(path.join(dir, 'layers.toml'), `${manifest}
[[images]]
id = "test-pattern"
file = "test-pattern.png"
bounds = [${bounds.join(', ')}]
title = "${TITLE}"
attribution = "Test pattern, not a map"
opacity = 0.7
`);
  return dir;
}

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  geodata = geodataWithPattern();
  [server, browser] = await Promise.all([startServer([], { geodata }), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (geodata) rmSync(geodata, { recursive: true, force: true });
});

/** The opacity of the image overlay's tile layer, as the page shows it. */
function layerOpacity(page) {
  return page.evaluate(() => Number(getComputedStyle(document.querySelector('.tessera-image-test-pattern')).opacity));
}

test('the image overlay loads, is in the layer switcher, and its slider sets its opacity', async () => {
  const { context, page, problems } = await newPage(browser, { viewport: { width: 1280, height: 800 } });
  // Zoom 11 between Idlib and Saraqib: the pattern covers the whole map, its marks big enough to see.
  await page.goto(`${server.url}/?lat=35.9&lon=36.72&zoom=11`);
  await waitForTiles(page, ['/tiles/', '/overlays/test-pattern/']);

  // The switcher names it (as text: the title is escaped), checked.
  const entry = page.locator('.leaflet-control-layers-overlays label', { hasText: TITLE });
  await assert.doesNotReject(entry.waitFor({ state: 'attached' }));
  assert.equal(await entry.locator('input').isChecked(), true);

  // The slider starts at the manifest's opacity, and moving it changes the layer's.
  const slider = page.locator('#opacity-test-pattern');
  assert.equal(await slider.inputValue(), '70');
  assert.equal(await layerOpacity(page), 0.7);
  await slider.fill('30');
  assert.equal(await layerOpacity(page), 0.3);
  assert.equal(await page.locator('output[for="opacity-test-pattern"]').textContent(), '30%');
  await slider.fill('70');

  // The tiles asked for are the overlay's own, and only within its bounds.
  const tiles = await page.evaluate(() => Array.from(document.images).map((i) => i.src).filter((s) => s.includes('/overlays/test-pattern/')));
  assert.ok(tiles.length >= 4, `${tiles.length} image tiles`);
  const shot = path.join(ARTIFACTS, 'image-overlay-desktop.png');
  await page.screenshot({ path: shot });
  if (process.env.TESSERA_UPDATE_README_IMAGE === '1') copyFileSync(shot, path.join(REPO, 'docs', 'img', 'image-overlay.png'));

  // Unchecked in the switcher, its tiles leave the map.
  await entry.locator('input').uncheck();
  assert.equal(await page.locator('.tessera-image-test-pattern').count(), 0);
  assert.deepEqual(problems, [], `problems on the page:\n${problems.join('\n')}`);
  await context.close();
});
