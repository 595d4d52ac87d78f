// The clickable event markers: invisible hit areas over the overlay's symbols (drawn as dots
// when the overlay is off), each opening a popup with its events.
import { $, el } from './dom.js';
import { isNum } from './checks.js';
import { datetime } from './state.js';
import { eventSection, popupNote } from './popup.js';

function validEvent(f, kindsById) {
  if (!f || f.type !== 'Feature' || typeof f.id !== 'string' || !f.properties || typeof f.properties !== 'object') return false;
  const g = f.geometry;
  if (!g || g.type !== 'Point' || !Array.isArray(g.coordinates)) return false;
  if (!isNum(g.coordinates[0], -180, 180) || !isNum(g.coordinates[1], -90, 90)) return false;
  if (typeof f.properties.title !== 'string') return false;
  if (!kindsById[f.properties.kind]) f.properties.kind = 'other';
  return true;
}

function casualties(f) {
  const p = f.properties;
  return (typeof p.killed === 'number' ? p.killed : 0) + (typeof p.injured === 'number' ? p.injured : 0);
}

// Groups events as the overlay tiles do (crate::events::cluster): by cells of cellPx pixels at
// the current zoom, region-precision events apart from located ones, each group at the mean
// position of its members.
function groupEvents(map, events, cellPx) {
  const z = map.getZoom();
  const cells = new Map();
  for (const f of events) {
    const p = map.project(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]), z);
    const region = f.properties.location_precision === 'region';
    const key = `${region ? 'r' : 'l'}${Math.floor(p.x / cellPx)},${Math.floor(p.y / cellPx)}`;
    if (!cells.has(key)) cells.set(key, { region, points: [], events: [] });
    cells.get(key).events.push(f);
    cells.get(key).points.push(p);
  }
  return [...cells.values()].map((g) => {
    const sum = g.points.reduce((s, p) => [s[0] + p.x, s[1] + p.y], [0, 0]);
    g.latlng = map.unproject(L.point(sum[0] / g.points.length, sum[1] / g.points.length), z);
    g.events.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return g;
  });
}

function markerOptions(g, kindsById, cfg, visible) {
  const first = g.events[0];
  const kind = kindsById[first.properties.kind] || { color: '#737373ff' };
  const paint = { fillOpacity: visible ? 0.9 : 0, opacity: visible ? 1 : 0, weight: 1.5, color: '#ffffff' };
  if (g.region) {
    // Several region events in one cell may differ in kind: the overlay's neutral colour.
    const c = g.events.length > 1 ? '#5b1a1a' : kind.color;
    return { pane: 'eventRegions', radius: cfg.regionPx, weight: 1.2, color: c, dashArray: '4 4', fillColor: c,
      fillOpacity: visible ? 0.15 : 0, opacity: visible ? 0.7 : 0, className: 'tessera-hit tessera-region' };
  }
  if (g.events.length > 1) {
    const r = Math.min(44, 20 + 5 * Math.log2(g.events.length)) / 2;
    return { ...paint, pane: 'eventMarkers', radius: Math.max(r, 12), fillColor: '#3b0a0a', className: 'tessera-hit tessera-cluster' };
  }
  const size = Math.min(30, 12 + 3 * Math.log2(casualties(first) + 1));
  return { ...paint, pane: 'eventMarkers', radius: Math.max(size / 2 + 2, 11), fillColor: kind.color, className: 'tessera-hit tessera-event' };
}

function popupContent(g, kindsById) {
  const div = el('div', { class: 'tessera-popup' });
  const note = popupNote(g.region, g.events.length);
  if (note) div.appendChild(note);
  g.events.forEach((f) => div.appendChild(eventSection(f, kindsById)));
  return div;
}

/** Labels the marker's path once it is on the map, for keyboards, screen readers and tests. */
function label(m, ids, text) {
  m.on('add', () => {
    const path = m.getElement();
    if (!path) return;
    path.setAttribute('data-events', ids.join(' '));
    path.setAttribute('role', 'button');
    path.setAttribute('tabindex', '0');
    path.setAttribute('aria-label', text);
    path.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); m.openPopup(); }
    });
  });
}

function makeMarker(g, kindsById, cfg, visible) {
  const m = L.circleMarker(g.latlng, markerOptions(g, kindsById, cfg, visible));
  m.bindPopup(() => popupContent(g, kindsById), { maxWidth: 320, minWidth: 220, autoPanPadding: [16, 16] });
  const text = (g.region ? 'Somewhere in the region: ' : '') + (g.events.length > 1 ? `${g.events.length} events` : g.events[0].properties.title);
  label(m, g.events.map((f) => f.id), text);
  if (visible && g.events.length > 1) {
    m.bindTooltip(String(g.events.length), { permanent: true, direction: 'center', className: 'tessera-count' });
  }
  return m;
}

function countText(n, shown) {
  let text = n === 1 ? '1 event in view' : `${n} events in view`;
  if (n > shown) text += ` (${shown} clickable: zoom in for the rest)`;
  return text;
}

function eventsQuery(map, state) {
  const b = map.getBounds().pad(0.25);
  let west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
  if (east - west >= 360 || west >= east) { west = -180; east = 180; }
  const p = new URLSearchParams();
  p.set('bbox', [west, Math.max(-90, b.getSouth()), east, Math.min(90, b.getNorth())].map((x) => x.toFixed(5)).join(','));
  const dt = datetime(state);
  if (dt) p.set('datetime', dt);
  if (state.kinds) p.set('kind', state.kinds.join(','));
  p.set('limit', '1000');
  return p;
}

/** Loads the events of the view into the markers layer, and keeps them in step. */
export function showEvents(cfg, state, map, group) {
  const kindsById = Object.fromEntries(cfg.kinds.map((k) => [k.id, k]));
  let events = [];
  let seq = 0;
  // Markers are kept while their group is unchanged, so that an open popup survives the
  // reload of events that follows its own auto-pan.
  let drawn = new Map();
  function draw() {
    const visible = !state.show.overlay;
    const next = new Map();
    for (const g of groupEvents(map, events, cfg.cellPx)) {
      const sig = [visible, map.getZoom(), g.region, g.latlng.lat.toFixed(6), g.latlng.lng.toFixed(6),
        ...g.events.map((f) => `${f.id}@${f.properties.updated}`)].join('|');
      const m = drawn.get(sig) || makeMarker(g, kindsById, cfg, visible);
      if (!drawn.has(sig)) group.addLayer(m);
      drawn.delete(sig);
      next.set(sig, m);
    }
    drawn.forEach((m) => group.removeLayer(m));
    drawn = next;
  }
  function load() {
    const mine = ++seq;
    fetch(`/collections/events/items?${eventsQuery(map, state)}`, { headers: { Accept: 'application/geo+json' } })
      .then((r) => { if (!r.ok) throw new Error(`HTTP ${r.status}`); return r.json(); })
      .then((fc) => {
        if (mine !== seq) return;
        events = (Array.isArray(fc.features) ? fc.features : []).filter((f) => validEvent(f, kindsById));
        draw();
        const n = typeof fc.numberMatched === 'number' ? fc.numberMatched : events.length;
        $('event-count').textContent = countText(n, events.length);
        $('handle-count').textContent = n === 1 ? '1 event' : `${n} events`;
        document.body.setAttribute('data-events-loaded', String(mine));
      })
      .catch(() => { if (mine === seq) $('event-count').textContent = 'The events could not be loaded.'; });
  }
  let timer = null;
  map.on('moveend', () => { clearTimeout(timer); timer = setTimeout(load, 120); });
  state.onChange((what) => (what === 'time' ? load() : draw()));
  load();
}
