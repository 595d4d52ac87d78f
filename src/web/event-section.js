// One event as a popup shows it: title, time, kind, numbers, actors, description, sources (web
// addresses as links, anything else as text) and how precise its position is; and the note
// heading the popup of a cluster or a region area.
import { el } from './dom.js';
import { strings } from './checks.js';

const PRECISION = {
  exact: 'The point marks where it happened.',
  town: 'The point is the centre of the town or village named: the event happened there, not necessarily at this spot.',
  city: 'The point is the centre of the city named: the event happened there, not necessarily at this spot.',
  region: 'Somewhere in the region: the point only stands for the region and does not say where it happened.',
};

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;

function link(raw) {
  let u = null;
  try { u = new URL(raw); } catch { u = null; }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) return document.createTextNode(raw);
  return el('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, raw);
}

/** A citation as text, with the http(s) URLs in it as links. */
function citation(text) {
  const li = el('li');
  let last = 0;
  for (const m of text.matchAll(URL_IN_TEXT)) {
    const raw = m[0].replace(/[.,;:!?)\]]+$/, '');
    li.append(text.slice(last, m.index), link(raw));
    last = m.index + raw.length;
  }
  li.append(text.slice(last));
  return li;
}

function formatTime(t) {
  if (typeof t !== 'string') return '';
  const parts = t.split('/');
  return parts.length === 2 ? `${parts[0]} to ${parts[1]}` : t;
}

function numbers(p) {
  const known = [['killed', 'Killed'], ['injured', 'Injured'], ['displaced', 'Displaced']]
    .filter(([k]) => typeof p[k] === 'number' && Number.isFinite(p[k]));
  if (!known.length) return null;
  const dl = el('dl', { class: 'numbers' });
  known.forEach(([k, label]) => dl.append(el('dt', null, label), el('dd', null, p[k].toLocaleString('en'))));
  return dl;
}

function sources(p) {
  const list = strings(p.sources);
  if (!list.length) return [];
  const ul = el('ul', { class: 'sources' });
  list.forEach((s) => ul.appendChild(citation(s)));
  return [el('p', { class: 'sources-title' }, list.length > 1 ? 'Sources' : 'Source'), ul];
}

/** One event of a popup. */
export function eventSection(f, kindsById) {
  const p = f.properties;
  const sec = el('section', { class: 'event', 'data-event': f.id });
  sec.appendChild(el('h3', null, p.title));
  if (typeof p.title_ar === 'string' && p.title_ar) sec.appendChild(el('p', { class: 'title-ar', lang: 'ar', dir: 'rtl' }, p.title_ar));
  const kind = kindsById[p.kind];
  sec.appendChild(el('p', { class: 'meta' }, `${formatTime(p.time)} · ${kind ? kind.label : p.kind}`));
  const dl = numbers(p);
  if (dl) sec.appendChild(dl);
  const actors = strings(p.actors);
  if (actors.length) sec.appendChild(el('p', { class: 'actors' }, `Actors: ${actors.join(', ')}`));
  if (typeof p.description === 'string' && p.description) sec.appendChild(el('p', { class: 'description' }, p.description));
  sec.append(...sources(p));
  sec.appendChild(el('p', { class: 'precision' }, PRECISION[p.location_precision] || PRECISION.town));
  return sec;
}

/** The heading of a popup of several events, or of a region area. */
export function popupNote(region, count) {
  if (region) {
    const which = count > 1 ? `these ${count} events` : 'the event';
    return el('p', { class: 'region-note' }, `Somewhere in the region: this position only stands for the region, not for where ${which} happened.`);
  }
  return count > 1 ? el('p', { class: 'cluster-note' }, `${count} events close together at this zoom:`) : null;
}
