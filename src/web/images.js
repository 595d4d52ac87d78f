// Georeferenced image overlays (scanned maps): each is a tile layer in the layer switcher, shown
// at the opacity its manifest entry gives, with a slider to change it.
import { el, escapeHtml } from './dom.js';
import { isNum } from './checks.js';

/** The image overlays of the page's settings, checked. */
export function readImages(images) {
  return (Array.isArray(images) ? images : []).filter((i) => i && typeof i.id === 'string' &&
    /^[a-z0-9_-]{1,64}$/.test(i.id) && typeof i.title === 'string' && isNum(i.opacity, 0, 1) &&
    isNum(i.minZoom, 0, 30) && isNum(i.maxZoom, 0, 30) && Array.isArray(i.bounds) && i.bounds.length === 4 &&
    i.bounds.every((b) => isNum(b, -180, 180)));
}

function imageLayer(img, maxZoom) {
  const [w, s, e, n] = img.bounds;
  return L.tileLayer(`/overlays/${img.id}/{z}/{x}/{y}{r}.png`, {
    minZoom: img.minZoom, maxNativeZoom: img.maxZoom, maxZoom, opacity: img.opacity, zIndex: 3,
    bounds: L.latLngBounds([s, w], [n, e]), attribution: escapeHtml(img.attribution || ''),
    className: `tessera-image tessera-image-${img.id}`,
  });
}

function slider(img, layer) {
  const range = el('input', { type: 'range', id: `opacity-${img.id}`, min: '0', max: '100', step: '5', value: String(Math.round(img.opacity * 100)) });
  const shown = el('output', { for: range.id }, `${range.value}%`);
  range.addEventListener('input', () => {
    layer.setOpacity(range.value / 100);
    shown.textContent = `${range.value}%`;
  });
  return [el('label', { for: range.id }, img.title), range, shown];
}

/** Adds every image overlay to the map and the switcher, with the sliders' control. */
export function addImages(map, images, switcher, maxZoom) {
  if (!images.length) return;
  const control = L.control({ position: 'topright' });
  control.onAdd = () => {
    const box = el('div', { class: 'leaflet-bar tessera-images', role: 'group', 'aria-label': 'Opacity of the image overlays' });
    L.DomEvent.disableClickPropagation(box);
    L.DomEvent.disableScrollPropagation(box);
    for (const img of images) {
      const layer = imageLayer(img, maxZoom).addTo(map);
      // The switcher writes its names as HTML.
      switcher.addOverlay(layer, escapeHtml(img.title));
      slider(img, layer).forEach((node) => box.appendChild(node));
    }
    return box;
  };
  control.addTo(map);
}
