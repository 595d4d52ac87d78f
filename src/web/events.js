// The clickable event markers: the server's own markers of the overlay tiles in view
// (/overlays/events/{z}/{x}/{y}.json, the clusters the overlay draws), as invisible hit areas
// over the overlay's symbols, drawn as dots when the overlay is off. A marker's popup asks for
// its events by id, a page at a time, so that it can list every event of a cluster.
import { $ } from './dom.js';
import { isNum, strings } from './checks.js';
import { timeParams } from './urls.js';
import { openPopup } from './popup.js';

/** Extra CSS px around the view whose markers are loaded too: the farthest an overlay marker
 * reaches from its position (the server's OVERLAY_REACH_PX), so that a symbol cut by the edge
 * of the view is clickable too. */
const MARGIN_PX = 44;
/** Most tiles loaded for one view (a zoomed-out view can span several copies of the world). */
const MAX_TILES = 96;
/** Smallest hit radius of a located marker, CSS px, for fingers. */
const MIN_HIT_PX = 11;

/** The tiles that cover the view at its zoom: { key, z, x (wrapped), y, shift (degrees) }. */
function tilesInView(map) {
  const z = map.getZoom(), n = 2 ** z, b = map.getPixelBounds();
  const tile = (v) => Math.floor(v / 256);
  const [x0, x1] = [tile(b.min.x - MARGIN_PX), tile(b.max.x + MARGIN_PX)];
  const [y0, y1] = [Math.max(0, tile(b.min.y - MARGIN_PX)), Math.min(n - 1, tile(b.max.y + MARGIN_PX))];
  const out = [];
  for (let y = y0; y <= y1; y++) {
    for (let x = x0; x <= x1 && out.length < MAX_TILES; x++) {
      const wx = ((x % n) + n) % n;
      out.push({ key: `${z}/${x}/${y}`, z, x: wx, y, shift: ((x - wx) / n) * 360 });
    }
  }
  return out;
}

function validMarker(f) {
  const c = f && f.geometry && Array.isArray(f.geometry.coordinates) ? f.geometry.coordinates : [];
  const p = f && f.properties;
  return isNum(c[0], -180, 180) && isNum(c[1], -90, 90) && p && strings(p.ids).length > 0 &&
    isNum(p.reach_px, 0, 200) && typeof p.color === 'string' && /^#[0-9a-f]{8}$/.test(p.color);
}

function markerOptions(p, visible) {
  if (p.region) {
    return { pane: 'eventRegions', radius: p.reach_px, weight: 1.2, color: p.color, dashArray: '4 4', fillColor: p.color,
      fillOpacity: visible ? 0.15 : 0, opacity: visible ? 0.7 : 0, className: 'tessera-hit tessera-region' };
  }
  return { pane: 'eventMarkers', radius: Math.max(p.reach_px, MIN_HIT_PX), weight: 1.5, color: '#ffffff', fillColor: p.color,
    fillOpacity: visible ? 0.9 : 0, opacity: visible ? 1 : 0, className: `tessera-hit ${p.cluster ? 'tessera-cluster' : 'tessera-event'}` };
}

