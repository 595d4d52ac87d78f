// The panel of dates and legend: a column on wide screens, opened from the bar; a sheet on
// phones, opened from its handle below the map. Escape closes it and gives focus back to the
// button that opens it.
import { $ } from './dom.js';

/** Wires the panel's buttons; `opened` is its first state, `resized` runs after each change. */
export function wirePanel(opened, resized) {
  const toggles = [$('panel-toggle'), $('sheet-handle')];
  const isOpen = () => document.body.classList.contains('panel-open');
  const set = (open) => {
    document.body.classList.toggle('panel-open', open);
    toggles.forEach((t) => t.setAttribute('aria-expanded', String(open)));
    setTimeout(resized, 0);
  };
  const close = () => {
    set(false);
    const shown = toggles.find((t) => t.offsetParent !== null);
    if (shown) shown.focus();
  };
  set(opened);
  toggles.forEach((t) => t.addEventListener('click', () => set(!isOpen())));
  $('panel-close').addEventListener('click', close);
  $('stage').addEventListener('keydown', (e) => {
    const inside = $('panel').contains(e.target) || toggles.includes(e.target);
    if (e.key === 'Escape' && isOpen() && inside) close();
  });
}
