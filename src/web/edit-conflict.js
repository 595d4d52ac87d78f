// When a change answers 412 (someone else changed the event since this page read it), the
// editor sees the version now stored beside their own, field by field, and chooses; nothing
// is sent until they do. A three-way comparison picks the obvious: a field only the other
// editor changed keeps their value, a field only this editor changed keeps this one; a field
// both changed has no default and must be chosen. Every difference is shown either way, and
// every choice can be changed.
import { el } from './dom.js';
import { FIELDS, changed } from './edit-fields.js';

const LABEL = Object.fromEntries(FIELDS.map((f) => [f.name, f.label]));

function cell(text) {
  const t = String(text ?? '').trim();
  return el('td', { class: t ? 'value' : 'value empty' }, t || '(empty)');
}

function choice(name, which, label, checked) {
  const id = `pick-${name}-${which}`;
  const input = el('input', { type: 'radio', name: `pick-${name}`, id, value: which });
  input.checked = checked;
  const span = el('span', { class: 'pick' });
  span.append(input, el('label', { for: id }, label));
  return span;
}

function table(head, rows) {
  const t = el('table', { class: 'conflict-table' });
  const tr = el('tr');
  head.forEach((h) => tr.appendChild(el('th', { scope: 'col' }, h)));
  t.appendChild(el('thead')).appendChild(tr);
  const body = t.appendChild(el('tbody'));
  rows.forEach((r) => body.appendChild(r));
  return t;
}

function buttons(...list) {
  const div = el('div', { class: 'form-actions' });
  list.forEach(([text, cls, fn]) => {
    const b = div.appendChild(el('button', { type: 'button', class: `button ${cls}` }, text));
    b.addEventListener('click', fn);
  });
  return div;
}

function open(box, title, intro) {
  box.textContent = '';
  box.append(el('h3', { id: 'conflict-title' }, title), el('p', null, intro));
  box.hidden = false;
}

/**
 * The conflict of an edit. `base`: the texts this editor started from; `mine`: their texts now;
 * `theirs`: the texts stored now. `onSave(texts)` gets the chosen texts; `onTakeTheirs()`
 * drops this editor's changes.
 */
export function showEditConflict(box, { title, base, mine, theirs, onSave, onTakeTheirs }) {
  open(box, 'Someone else changed this event', `“${title}” was changed since you opened it. Here is the version now stored beside yours: choose, field by field, what to keep. Nothing is saved until you do.`);
  const names = changed(mine, theirs);
  if (!names.length) {
    box.appendChild(el('p', null, 'The stored version already holds all your changes.'));
    box.appendChild(buttons(['Load the stored version', 'primary', onTakeTheirs]));
    box.focus();
    return;
  }
  const rows = names.map((n) => {
    const mineChanged = changed(base, mine).includes(n), theirsChanged = changed(base, theirs).includes(n);
    const tr = el('tr', { 'data-field': n });
    tr.appendChild(el('th', { scope: 'row' }, LABEL[n] || n));
    tr.append(cell(theirs[n]), cell(mine[n]));
    const picks = el('td', { class: 'picks' });
    picks.append(choice(n, 'theirs', 'Stored', theirsChanged && !mineChanged), choice(n, 'mine', 'Mine', mineChanged && !theirsChanged));
    if (mineChanged && theirsChanged) tr.classList.add('both');
    tr.appendChild(picks);
    return tr;
  });
  box.appendChild(table(['Field', 'Stored now (the other editor)', 'Yours', 'Keep'], rows));
  const problem = el('p', { class: 'field-error', role: 'alert', hidden: '' });
  const save = () => {
    const missing = names.filter((n) => !box.querySelector(`input[name="pick-${n}"]:checked`));
    if (missing.length) {
      problem.textContent = `Choose which version to keep for: ${missing.map((n) => LABEL[n] || n).join(', ')}.`;
      problem.hidden = false;
      box.querySelector(`input[name="pick-${missing[0]}"]`).focus();
      return;
    }
    const texts = { ...theirs };
    names.forEach((n) => { if (box.querySelector(`input[name="pick-${n}"]:checked`).value === 'mine') texts[n] = mine[n]; });
    onSave(texts);
  };
  box.append(problem, buttons(['Save my choices', 'primary', save], ['Discard mine, keep the stored version', '', onTakeTheirs]));
  box.focus();
}

/**
 * The conflict of a delete: the event changed since it was shown. `seen` and `theirs` are
 * texts; `onDelete()` deletes the stored version, `onKeep()` keeps it.
 */
export function showDeleteConflict(box, { title, seen, theirs, onDelete, onKeep }) {
  open(box, 'Someone else changed this event', `“${title}” was changed since you chose to delete it. Here is what changed: delete it all the same, or keep it.`);
  const rows = changed(seen, theirs).map((n) => {
    const tr = el('tr', { 'data-field': n });
    tr.appendChild(el('th', { scope: 'row' }, LABEL[n] || n));
    tr.append(cell(theirs[n]), cell(seen[n]));
    return tr;
  });
  if (rows.length) box.appendChild(table(['Field', 'Stored now', 'When you chose to delete it'], rows));
  box.appendChild(buttons(['Delete the stored version', 'danger', onDelete], ['Keep it', 'primary', onKeep]));
  box.focus();
}

/** Closes the conflict box. */
export function closeConflict(box) {
  box.hidden = true;
  box.textContent = '';
}
