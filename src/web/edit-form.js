// The event form: a new event, or one event read with its ETag and changed with If-Match.
// Every answer of the server is shown where it belongs: a 422's errors next to the fields they
// name, a refused token next to the token, a 412 as the other editor's version beside this one
// (edit-conflict.js), anything else above the form.
import { $, el } from './dom.js';
import { FIELDS, changed, controlFor, mergePatch, newFeature, textsOf } from './edit-fields.js';
import { describe, hasToken, itemPath, read, write } from './edit-api.js';
import { closeConflict, showDeleteConflict, showEditConflict } from './edit-conflict.js';

const MERGE_PATCH = 'application/merge-patch+json';
const POSITION = ['lon', 'lat', 'position'];

function control(name) {
  return document.querySelector(`#event-form [name="${name}"]`);
}

/** "is required" reads "Required"; "must be ..." reads "Must be ...". */
function sentence(problem) {
  const p = String(problem).replace(/^is /, '');
  return p.charAt(0).toUpperCase() + p.slice(1);
}

function options(select, values, empty) {
  select.appendChild(el('option', { value: '' }, empty));
  values.forEach(([value, label]) => select.appendChild(el('option', { value }, label)));
}

/** The token's error line: shown, or hidden with null. */
export function tokenError(text) {
  const err = $('err-token'), input = $('token');
  err.textContent = text || '';
  err.hidden = !text;
  if (text) input.setAttribute('aria-invalid', 'true');
  else input.removeAttribute('aria-invalid');
}

/** A refused token (401), writes turned off (403) or no token typed: said at the token. */
function tokenProblem(res) {
  if (res.status === 401) return `The server refused this token: ${describe(res)}. Type the write token again.`;
  if (res.status === 403) return `This server takes no writes: ${describe(res)}.`;
  return null;
}

export class EventForm {
  /** `cfg`: the page's settings; `editor`: its editor part; `hooks`: { pin(lonlat|null), written(), opened(id|null) }. */
  constructor(cfg, editor, hooks) {
    this.hooks = hooks;
    this.current = null;
    this.busy = false;
    this.form = $('event-form');
    this.conflict = $('conflict');
    options(control('kind'), cfg.kinds.map((k) => [k.id, k.label]), 'Choose…');
    options(control('location_precision'), editor.locationPrecision.map((p) => [p, p]), 'Choose…');
    options(control('date_precision'), editor.datePrecision.map((p) => [p, p]), 'Not said');
    this.form.addEventListener('submit', (e) => { e.preventDefault(); this.save(); });
    $('new-event').addEventListener('click', async () => { if (await this.mayDiscard()) this.openNew(); });
    $('delete-event').addEventListener('click', () => this.confirmDelete());
    for (const n of ['lon', 'lat']) control(n).addEventListener('input', () => this.pinFromFields());
    this.openNew();
  }

  texts() {
    return Object.fromEntries(FIELDS.map((f) => [f.name, control(f.name).value]));
  }

  fill(texts) {
    FIELDS.forEach((f) => { control(f.name).value = texts[f.name] ?? ''; });
    this.pinFromFields();
  }

  pinFromFields() {
    const lon = Number(control('lon').value), lat = Number(control('lat').value);
    const ok = control('lon').value.trim() && control('lat').value.trim() && Number.isFinite(lon) && Number.isFinite(lat) &&
      Math.abs(lon) <= 180 && Math.abs(lat) <= 90;
    this.hooks.pin(ok ? [lon, lat] : null);
  }

  /** A position from the map (a click, or the pin dragged): [lon, lat] as texts. */
  place([lon, lat]) {
    control('lon').value = lon;
    control('lat').value = lat;
    this.clearError('position');
    this.pinFromFields();
  }

  status(text) {
    $('form-status').textContent = text;
  }

  general(text) {
    const e = $('form-error');
    e.textContent = text || '';
    e.hidden = !text;
  }

