// The editor's only way to the server: the public event API, on this page's own origin.
//
// The write token lives in this module's memory and in the tab's sessionStorage (so that a
// reload of the tab keeps it and closing the tab forgets it). It is never put in a URL, in
// localStorage or in a cookie, never logged, and sent only in the Authorization header of
// writes to /collections/events/items on this origin: `write` refuses any other path.

const KEY = 'tessera-write-token';
const ITEMS = '/collections/events/items';

let token = '';

function storage() {
  try { return window.sessionStorage; } catch { return null; }
}

/** The token this tab was given earlier, if any. */
export function restoreToken() {
  const s = storage();
  token = (s && s.getItem(KEY)) || '';
  return token;
}

/** Keeps the token for this tab; an empty one forgets it. */
export function setToken(t) {
  token = String(t || '').trim();
  const s = storage();
  if (!s) return;
  if (token) s.setItem(KEY, token);
  else s.removeItem(KEY);
}

export function hasToken() {
  return token !== '';
}

/** The URL of one event. */
export function itemPath(id) {
  return `${ITEMS}/${encodeURIComponent(id)}`;
}

async function answer(r) {
  let body = null;
  try { body = await r.json(); } catch { body = null; }
  return { status: r.status, etag: r.headers.get('etag'), body };
}

/** A failure to reach the server, as an answer the callers handle like any other. */
function unreachable() {
  return { status: 0, etag: null, body: { code: 'unreachable', description: 'the server could not be reached; nothing was saved' } };
}

/**
 * A write: POST to the items, or PUT/PATCH/DELETE of one item, with the token and, for an
 * existing event, the ETag it was read with (If-Match). Resolves to { status, etag, body }.
 */
export async function write(method, path, { body, type = 'application/geo+json', etag } = {}) {
  if (path !== ITEMS && !path.startsWith(`${ITEMS}/`)) throw new Error('the editor writes events only');
  const headers = { Authorization: `Bearer ${token}`, Accept: 'application/geo+json, application/json' };
  if (body !== undefined) headers['Content-Type'] = type;
  if (etag) headers['If-Match'] = etag;
  try {
    const r = await fetch(path, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store', credentials: 'omit', redirect: 'error',
    });
    return answer(r);
  } catch {
    return unreachable();
  }
}

/** One event as stored now, with its ETag: { status, etag, body }. */
export async function read(id) {
  try {
    // no-cache: the browser may keep a copy, but asks the server whether it is current, so
    // the ETag is the current version's.
    return answer(await fetch(itemPath(id), { cache: 'no-cache', headers: { Accept: 'application/geo+json' } }));
  } catch {
    return unreachable();
  }
}

/** A read of the items: { status, body } with a FeatureCollection. */
export async function query(params) {
  try {
    return answer(await fetch(`${ITEMS}?${params}`, { cache: 'no-cache', headers: { Accept: 'application/geo+json' } }));
  } catch {
    return unreachable();
  }
}

/** The server's description of a refused request, or a short one of its status. */
export function describe(res) {
  const d = res.body && typeof res.body.description === 'string' ? res.body.description : '';
  return d || (res.status ? `the server answered ${res.status}` : 'the server could not be reached');
}
