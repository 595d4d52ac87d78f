// tessera's map page: the viewer (/) and the page for iframes (/embed). This module wires the
// others: settings (config.js), the map (map.js), the event markers (events.js), the filters
// and the legend (filters.js, legend.js, sprite.js), the panel (panel.js), the embed dialog
// (embed.js) and the timeline (timeline.js). Leaflet is a classic script that runs before any
// module; with ?renderer=vector, MapLibre GL JS is instead, and vector.js draws the map.
import { $ } from './dom.js';
import { readConfig } from './config.js';
import { makeState } from './state.js';
import { makeMap } from './map.js';
import { showEvents } from './events.js';
import { buildFilters } from './filters.js';
import { buildLegend } from './legend.js';
import { wirePanel } from './panel.js';
import { wireEmbed } from './embed.js';
import { fail, showNotes } from './messages.js';
import { viewParams } from './urls.js';
import { leafletReady, makeTimeline } from './timeline.js';
import { makeVectorMap } from './vector.js';

const NO_LEAFLET = 'The map library (Leaflet) could not be loaded. Check the connection, or ask the site to serve Leaflet itself (tessera --leaflet-dir).';
const NO_MAPLIBRE = 'The map library (MapLibre GL JS) could not be loaded. Check the connection, or ask the site to serve MapLibre itself (tessera --maplibre-dir).';

/** Keeps the address bar (and the "Full map" link) on the view as it is. */
function syncAddress(map, state, refreshEmbed) {
  const q = viewParams(map, state).toString();
  try { window.history.replaceState(null, '', `${window.location.pathname}?${q}`); } catch { /* sandboxed frames */ }
  const full = $('full-map');
  if (full) full.setAttribute('href', `/?${q}`);
  refreshEmbed();
}

function start(cfg) {
  const embed = cfg.page === 'embed';
  const wide = window.innerWidth >= 700;
  document.documentElement.classList.add('js');
  const state = makeState(cfg.view);
  // Before the map: the timeline sets the first window its overlay shows.
  const timeline = makeTimeline(cfg, state);
  // The panel opens before the map is made, so that the map is sized once and its first
  // events request is its only one.
  document.body.classList.toggle('panel-open', !embed && wide);
  let map;
  let hooks;
  if (cfg.view.renderer === 'vector') {
    map = makeVectorMap(cfg, state);
    wirePanel(!embed && wide, () => map.resize());
    hooks = { ready: map.ready, resized: () => map.resize() };
  } else {
    const leaflet = makeMap(cfg, state, { collapsedSwitcher: embed || !wide });
    map = leaflet.map;
    wirePanel(!embed && wide, () => map.invalidateSize());
    showEvents(cfg, state, map, leaflet.layers.markers);
    hooks = { ready: leafletReady(map, leaflet.layers.overlay), resized: () => map.invalidateSize() };
  }
  buildFilters(cfg, state);
  buildLegend(cfg);
  timeline.start(hooks);
  const refreshEmbed = wireEmbed(cfg, map, state);
  const sync = () => syncAddress(map, state, refreshEmbed);
  map.on('moveend', sync);
  state.onChange(sync);
  showNotes(cfg.notes);
  sync();
}

function main() {
  let cfg;
  try { cfg = readConfig(); } catch { fail('The map settings could not be read.'); return; }
  const vector = cfg.view.renderer === 'vector';
  if (vector ? typeof window.maplibregl === 'undefined' : typeof window.L === 'undefined') {
    fail(vector ? NO_MAPLIBRE : NO_LEAFLET);
    return;
  }
  start(cfg);
}

main();