  clearError(target) {
    const names = POSITION.includes(target) ? POSITION : [target];
    for (const n of names) {
      const c = control(n);
      if (c) c.removeAttribute('aria-invalid');
      const e = $(`err-${n}`);
      if (e) { e.textContent = ''; e.hidden = true; }
    }
  }

  clearErrors() {
    FIELDS.forEach((f) => this.clearError(f.name));
    this.clearError('id');
    this.general(null);
  }

  /** A 422's errors next to their fields; those of no field above the form. */
  showErrors(errors) {
    this.clearErrors();
    const loose = [];
    let first = null;
    for (const { field, problem } of errors) {
      const target = controlFor(field, problem);
      if (!target) { loose.push(`${field}: ${problem}`); continue; }
      const line = $(`err-${POSITION.includes(target) ? 'position' : target}`);
      line.textContent = line.textContent ? `${line.textContent} ${sentence(problem)}.` : `${sentence(problem)}.`;
      line.hidden = false;
      const invalid = target === 'position' ? ['lon', 'lat'] : [target];
      invalid.forEach((n) => control(n).setAttribute('aria-invalid', 'true'));
      first = first || control(invalid[0]);
    }
    const n = errors.length;
    this.general(`The server did not store the event: ${n === 1 ? 'one field needs' : `${n} fields need`} a change, shown next to ${n === 1 ? 'it' : 'them'}.${loose.length ? ` ${loose.join('; ')}.` : ''}`);
    if (first) first.focus();
  }

  /** Says what went wrong with a write that was neither stored nor a conflict. */
  failed(res) {
    const token = tokenProblem(res);
    if (token) {
      tokenError(token);
      this.general('Nothing was saved: see the write token above.');
      $('token').focus();
    } else if (res.status === 422 && res.body && Array.isArray(res.body.errors)) {
      this.showErrors(res.body.errors.filter((e) => e && typeof e.field === 'string' && typeof e.problem === 'string'));
    } else if (res.status === 409) {
      this.clearErrors();
      const line = $('err-id');
      line.textContent = `${sentence(describe(res))}: choose another id, or leave it empty.`;
      line.hidden = false;
      control('id').setAttribute('aria-invalid', 'true');
      this.general('Nothing was saved: the id is taken.');
      control('id').focus();
    } else {
      this.general(`Nothing was saved: ${describe(res)}.`);
    }
  }

  setMode(current) {
    this.current = current;
    const editing = current !== null;
    $('form-title').textContent = editing ? `Editing: ${current.title}` : 'New event';
    $('save').textContent = editing ? 'Save the changes' : 'Add the event';
    $('new-event').hidden = !editing;
    $('delete-event').hidden = !editing;
    control('id').readOnly = editing;
    this.hooks.opened(editing ? current.id : null);
  }

  /** An empty form for a new event. */
  openNew() {
    closeConflict(this.conflict);
    this.clearErrors();
    this.fill(Object.fromEntries(FIELDS.map((f) => [f.name, ''])));
    control('id').value = '';
    this.setMode(null);
    this.status('');
  }

  /** The event as it was stored (a GET or a write's answer) into the form. */
  load(feature, etag) {
    const base = textsOf(feature);
    this.fill(base);
    control('id').value = feature.id;
    this.setMode({ id: feature.id, etag, base, title: String(feature.properties.title) });
  }

  /** Whether the form holds something not saved: changes to its event, or a new event begun. */
  dirty() {
    const texts = this.texts();
    if (this.current) return changed(this.current.base, texts).length > 0;
    return Object.values(texts).some((t) => String(t).trim() !== '') || control('id').value.trim() !== '';
  }

