// Headless Chromium (Debian's, never a downloaded one) driven by playwright-core, with the
// CDN answered from the local npm install (the test machine has no internet) and every
// console error, page error, failed request and HTTP error recorded.
import { readFileSync, existsSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { HERE } from './server.mjs';

export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export function launch() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-quic', '--no-first-run', '--disable-sync',
      // WebGL for MapLibre, on the CPU.
      '--enable-unsafe-swiftshader', '--use-angle=swiftshader',
    ],
  });
}

const TYPES = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.png': 'image/png', '.svg': 'image/svg+xml' };

function installed(pkg) {
  return JSON.parse(readFileSync(path.join(HERE, 'node_modules', pkg, 'package.json'), 'utf8')).version;
}

/**
 * The local file for a CDN URL: unpkg.com/PKG@VERSION/FILE or cdn.jsdelivr.net/npm/PKG@VERSION/FILE,
 * for the packages installed here, at exactly the installed version; null otherwise.
 */
export function cdnFile(url) {
  const u = new URL(url);
  let p = u.pathname;
  if (u.hostname === 'cdn.jsdelivr.net' && p.startsWith('/npm/')) p = p.slice(4);
  else if (u.hostname !== 'unpkg.com') return null;
  const m = p.match(/^\/((?:@[^/]+\/)?[^/@]+)@([^/]+)\/(.+)$/);
  if (!m) return null;
  const [, pkg, version, file] = m;
  if (!['leaflet', 'ol', 'maplibre-gl', '@mapbox/mapbox-gl-rtl-text'].includes(pkg)) return null;
  if (installed(pkg) !== version) return { error: `${pkg}@${version} is asked for but ${installed(pkg)} is installed (tests/browser/package.json)` };
  const local = path.join(HERE, 'node_modules', pkg, path.normalize(file));
  if (!local.startsWith(path.join(HERE, 'node_modules', pkg) + path.sep) || !existsSync(local)) return { error: `no ${file} in ${pkg}` };
  return { local, type: TYPES[path.extname(local)] || 'application/octet-stream' };
}

/**
 * A new page that records problems in `problems` (console errors, page errors, failed
 * requests, HTTP errors, requests to anywhere but loopback and the known CDNs). With
 * `intercept: false` no request is routed through the test (each routed request costs a round
 * trip to it, which would distort timings); pages must then need nothing from outside.
 */
export async function newPage(browser, { intercept = true, ...options } = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  const problems = [];
  const cdn = [];
  // Tiles that Leaflet stops loading itself (the map moved on, the filter changed) are
  // cancelled, not failed; they are kept apart so that a test can still look at them.
  const aborted = [];
  if (intercept) await context.route(/^https?:\/\//, async (route) => {
    const url = route.request().url();
    const host = new URL(url).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    const f = cdnFile(url);
    if (f && f.local) {
      cdn.push(url);
      return route.fulfill({
        status: 200,
        headers: { 'content-type': f.type, 'access-control-allow-origin': '*', 'cache-control': 'public, max-age=31536000' },
        body: readFileSync(f.local),
      });
    }
    problems.push(`external request not allowed: ${url}${f && f.error ? ` (${f.error})` : ''}`);
    return route.abort('blockedbyclient');
  });
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console error: ${m.text()} (${m.location().url})`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => {
    const error = r.failure()?.errorText;
    // A tile, or the vector TileJSON, dropped by the map because a newer view superseded it
    // (a pan, or dates changed twice in a row) is the map working, not a failure: kept apart.
    const superseded = /\/(tiles|overlays\/[a-z0-9_-]+)\/(\d+\/\d+\/\d+(@2x)?\.(png|mvt)|vector\.json)(\?|$)/;
    if (error === 'net::ERR_ABORTED' && superseded.test(r.url())) aborted.push(r.url());
    else problems.push(`request failed: ${r.url()} ${error}`);
  });
  page.on('response', (r) => { if (r.status() >= 400) problems.push(`HTTP ${r.status()}: ${r.url()}`); });
  page.on('dialog', (d) => { problems.push(`dialog: ${d.type()} ${d.message()}`); d.dismiss().catch(() => {}); });
  return { context, page, problems, cdn, aborted };
}

/** A tiny HTTP server on `localhost` (another origin than the tessera server on 127.0.0.1). */
export async function hostServer() {
  const pages = new Map();
  const server = http.createServer((req, res) => {
    const body = pages.get(new URL(req.url, 'http://localhost').pathname);
    if (body === undefined) { res.writeHead(404).end('not found'); return; }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
  });
  await new Promise((r) => server.listen(0, 'localhost', r));
  const { port } = server.address();
  return {
    origin: `http://localhost:${port}`,
    set(pathname, html) { pages.set(pathname, html); },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Waits until the page has loaded at least one image from each of the URL patterns. */
export async function waitForTiles(page, patterns, timeout = 20_000) {
  await page.waitForFunction((sources) => sources.every((s) => Array.from(document.images)
    .some((img) => img.complete && img.naturalWidth > 0 && img.src.includes(s))), patterns, { timeout });
}
