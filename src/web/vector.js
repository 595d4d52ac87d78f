// The vector view (?renderer=vector): the same map drawn by MapLibre GL JS from the vector tiles
// and /style.json (names drawn in the browser from /fonts), with the same filters, legend and
// popups as the raster view. MapLibre is a classic script loaded before the modules
// (window.maplibregl); the Leaflet modules (map.js, events.js) are not used here.
//
// MapLibre draws vector tiles 512 px wide: at its zoom z it shows the tiles of zoom z at the
// scale of the raster map's zoom z + 1. The page keeps the raster map's zooms in its address and
// embed code, so that a view looks the same in both renderers, and converts in makeVectorMap.
import { $, el } from './dom.js';
import { timeParams } from './urls.js';
import { openPopup } from './popup.js';

/** The style's layers of the events (see src/mvt/style.rs), which open a popup when clicked. */
const EVENT_LAYERS = ['events-single', 'events-cluster', 'events-cluster-casualties', 'events-region'];

/**
 * Hands MapLibre the RTL text plugin, which shapes Arabic. MapLibre's workers load it with
 * importScripts, which takes no integrity hash: a copy from the CDN is fetched with its hash and
 * handed over as a blob: URL of the checked bytes.
 */
async function loadRtlPlugin(plugin) {
  let url = new URL(plugin.url, window.location.href).href;
  if (plugin.integrity) {
    const r = await fetch(url, { integrity: plugin.integrity, mode: 'cors', credentials: 'omit' });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    url = URL.createObjectURL(new Blob([await r.arrayBuffer()], { type: 'text/javascript' }));
  }
  await maplibregl.setRTLTextPlugin(url, false);
}

/** The vector TileJSON's URL: the chosen data layers (with their names and the events), dates and kinds. */
function sourceUrl(cfg, state) {
  const p = timeParams(state);
  if (state.dataLayers) p.set('layers', [...state.dataLayers, 'labels', 'events'].join(','));
  const q = p.toString();
  return `${cfg.base}/tiles/vector.json${q ? `?${q}` : ''}`;
}

/** Whether a style layer draws the events (the overlay) rather than the base map. */
const isEvents = (layer) => layer['source-layer'] === 'events';

/** Shows or hides the base map's and the events' style layers as state.show says. */
function applyShow(map, show) {
  for (const layer of map.getStyle().layers) {
    if (layer.type === 'background') continue;
    const on = isEvents(layer) ? show.overlay : show.base;
    map.setLayoutProperty(layer.id, 'visibility', on ? 'visible' : 'none');
  }
}

/** A small control with the two switches of the raster view's layer switcher that apply here. */
function switcher(map, state) {
  const box = el('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group tessera-switcher' });
  const item = (key, text) => {
    const label = el('label');
    const input = el('input', { type: 'checkbox', 'data-layer': key });
    input.checked = state.show[key];
    input.addEventListener('change', () => {
      const show = { ...state.show, [key]: input.checked };
      if (key === 'overlay') show.markers = input.checked;
      state.set({ show }, 'layers');
    });
    label.append(input, document.createTextNode(` ${text}`));
    box.appendChild(label);
  };
  item('base', 'Base map');
  item('overlay', 'Events');
  return { onAdd: () => box, onRemove: () => box.remove() };
}

/** The events of a clicked cluster: the overlay's markers of the same tile list their ids. */
async function clusterIds(cfg, map, f, state) {
  const [lon, lat] = f.geometry.coordinates;
  // The tile MapLibre shows the cluster from: its clusters are the overlay's of that zoom.
  const z = Math.min(cfg.maxZoom, Math.max(0, Math.floor(map.getZoom())));
  const n = 2 ** z;
  const x = Math.min(n - 1, Math.floor(((lon + 180) / 360) * n));
  const s = Math.sin((lat * Math.PI) / 180);
  const y = Math.min(n - 1, Math.max(0, Math.floor((0.5 - Math.log((1 + s) / (1 - s)) / (4 * Math.PI)) * n)));
  const q = timeParams(state).toString();
  const r = await fetch(`/overlays/events/${z}/${x}/${y}.json${q ? `?${q}` : ''}`);
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const markers = (await r.json()).features || [];
  const first = f.properties.first_id;
  const hit = markers.find((m) => m.properties && Array.isArray(m.properties.ids) && m.properties.ids.includes(first));
  return hit ? hit.properties.ids.filter((id) => typeof id === 'string') : [first];
}

