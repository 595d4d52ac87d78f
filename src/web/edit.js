// The desk editor's page (/edit): events entered and corrected in the browser, through the
// public event API alone. This module wires the others: the map (edit-map.js), the form and
// its conflicts (edit-form.js, edit-conflict.js, edit-fields.js), the events in view
// (edit-list.js), the file import (edit-import.js) and the token and the API (edit-api.js).
import { $ } from './dom.js';
import { isNum } from './checks.js';
import { readConfig } from './config.js';
import { fail } from './messages.js';
import { restoreToken, setToken } from './edit-api.js';
import { makeEditMap, positionTexts } from './edit-map.js';
import { EventForm, tokenError } from './edit-form.js';
import { eventList } from './edit-list.js';
import { wireImport } from './edit-import.js';

function readEditor() {
  const node = $('tessera-config');
  const e = (JSON.parse(node ? node.textContent : '{}') || {}).editor || {};
  const names = (list) => (Array.isArray(list) ? list.filter((s) => typeof s === 'string' && /^[a-z-]+$/.test(s)) : []);
  return {
    writes: e.writes === true,
    maxBatch: isNum(e.maxBatch, 1, 1e6) ? Math.floor(e.maxBatch) : 1000,
    locationPrecision: names(e.locationPrecision),
    datePrecision: names(e.datePrecision),
  };
}

function wireToken(editor) {
  const input = $('token');
  input.value = restoreToken();
  input.addEventListener('input', () => { setToken(input.value); tokenError(null); });
  $('token-forget').addEventListener('click', () => { input.value = ''; setToken(''); input.focus(); });
  if (!editor.writes) tokenError('This server takes no writes: it was started without a write token. You can look, not change.');
}

/** Keeps the address (and the viewer link) on the map's view; never anything else. */
function syncAddress(map) {
  const c = map.getCenter().wrap();
  const q = new URLSearchParams({ lat: c.lat.toFixed(5), lon: c.lng.toFixed(5), zoom: String(map.getZoom()) }).toString();
  try { window.history.replaceState(null, '', `${window.location.pathname}?${q}`); } catch { /* not needed to edit */ }
  $('viewer-link').setAttribute('href', `/?${q}`);
}

function start(cfg, editor) {
  document.documentElement.classList.add('js');
  let form = null;
  const editMap = makeEditMap(cfg, (latlng) => form && form.place(positionTexts(latlng)));
  let list = null;
  const written = () => { editMap.refreshOverlay(); if (list) list.refresh(); };
  form = new EventForm(cfg, editor, {
    pin: (lonlat) => editMap.setPin(lonlat),
    written,
    opened: (id) => { if (list) list.select(id); },
  });
  list = eventList(cfg, editMap, { open: (id) => form.open(id), move: (f, pos) => form.move(f, pos) }, positionTexts);
  wireToken(editor);
  wireImport(editor, {
    guard: () => form.guard(),
    tokenError: (res) => tokenError(res.status === 401 ? 'The server refused this token. Type the write token again.' : 'This server takes no writes.'),
    written,
  });
  editMap.map.on('moveend', () => syncAddress(editMap.map));
  syncAddress(editMap.map);
  list.refresh();
}

function main() {
  let cfg, editor;
  try { cfg = readConfig(); editor = readEditor(); } catch { fail('The page settings could not be read.'); return; }
  if (typeof window.L === 'undefined') { fail('The map library (Leaflet) could not be loaded. Check the connection, or ask the site to serve Leaflet itself (tessera --leaflet-dir).'); return; }
  start(cfg, editor);
}

main();
