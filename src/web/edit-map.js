// The editor's map: the base map, the server's own overlay of the events (what readers see),
// a dot at the true point of each event in view (drag one to move that event), and the pin of
// the event in the form (a click on the map puts it there; drag it to adjust).
import { el, escapeHtml } from './dom.js';

/** Decimals kept of a clicked or dragged position: 1e-5 degrees is about a metre. */
const DECIMALS = 5;

function dotIcon(color, region, selected) {
  const dot = el('span', { class: `edit-dot${region ? ' region' : ''}${selected ? ' selected' : ''}` });
  dot.style.backgroundColor = color;
  return L.divIcon({ className: 'edit-dot-icon', html: dot, iconSize: [22, 22], iconAnchor: [11, 11] });
}

function pinIcon() {
  return L.divIcon({ className: 'edit-pin-icon', html: el('span', { class: 'edit-pin' }), iconSize: [26, 36], iconAnchor: [13, 34] });
}

/** A position rounded for the form: [lon, lat] as texts. */
export function positionTexts(latlng) {
  const w = latlng.wrap();
  return [w.lng.toFixed(DECIMALS).replace(/\.?0+$/, ''), w.lat.toFixed(DECIMALS).replace(/\.?0+$/, '')];
}

/**
 * Makes the map in #map. `onPlace(latlng)` hears clicks on the map and drags of the pin;
 * returns the functions the other modules use.
 */
export function makeEditMap(cfg, onPlace) {
  const v = cfg.view;
  const map = L.map('map', { center: [v.lat, v.lon], zoom: v.zoom, minZoom: 0, maxZoom: cfg.maxZoom, worldCopyJump: true });
  L.tileLayer('/tiles/{z}/{x}/{y}{r}.png', { maxZoom: cfg.maxZoom, attribution: escapeHtml(cfg.attribution), className: 'tessera-base' }).addTo(map);
  // `v` changes after each write, so that the browser asks again rather than reusing the
  // images it holds for the same URL; the server ignores it.
  let generation = 0;
  const overlayUrl = () => `/overlays/events/{z}/{x}/{y}{r}.png?v=${generation}`;
  const overlay = L.tileLayer(overlayUrl(), { maxZoom: cfg.maxZoom, zIndex: 5, className: 'tessera-overlay' }).addTo(map);
  const dots = L.layerGroup().addTo(map);
  let pin = null;

  map.on('click', (e) => onPlace(e.latlng));

  return {
    map,
    /** Redraws the overlay from the server, after a write. */
    refreshOverlay() {
      generation += 1;
      overlay.setUrl(overlayUrl());
    },
    /** Puts the form's pin at [lon, lat], or removes it (null). */
    setPin(lonlat) {
      if (!lonlat) { if (pin) { pin.remove(); pin = null; } return; }
      const ll = L.latLng(lonlat[1], lonlat[0]);
      if (!pin) {
        pin = L.marker(ll, { icon: pinIcon(), draggable: true, zIndexOffset: 1000, keyboard: false, title: 'The event in the form' }).addTo(map);
        pin.on('dragend', () => onPlace(pin.getLatLng()));
      } else {
        pin.setLatLng(ll);
      }
    },
    /**
     * Shows a dot per event: `color(event)`, and `onOpen(event)` on a click (or Enter) and
     * `onMove(event, latlng)` after a drag. The event `selected` (in the form) has no dot: the
     * pin stands for it.
     */
    setDots(events, { color, selected, onOpen, onMove }) {
      dots.clearLayers();
      for (const f of events) {
        if (f.id === selected) continue;
        const [lon, lat] = f.geometry.coordinates;
        const m = L.marker([lat, lon], {
          icon: dotIcon(color(f), f.properties.location_precision === 'region', false),
          draggable: true, keyboard: true, title: String(f.properties.title), alt: String(f.properties.title),
        });
        m.on('click', () => onOpen(f));
        m.on('dragend', () => onMove(f, m.getLatLng()));
        m.on('add', () => { const e = m.getElement(); if (e) e.setAttribute('data-event', f.id); });
        dots.addLayer(m);
      }
    },
  };
}
