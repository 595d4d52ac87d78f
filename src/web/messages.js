// What the page tells the reader outside the map: the settings of the address it ignored, and
// why there is no map at all.
import { $, el } from './dom.js';

/** Lists the ignored settings (never their values), with an OK button. */
export function showNotes(notes) {
  if (!notes.length) return;
  const box = $('notes');
  const ul = el('ul');
  notes.forEach((n) => ul.appendChild(el('li', null, n)));
  const ok = el('button', { type: 'button', class: 'button small' }, 'OK');
  ok.addEventListener('click', () => { box.hidden = true; });
  box.append(el('p', null, 'Some settings in the address were ignored:'), ul, ok);
  box.hidden = false;
}

/** Replaces the map with a message. */
export function fail(message) {
  const m = $('map');
  m.textContent = '';
  m.appendChild(el('p', { class: 'fatal' }, message));
}