  /** True when the form may be emptied: nothing unsaved, or the editor says to drop it. */
  mayDiscard() {
    if (this.busy || !this.dirty()) return Promise.resolve(!this.busy);
    const box = this.conflict;
    box.textContent = '';
    box.append(el('h3', { id: 'conflict-title' }, 'Your changes are not saved'),
      el('p', null, this.current ? `The changes to “${this.current.title}” in the form would be lost.` : 'The new event in the form would be lost.'));
    const actions = box.appendChild(el('div', { class: 'form-actions' }));
    const drop = actions.appendChild(el('button', { type: 'button', class: 'button danger' }, 'Discard them'));
    const keep = actions.appendChild(el('button', { type: 'button', class: 'button primary' }, 'Keep editing'));
    box.hidden = false;
    keep.focus();
    return new Promise((resolve) => {
      drop.addEventListener('click', () => { closeConflict(box); resolve(true); });
      keep.addEventListener('click', () => { closeConflict(box); control('title').focus(); resolve(false); });
    });
  }

  /** Reads one event and opens it in the form (after asking, if the form holds unsaved work). */
  async open(id) {
    if (!(await this.mayDiscard())) return;
    closeConflict(this.conflict);
    this.clearErrors();
    const res = await read(id);
    if (res.status !== 200 || !res.body || !res.etag) {
      this.general(`The event could not be opened: ${describe(res)}.`);
      return;
    }
    this.load(res.body, res.etag);
    this.status(`Opened “${this.current.title}”.`);
    control('title').focus();
  }

  guard() {
    if (this.busy) {
      if (!this.conflict.hidden) this.conflict.focus();
      this.status(this.conflict.hidden ? 'Wait: the last change is on its way.' : 'Choose above first.');
      return false;
    }
    if (!hasToken()) {
      tokenError('Type the write token first: every change needs it.');
      this.general('Nothing was saved: no write token.');
      $('token').focus();
      return false;
    }
    tokenError(null);
    return true;
  }

  async save() {
    if (!this.guard()) return;
    this.busy = true;
    try {
      if (this.current) await this.saveChanges();
      else await this.add();
    } finally {
      this.busy = false;
    }
  }

  async add() {
    this.clearErrors();
    const res = await write('POST', '/collections/events/items', { body: newFeature(this.texts(), control('id').value.trim()) });
    if (res.status !== 201) { this.failed(res); return; }
    this.load(res.body, res.etag);
    this.status(`Added “${this.current.title}” (id ${this.current.id}). Correct it here, or start a new event.`);
    this.hooks.written();
  }

  async saveChanges() {
    const { id, base, etag } = this.current;
    const mine = this.texts();
    if (!changed(base, mine).length) { this.status('Nothing has changed.'); return; }
    this.clearErrors();
    const res = await this.patch(id, this.current.title, base, mine, etag);
    if (!res) return;
    if (res.status === 200) {
      this.load(res.body, res.etag);
      this.status(`Saved “${this.current.title}”.`);
      this.hooks.written();
    } else if (res.status === 404) {
      this.setMode(null);
      this.general('Someone else deleted this event meanwhile: your version is still in the form; “Add the event” stores it again.');
      this.hooks.written();
    } else {
      this.failed(res);
    }
  }

  /**
   * PATCHes `mine` over `base` with If-Match `etag`; on a 412, asks the editor to choose
   * between the stored version and theirs, and tries again with the stored ETag. Resolves to
   * the last answer, or null when the editor took the stored version (now in the form).
   * `known`: a read of the stored version already made, compared first.
   */
  async patch(id, title, base, mine, etag, known = null) {
    let now = known;
    for (;;) {
      if (!now) {
        const names = changed(base, mine);
        // Nothing left to send (every choice was the stored version): the stored version.
        if (!names.length) return read(id);
        const res = await write('PATCH', itemPath(id), { body: mergePatch(mine, names), type: MERGE_PATCH, etag });
        if (res.status !== 412) return res;
        now = await read(id);
        if (now.status !== 200 || !now.etag) return now;
      }
      const theirs = textsOf(now.body);
      const chosen = await this.ask(title, base, mine, theirs);
      if (chosen === null) {
        // The form shows the stored version if it held this event; another event's form stays.
        if (this.current && this.current.id === id) this.load(now.body, now.etag);
        this.status(`You kept the stored version of “${title}”.`);
        this.hooks.written();
        return null;
      }
      [base, mine, etag, now] = [theirs, chosen, now.etag, null];
    }
  }