function ariaLabel(p, ids) {
  const what = ids.length > 1 ? `${ids.length} events` : (typeof p.title === 'string' ? p.title : 'an event');
  return (p.region ? 'Somewhere in the region: ' : '') + what;
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

/**
 * Where the marker's target goes: over the overlay, on the symbol the overlay draws, which for a
 * located marker hangs `lift_px` above its point on a leader (the server says how far); with the
 * overlay off, the target is drawn itself, on the point.
 */
function targetAt(map, p, lat, lon, visible) {
  const lift = !visible && isNum(p.lift_px, 0, 200) ? p.lift_px : 0;
  if (lift === 0) return L.latLng(lat, lon);
  const z = map.getZoom();
  return map.unproject(map.project(L.latLng(lat, lon), z).subtract(L.point(0, lift)), z);
}

function makeMarker(map, f, shift, visible, kindsById) {
  const p = f.properties, ids = strings(p.ids);
  const [lon, lat] = f.geometry.coordinates;
  const m = L.circleMarker(targetAt(map, p, lat, lon + shift, visible), markerOptions(p, visible));
  m.bindPopup('', { maxWidth: 320, minWidth: 220, autoPanPadding: [16, 16] });
  m.on('popupopen', (e) => openPopup(e.popup, { region: p.region === true, ids }, kindsById));
  label(m, ids, ariaLabel(p, ids));
  if (visible && ids.length > 1) m.bindTooltip(String(ids.length), { permanent: true, direction: 'center', className: 'tessera-count' });
  m.eventCount = ids.length;
  return m;
}

async function fetchMarkers(t, query) {
  const r = await fetch(`/overlays/events/${t.z}/${t.x}/${t.y}.json${query ? `?${query}` : ''}`);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const fc = await r.json();
  return (Array.isArray(fc.features) ? fc.features : []).filter(validMarker);
}

/** "N events in view": the events of the markers placed in the view. */
function countText(map, group) {
  const view = map.getBounds();
  const n = group.getLayers().filter((m) => view.contains(m.getLatLng())).reduce((s, m) => s + m.eventCount, 0);
  return n === 1 ? ['1 event in view', '1 event'] : [`${n} events in view`, `${n} events`];
}

/**
 * The markers on the map, per tile, for one generation (a zoom, filters, the overlay on or
 * off). They are kept while the generation lasts, so that an open popup survives the reload
 * that follows its own auto-pan.
 */
class MarkerTiles {
  constructor(map, group, kindsById) {
    Object.assign(this, { map, group, kindsById, tiles: new Map(), generation: '' });
  }

  drop(key) {
    (this.tiles.get(key) || []).forEach((m) => this.group.removeLayer(m));
    this.tiles.delete(key);
  }

  /** Starts generation `gen` if it is new, drops tiles out of view; returns the tiles to load. */
  prepare(gen, wanted) {
    if (gen !== this.generation) [...this.tiles.keys()].forEach((k) => this.drop(k));
    this.generation = gen;
    [...this.tiles.keys()].filter((k) => !wanted.some((t) => t.key === k)).forEach((k) => this.drop(k));
    return wanted.filter((t) => !this.tiles.has(t.key));
  }

  async load(t, query, visible) {
    const gen = this.generation;
    this.tiles.set(t.key, []);
    let found;
    try { found = await fetchMarkers(t, query); } catch (e) { if (gen === this.generation) this.tiles.delete(t.key); throw e; }
    if (gen !== this.generation || !this.tiles.has(t.key)) return;
    const markers = found.map((f) => makeMarker(this.map, f, t.shift, visible, this.kindsById));
    markers.forEach((m) => this.group.addLayer(m));
    this.tiles.set(t.key, markers);
  }
}

/** Shows the markers of the view in `group`, and keeps them in step with the map and filters. */
export function showEvents(cfg, state, map, group) {
  const shown = new MarkerTiles(map, group, Object.fromEntries(cfg.kinds.map((k) => [k.id, k])));
  let seq = 0;
  async function refresh() {
    const mine = ++seq, query = timeParams(state).toString(), visible = !state.show.overlay;
    if (state.play) {
      // While the timeline plays, only the overlay's tiles are asked for at each step.
      shown.prepare('playing', []);
      [$('event-count').textContent, $('handle-count').textContent] = ['Playing: pause to click the events.', ''];
      return;
    }
    const missing = shown.prepare([map.getZoom(), query, visible].join('|'), tilesInView(map));
    try {
      await Promise.all(missing.map((t) => shown.load(t, query, visible)));
    } catch {
      if (mine === seq) $('event-count').textContent = 'The events could not be loaded.';
      return;
    }
    if (mine !== seq) return;
    [$('event-count').textContent, $('handle-count').textContent] = countText(map, group);
    document.body.setAttribute('data-events-loaded', String(mine));
  }
  let timer = null;
  map.on('moveend', () => { clearTimeout(timer); timer = setTimeout(refresh, 120); });
  state.onChange(refresh);
  refresh();
}