/** Opens the popup of the event or cluster under a click, as the raster view's markers do. */
function wirePopups(cfg, map, state) {
  const kindsById = Object.fromEntries(cfg.kinds.map((k) => [k.id, k]));
  const layers = () => EVENT_LAYERS.filter((id) => map.getLayer(id));
  map.on('click', async (e) => {
    if (!state.show.overlay) return;
    const f = map.queryRenderedFeatures(e.point, { layers: layers() })[0];
    if (!f) return;
    const p = f.properties;
    const popup = new maplibregl.Popup({ maxWidth: '320px', className: 'tessera-vector-popup' })
      .setLngLat(f.geometry.coordinates).setDOMContent(el('div', null, 'Loading the events…')).addTo(map);
    let ids;
    try {
      ids = p.cluster === true ? await clusterIds(cfg, map, f, state) : [p.id];
    } catch {
      popup.setDOMContent(el('div', null, 'The events could not be loaded.'));
      return;
    }
    // popup.js writes into a Leaflet popup; this is the part of its interface it uses.
    const like = { setContent: (node) => popup.setDOMContent(node), update: () => {} };
    openPopup(like, { region: p.region === true, ids }, kindsById);
  });
  map.on('mousemove', (e) => {
    const over = state.show.overlay && map.queryRenderedFeatures(e.point, { layers: layers() }).length > 0;
    map.getCanvas().style.cursor = over ? 'pointer' : '';
  });
}

/** "N events in view": the events of the markers drawn in the view (each once). */
function countEvents(map) {
  const seen = new Map();
  const layers = EVENT_LAYERS.filter((id) => id !== 'events-cluster-casualties' && map.getLayer(id));
  for (const f of map.queryRenderedFeatures({ layers })) {
    const p = f.properties;
    seen.set(p.cluster === true ? `c:${p.first_id}` : `e:${p.id}`, p.cluster === true ? p.count : 1);
  }
  const n = [...seen.values()].reduce((a, b) => a + b, 0);
  $('event-count').textContent = n === 1 ? '1 event in view' : `${n} events in view`;
  $('handle-count').textContent = n === 1 ? '1 event' : `${n} events`;
}

/** How long the timeline waits for the map to draw a step before it goes on. */
const READY_TIMEOUT_MS = 15000;

/**
 * Makes the vector map in #map; returns a view of it with the raster map's zooms (getCenter,
 * getZoom, on('moveend'), resize) for the modules shared with the raster view, and the
 * MapLibre map itself as `map`.
 */
export function makeVectorMap(cfg, state) {
  if (cfg.rtlPlugin) {
    loadRtlPlugin(cfg.rtlPlugin).then(
      () => document.body.setAttribute('data-rtl-plugin', 'loaded'),
      () => document.body.setAttribute('data-rtl-plugin', 'failed'),
    );
  }
  const v = cfg.view;
  const map = new maplibregl.Map({
    container: 'map',
    style: `${cfg.base}/style.json`,
    center: [v.lon, v.lat],
    zoom: Math.max(0, v.zoom - 1),
    maxZoom: Math.max(0, cfg.maxZoom - 1),
    attributionControl: { compact: cfg.page === 'embed', customAttribution: 'Events: sources in each popup' },
    // The style's vector.json carries the dates, kinds and layers chosen.
    transformRequest: (url, kind) => (kind === 'Source' && url.startsWith(`${cfg.base}/tiles/vector.json`)
      ? { url: sourceUrl(cfg, state) } : undefined),
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }), 'top-left');
  map.addControl(switcher(map, state), 'top-right');
  map.on('load', () => applyShow(map, state.show));
  map.on('idle', () => {
    countEvents(map);
    document.body.setAttribute('data-vector-idle', String(Date.now()));
  });
  state.onChange((what) => {
    if (what === 'time') map.getSource('tessera')?.setUrl(sourceUrl(cfg, state));
    if (what === 'layers' && map.isStyleLoaded()) applyShow(map, state.show);
  });
  wirePopups(cfg, map, state);
  window.tesseraMap = map;
  return {
    map,
    getCenter: () => map.getCenter(),
    getZoom: () => Math.round(map.getZoom() + 1),
    on: (event, fn) => map.on(event, fn),
    resize: () => map.resize(),
    // For the timeline: resolves once the map has drawn what it asked for after the call (or
    // after a while, should a tile never come).
    ready: () => new Promise((resolve) => {
      const done = () => { clearTimeout(timer); map.off('idle', done); resolve(); };
      const timer = setTimeout(done, READY_TIMEOUT_MS);
      map.on('idle', done);
    }),
  };
}