  /** Shows the conflict; resolves to the chosen texts, or null for "keep the stored version". */
  ask(title, base, mine, theirs) {
    this.status('');
    this.general(null);
    return new Promise((resolve) => {
      showEditConflict(this.conflict, {
        title, base, mine, theirs,
        onSave: (texts) => { closeConflict(this.conflict); resolve(texts); },
        onTakeTheirs: () => { closeConflict(this.conflict); resolve(null); },
      });
    });
  }

  /**
   * Moves an event shown on the map (`seen`, as the list read it) to [lon, lat]: the stored
   * version is read for its ETag, and if it is not the one shown, the editor chooses first.
   */
  async move(seen, [lon, lat]) {
    if (!this.guard()) { this.hooks.written(); return false; }
    this.busy = true;
    try {
      const title = String(seen.properties.title);
      const now = await read(seen.id);
      if (now.status !== 200 || !now.etag) { this.general(`“${title}” could not be moved: ${describe(now)}.`); return false; }
      const base = textsOf(seen);
      const mine = { ...base, lon, lat };
      const stale = changed(base, textsOf(now.body)).length > 0;
      const res = await this.patch(seen.id, title, base, mine, now.etag, stale ? now : null);
      if (res && res.status === 200) {
        this.status(`Moved “${title}” to ${lon}, ${lat}.`);
        if (this.current && this.current.id === seen.id && res.body) this.load(res.body, res.etag);
      } else if (res) {
        this.failed(res);
      }
      this.hooks.written();
      return res !== null && res.status === 200;
    } finally {
      this.busy = false;
    }
  }

  confirmDelete() {
    if (!this.current) return;
    const box = this.conflict;
    box.textContent = '';
    box.append(el('h3', { id: 'conflict-title' }, `Delete “${this.current.title}”?`),
      el('p', null, 'The event leaves the map and the API for good.'));
    const actions = box.appendChild(el('div', { class: 'form-actions' }));
    const yes = actions.appendChild(el('button', { type: 'button', class: 'button danger', id: 'delete-confirm' }, 'Delete'));
    const no = actions.appendChild(el('button', { type: 'button', class: 'button' }, 'Cancel'));
    yes.addEventListener('click', () => { closeConflict(box); this.remove(); });
    no.addEventListener('click', () => { closeConflict(box); $('delete-event').focus(); });
    box.hidden = false;
    no.focus();
  }

  /** DELETE with If-Match; a 412 shows what changed and lets the editor choose. */
  async remove() {
    if (!this.current || !this.guard()) return;
    this.busy = true;
    try {
      const { id, title } = this.current;
      let { etag, base: seen } = this.current;
      for (;;) {
        const res = await write('DELETE', itemPath(id), { etag });
        if (res.status === 204 || res.status === 404) {
          this.openNew();
          this.status(res.status === 204 ? `Deleted “${title}”.` : `“${title}” had already been deleted.`);
          this.hooks.written();
          return;
        }
        if (res.status !== 412) { this.failed(res); return; }
        const now = await read(id);
        if (now.status !== 200 || !now.etag) { this.failed(now); return; }
        const theirs = textsOf(now.body);
        const go = await new Promise((resolve) => {
          showDeleteConflict(this.conflict, {
            title, seen, theirs,
            onDelete: () => { closeConflict(this.conflict); resolve(true); },
            onKeep: () => { closeConflict(this.conflict); resolve(false); },
          });
        });
        if (!go) {
          this.load(now.body, now.etag);
          this.status('Kept the stored version.');
          this.hooks.written();
          return;
        }
        [etag, seen] = [now.etag, theirs];
      }
    } finally {
      this.busy = false;
    }
  }
}
