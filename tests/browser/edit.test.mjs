// The desk editor's page, /edit (issue 20, items 1 and 3), in headless Chromium against the
// real server: events entered in the form, refused with readable reasons, corrected by two
// editors at once, moved by dragging, deleted and imported from a file, all through the
// public API, with the token kept for the tab and sent only with writes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { HERE, REPO, WRITE_TOKEN, postEvent, reportPlace, startServer } from './lib/server.mjs';
import { hostServer, launch, newPage, waitForTiles } from './lib/browser.mjs';

const ARTIFACTS = path.join(HERE, 'artifacts');
const ITEMS = '/collections/events/items';
const TERMANIN = reportPlace('Termanin (Turmanin)');
const SARAQIB = reportPlace('Saraqib');
const MAARAT = reportPlace('Maarat al-Numan');
const JISR = reportPlace('Jisr al-Shughur');
const SEED_TERMANIN = '2020-02-18-termanin-air-raids';

let server, browser, scratch;

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  scratch = mkdtempSync(path.join(tmpdir(), 'tessera-edit-test-'));
  [server, browser] = await Promise.all([startServer(), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The problems of a page but the refusals a test provoked on purpose (status, on the items). */
function unexpected(problems, statuses) {
  const expected = (p) => statuses.some((s) => new RegExp(`^HTTP ${s}: .*${ITEMS}(/[^ ]*)?$`).test(p) ||
    new RegExp(`^console error: Failed to load resource: the server responded with a status of ${s} .*${ITEMS}`).test(p));
  return problems.filter((p) => !expected(p));
}

function noProblems(problems, statuses = []) {
  const left = unexpected(problems, statuses);
  assert.deepEqual(left, [], `problems on the page:\n${left.join('\n')}`);
}

/** An event as the server stores it now (no browser). */
async function stored(id) {
  const r = await fetch(`${server.url}${ITEMS}/${encodeURIComponent(id)}`);
  return r.status === 200 ? r.json() : null;
}

/** The tile (z/x/y) holding a point. */
function tileOf([lon, lat], z) {
  const n = 2 ** z, r = (lat * Math.PI) / 180;
  return `${z}/${Math.floor(((lon + 180) / 360) * n)}/${Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * n)}`;
}

/** Opens the editor on a place, with the token typed; resolves once the events in view are listed. */
async function openEditor(page, [lon, lat], zoom, token = WRITE_TOKEN) {
  await page.goto(`${server.url}/edit?lat=${lat}&lon=${lon}&zoom=${zoom}`);
  await page.waitForSelector('body[data-list-loaded]');
  if (token !== null) await page.fill('#token', token);
}

async function status(page, pattern) {
  await page.waitForFunction((p) => new RegExp(p).test(document.getElementById('form-status').textContent), pattern.source);
  return page.textContent('#form-status');
}

/** Every write the page sent: method, URL, headers. */
function recordWrites(page) {
  const writes = [];
  page.on('request', (r) => { if (r.method() !== 'GET') writes.push({ method: r.method(), url: r.url(), headers: r.headers() }); });
  return writes;
}

describe('the editor page (issue 20)', () => {
  test('has the viewer\'s strict policy, cannot be framed, and keeps the token for the tab only', async () => {
    const { context, page, problems } = await newPage(browser);
    const consoleText = [];
    page.on('console', (m) => consoleText.push(m.text()));
    const urls = [];
    page.on('request', (r) => urls.push(r.url()));
    const response = await page.goto(`${server.url}/edit`);
    const h = response.headers();
    assert.match(h['content-security-policy'], /frame-ancestors 'none'$/);
    assert.match(h['content-security-policy'], /script-src 'self' https:\/\/unpkg\.com\/leaflet@1\.9\.4\/dist\/;/);
    assert.doesNotMatch(h['content-security-policy'], /unsafe/);
    assert.equal(h['x-frame-options'], 'DENY');
    await page.waitForSelector('body[data-list-loaded]');
    await waitForTiles(page, ['/tiles/', '/overlays/events/']);

    // Typed once; Enter in the field submits nothing anywhere (the page posts no form, and its
    // policy allows no form action).
    await page.fill('#token', WRITE_TOKEN);
    await page.press('#token', 'Enter');
    assert.equal(new URL(page.url()).pathname, '/edit');
    const where = await page.evaluate(() => ({
      session: sessionStorage.getItem('tessera-write-token'), local: localStorage.length, cookie: document.cookie,
    }));
    assert.deepEqual(where, { session: WRITE_TOKEN, local: 0, cookie: '' });
    // A reload of the tab keeps it; another tab does not have it.
    await page.reload();
    await page.waitForSelector('body[data-list-loaded]');
    assert.equal(await page.inputValue('#token'), WRITE_TOKEN);
    const other = await context.newPage();
    await other.goto(`${server.url}/edit`);
    await other.waitForSelector('body[data-list-loaded]');
    assert.equal(await other.inputValue('#token'), '');
    await other.close();
    // Forget clears it.
    await page.click('#token-forget');
    assert.equal(await page.evaluate(() => sessionStorage.getItem('tessera-write-token')), null);
    assert.ok(urls.every((u) => !u.includes(WRITE_TOKEN)), 'the token is in no URL');
    assert.ok(consoleText.every((t) => !t.includes(WRITE_TOKEN)), 'the token is never logged');
    assert.ok(!server.stderr().includes(WRITE_TOKEN));
    noProblems(problems);
    await context.close();

    // A page of another origin cannot frame it.
    const host = await hostServer();
    try {
      host.set('/frame.html', `<!doctype html><iframe src="${server.url}/edit" width="600" height="400"></iframe>`);
      const framed = await newPage(browser);
      await framed.page.goto(`${host.origin}/frame.html`);
      await framed.page.waitForTimeout(1500);
      const frames = framed.page.frames().filter((f) => f !== framed.page.mainFrame());
      assert.equal(frames.length, 1);
      assert.equal(await frames[0].$('#event-form').catch(() => null), null, 'the editor did not load in the frame');
      assert.ok(framed.problems.some((p) => /frame-ancestors|X-Frame-Options|refused to connect/i.test(p)), framed.problems.join('\n'));
      await framed.context.close();
    } finally {
      await host.close();
    }
  });

  test('an event entered in the form is stored and drawn on the next overlay request', async () => {
    const { context, page, problems } = await newPage(browser);
    const writes = recordWrites(page);
    const overlay = [];
    page.on('response', (r) => { if (r.url().includes('/overlays/events/')) overlay.push(r); });
    await openEditor(page, TERMANIN, 12);
    await waitForTiles(page, ['/tiles/', '/overlays/events/']);
    await page.waitForLoadState('networkidle');

    // Placed by a click on the map, 40 px east of its centre (Termanin, where the dot of the
    // seed's event opens that event).
    const box = await page.locator('#map').boundingBox();
    await page.mouse.click(box.x + box.width / 2 + 40, box.y + box.height / 2);
    const [lon, lat] = [Number(await page.inputValue('#f-lon')), Number(await page.inputValue('#f-lat'))];
    const east = TERMANIN[0] + (40 * 360) / (256 * 2 ** 12);
    assert.ok(Math.abs(lon - east) < 0.0003 && Math.abs(lat - TERMANIN[1]) < 0.0003, `${lon}, ${lat}`);
    const key = tileOf([lon, lat], 12);
    const first = overlay.filter((r) => r.url().includes(`/overlays/events/${key}.png?v=0`));
    assert.equal(first.length, 1, `the tile of the new event, ${key}, once`);
    const before = await first[0].body();
    await page.waitForSelector('.edit-pin');
    await page.fill('[name=title]', 'Air strike on Termanin (desk test)');
    await page.selectOption('[name=kind]', 'airstrike');
    await page.selectOption('[name=location_precision]', 'town');
    await page.fill('[name=time]', '2020-02-18');
    await page.selectOption('[name=date_precision]', 'day');
    await page.fill('[name=killed]', '3');
    await page.fill('[name=injured]', '9');
    await page.fill('[name=sources]', 'https://example.org/report\nDesk call with a witness, 19 Feb 2020');
    await page.fill('[name=title_ar]', 'غارة جوية على ترمانين');
    const redrawn = page.waitForResponse((r) => r.url().includes(`/overlays/events/${key}.png?v=1`));
    await page.click('#save');
    assert.match(await status(page, /^Added/), /Added “Air strike on Termanin \(desk test\)”/);
    const id = await page.inputValue('#f-id');

    const e = await stored(id);
    assert.ok(e, `${id} is stored`);
    assert.deepEqual(
      [e.properties.title, e.properties.kind, e.properties.time, e.properties.killed, e.properties.injured, e.properties.location_precision, e.properties.date_precision],
      ['Air strike on Termanin (desk test)', 'airstrike', '2020-02-18', 3, 9, 'town', 'day'],
    );
    assert.deepEqual(e.properties.sources, ['https://example.org/report', 'Desk call with a witness, 19 Feb 2020']);
    assert.equal(e.properties.title_ar, 'غارة جوية على ترمانين');
    assert.deepEqual(e.geometry.coordinates, [lon, lat]);

    // The next overlay request draws it: the server's markers of that tile hold it, and the
    // tile the page got differs from the one before.
    const after = await (await redrawn).body();
    assert.notDeepEqual(after, before, 'the tile changed');
    const markers = await (await fetch(`${server.url}/overlays/events/${key}.json`)).json();
    assert.ok(markers.features.some((f) => f.properties.ids.includes(id)), 'the overlay tile draws the new event');
    await page.waitForSelector(`#event-list [data-event="${id}"]`);

    // One write: a POST of the items, with the token in its Authorization header alone.
    assert.deepEqual(writes.map((w) => [w.method, new URL(w.url).pathname]), [['POST', ITEMS]]);
    assert.equal(writes[0].headers.authorization, `Bearer ${WRITE_TOKEN}`);
    assert.equal(new URL(writes[0].url).origin, server.url);
    noProblems(problems);
    await context.close();
  });

  test('a wrong token, no token and a 422 show readable messages next to the right fields', async () => {
    const { context, page, problems } = await newPage(browser);
    const writes = recordWrites(page);
    await openEditor(page, SARAQIB, 12, 'not-the-write-token-at-all');
    const count = async () => (await (await fetch(`${server.url}${ITEMS}?limit=1`)).json()).numberMatched;
    const before = await count();
    await page.fill('[name=title]', 'Shelling of Saraqib (desk test)');
    await page.selectOption('[name=kind]', 'shelling');
    await page.selectOption('[name=location_precision]', 'town');
    await page.fill('[name=time]', '2020-02-10');
    await page.fill('[name=lon]', String(SARAQIB[0]));
    await page.fill('[name=lat]', String(SARAQIB[1]));

    // A wrong token: said at the token, which gets the focus; nothing stored.
    await page.click('#save');
    await page.waitForSelector('#err-token:not([hidden])');
    assert.match(await page.textContent('#err-token'), /^The server refused this token: the token is not the write token\. Type the write token again\.$/);
    assert.equal(await page.getAttribute('#token', 'aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement.id), 'token');
    assert.match(await page.textContent('#form-error'), /Nothing was saved: see the write token above/);
    assert.equal(await count(), before);

    // No token: said before anything is sent.
    await page.fill('#token', '');
    const sent = writes.length;
    await page.click('#save');
    assert.match(await page.textContent('#err-token'), /Type the write token first/);
    assert.equal(writes.length, sent, 'nothing was sent');

    // The right token and four bad fields: each reason next to its field.
    await page.fill('#token', WRITE_TOKEN);
    assert.equal(await page.isHidden('#err-token'), true, 'typing the token clears its error');
    await page.selectOption('[name=kind]', '');
    await page.fill('[name=killed]', '-3');
    await page.fill('[name=time]', 'yesterday');
    await page.fill('[name=lon]', '200');
    await page.click('#save');
    await page.waitForSelector('#err-killed:not([hidden])');
    const shown = await page.evaluate(() => Object.fromEntries(['kind', 'killed', 'time', 'position', 'title', 'injured', 'location_precision']
      .map((n) => [n, document.getElementById(`err-${n}`).hidden ? null : document.getElementById(`err-${n}`).textContent])));
    assert.match(shown.kind, /^Required: one of airstrike, shelling, .*, other\.$/);
    assert.match(shown.killed, /^Must be a non-negative integer, or null when not known\.$/);
    assert.match(shown.time, /^'yesterday' is not an RFC 3339 date \(2020-02-18\)/);
    assert.match(shown.position, /^Longitude 200 is outside -180\.\.180\.$/);
    assert.deepEqual([shown.title, shown.injured, shown.location_precision], [null, null, null], 'good fields show nothing');
    const invalid = await page.evaluate(() => Array.from(document.querySelectorAll('#event-form [aria-invalid="true"]')).map((e) => e.name));
    assert.deepEqual(invalid.sort(), ['killed', 'kind', 'lon', 'time']);
    assert.match(await page.textContent('#form-error'), /^The server did not store the event: 4 fields need a change, shown next to them\.$/);
    assert.equal(await page.evaluate(() => document.activeElement.name), 'lon', 'the first field named has the focus');
    // Each error is read with its field (aria-describedby).
    assert.ok((await page.getAttribute('[name=killed]', 'aria-describedby')).includes('err-killed'));
    assert.equal(await count(), before);

    // Fixed, it is stored and the reasons go away.
    await page.selectOption('[name=kind]', 'shelling');
    await page.fill('[name=killed]', '3');
    await page.fill('[name=time]', '2020-02-10');
    await page.fill('[name=lon]', String(SARAQIB[0]));
    await page.click('#save');
    await status(page, /^Added/);
    assert.equal(await page.locator('.field-error:not([hidden])').count(), 0);
    assert.equal(await count(), before + 1);
    noProblems(problems, [401, 422]);
    await context.close();
  });

  test('two pages editing one event: one 412, the other editor\'s version beside this one, the choice saved', async () => {
    const id = 'edit-test-conflict';
    await postEvent(server.url, {
      type: 'Feature', id, geometry: { type: 'Point', coordinates: SARAQIB },
      properties: { time: '2020-02-11', kind: 'shelling', title: 'Shelling of Saraqib (test)', location_precision: 'town', killed: 2, injured: 5 },
    });
    const a = await newPage(browser);
    const b = await newPage(browser);
    const statuses = { a: [], b: [] };
    a.page.on('response', (r) => { if (r.url().includes(`${ITEMS}/${id}`) && r.request().method() === 'PATCH') statuses.a.push(r.status()); });
    b.page.on('response', (r) => { if (r.url().includes(`${ITEMS}/${id}`) && r.request().method() === 'PATCH') statuses.b.push(r.status()); });
    for (const { page } of [a, b]) {
      await openEditor(page, SARAQIB, 11);
      await page.click(`#event-list [data-event="${id}"]`);
      await page.waitForFunction(() => document.getElementById('form-title').textContent.startsWith('Editing:'));
      assert.equal(await page.inputValue('[name=injured]'), '5');
    }
    // A changes the title and the injured, and saves first.
    await a.page.fill('[name=title]', 'Shelling of Saraqib, 11 injured');
    await a.page.fill('[name=injured]', '11');
    await a.page.click('#save');
    await status(a.page, /^Saved/);

    // B changes the title and the killed: 412, and the stored version is shown beside B's.
    await b.page.fill('[name=title]', 'Shelling of Saraqib and its market');
    await b.page.fill('[name=killed]', '4');
    await b.page.click('#save');
    await b.page.waitForSelector('#conflict:not([hidden]) table');
    const rows = await b.page.$$eval('#conflict tbody tr', (trs) => trs.map((tr) => ({
      field: tr.getAttribute('data-field'), both: tr.classList.contains('both'),
      stored: tr.children[1].textContent, mine: tr.children[2].textContent,
      picked: (tr.querySelector('input:checked') || {}).value || null,
    })));
    assert.deepEqual(rows, [
      { field: 'title', both: true, stored: 'Shelling of Saraqib, 11 injured', mine: 'Shelling of Saraqib and its market', picked: null },
      { field: 'killed', both: false, stored: '2', mine: '4', picked: 'mine' },
      { field: 'injured', both: false, stored: '11', mine: '5', picked: 'theirs' },
    ]);
    assert.equal((await stored(id)).properties.killed, 2, 'nothing of B was written');
    await b.page.screenshot({ path: path.join(ARTIFACTS, 'editor-conflict-1280x800.png') });
    if (process.env.TESSERA_UPDATE_README_IMAGE === '1') copyFileSync(path.join(ARTIFACTS, 'editor-conflict-1280x800.png'), path.join(REPO, 'docs', 'img', 'editor.png'));

    // The title was changed by both: it must be chosen. By keyboard: the arrow takes the radio
    // from "Stored" to "Mine".
    await b.page.click('#conflict button.primary');
    await b.page.waitForSelector('#conflict [role=alert]:not([hidden])');
    assert.match(await b.page.textContent('#conflict [role=alert]'), /^Choose which version to keep for: Title\.$/);
    assert.equal(await b.page.evaluate(() => document.activeElement.id), 'pick-title-theirs');
    await b.page.keyboard.press('ArrowRight');
    assert.equal(await b.page.evaluate(() => document.activeElement.id), 'pick-title-mine');
    await b.page.click('#conflict button.primary');
    await status(b.page, /^Saved/);
    const e = await stored(id);
    assert.deepEqual([e.properties.title, e.properties.killed, e.properties.injured], ['Shelling of Saraqib and its market', 4, 11]);
    assert.equal(await b.page.inputValue('[name=injured]'), '11', 'the form shows what is stored');
    assert.deepEqual(statuses, { a: [200], b: [412, 200] }, 'one 412, then the choice');
    noProblems(a.problems);
    noProblems(b.problems, [412]);
    await a.context.close();
    await b.context.close();
  });

  test('a dot dragged moves its event with If-Match; a stale drag asks first; delete with If-Match', async () => {
    const id = 'edit-test-drag';
    await postEvent(server.url, {
      type: 'Feature', id, geometry: { type: 'Point', coordinates: MAARAT },
      properties: { time: '2020-02-12', kind: 'airstrike', title: 'Air strike on Maarat al-Numan (test)', location_precision: 'exact' },
    });
    const { context, page, problems } = await newPage(browser);
    const writes = recordWrites(page);
    await openEditor(page, MAARAT, 13);
    const drag = async (dx) => {
      const dot = await page.locator(`.leaflet-marker-icon[data-event="${id}"]`).boundingBox();
      const [x, y] = [dot.x + dot.width / 2, dot.y + dot.height / 2];
      await page.mouse.move(x, y);
      await page.mouse.down();
      for (let i = 1; i <= 8; i++) await page.mouse.move(x + (dx * i) / 8, y);
      await page.mouse.up();
    };
    // 80 px east at zoom 13.
    const dLon = (80 * 360) / (256 * 2 ** 13);
    const listed = await page.getAttribute('body', 'data-list-loaded');
    await drag(80);
    await status(page, /^Moved/);
    // The list is read again after the move: the next drag starts from what it shows.
    await page.waitForFunction((n) => document.body.getAttribute('data-list-loaded') !== n, listed);
    let e = await stored(id);
    assert.ok(Math.abs(e.geometry.coordinates[0] - (MAARAT[0] + dLon)) < 0.0003, `${e.geometry.coordinates} vs ${MAARAT}`);
    assert.ok(Math.abs(e.geometry.coordinates[1] - MAARAT[1]) < 0.0003);
    const patch = writes.find((w) => w.method === 'PATCH');
    assert.match(patch.headers['if-match'], new RegExp(`^"${id}-v1(-gzip|-br)?"$`));
    assert.equal(patch.headers.authorization, `Bearer ${WRITE_TOKEN}`);
    assert.equal(patch.headers['content-type'], 'application/merge-patch+json');

    // Someone else renames it after the page listed it: the next drag shows both versions first.
    await page.waitForSelector(`.leaflet-marker-icon[data-event="${id}"]`);
    const current = await fetch(`${server.url}${ITEMS}/${id}`);
    const renamed = await fetch(`${server.url}${ITEMS}/${id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${WRITE_TOKEN}`, 'Content-Type': 'application/merge-patch+json', 'If-Match': current.headers.get('etag') },
      body: JSON.stringify({ properties: { title: 'Air strike on Maarat al-Numan market (test)' } }),
    });
    assert.equal(renamed.status, 200);
    const patches = writes.filter((w) => w.method === 'PATCH').length;
    await drag(-80);
    await page.waitForSelector('#conflict:not([hidden]) table');
    assert.equal(writes.filter((w) => w.method === 'PATCH').length, patches, 'nothing is sent before the editor chooses');
    const fields = await page.$$eval('#conflict tbody tr', (trs) => trs.map((tr) => [tr.getAttribute('data-field'), (tr.querySelector('input:checked') || {}).value]));
    assert.deepEqual(fields, [['title', 'theirs'], ['lon', 'mine']]);
    await page.click('#conflict button.primary');
    await status(page, /^Moved/);
    e = await stored(id);
    assert.equal(e.properties.title, 'Air strike on Maarat al-Numan market (test)', 'their title stays');
    assert.ok(Math.abs(e.geometry.coordinates[0] - MAARAT[0]) < 0.0003, 'my move is stored');

    // Delete, from the form, with If-Match.
    await page.click(`#event-list [data-event="${id}"]`);
    await page.waitForFunction(() => document.getElementById('form-title').textContent.startsWith('Editing:'));
    await page.click('#delete-event');
    await page.click('#delete-confirm');
    await status(page, /^Deleted/);
    assert.equal(await stored(id), null);
    const del = writes.find((w) => w.method === 'DELETE');
    // Version 4: posted, moved, renamed by the other client, moved again.
    assert.match(del.headers['if-match'], new RegExp(`^"${id}-v4(-gzip|-br)?"$`));
    await page.waitForFunction((i) => !document.querySelector(`[data-event="${i}"]`), id);
    noProblems(problems);
    await context.close();
  });

  test('a GeoJSON file is imported with a result for each feature, and the valid ones after a refusal', async () => {
    const feature = (id, [lon, lat], props) => ({
      type: 'Feature', ...(id ? { id } : {}), geometry: { type: 'Point', coordinates: [lon, lat] },
      properties: { time: '2020-02-14', location_precision: 'town', ...props },
    });
    const file = path.join(scratch, 'desk-import.geojson');
    writeFileSync(file, JSON.stringify({
      type: 'FeatureCollection',
      features: [
        feature('edit-test-import-1', MAARAT, { kind: 'shelling', title: 'Import test: shelling of Maarat al-Numan' }),
        feature(null, JISR, { kind: 'airstrike', title: 'Import test: air strike on Jisr al-Shughur', killed: 1 }),
        feature('edit-test-import-3', SARAQIB, { kind: 'bombing', title: 'Import test: a refused one', killed: -1 }),
        feature(SEED_TERMANIN, TERMANIN, { kind: 'airstrike', title: 'Import test: the seed event again' }),
        { type: 'Point', coordinates: SARAQIB },
      ],
    }));
    const { context, page, problems } = await newPage(browser);
    await openEditor(page, SARAQIB, 9);
    await page.setInputFiles('#import-file', file);
    await page.waitForSelector('#import-results tbody tr');
    const states = () => page.$$eval('#import-results tbody tr', (trs) => trs.map((tr) => tr.getAttribute('data-state')));
    assert.deepEqual(await states(), ['ready', 'ready', 'ready', 'exists', 'skipped']);
    assert.equal(await page.textContent('#import-run'), 'Import the 3 features');
    assert.match(await page.textContent('#import-status'), /^desk-import\.geojson: 5 features: 3 ready, 1 skipped \(id taken\), 1 skipped \(not a Feature\)\.$/);

    await page.click('#import-run');
    await page.waitForFunction(() => document.querySelector('#import-results tr[data-n="3"]').getAttribute('data-state') === 'refused');
    assert.deepEqual(await states(), ['waiting', 'waiting', 'refused', 'exists', 'skipped']);
    const refused = await page.$$eval('#import-results tr[data-n="3"] .problems li', (lis) => lis.map((l) => l.textContent));
    assert.equal(refused.length, 2, refused.join('\n'));
    assert.match(refused[0], /^properties\.kind: 'bombing' is not one of: airstrike/);
    assert.match(refused[1], /^properties\.killed: must be a non-negative integer/);
    assert.match(await page.textContent('#import-results tr[data-n="4"]'), new RegExp(`an event with id ${SEED_TERMANIN} exists already`));
    assert.equal(await page.textContent('#import-run'), 'Import the 2 valid features');
    assert.equal(await stored('edit-test-import-1'), null, 'the refused batch stored nothing');

    await page.click('#import-run');
    await page.waitForFunction(() => document.querySelector('#import-results tr[data-n="1"]').getAttribute('data-state') === 'imported');
    assert.deepEqual(await states(), ['imported', 'imported', 'refused', 'exists', 'skipped']);
    assert.equal(await page.isHidden('#import-run'), true);
    const second = (await page.textContent('#import-results tr[data-n="2"] strong')).replace(/^Imported as /, '');
    assert.ok((await stored('edit-test-import-1')) && (await stored(second)), `${second} stored`);
    assert.equal((await stored(second)).properties.title, 'Import test: air strike on Jisr al-Shughur');
    assert.equal(await stored('edit-test-import-3'), null);
    assert.match(await page.textContent('#import-status'), /^5 features: 2 imported, 1 refused, 1 skipped \(id taken\), 1 skipped \(not a Feature\)\.$/);
    noProblems(problems, [422]);
    await context.close();
  });

  test('an event carrying markup is text in the list, on the map, in the form and in a conflict', async () => {
    const id = 'edit-test-hostile';
    const hostile = '<img src=x onerror="window.__xss=1">Hostile <b>title</b>';
    await postEvent(server.url, {
      type: 'Feature', id, geometry: { type: 'Point', coordinates: JISR },
      properties: { time: '2020-02-09', kind: 'other', title: hostile, location_precision: 'town', sources: ['<script>window.__xss=2</script>'] },
    });
    const { context, page, problems } = await newPage(browser);
    await page.addInitScript(() => { window.alert = () => { window.__xss = 'alert'; }; });
    await openEditor(page, JISR, 12);
    assert.equal(await page.textContent(`#event-list [data-event="${id}"]`), hostile);
    assert.equal(await page.getAttribute(`.leaflet-marker-icon[data-event="${id}"]`, 'title'), hostile);
    await page.click(`#event-list [data-event="${id}"]`);
    await page.waitForFunction(() => document.getElementById('form-title').textContent.startsWith('Editing:'));
    assert.equal(await page.textContent('#form-title'), `Editing: ${hostile}`);
    assert.equal(await page.inputValue('[name=sources]'), '<script>window.__xss=2</script>');
    // A conflict shows both versions as text.
    const current = await fetch(`${server.url}${ITEMS}/${id}`);
    await fetch(`${server.url}${ITEMS}/${id}`, {
      method: 'PATCH',
      headers: { Authorization: `Bearer ${WRITE_TOKEN}`, 'Content-Type': 'application/merge-patch+json', 'If-Match': current.headers.get('etag') },
      body: JSON.stringify({ properties: { title: `${hostile} <svg onload="window.__xss=3">` } }),
    });
    await page.fill('[name=title]', '<i>mine</i>');
    await page.click('#save');
    await page.waitForSelector('#conflict:not([hidden]) table');
    assert.equal(await page.textContent('#conflict tr[data-field="title"] td:nth-child(2)'), `${hostile} <svg onload="window.__xss=3">`);
    assert.equal(await page.locator('#edit-panel img, #edit-panel b, #edit-panel i, #edit-panel svg, #edit-panel script').count(), 0, 'no element came from the data');
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    // "Discard mine": the form takes the stored version, and nothing is sent.
    const sent = [];
    page.on('request', (r) => { if (r.method() !== 'GET') sent.push(r.url()); });
    await page.click('#conflict button:not(.primary)');
    await status(page, /^You kept the stored version/);
    assert.equal(await page.inputValue('[name=title]'), `${hostile} <svg onload="window.__xss=3">`);
    assert.equal(await page.isHidden('#conflict'), true);
    assert.deepEqual(sent, []);
    noProblems(problems, [412]);
    await context.close();
  });

  test('the form by keyboard alone: its order, choices, Enter to save, opening a listed event, and unsaved changes kept unless dropped', async () => {
    const { context, page, problems } = await newPage(browser);
    await openEditor(page, JISR, 12, null);
    await page.focus('#token');
    await page.keyboard.type(WRITE_TOKEN);
    const order = [];
    for (let i = 0; i < 17; i++) {
      await page.keyboard.press('Tab');
      order.push(await page.evaluate(() => document.activeElement.name || document.activeElement.id));
    }
    assert.deepEqual(order, ['token-forget', 'title', 'title_ar', 'kind', 'location_precision', 'time', 'date_precision', 'lon', 'lat',
      'killed', 'injured', 'displaced', 'sources', 'actors', 'description', 'id', 'save']);

    await page.focus('[name=title]');
    await page.keyboard.type('Displacement from Jisr al-Shughur (keyboard test)');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    for (let i = 0; i < 5; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue('[name=kind]'), 'displacement');
    await page.keyboard.press('Tab');
    for (let i = 0; i < 3; i++) await page.keyboard.press('ArrowDown');
    assert.equal(await page.inputValue('[name=location_precision]'), 'city');
    await page.keyboard.press('Tab');
    await page.keyboard.type('2020-02-13/2020-02-14');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type(String(JISR[0]));
    await page.keyboard.press('Tab');
    await page.keyboard.type(String(JISR[1]));
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    await page.keyboard.type('1200');
    await page.keyboard.press('Enter');
    await status(page, /^Added/);
    const id = await page.inputValue('#f-id');
    const e = await stored(id);
    assert.deepEqual([e.properties.kind, e.properties.location_precision, e.properties.time, e.properties.displaced],
      ['displacement', 'city', '2020-02-13/2020-02-14', 1200]);

    // The list: Enter on an event opens it in the form.
    await page.click('#new-event');
    await page.waitForSelector(`#event-list [data-event="${id}"]`);
    await page.focus(`#event-list [data-event="${id}"]`);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('form-title').textContent.startsWith('Editing:'));
    assert.equal(await page.inputValue('[name=displaced]'), '1200');
    assert.equal(await page.evaluate(() => document.activeElement.name), 'title');

    // Unsaved changes are not dropped without asking.
    await page.keyboard.type(' (changed)');
    await page.click('#new-event');
    await page.waitForSelector('#conflict:not([hidden])');
    assert.equal(await page.textContent('#conflict h3'), 'Your changes are not saved');
    assert.equal(await page.evaluate(() => document.activeElement.textContent), 'Keep editing');
    await page.keyboard.press('Enter');
    assert.match(await page.inputValue('[name=title]'), /\(changed\)$/);
    assert.match(await page.textContent('#form-title'), /^Editing:/);
    await page.click('#new-event');
    await page.click('#conflict button.danger');
    assert.equal(await page.textContent('#form-title'), 'New event');
    assert.equal(await page.inputValue('[name=title]'), '');
    assert.doesNotMatch((await stored(id)).properties.title, /changed/, 'nothing was saved');
    noProblems(problems);
    await context.close();
  });

  test('on a phone (375 x 700): the map above the form, nothing sticking out, 44 px controls', async () => {
    const { context, page, problems } = await newPage(browser, { viewport: { width: 375, height: 700 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    await openEditor(page, SARAQIB, 11);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `nothing sticks out sideways (${overflow} px)`);
    const map = await page.locator('#map').boundingBox();
    const panel = await page.locator('#edit-panel').boundingBox();
    assert.ok(map.height >= 200 && panel.y >= map.y + map.height - 1, `map ${JSON.stringify(map)}, panel ${JSON.stringify(panel)}`);
    for (const sel of ['#token', '[name=title]', '[name=kind]', '[name=lon]', '#save']) {
      await page.locator(sel).scrollIntoViewIfNeeded();
      const b = await page.locator(sel).boundingBox();
      assert.ok(b.height >= 44 && b.x >= 0 && b.x + b.width <= 375, `${sel}: ${JSON.stringify(b)}`);
    }
    // A tap on the map places the event (off the centre, where the dots of earlier tests are).
    await page.touchscreen.tap(map.x + map.width / 2 + 60, map.y + map.height / 2 + 40);
    assert.notEqual(await page.inputValue('[name=lon]'), '');
    await page.screenshot({ path: path.join(ARTIFACTS, 'editor-phone-375x700.png') });
    noProblems(problems);
    await context.close();
  });
});
