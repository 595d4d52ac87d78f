// The popup of a marker: its events, asked for by id a page at a time (a cluster may hold
// thousands), with a button for the next page.
import { el } from './dom.js';
import { eventSection, popupNote } from './event-section.js';

/** Events a popup asks for at once (the server takes up to 100 ids). */
const PAGE = 20;

function validEvent(f) {
  return f && f.type === 'Feature' && typeof f.id === 'string' && f.properties && typeof f.properties === 'object' &&
    typeof f.properties.title === 'string';
}

/** The events of these ids that still exist, in the order of the ids. */
async function fetchEvents(ids) {
  const r = await fetch(`/collections/events/items?ids=${ids.map(encodeURIComponent).join(',')}&limit=${ids.length}`,
    { headers: { Accept: 'application/geo+json' } });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const fc = await r.json();
  const byId = new Map((Array.isArray(fc.features) ? fc.features : []).filter(validEvent).map((f) => [f.id, f]));
  return ids.map((id) => byId.get(id)).filter(Boolean);
}

function moreButton(left) {
  const n = Math.min(left, PAGE);
  return el('button', { type: 'button', class: 'button small more' }, `Show ${n} more of ${left}`);
}

/** Appends the next page of events to `div`, with a button for the page after it. */
async function appendPage(div, ids, from, kindsById, popup) {
  const events = await fetchEvents(ids.slice(from, from + PAGE));
  events.forEach((f) => div.appendChild(eventSection(f, kindsById)));
  const left = ids.length - from - PAGE;
  if (left > 0) {
    const more = div.appendChild(moreButton(left));
    more.addEventListener('click', () => {
      more.disabled = true;
      appendPage(div, ids, from + PAGE, kindsById, popup).then(() => more.remove(), () => { more.disabled = false; });
    });
  }
  popup.update();
  return events.length;
}

/**
 * Fills an opened popup with the events of a marker ({ region, ids }): a note for clusters and
 * region areas, then the events a page at a time. The content (.tessera-popup) appears once the
 * first page has arrived.
 */
export async function openPopup(popup, marker, kindsById) {
  const holder = el('div', { class: 'tessera-popup-loading' }, 'Loading the events…');
  popup.setContent(holder);
  const div = el('div', { class: 'tessera-popup' });
  const note = popupNote(marker.region, marker.ids.length);
  if (note) div.appendChild(note);
  try {
    const shown = await appendPage(div, marker.ids, 0, kindsById, popup);
    if (!shown) div.appendChild(el('p', null, 'These events are no longer there: they were changed or deleted.'));
  } catch {
    holder.textContent = 'The events could not be loaded.';
    return;
  }
  popup.setContent(div);
  popup.update();
}
