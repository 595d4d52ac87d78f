// The filters: two optional dates (inclusive; a real date each, the second not before the
// first) and a box per event kind, with its symbol. They change the state; the map and the
// markers follow it.
import { $, el } from './dom.js';
import { isDate } from './checks.js';
import { swatch } from './sprite.js';

function datesProblem(from, to) {
  if (from && !isDate(from)) return 'The first date is not a date.';
  if (to && !isDate(to)) return 'The last date is not a date.';
  if (from && to && to < from) return 'The last date is before the first.';
  return null;
}

function dates(state) {
  const from = $('from'), to = $('to'), err = $('filter-error');
  from.value = state.from;
  to.value = state.to;
  const changed = () => {
    const problem = datesProblem(from.value, to.value);
    err.hidden = !problem;
    err.textContent = problem || '';
    if (problem || (from.value === state.from && to.value === state.to)) return;
    state.set({ from: from.value, to: to.value }, 'time');
  };
  from.addEventListener('change', changed);
  to.addEventListener('change', changed);
  // The timeline moves the dates too.
  let shown = `${state.from}/${state.to}`;
  state.onChange((what) => {
    if (what !== 'time' || `${state.from}/${state.to}` === shown) return;
    shown = `${state.from}/${state.to}`;
    [from.value, to.value, err.hidden] = [state.from, state.to, true];
  });
  $('dates-all').addEventListener('click', () => { from.value = ''; to.value = ''; changed(); });
}

function kindItem(k, checked, onChange) {
  const id = `kind-${k.id}`;
  const box = el('input', { type: 'checkbox', id, value: k.id });
  box.checked = checked;
  box.addEventListener('change', onChange);
  const label = el('label', { for: id });
  label.appendChild(el('span', { class: 'swatches' })).appendChild(swatch(k.icon));
  label.appendChild(el('span', { class: 'label' }, k.label));
  const li = el('li');
  li.append(box, label);
  return li;
}

function kinds(cfg, state) {
  const list = $('legend-kinds');
  const changed = () => {
    const on = [...list.querySelectorAll('input')].filter((b) => b.checked).map((b) => b.value);
    state.set({ kinds: on.length === cfg.kinds.length ? null : on }, 'time');
  };
  cfg.kinds.forEach((k) => list.appendChild(kindItem(k, !state.kinds || state.kinds.includes(k.id), changed)));
}

/** Wires the date fields and builds the kind boxes. */
export function buildFilters(cfg, state) {
  dates(state);
  kinds(cfg, state);
}
