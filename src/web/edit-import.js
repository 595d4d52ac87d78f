// A GeoJSON file imported as a batch, with a result for each feature.
//
// The API stores a batch all or nothing: a 422 names each refused feature (`features[3].
// properties.kind`) and stores none. So the page: reads the file in the browser; skips, and
// says so, what cannot be an event (not a Feature) and the features whose id is taken already
// (asked with `ids=`, so that re-importing a file does not fail on its first old event); posts
// the rest as one batch (several when there are more than the server's max_batch); and shows
// each feature's result: imported with its id, refused with the server's reasons, or valid but
// not stored because its batch was refused. One button then posts the valid ones as a new
// batch. A refused feature is fixed in the file and the file imported again.
import { $, el } from './dom.js';
import { describe, query, write } from './edit-api.js';

const ID = /^[A-Za-z0-9._-]{1,128}$/;
/** Ids asked for at once (the items take up to 100). */
const IDS_AT_ONCE = 100;

const LABEL = {
  ready: 'Ready to import',
  waiting: 'Valid, not stored yet: its batch was refused for the others',
  refused: 'Refused',
  skipped: 'Skipped: not a GeoJSON Feature',
};

function features(json) {
  if (json && json.type === 'FeatureCollection' && Array.isArray(json.features)) return json.features;
  if (json && json.type === 'Feature') return [json];
  return null;
}

function itemOf(f, i) {
  const isFeature = f && typeof f === 'object' && !Array.isArray(f) && f.type === 'Feature';
  const p = isFeature && f.properties && typeof f.properties === 'object' ? f.properties : {};
  return {
    n: i + 1, feature: f, id: isFeature && typeof f.id === 'string' && ID.test(f.id) ? f.id : null,
    title: typeof p.title === 'string' && p.title ? p.title : '(no title)',
    state: isFeature ? 'ready' : 'skipped', notes: [],
  };
}

async function markExisting(items) {
  const ids = items.filter((i) => i.id && i.state === 'ready').map((i) => i.id);
  for (let k = 0; k < ids.length; k += IDS_AT_ONCE) {
    const chunk = ids.slice(k, k + IDS_AT_ONCE);
    const res = await query(new URLSearchParams({ ids: chunk.join(','), limit: String(chunk.length) }));
    if (res.status !== 200 || !res.body || !Array.isArray(res.body.features)) return false;
    const found = new Set(res.body.features.map((f) => f.id));
    items.filter((i) => found.has(i.id)).forEach((i) => { i.state = 'exists'; });
  }
  return true;
}

function render(items) {
  const box = $('import-results');
  box.textContent = '';
  if (!items.length) return;
  const table = box.appendChild(el('table', { class: 'import-table' }));
  const head = table.appendChild(el('thead')).appendChild(el('tr'));
  ['#', 'Feature', 'Result'].forEach((h) => head.appendChild(el('th', { scope: 'col' }, h)));
  const body = table.appendChild(el('tbody'));
  for (const i of items) {
    const tr = body.appendChild(el('tr', { class: `import-${i.state}`, 'data-state': i.state, 'data-n': String(i.n) }));
    tr.append(el('td', null, String(i.n)), el('td', null, i.title));
    const result = tr.appendChild(el('td'));
    const words = { imported: `Imported as ${i.id}`, exists: `Skipped: an event with id ${i.id} exists already` }[i.state];
    result.appendChild(el('strong', null, words || LABEL[i.state]));
    if (i.notes.length) {
      const ul = result.appendChild(el('ul', { class: 'problems' }));
      i.notes.forEach((n) => ul.appendChild(el('li', null, n)));
    }
  }
}

function summary(items) {
  const count = (s) => items.filter((i) => i.state === s).length;
  const parts = [
    ['imported', 'imported'], ['refused', 'refused'], ['waiting', 'valid and not stored yet'], ['ready', 'ready'],
    ['exists', 'skipped (id taken)'], ['skipped', 'skipped (not a Feature)'],
  ].filter(([s]) => count(s)).map(([s, words]) => `${count(s)} ${words}`);
  return `${items.length === 1 ? '1 feature' : `${items.length} features`}: ${parts.join(', ')}.`;
}

/** Applies one batch's answer to its items; returns false when the import must stop. */
function apply(batch, res, tokenError) {
  if (res.status === 201 && res.body && Array.isArray(res.body.features)) {
    batch.forEach((item, k) => {
      const stored = res.body.features[k];
      item.state = 'imported';
      item.id = stored && typeof stored.id === 'string' ? stored.id : item.id;
    });
    return true;
  }
  batch.forEach((i) => { i.state = 'waiting'; });
  if (res.status === 422 && res.body && Array.isArray(res.body.errors)) {
    for (const e of res.body.errors) {
      const m = typeof e.field === 'string' ? e.field.match(/^features\[(\d+)\]\.?(.*)$/) : null;
      const item = m ? batch[Number(m[1])] : null;
      if (!item) continue;
      item.state = 'refused';
      item.notes.push(`${m[2] || 'the feature'}: ${e.problem}`);
    }
    return true;
  }
  if (res.status === 409) {
    const m = describe(res).match(/'([^']+)'/);
    const item = m && batch.find((i) => i.id === m[1]);
    if (item) { item.state = 'exists'; return true; }
  }
  if (res.status === 401 || res.status === 403) tokenError(res);
  $('import-status').textContent = `The import stopped: ${describe(res)}.`;
  return false;
}

/** Wires the file field and the import button. `hooks`: { guard(), tokenError(res), written() }. */
export function wireImport(editor, hooks) {
  let items = [];
  const button = $('import-run');
  const status = $('import-status');

  const show = () => {
    render(items);
    const todo = items.filter((i) => i.state === 'ready' || i.state === 'waiting');
    button.hidden = !todo.length;
    const waiting = items.some((i) => i.state === 'waiting');
    button.textContent = waiting ? `Import the ${todo.length} valid ${todo.length === 1 ? 'feature' : 'features'}` :
      `Import ${todo.length === 1 ? 'the feature' : `the ${todo.length} features`}`;
  };

  $('import-file').addEventListener('change', async (e) => {
    const file = e.target.files && e.target.files[0];
    items = [];
    show();
    if (!file) { status.textContent = ''; return; }
    let json;
    try { json = JSON.parse(await file.text()); } catch {
      status.textContent = `${file.name} is not JSON: nothing was imported.`;
      return;
    }
    const list = features(json);
    if (!list || !list.length) {
      status.textContent = `${file.name} holds no GeoJSON Feature or FeatureCollection with features: nothing was imported.`;
      return;
    }
    items = list.map(itemOf);
    if (!(await markExisting(items))) status.textContent = 'Whether the ids are taken could not be checked; the server will say.';
    status.textContent = `${file.name}: ${summary(items)}`;
    show();
  });

  button.addEventListener('click', async () => {
    if (!hooks.guard()) return;
    button.disabled = true;
    try {
      const todo = items.filter((i) => i.state === 'ready' || i.state === 'waiting');
      for (let k = 0; k < todo.length; k += editor.maxBatch) {
        const batch = todo.slice(k, k + editor.maxBatch);
        const res = await write('POST', '/collections/events/items', { body: { type: 'FeatureCollection', features: batch.map((i) => i.feature) } });
        if (!apply(batch, res, hooks.tokenError)) { show(); return; }
      }
      status.textContent = summary(items);
      show();
      if (items.some((i) => i.state === 'imported')) hooks.written();
    } finally {
      button.disabled = false;
    }
  });
}
