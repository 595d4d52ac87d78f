// The page's settings: the JSON the server puts in <script type="application/json"
// id="tessera-config">, checked again here and turned into the values the modules use.
import { $ } from './dom.js';
import { MAX_LAT, isDate, isNum, strings } from './checks.js';
import { readImages } from './images.js';

/** The map layers a page can show besides the data layers that narrow the base map. */
export const MAP_LAYERS = ['base', 'overlay', 'markers'];

function readKinds(events) {
  return (events && Array.isArray(events.kinds) ? events.kinds : []).filter((k) => k &&
    typeof k.id === 'string' && /^[a-z-]+$/.test(k.id) && /^#[0-9a-f]{8}$/.test(k.color) &&
    typeof k.icon === 'string' && typeof k.label === 'string');
}

function readLegend(events) {
  return (events && Array.isArray(events.legend) ? events.legend : [])
    .filter((i) => i && typeof i.label === 'string' && typeof i.note === 'string')
    .map((i) => ({ label: i.label, note: i.note, icons: strings(i.icons) }));
}

function readLayers(layers) {
  return (Array.isArray(layers) ? layers : [])
    .filter((l) => l && typeof l.id === 'string' && typeof l.title === 'string')
    .map((l) => ({ id: l.id, title: l.title, note: typeof l.note === 'string' ? l.note : null, icons: strings(l.icons) }));
}

function readPlace(p, maxZoom, fallback) {
  return {
    lat: isNum(p.lat, -MAX_LAT, MAX_LAT) ? p.lat : fallback.lat,
    lon: isNum(p.lon, -180, 180) ? p.lon : fallback.lon,
    zoom: isNum(p.zoom, 0, maxZoom) ? Math.round(p.zoom) : fallback.zoom,
  };
}

function readDates(v) {
  const from = isDate(v.from) ? v.from : '';
  const to = isDate(v.to) ? v.to : '';
  return from && to && to < from ? { from: '', to: '' } : { from, to };
}

function readView(v, kindIds, maxZoom, defaults) {
  const show = Object.fromEntries(MAP_LAYERS.map((k) => [k, !(v.show && v.show[k] === false)]));
  const data = strings(v.dataLayers).filter((id) => /^[A-Za-z0-9_.-]+$/.test(id));
  const kinds = strings(v.kinds).filter((k) => kindIds.includes(k));
  return {
    ...readPlace(v, maxZoom, defaults),
    ...readDates(v),
    kinds: kinds.length ? kinds : null,
    show,
    dataLayers: data.length ? data : null,
    play: isNum(v.play, 1, 366) ? Math.round(v.play) : null,
    renderer: v.renderer === 'vector' ? 'vector' : 'raster',
  };
}

/** Where the vector view gets MapLibre's RTL text plugin: a URL, and its integrity hash or null. */
function readRtlPlugin(p) {
  if (!p || typeof p.url !== 'string' || !/^(https:\/\/|\/web\/)[^\s"'<>]+$/.test(p.url)) return null;
  return { url: p.url, integrity: typeof p.integrity === 'string' ? p.integrity : null };
}

/** The checked settings; throws when the element holds no JSON. */
export function readConfig() {
  const node = $('tessera-config');
  const cfg = JSON.parse(node ? node.textContent : '{}');
  const maxZoom = isNum(cfg.maxZoom, 0, 30) ? Math.round(cfg.maxZoom) : 18;
  const kinds = readKinds(cfg.events);
  const defaults = readPlace(cfg.defaults || {}, maxZoom, { lat: 0, lon: 0, zoom: 2 });
  const publicUrl = typeof cfg.publicUrl === 'string' && /^https?:\/\/[^\s"'<>]+$/.test(cfg.publicUrl) ? cfg.publicUrl : null;
  return {
    page: cfg.page === 'embed' ? 'embed' : 'viewer',
    title: typeof cfg.title === 'string' ? cfg.title : 'Map',
    base: publicUrl || window.location.origin,
    maxZoom,
    attribution: typeof cfg.attribution === 'string' ? cfg.attribution : '',
    layers: readLayers(cfg.layers),
    kinds,
    eventLegend: readLegend(cfg.events),
    notes: strings(cfg.notes),
    images: readImages(cfg.images),
    rtlPlugin: readRtlPlugin(cfg.rtlPlugin),
    view: readView(cfg.view || {}, kinds.map((k) => k.id), maxZoom, defaults),
  };
}
