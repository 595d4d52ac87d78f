// The URLs the page asks for and the URL that shares the view (read back by / and /embed).
import { MAP_LAYERS } from './config.js';

/** The dates and kinds as overlay parameters (`from`, `to`, `kind`). */
export function timeParams(state) {
  const p = new URLSearchParams();
  if (state.from) p.set('from', state.from);
  if (state.to) p.set('to', state.to);
  if (state.kinds) p.set('kind', state.kinds.join(','));
  return p;
}

/** The overlay tiles' URL template. */
export function overlayUrl(state) {
  const q = timeParams(state).toString();
  return `/overlays/events/{z}/{x}/{y}{r}.png${q ? `?${q}` : ''}`;
}

/** The base tiles' URL template, narrowed to the chosen data layers. */
export function baseUrl(state) {
  const layers = state.dataLayers ? `?layers=${encodeURIComponent(state.dataLayers.join(','))}` : '';
  return `/tiles/{z}/{x}/{y}{r}.png${layers}`;
}

function layersParam(state) {
  const names = [];
  if (state.show.base) names.push(...(state.dataLayers || ['base']));
  if (state.show.overlay) names.push('overlay');
  if (state.show.markers) names.push('markers');
  return names.join(',');
}

/**
 * The view as URL parameters: centre, zoom, layers, dates and kinds; while the timeline plays,
 * `to` is the end of what it plays and `play` the days of its window.
 */
export function viewParams(map, state) {
  const c = map.getCenter().wrap();
  const p = new URLSearchParams();
  const all = MAP_LAYERS.every((k) => state.show[k]);
  if ((!all || state.dataLayers) && layersParam(state)) p.set('layers', layersParam(state));
  p.set('lat', c.lat.toFixed(5));
  p.set('lon', c.lng.toFixed(5));
  p.set('zoom', String(map.getZoom()));
  timeParams(state).forEach((value, key) => p.set(key, value));
  if (state.play) {
    if (state.play.end) p.set('to', state.play.end);
    else p.delete('to');
    p.set('play', String(state.play.days));
  }
  if (state.renderer === 'vector') p.set('renderer', 'vector');
  return p;
}
