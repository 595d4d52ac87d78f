// One event as a popup shows it: title, time, kind, numbers, actors, description, sources (web
// addresses as links, without any user name or password, anything else as text) and how precise
// its position is; and the note heading the popup of a cluster or a region area.
import { el } from './dom.js';
import { strings } from './checks.js';

const PRECISION = {
  exact: 'The point marks where it happened.',
  town: 'The point is the centre of the town or village named: the event happened there, not necessarily at this spot.',
  city: 'The point is the centre of the city named: the event happened there, not necessarily at this spot.',
  region: 'Somewhere in the region: the point only stands for the region and does not say where it happened.',
};

const URL_IN_TEXT = /https?:\/\/[^\s<>"'`]+/gi;

// Bidirectional embeddings, overrides and isolates (U+202A-202E, U+2066-2069). A right-to-left
// override in a title would show the text after it reversed ("gnp.exe"), and could run on into
// the text around it. They are dropped, and each string of an event gets an element of its own
// with dir="auto" (which HTML isolates), so Arabic and English keep their own order and neither
// reorders the other.
const BIDI_CONTROLS = /[\u202A-\u202E\u2066-\u2069]/g;

/** An event's string as shown: without bidirectional controls. */
function clean(s) {
  return String(s).replace(BIDI_CONTROLS, '');
}

/** An element holding one string of an event, isolated in its own direction. */
function isolated(tag, attrs, s) {
  return el(tag, { dir: 'auto', ...attrs }, clean(s));
}

function link(raw) {
  let u = null;
  try { u = new URL(raw); } catch { u = null; }
  if (!u || (u.protocol !== 'https:' && u.protocol !== 'http:')) return document.createTextNode(raw);
  // A user name or password in a source is never shown nor followed: it is someone's account.
  const credentials = u.username !== '' || u.password !== '';
  u.username = '';
  u.password = '';
  return el('a', { href: u.href, target: '_blank', rel: 'noopener noreferrer nofollow' }, credentials ? u.href : raw);
}

/** A citation as text, with the http(s) URLs in it as links. */
function citation(source) {
  const text = clean(source);
  const li = el('li', { dir: 'auto' });
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
  sec.appendChild(isolated('h3', null, p.title));
  if (typeof p.title_ar === 'string' && p.title_ar) sec.appendChild(el('p', { class: 'title-ar', lang: 'ar', dir: 'rtl' }, clean(p.title_ar)));
  const kind = kindsById[p.kind];
  sec.appendChild(el('p', { class: 'meta' }, `${formatTime(p.time)} · ${kind ? kind.label : p.kind}`));
  const dl = numbers(p);
  if (dl) sec.appendChild(dl);
  const actors = strings(p.actors);
  if (actors.length) {
    const line = sec.appendChild(el('p', { class: 'actors' }, 'Actors: '));
    actors.forEach((a, i) => line.append(...(i ? [', '] : []), isolated('bdi', null, a)));
  }
  if (typeof p.description === 'string' && p.description) sec.appendChild(isolated('p', { class: 'description' }, p.description));
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
