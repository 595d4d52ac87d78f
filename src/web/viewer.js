// tessera's map page: the viewer (/) and the page for iframes (/embed).
//
// The server puts the page's settings in <script type="application/json" id="tessera-config">,
// already checked; they are checked again here before use. Nothing from the URL, the settings
// or the events is ever written as HTML: text goes in with textContent and DOM calls, links
// only for http(s) URLs. The one string Leaflet writes as HTML (the attribution) is escaped.
(function () {
  'use strict';

  var DATE = /^\d{4}-\d{2}-\d{2}$/;
  var MAX_LAT = 85.0511287798;
  var MAP_LAYERS = ['base', 'overlay', 'markers'];
  var PRECISION = {
    exact: 'The point marks where it happened.',
    town: 'The point is the centre of the town or village named: the event happened there, not necessarily at this spot.',
    city: 'The point is the centre of the city named: the event happened there, not necessarily at this spot.',
    region: 'Somewhere in the region: the point only stands for the region and does not say where it happened.'
  };
  // Notes for the default data's layers, where the map's symbols need words.
  var LAYER_NOTES = {
    'observation-points': 'Ringed: encircled by Syrian government forces by February 2020.',
    'de-escalation-zone': 'Dashed: schematic, errors of 5-15 km; not the February 2020 front line.',
    'roads': 'Dashed: schematic, straight segments between towns, several km off in places.',
    'borders': 'Dashed: disputed (Golan Heights).',
    'report-places': 'Termanin ±1-2 km; the Kenana hospital is drawn on the Darat Izza town point.'
  };

  function $(id) { return document.getElementById(id); }

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  function isNum(x, lo, hi) { return typeof x === 'number' && isFinite(x) && x >= lo && x <= hi; }

  function isDate(s) {
    if (typeof s !== 'string' || !DATE.test(s)) return false;
    var d = new Date(s + 'T00:00:00Z');
    return !isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
  }

  // ---- settings ----------------------------------------------------------------------------

  function readConfig() {
    var node = $('tessera-config');
    var cfg = JSON.parse(node ? node.textContent : '{}');
    var maxZoom = isNum(cfg.maxZoom, 0, 30) ? Math.round(cfg.maxZoom) : 18;
    var kinds = (cfg.events && Array.isArray(cfg.events.kinds) ? cfg.events.kinds : []).filter(function (k) {
      return k && typeof k.id === 'string' && /^[a-z-]+$/.test(k.id) && /^#[0-9a-f]{8}$/.test(k.color);
    });
    var kindIds = kinds.map(function (k) { return k.id; });
    var layers = (Array.isArray(cfg.layers) ? cfg.layers : []).filter(function (l) {
      return l && typeof l.id === 'string' && typeof l.title === 'string';
    });
    var d = cfg.defaults || {};
    var defaults = {
      lat: isNum(d.lat, -MAX_LAT, MAX_LAT) ? d.lat : 0,
      lon: isNum(d.lon, -180, 180) ? d.lon : 0,
      zoom: isNum(d.zoom, 0, maxZoom) ? Math.round(d.zoom) : 2
    };
    var v = cfg.view || {};
    var show = {};
    MAP_LAYERS.forEach(function (k) { show[k] = !(v.show && v.show[k] === false); });
    var data = Array.isArray(v.dataLayers) ? v.dataLayers.filter(function (id) {
      return typeof id === 'string' && /^[A-Za-z0-9_.-]+$/.test(id);
    }) : null;
    var from = isDate(v.from) ? v.from : '';
    var to = isDate(v.to) ? v.to : '';
    if (from && to && to < from) { from = ''; to = ''; }
    var chosen = Array.isArray(v.kinds) ? v.kinds.filter(function (k) { return kindIds.indexOf(k) >= 0; }) : null;
    var publicUrl = typeof cfg.publicUrl === 'string' && /^https?:\/\/[^\s"'<>]+$/.test(cfg.publicUrl) ? cfg.publicUrl : null;
    return {
      page: cfg.page === 'embed' ? 'embed' : 'viewer',
      title: typeof cfg.title === 'string' ? cfg.title : 'Map',
      base: publicUrl || window.location.origin,
      maxZoom: maxZoom,
      attribution: typeof cfg.attribution === 'string' ? cfg.attribution : '',
      layers: layers,
      cellPx: cfg.events && isNum(cfg.events.cellPx, 8, 512) ? cfg.events.cellPx : 48,
      regionPx: cfg.events && isNum(cfg.events.regionRadiusPx, 4, 200) ? cfg.events.regionRadiusPx : 40,
      kinds: kinds,
      defaults: defaults,
      notes: (Array.isArray(cfg.notes) ? cfg.notes : []).filter(function (n) { return typeof n === 'string'; }),
      images: (Array.isArray(cfg.images) ? cfg.images : []).filter(function (i) {
        return i && typeof i.id === 'string' && /^[a-z0-9_-]{1,64}$/.test(i.id) && typeof i.title === 'string' &&
          isNum(i.opacity, 0, 1) && isNum(i.minZoom, 0, 30) && isNum(i.maxZoom, 0, 30) &&
          Array.isArray(i.bounds) && i.bounds.length === 4 && i.bounds.every(function (b) { return isNum(b, -180, 180); });
      }),
      view: {
        lat: isNum(v.lat, -MAX_LAT, MAX_LAT) ? v.lat : defaults.lat,
        lon: isNum(v.lon, -180, 180) ? v.lon : defaults.lon,
        zoom: isNum(v.zoom, 0, maxZoom) ? Math.round(v.zoom) : defaults.zoom,
        from: from,
        to: to,
        kinds: chosen && chosen.length ? chosen : null,
        show: show,
        dataLayers: data && data.length ? data : null
      }
    };
  }

  // ---- URLs ----------------------------------------------------------------------------------

  function timeParams(state) {
    var p = new URLSearchParams();
    if (state.from) p.set('from', state.from);
    if (state.to) p.set('to', state.to);
    if (state.kinds) p.set('kind', state.kinds.join(','));
    return p;
  }

  function overlayUrl(state) {
    var q = timeParams(state).toString();
    return '/overlays/events/{z}/{x}/{y}{r}.png' + (q ? '?' + q : '');
  }

  function baseUrl(state) {
    return '/tiles/{z}/{x}/{y}{r}.png' + (state.dataLayers ? '?layers=' + encodeURIComponent(state.dataLayers.join(',')) : '');
  }

  // The view as URL parameters: what /embed (and /) read back.
  function viewParams(map, state) {
    var c = map.getCenter().wrap();
    var p = new URLSearchParams();
    var all = MAP_LAYERS.every(function (k) { return state.show[k]; });
    if (!all || state.dataLayers) {
      var names = [];
      if (state.show.base) names = names.concat(state.dataLayers || ['base']);
      if (state.show.overlay) names.push('overlay');
      if (state.show.markers) names.push('markers');
      if (names.length) p.set('layers', names.join(','));
    }
    p.set('lat', c.lat.toFixed(5));
    p.set('lon', c.lng.toFixed(5));
    p.set('zoom', String(map.getZoom()));
    timeParams(state).forEach(function (value, key) { p.set(key, value); });
    return p;
  }

  // ---- legend -------------------------------------------------------------------------------

  var SVG = 'http://www.w3.org/2000/svg';

  function svgEl(tag, attrs) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) {
      if (attrs[k] !== null && attrs[k] !== undefined) e.setAttribute(k, String(attrs[k]));
    });
    return e;
  }

  function polygon(points) { return points.map(function (p) { return p[0].toFixed(2) + ',' + p[1].toFixed(2); }).join(' '); }

  function symbolShape(symbol, cx, cy, size, fill, stroke, width) {
    var r = size / 2;
    var paint = { fill: fill || 'none', stroke: stroke || 'none', 'stroke-width': width || 0 };
    function withPaint(tag, attrs) { return svgEl(tag, Object.assign(attrs, paint)); }
    switch (symbol) {
      case 'square': return [withPaint('rect', { x: cx - r, y: cy - r, width: size, height: size })];
      case 'triangle': return [withPaint('polygon', { points: polygon([[cx, cy - r], [cx + r, cy + r * 0.8], [cx - r, cy + r * 0.8]]) })];
      case 'diamond': return [withPaint('polygon', { points: polygon([[cx, cy - r], [cx + r, cy], [cx, cy + r], [cx - r, cy]]) })];
      case 'star': {
        var pts = [];
        for (var i = 0; i < 10; i++) {
          var a = -Math.PI / 2 + i * Math.PI / 5, rr = i % 2 ? r * 0.45 : r;
          pts.push([cx + rr * Math.cos(a), cy + rr * Math.sin(a)]);
        }
        return [withPaint('polygon', { points: polygon(pts) })];
      }
      case 'hospital': {
        var t = size * 0.18;
        return [
          svgEl('rect', { x: cx - r, y: cy - r, width: size, height: size, fill: '#ffffff', stroke: fill || '#c01c28', 'stroke-width': 1 }),
          svgEl('rect', { x: cx - t, y: cy - r * 0.7, width: 2 * t, height: r * 1.4, fill: fill || '#c01c28' }),
          svgEl('rect', { x: cx - r * 0.7, y: cy - t, width: r * 1.4, height: 2 * t, fill: fill || '#c01c28' })
        ];
      }
      case 'observation-point':
        return [
          withPaint('polygon', { points: polygon([[cx - r * 0.8, cy - r], [cx + r * 0.8, cy - r], [cx + r * 0.8, cy + r * 0.2], [cx, cy + r], [cx - r * 0.8, cy + r * 0.2]]) }),
          svgEl('circle', { cx: cx, cy: cy - r * 0.15, r: r * 0.25, fill: '#ffffff' })
        ];
      default: return [withPaint('circle', { cx: cx, cy: cy, r: r })];
    }
  }

  function swatch(style) {
    var svg = svgEl('svg', { width: 28, height: 20, viewBox: '0 0 28 20', 'aria-hidden': 'true', class: 'swatch' });
    var dash = Array.isArray(style.dash) && style.dash.length ? style.dash.join(' ') : null;
    if (style.geometry === 'line') {
      svg.appendChild(svgEl('line', { x1: 2, y1: 10, x2: 26, y2: 10, stroke: style.stroke || '#333333', 'stroke-width': Math.max(1, style.width || 1), 'stroke-dasharray': dash }));
    } else if (style.geometry === 'polygon') {
      svg.appendChild(svgEl('rect', { x: 3, y: 3, width: 22, height: 14, fill: style.fill || 'none', stroke: style.stroke || 'none', 'stroke-width': style.width || 0, 'stroke-dasharray': dash }));
    } else {
      var size = Math.min(16, Math.max(6, style.size || 8));
      if (style.ring) svg.appendChild(svgEl('circle', { cx: 14, cy: 10, r: size / 2 + 2, fill: 'none', stroke: style.ring, 'stroke-width': 2 }));
      symbolShape(style.symbol, 14, 10, size, style.fill, style.stroke, style.width).forEach(function (s) { svg.appendChild(s); });
    }
    return svg;
  }

  function legendItem(svgs, label, note) {
    var li = el('li');
    var sw = el('span', { class: 'swatches' });
    svgs.forEach(function (s) { sw.appendChild(s); });
    li.appendChild(sw);
    var text = el('span', { class: 'label' }, label);
    if (note) text.appendChild(el('small', null, note));
    li.appendChild(text);
    return li;
  }

  function customSwatch(draw) {
    var svg = svgEl('svg', { width: 28, height: 20, viewBox: '0 0 28 20', 'aria-hidden': 'true', class: 'swatch' });
    draw(svg);
    return svg;
  }

  function buildLegend(cfg, state, onKinds) {
    var kindsList = $('legend-kinds');
    cfg.kinds.forEach(function (k) {
      var li = el('li');
      var id = 'kind-' + k.id;
      var box = el('input', { type: 'checkbox', id: id, value: k.id });
      box.checked = !state.kinds || state.kinds.indexOf(k.id) >= 0;
      box.addEventListener('change', function () {
        var on = Array.prototype.filter.call(kindsList.querySelectorAll('input'), function (b) { return b.checked; })
          .map(function (b) { return b.value; });
        onKinds(on.length === cfg.kinds.length ? null : on);
      });
      var label = el('label', { for: id });
      label.appendChild(swatch({ geometry: 'point', symbol: k.symbol, fill: k.color, stroke: '#ffffff', width: 1, size: 14, ring: k.id === 'hospital-hit' ? k.color : null }));
      label.appendChild(el('span', { class: 'label' }, k.label));
      li.appendChild(box);
      li.appendChild(label);
      kindsList.appendChild(li);
    });

    var ev = $('legend-events');
    ev.appendChild(legendItem([customSwatch(function (s) {
      s.appendChild(svgEl('circle', { cx: 7, cy: 10, r: 4, fill: '#d7301f', stroke: '#ffffff', 'stroke-width': 1 }));
      s.appendChild(svgEl('circle', { cx: 19, cy: 10, r: 8, fill: '#d7301f', stroke: '#ffffff', 'stroke-width': 1 }));
    })], 'Size', 'Bigger symbols: more people killed and injured.'));
    ev.appendChild(legendItem([customSwatch(function (s) {
      s.appendChild(svgEl('circle', { cx: 14, cy: 10, r: 9.5, fill: '#d7301f90' }));
      s.appendChild(svgEl('circle', { cx: 14, cy: 10, r: 7, fill: '#3b0a0ae6', stroke: '#ffffff', 'stroke-width': 1 }));
      var t = svgEl('text', { x: 14, y: 13.5, 'text-anchor': 'middle', 'font-size': 9, fill: '#ffffff' });
      t.textContent = '3';
      s.appendChild(t);
    })], 'Cluster', 'Several events close together, with their count; a red halo when people were killed or injured. Click for the list.'));
    ev.appendChild(legendItem([customSwatch(function (s) {
      s.appendChild(svgEl('circle', { cx: 14, cy: 10, r: 8.5, fill: '#67000d30', stroke: '#67000d90', 'stroke-width': 1.2, 'stroke-dasharray': '2.5 2' }));
    })], 'Somewhere in the region', 'A soft disc with a dashed rim: the event is only known to have happened in the region; its point does not locate it.'));

    var layers = $('legend-layers');
    cfg.layers.slice().reverse().forEach(function (l) {
      var styles = Array.isArray(l.styles) ? l.styles : [];
      if (!styles.length) return;
      layers.appendChild(legendItem(styles.map(swatch), l.title, LAYER_NOTES[l.id] || null));
    });
  }

  // ---- popups -------------------------------------------------------------------------------

  var URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;

  // A citation as text, with the http(s) URLs in it as links; anything else stays text.
  function citation(text) {
    var li = el('li');
    var last = 0, m;
    URL_IN_TEXT.lastIndex = 0;
    while ((m = URL_IN_TEXT.exec(text)) !== null) {
      var raw = m[0].replace(/[.,;:!?)\]]+$/, '');
      var u = null;
      try { u = new URL(raw); } catch (e) { u = null; }
      li.appendChild(document.createTextNode(text.slice(last, m.index)));
      if (u && (u.protocol === 'https:' || u.protocol === 'http:')) {
        li.appendChild(el('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, raw));
      } else {
        li.appendChild(document.createTextNode(raw));
      }
      last = m.index + raw.length;
      URL_IN_TEXT.lastIndex = last;
    }
    li.appendChild(document.createTextNode(text.slice(last)));
    return li;
  }

  function formatTime(t) {
    if (typeof t !== 'string') return '';
    var parts = t.split('/');
    return parts.length === 2 ? parts[0] + ' to ' + parts[1] : t;
  }

  function eventSection(f, kindsById) {
    var p = f.properties;
    var sec = el('section', { class: 'event', 'data-event': f.id });
    sec.appendChild(el('h3', null, p.title));
    if (typeof p.title_ar === 'string' && p.title_ar) sec.appendChild(el('p', { class: 'title-ar', lang: 'ar', dir: 'rtl' }, p.title_ar));
    var kind = kindsById[p.kind];
    sec.appendChild(el('p', { class: 'meta' }, formatTime(p.time) + ' · ' + (kind ? kind.label : p.kind)));
    var numbers = [['killed', 'Killed'], ['injured', 'Injured'], ['displaced', 'Displaced']].filter(function (n) {
      return typeof p[n[0]] === 'number' && isFinite(p[n[0]]);
    });
    if (numbers.length) {
      var dl = el('dl', { class: 'numbers' });
      numbers.forEach(function (n) { dl.appendChild(el('dt', null, n[1])); dl.appendChild(el('dd', null, p[n[0]].toLocaleString('en'))); });
      sec.appendChild(dl);
    }
    var actors = Array.isArray(p.actors) ? p.actors.filter(function (a) { return typeof a === 'string'; }) : [];
    if (actors.length) sec.appendChild(el('p', { class: 'actors' }, 'Actors: ' + actors.join(', ')));
    if (typeof p.description === 'string' && p.description) sec.appendChild(el('p', { class: 'description' }, p.description));
    var sources = Array.isArray(p.sources) ? p.sources.filter(function (s) { return typeof s === 'string'; }) : [];
    if (sources.length) {
      sec.appendChild(el('p', { class: 'sources-title' }, sources.length > 1 ? 'Sources' : 'Source'));
      var ul = el('ul', { class: 'sources' });
      sources.forEach(function (s) { ul.appendChild(citation(s)); });
      sec.appendChild(ul);
    }
    sec.appendChild(el('p', { class: 'precision' }, PRECISION[p.location_precision] || PRECISION.town));
    return sec;
  }

  function popupContent(group, kindsById) {
    var div = el('div', { class: 'tessera-popup' });
    if (group.region) {
      div.appendChild(el('p', { class: 'region-note' }, 'Somewhere in the region: this position only stands for the region, not for where ' +
        (group.events.length > 1 ? 'these ' + group.events.length + ' events' : 'the event') + ' happened.'));
    } else if (group.events.length > 1) {
      div.appendChild(el('p', { class: 'cluster-note' }, group.events.length + ' events close together at this zoom:'));
    }
    group.events.forEach(function (f) { div.appendChild(eventSection(f, kindsById)); });
    return div;
  }

  // ---- events -------------------------------------------------------------------------------

  function validEvent(f, kindsById) {
    if (!f || f.type !== 'Feature' || typeof f.id !== 'string' || !f.properties || typeof f.properties !== 'object') return false;
    var g = f.geometry;
    if (!g || g.type !== 'Point' || !Array.isArray(g.coordinates)) return false;
    var lon = g.coordinates[0], lat = g.coordinates[1];
    if (!isNum(lon, -180, 180) || !isNum(lat, -90, 90)) return false;
    if (typeof f.properties.title !== 'string') return false;
    if (!kindsById[f.properties.kind]) f.properties.kind = 'other';
    return true;
  }

  function casualties(f) {
    var p = f.properties;
    return (typeof p.killed === 'number' ? p.killed : 0) + (typeof p.injured === 'number' ? p.injured : 0);
  }

  // Groups events as the overlay tiles do (crate::events::cluster): by cells of cellPx pixels at
  // the current zoom, region-precision events apart from located ones, each group at the mean
  // position of its members.
  function groupEvents(map, events, cellPx) {
    var z = map.getZoom();
    var cells = {}, out = [];
    events.forEach(function (f) {
      var p = map.project(L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]), z);
      var region = f.properties.location_precision === 'region';
      var key = (region ? 'r' : 'l') + Math.floor(p.x / cellPx) + ',' + Math.floor(p.y / cellPx);
      (cells[key] = cells[key] || { region: region, points: [], events: [] }).events.push(f);
      cells[key].points.push(p);
    });
    Object.keys(cells).forEach(function (k) {
      var g = cells[k];
      var sx = 0, sy = 0;
      g.points.forEach(function (p) { sx += p.x; sy += p.y; });
      g.latlng = map.unproject(L.point(sx / g.points.length, sy / g.points.length), z);
      g.events.sort(function (a, b) { return a.id < b.id ? -1 : a.id > b.id ? 1 : 0; });
      out.push(g);
    });
    return out;
  }

  // ---- the page ---------------------------------------------------------------------------------

  function showNotes(notes) {
    if (!notes.length) return;
    var box = $('notes');
    box.appendChild(el('p', null, 'Some settings in the address were ignored:'));
    var ul = el('ul');
    notes.forEach(function (n) { ul.appendChild(el('li', null, n)); });
    box.appendChild(ul);
    var close = el('button', { type: 'button', class: 'button small' }, 'OK');
    close.addEventListener('click', function () { box.hidden = true; });
    box.appendChild(close);
    box.hidden = false;
  }

  function fail(message) {
    var m = $('map');
    m.textContent = '';
    m.appendChild(el('p', { class: 'fatal' }, message));
  }

  // ---- georeferenced images -------------------------------------------------------------------

  // Each image overlay (a scanned map) is a tile layer in the layer switcher, shown at the
  // opacity its manifest entry gives, with a slider to change it.
  function addImages(map, cfg, switcher) {
    if (!cfg.images.length) return;
    var sliders = L.control({ position: 'topright' });
    sliders.onAdd = function () {
      var box = el('div', { class: 'leaflet-bar tessera-images', role: 'group', 'aria-label': 'Opacity of the image overlays' });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      cfg.images.forEach(function (img) {
        var b = img.bounds;
        var layer = L.tileLayer('/overlays/' + img.id + '/{z}/{x}/{y}{r}.png', {
          minZoom: img.minZoom, maxNativeZoom: img.maxZoom, maxZoom: cfg.maxZoom, opacity: img.opacity, zIndex: 3,
          bounds: L.latLngBounds([b[1], b[0]], [b[3], b[2]]), attribution: escapeHtml(img.attribution),
          className: 'tessera-image tessera-image-' + img.id
        }).addTo(map);
        // The switcher writes its names as HTML.
        switcher.addOverlay(layer, escapeHtml(img.title));
        var range = el('input', { type: 'range', id: 'opacity-' + img.id, min: '0', max: '100', step: '5', value: String(Math.round(img.opacity * 100)) });
        var label = el('label', { for: range.id }, img.title);
        var shown = el('output', { for: range.id }, range.value + '%');
        range.addEventListener('input', function () {
          layer.setOpacity(range.value / 100);
          shown.textContent = range.value + '%';
        });
        box.appendChild(label);
        box.appendChild(range);
        box.appendChild(shown);
      });
      return box;
    };
    sliders.addTo(map);
  }

  function start() {
    var cfg;
    try { cfg = readConfig(); } catch (e) { fail('The map settings could not be read.'); return; }
    if (typeof window.L === 'undefined') {
      fail('The map library (Leaflet) could not be loaded. Check the connection, or ask the site to serve Leaflet itself (tessera --leaflet-dir).');
      return;
    }
    var v = cfg.view;
    var state = { from: v.from, to: v.to, kinds: v.kinds, show: v.show, dataLayers: v.dataLayers };
    var kindsById = {};
    cfg.kinds.forEach(function (k) { kindsById[k.id] = k; });
    var embed = cfg.page === 'embed';
    document.documentElement.classList.add('js');

    // The panel opens before the map is made, so that the map is sized once and its first
    // events request is its only one.
    var panelOpen = !embed && window.innerWidth >= 700;
    document.body.classList.toggle('panel-open', panelOpen);
    var map = L.map('map', { center: [v.lat, v.lon], zoom: v.zoom, minZoom: 0, maxZoom: cfg.maxZoom, worldCopyJump: true });
    map.createPane('eventRegions').style.zIndex = 610;
    map.createPane('eventMarkers').style.zIndex = 620;
    var base = L.tileLayer(baseUrl(state), {
      maxZoom: cfg.maxZoom, attribution: escapeHtml(cfg.attribution), className: 'tessera-base'
    });
    var overlay = L.tileLayer(overlayUrl(state), { maxZoom: cfg.maxZoom, zIndex: 5, className: 'tessera-overlay' });
    var markers = L.layerGroup();
    // The overlay first: its tiles are cheap and are the news; the browser's six connections
    // then go to the base map.
    if (state.show.overlay) overlay.addTo(map);
    if (state.show.base) base.addTo(map);
    if (state.show.markers) markers.addTo(map);
    map.attributionControl.addAttribution('Events: sources in each popup');
    var switcher = L.control.layers(null, {
      'Base map': base,
      'Event symbols (overlay)': overlay,
      'Clickable event markers': markers
    }, { collapsed: embed || window.innerWidth < 700, position: 'topright' }).addTo(map);
    addImages(map, cfg, switcher);

    var events = [];
    var seq = 0;

    // Markers are kept while their group is unchanged, so that an open popup survives the
    // reload of events that follows its own auto-pan.
    var drawn = {};
    function drawMarkers() {
      var visible = !state.show.overlay;
      var next = {};
      groupEvents(map, events, cfg.cellPx).forEach(function (g) {
        var sig = [visible, map.getZoom(), g.region, g.latlng.lat.toFixed(6), g.latlng.lng.toFixed(6)].concat(
          g.events.map(function (f) { return f.id + '@' + f.properties.updated; })).join('|');
        if (drawn[sig]) {
          next[sig] = drawn[sig];
          delete drawn[sig];
          return;
        }
        var first = g.events[0];
        var kind = kindsById[first.properties.kind] || { color: '#737373ff' };
        var opts;
        if (g.region) {
          // Several region events in one cell may differ in kind: the overlay's neutral colour.
          var areaColor = g.events.length > 1 ? '#5b1a1a' : kind.color;
          opts = { pane: 'eventRegions', radius: cfg.regionPx, weight: 1.2, color: areaColor, dashArray: '4 4',
            fillColor: areaColor, fillOpacity: visible ? 0.15 : 0, opacity: visible ? 0.7 : 0, className: 'tessera-hit tessera-region' };
        } else if (g.events.length > 1) {
          var r = Math.min(44, 20 + 5 * Math.log2(g.events.length)) / 2;
          opts = { pane: 'eventMarkers', radius: Math.max(r, 12), weight: 1.5, color: '#ffffff', fillColor: '#3b0a0a',
            fillOpacity: visible ? 0.9 : 0, opacity: visible ? 1 : 0, className: 'tessera-hit tessera-cluster' };
        } else {
          var size = Math.min(30, 12 + 3 * Math.log2(casualties(first) + 1));
          opts = { pane: 'eventMarkers', radius: Math.max(size / 2 + 2, 11), weight: 1.5, color: '#ffffff', fillColor: kind.color,
            fillOpacity: visible ? 0.9 : 0, opacity: visible ? 1 : 0, className: 'tessera-hit tessera-event' };
        }
        var m = L.circleMarker(g.latlng, opts);
        m.bindPopup(function () { return popupContent(g, kindsById); }, { maxWidth: 320, minWidth: 220, autoPanPadding: [16, 16] });
        var label = g.region ? 'Somewhere in the region: ' : '';
        label += g.events.length > 1 ? g.events.length + ' events' : first.properties.title;
        // The path exists once the marker is on the map: label it then, for keyboards,
        // screen readers and tests.
        m.on('add', function () {
          var path = m.getElement();
          if (!path) return;
          path.setAttribute('data-events', g.events.map(function (f) { return f.id; }).join(' '));
          path.setAttribute('role', 'button');
          path.setAttribute('tabindex', '0');
          path.setAttribute('aria-label', label);
          path.addEventListener('keydown', function (e) {
            if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); m.openPopup(); }
          });
        });
        if (visible && g.events.length > 1) {
          m.bindTooltip(String(g.events.length), { permanent: true, direction: 'center', className: 'tessera-count' });
        }
        markers.addLayer(m);
        next[sig] = m;
      });
      Object.keys(drawn).forEach(function (k) { markers.removeLayer(drawn[k]); });
      drawn = next;
    }

    function datetime() {
      if (!state.from && !state.to) return null;
      return (state.from || '..') + '/' + (state.to || '..');
    }

    function loadEvents() {
      var mine = ++seq;
      var b = map.getBounds().pad(0.25);
      var west = Math.max(-180, b.getWest()), east = Math.min(180, b.getEast());
      var south = Math.max(-90, b.getSouth()), north = Math.min(90, b.getNorth());
      if (east - west >= 360 || west >= east) { west = -180; east = 180; }
      var p = new URLSearchParams();
      p.set('bbox', [west, south, east, north].map(function (x) { return x.toFixed(5); }).join(','));
      var dt = datetime();
      if (dt) p.set('datetime', dt);
      if (state.kinds) p.set('kind', state.kinds.join(','));
      p.set('limit', '1000');
      fetch('/collections/events/items?' + p.toString(), { headers: { Accept: 'application/geo+json' } })
        .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
        .then(function (fc) {
          if (mine !== seq) return;
          events = (Array.isArray(fc.features) ? fc.features : []).filter(function (f) { return validEvent(f, kindsById); });
          drawMarkers();
          var n = typeof fc.numberMatched === 'number' ? fc.numberMatched : events.length;
          var text = n === 1 ? '1 event in view' : n + ' events in view';
          if (n > events.length) text += ' (' + events.length + ' clickable: zoom in for the rest)';
          $('event-count').textContent = text;
          document.body.setAttribute('data-events-loaded', String(mine));
        })
        .catch(function () {
          if (mine !== seq) return;
          $('event-count').textContent = 'The events could not be loaded.';
        });
    }

    function syncUrl() {
      var q = viewParams(map, state).toString();
      try { window.history.replaceState(null, '', window.location.pathname + '?' + q); } catch (e) { /* sandboxed frames */ }
      var full = $('full-map');
      if (full) full.setAttribute('href', '/?' + q);
      if (!$('embed-dialog').hidden) $('embed-code').value = embedCode();
    }

    function embedCode() {
      var src = cfg.base + '/embed?' + viewParams(map, state).toString();
      return '<iframe src="' + escapeHtml(src) + '" title="' + escapeHtml(cfg.title) +
        '" width="100%" height="480" style="border:0" loading="lazy" allowfullscreen></iframe>';
    }

    function timeChanged() {
      overlay.setUrl(overlayUrl(state));
      loadEvents();
      syncUrl();
    }

    // Dates: both optional, each a real date, the second not before the first.
    var fromInput = $('from'), toInput = $('to'), err = $('filter-error');
    fromInput.value = state.from;
    toInput.value = state.to;
    function datesChanged() {
      var f = fromInput.value, t = toInput.value;
      var problem = null;
      if (f && !isDate(f)) problem = 'The first date is not a date.';
      else if (t && !isDate(t)) problem = 'The last date is not a date.';
      else if (f && t && t < f) problem = 'The last date is before the first.';
      err.hidden = !problem;
      err.textContent = problem || '';
      if (problem) return;
      if (f === state.from && t === state.to) return;
      state.from = f;
      state.to = t;
      timeChanged();
    }
    fromInput.addEventListener('change', datesChanged);
    toInput.addEventListener('change', datesChanged);
    $('dates-all').addEventListener('click', function () { fromInput.value = ''; toInput.value = ''; datesChanged(); });

    buildLegend(cfg, state, function (kinds) { state.kinds = kinds; timeChanged(); });

    map.on('overlayadd overlayremove', function (e) {
      state.show.base = map.hasLayer(base);
      state.show.overlay = map.hasLayer(overlay);
      state.show.markers = map.hasLayer(markers);
      if (e.layer === overlay) drawMarkers();
      syncUrl();
    });
    var moveTimer = null;
    map.on('moveend', function () {
      clearTimeout(moveTimer);
      moveTimer = setTimeout(function () { loadEvents(); syncUrl(); }, 120);
    });

    // Panel (dates and legend) and the embed dialog.
    var toggle = $('panel-toggle');
    function setPanel(open) {
      document.body.classList.toggle('panel-open', open);
      toggle.setAttribute('aria-expanded', String(open));
      setTimeout(function () { map.invalidateSize(); }, 0);
    }
    toggle.setAttribute('aria-expanded', String(panelOpen));
    toggle.addEventListener('click', function () { setPanel(!document.body.classList.contains('panel-open')); });
    $('panel-close').addEventListener('click', function () { setPanel(false); });

    var dialog = $('embed-dialog'), code = $('embed-code'), open = $('embed-open');
    open.addEventListener('click', function () {
      code.value = embedCode();
      dialog.hidden = false;
      open.setAttribute('aria-expanded', 'true');
      code.focus();
      code.select();
    });
    $('embed-close').addEventListener('click', function () { dialog.hidden = true; open.setAttribute('aria-expanded', 'false'); open.focus(); });
    $('embed-copy').addEventListener('click', function () {
      var done = function () { $('embed-copied').textContent = 'Copied.'; };
      code.select();
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(code.value).then(done, function () { document.execCommand('copy'); done(); });
      } else {
        document.execCommand('copy');
        done();
      }
    });

    showNotes(cfg.notes);
    loadEvents();
    syncUrl();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}());
