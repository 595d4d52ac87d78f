// The events in view: read from the items with the map's bbox, listed under the form (a
// click opens one in the form) and drawn as dots on their true points (drag one to move it).
import { $, el } from './dom.js';
import { isNum } from './checks.js';
import { query } from './edit-api.js';

/** Events listed at once; a wider view says how many more there are. */
const PAGE = 100;

function valid(f) {
  const c = f && f.geometry && Array.isArray(f.geometry.coordinates) ? f.geometry.coordinates : [];
  return typeof f.id === 'string' && f.properties && typeof f.properties.title === 'string' &&
    isNum(c[0], -180, 180) && isNum(c[1], -90, 90);
}

/** The view as a bbox the server takes: clamped to the world, whole when it is wider. */
function bbox(map) {
  const b = map.getBounds();
  if (b.getEast() - b.getWest() >= 360) return '-180,-90,180,90';
  const w = L.latLng(0, b.getWest()).wrap().lng, e = L.latLng(0, b.getEast()).wrap().lng;
  const s = Math.max(-90, b.getSouth()), n = Math.min(90, b.getNorth());
  return [w, s, e, n].map((x) => x.toFixed(6)).join(',');
}

function item(f, kindLabel, onOpen) {
  const li = el('li');
  const open = li.appendChild(el('button', { type: 'button', class: 'link', 'data-event': f.id }, f.properties.title));
  open.addEventListener('click', () => onOpen(f.id));
  li.appendChild(el('span', { class: 'meta' }, `${f.properties.time} · ${kindLabel(f.properties.kind)}`));
  return li;
}

/**
 * Keeps the list and the dots in step with the map. `hooks`: { open(id), move(feature,
 * [lon, lat] texts) }; returns { refresh(), select(id) }.
 */
export function eventList(cfg, editMap, hooks, positionTexts) {
  const kinds = Object.fromEntries(cfg.kinds.map((k) => [k.id, k]));
  const kindLabel = (k) => (kinds[k] ? kinds[k].label : String(k));
  const color = (f) => (kinds[f.properties.kind] ? kinds[f.properties.kind].color : '#555555ff');
  let shown = [], selected = null, seq = 0;

  const draw = () => editMap.setDots(shown, {
    color, selected,
    onOpen: (f) => hooks.open(f.id),
    onMove: (f, latlng) => hooks.move(f, positionTexts(latlng)),
  });

  async function refresh() {
    const mine = ++seq;
    const res = await query(new URLSearchParams({ bbox: bbox(editMap.map), limit: String(PAGE) }));
    if (mine !== seq) return;
    if (res.status !== 200 || !res.body || !Array.isArray(res.body.features)) {
      $('list-status').textContent = 'The events in view could not be read.';
      return;
    }
    shown = res.body.features.filter(valid);
    const list = $('event-list');
    list.textContent = '';
    shown.forEach((f) => list.appendChild(item(f, kindLabel, hooks.open)));
    const total = isNum(res.body.numberMatched, 0, Infinity) ? res.body.numberMatched : shown.length;
    $('list-status').textContent = total > shown.length
      ? `The first ${shown.length} of ${total} events in view: zoom in to list the others.`
      : `${total === 1 ? '1 event' : `${total} events`} in view. Click one (here or on the map) to change it; drag a dot to move it.`;
    draw();
    document.body.setAttribute('data-list-loaded', String(mine));
  }

  let timer = null;
  editMap.map.on('moveend', () => { clearTimeout(timer); timer = setTimeout(refresh, 200); });
  return {
    refresh,
    select(id) { selected = id; draw(); },
  };
}
