// Editing an event from a web page (issue 12, item 1): a page on the server's origin reads an
// event with fetch() and edits it with the ETag it got. Chromium sends Accept-Encoding itself
// and cannot be told not to, so the read is compressed; the tag must still work in If-Match,
// and only a newer version may answer 412.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { HERE, WRITE_TOKEN, startServer } from './lib/server.mjs';
import { launch, newPage } from './lib/browser.mjs';

const TERMANIN = '2020-02-18-termanin-air-raids';

let server, browser;

before(async () => {
  // Leaflet served by tessera, so that the page needs nothing routed through the test: routing
  // requests (Playwright's interception) turns the browser's HTTP cache off, and the cache's
  // revalidation is part of what is tested.
  const leaflet = path.join(HERE, 'node_modules', 'leaflet', 'dist');
  [server, browser] = await Promise.all([startServer(['--leaflet-dir', leaflet]), launch()]);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** In the page: GET the event, then PATCH it with `props` and the tag `tag` (the read's when null). */
function editInPage(page, steps) {
  return page.evaluate(async ({ id, token, steps }) => {
    const url = `/collections/events/items/${id}`;
    const out = [];
    let read = null;
    for (const step of steps) {
      if (step.read) {
        const r = await fetch(url);
        read = { status: r.status, etag: r.headers.get('etag'), encoding: r.headers.get('content-encoding'), body: await r.json() };
        out.push(read);
      } else {
        const tag = step.tag === 'first' ? out[0].etag : read.etag;
        const r = await fetch(url, {
          method: 'PATCH',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/merge-patch+json', 'If-Match': tag },
          body: JSON.stringify({ properties: step.patch }),
        });
        out.push({ status: r.status, etag: r.headers.get('etag'), sent: tag, body: await r.json() });
      }
    }
    return out;
  }, { id: TERMANIN, token: WRITE_TOKEN, steps });
}

describe('editing an event from a page on the server', () => {
  test('fetch() reads compressed, PATCHes with the tag it got (200), and an old tag gives 412', async () => {
    const { context, page, problems } = await newPage(browser, { intercept: false });
    // What each GET of the event sent and received on the wire (the page sees a 304 as a 200).
    const gets = [];
    page.on('requestfinished', (r) => {
      if (r.method() === 'GET' && r.url().endsWith(`/items/${TERMANIN}`)) gets.push(Promise.all([r.allHeaders(), r.sizes()]));
    });
    await page.goto(`${server.url}/`);
    const [first, patched, stale, reread, again, patchedAgain] = await editInPage(page, [
      { read: true },
      { patch: { injured: 7 } },
      { patch: { killed: 3 }, tag: 'first' },
      { read: true },
      // Read once more with nothing changed: the browser revalidates its copy (If-None-Match)
      // and gives the page the ETag of the 304 merged into it.
      { read: true },
      { patch: { killed: 3 } },
    ]);
    const wire = (await Promise.all(gets)).map(([h, s]) => ({ ifNoneMatch: h['if-none-match'], bodyBytes: s.responseBodySize }));
    await context.close();

    assert.equal(first.status, 200);
    assert.ok(['gzip', 'br'].includes(first.encoding), `the browser was sent a compressed answer: ${first.encoding}`);
    assert.equal(patched.status, 200, `PATCH with ${patched.sent}, the tag of the read: ${JSON.stringify(patched.body)}`);
    assert.match(first.etag, /^"[^"]+"$/, `a strong ETag: ${first.etag}`);
    assert.equal(patched.body.properties.injured, 7);
    assert.notEqual(patched.etag, first.etag);

    assert.equal(stale.status, 412, `PATCH with the first tag again: ${JSON.stringify(stale.body)}`);
    assert.equal(stale.body.code, 'precondition_failed');
    assert.match(stale.body.description, /changed since it was read/);

    assert.equal(reread.body.properties.injured, 7);
    assert.notEqual(reread.body.properties.killed, 3, 'the stale PATCH changed nothing');
    assert.equal(again.etag, reread.etag, 'the revalidated copy keeps its tag');
    assert.equal(patchedAgain.status, 200, `PATCH with the tag of a revalidated read, ${patchedAgain.sent}: ${JSON.stringify(patchedAgain.body)}`);
    assert.equal(patchedAgain.body.properties.killed, 3);
    // The last read was a revalidation: sent with the reread's tag, answered without a body.
    assert.equal(wire.length, 3, JSON.stringify(wire));
    assert.deepEqual(wire[2], { ifNoneMatch: reread.etag, bodyBytes: 0 }, JSON.stringify(wire));
    // The expected 412 (recorded as an HTTP error and logged by Chromium) is the only problem.
    const item = `${server.url}/collections/events/items/${TERMANIN}`;
    const expected = [`HTTP 412: ${item}`, `console error: Failed to load resource: the server responded with a status of 412 (Precondition Failed) (${item})`];
    assert.deepEqual(problems.filter((p) => !expected.includes(p)), []);
  });
});
