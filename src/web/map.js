// The Leaflet map: the base tiles, the event overlay tiles, the layer of clickable markers and
// the layer switcher. Leaflet is a classic script loaded before the modules (window.L).
import { escapeHtml } from './dom.js';
import { baseUrl, overlayUrl } from './urls.js';
import { addImages } from './images.js';

function tileLayers(cfg, state) {
  const base = L.tileLayer(baseUrl(state), {
    maxZoom: cfg.maxZoom, attribution: escapeHtml(cfg.attribution), className: 'tessera-base',
  });
  const overlay = L.tileLayer(overlayUrl(state), { maxZoom: cfg.maxZoom, zIndex: 5, className: 'tessera-overlay' });
  return { base, overlay, markers: L.layerGroup() };
}

function addLayers(map, layers, show) {
  // The overlay first: its tiles are cheap and are the news; the browser's six connections
  // then go to the base map.
  if (show.overlay) layers.overlay.addTo(map);
  if (show.base) layers.base.addTo(map);
  if (show.markers) layers.markers.addTo(map);
}

function addSwitcher(map, layers, collapsed) {
  return L.control.layers(null, {
    'Base map': layers.base,
    'Event symbols (overlay)': layers.overlay,
    'Clickable event markers': layers.markers,
  }, { collapsed, position: 'topright' }).addTo(map);
}

/** Keeps state.show in step with the switcher; the overlay's tiles follow the filters. */
function follow(map, layers, state) {
  map.on('overlayadd overlayremove', () => {
    const show = { base: map.hasLayer(layers.base), overlay: map.hasLayer(layers.overlay), markers: map.hasLayer(layers.markers) };
    state.set({ show }, 'layers');
  });
  state.onChange((what) => { if (what === 'time') layers.overlay.setUrl(overlayUrl(state)); });
}

/** Makes the map in #map with its layers; returns { map, layers }. */
export function makeMap(cfg, state, { collapsedSwitcher }) {
  const v = cfg.view;
  const map = L.map('map', { center: [v.lat, v.lon], zoom: v.zoom, minZoom: 0, maxZoom: cfg.maxZoom, worldCopyJump: true });
  map.createPane('eventRegions').style.zIndex = 610;
  map.createPane('eventMarkers').style.zIndex = 620;
  const layers = tileLayers(cfg, state);
  addLayers(map, layers, state.show);
  map.attributionControl.addAttribution('Events: sources in each popup');
  const switcher = addSwitcher(map, layers, collapsedSwitcher);
  addImages(map, cfg.images, switcher, cfg.maxZoom);
  follow(map, layers, state);
  return { map, layers };
}
