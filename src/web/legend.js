// The legend: what the events' symbols mean (sizes, clusters, region areas) and each map
// layer with its swatches and its note from the manifest. The kinds, which are also filters,
// are in filters.js.
import { $, el } from './dom.js';
import { paintAll, swatch } from './sprite.js';

function legendItem(icons, label, note) {
  const li = el('li');
  const swatches = el('span', { class: 'swatches' });
  icons.forEach((name) => swatches.appendChild(swatch(name)));
  const text = el('span', { class: 'label' }, label);
  if (note) text.appendChild(el('small', null, note));
  li.append(swatches, text);
  return li;
}

/** Fills the legend's lists and paints every swatch of the panel from the sprite. */
export function buildLegend(cfg) {
  cfg.eventLegend.forEach((i) => $('legend-events').appendChild(legendItem(i.icons, i.label, i.note)));
  // Top of the drawing order first, as on the map.
  [...cfg.layers].reverse().filter((l) => l.icons.length)
    .forEach((l) => $('legend-layers').appendChild(legendItem(l.icons, l.title, l.note)));
  paintAll($('panel'));
}
