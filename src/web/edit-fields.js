// The event model as the editor's form holds it: every field as the text of its control, and
// the conversions between that text, a stored event and what is sent. Comparing versions text
// to text keeps the three-way merge of a conflict simple: a field changed when its text did.
//
// Nothing is checked here beyond turning text into JSON: the server checks every field and
// names each problem, and the page shows its answer next to the field.

/** The fields, in the form's order: name (the control's `name`), label, and how it is held. */
export const FIELDS = [
  { name: 'title', label: 'Title', type: 'text' },
  { name: 'title_ar', label: 'Title in Arabic', type: 'text' },
  { name: 'kind', label: 'Kind', type: 'choice' },
  { name: 'location_precision', label: 'Position stands for', type: 'choice' },
  { name: 'time', label: 'Time', type: 'text' },
  { name: 'date_precision', label: 'Time known to', type: 'choice' },
  { name: 'lon', label: 'Longitude', type: 'coord' },
  { name: 'lat', label: 'Latitude', type: 'coord' },
  { name: 'killed', label: 'Killed', type: 'count' },
  { name: 'injured', label: 'Injured', type: 'count' },
  { name: 'displaced', label: 'Displaced', type: 'count' },
  { name: 'sources', label: 'Sources', type: 'list' },
  { name: 'actors', label: 'Actors', type: 'list' },
  { name: 'description', label: 'Description', type: 'text' },
];

const BY_NAME = Object.fromEntries(FIELDS.map((f) => [f.name, f]));

/** A plain decimal number as typed (no exponent, no hex): sent as a number. */
const NUMBER = /^-?\d+(\.\d+)?$/;

function show(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map((x) => String(x)).join('\n');
  return String(v);
}

/** Each field's text for a stored event (a GeoJSON Feature). */
export function textsOf(feature) {
  const p = (feature && feature.properties) || {};
  const c = feature && feature.geometry && Array.isArray(feature.geometry.coordinates) ? feature.geometry.coordinates : [];
  const out = {};
  for (const f of FIELDS) {
    if (f.name === 'lon') out.lon = show(c[0]);
    else if (f.name === 'lat') out.lat = show(c[1]);
    else out[f.name] = show(p[f.name]);
  }
  return out;
}

/**
 * The JSON of a field's text, or null when it is empty. A number that is not a plain decimal
 * goes as the text typed, so that the server's answer names it.
 */
export function valueOf(name, text) {
  const type = BY_NAME[name] ? BY_NAME[name].type : 'text';
  const t = String(text ?? '').trim();
  if (type === 'list') {
    const lines = t.split('\n').map((s) => s.trim()).filter(Boolean);
    return lines.length ? lines : null;
  }
  if (!t) return null;
  if (type === 'count' || type === 'coord') return NUMBER.test(t) ? Number(t) : t;
  return t;
}

function geometry(texts) {
  if (!String(texts.lon ?? '').trim() && !String(texts.lat ?? '').trim()) return null;
  return { type: 'Point', coordinates: [valueOf('lon', texts.lon), valueOf('lat', texts.lat)] };
}

/** A new event from the form's texts: a Feature with the fields that are not empty. */
export function newFeature(texts, id) {
  const properties = {};
  for (const f of FIELDS) {
    if (f.name === 'lon' || f.name === 'lat') continue;
    const v = valueOf(f.name, texts[f.name]);
    if (v !== null) properties[f.name] = v;
  }
  const feature = { type: 'Feature', geometry: geometry(texts), properties };
  if (id) feature.id = id;
  return feature;
}

/** The names of the fields whose text differs between two sets of texts. */
export function changed(a, b) {
  return FIELDS.map((f) => f.name).filter((n) => String(a[n] ?? '').trim() !== String(b[n] ?? '').trim());
}

/**
 * A JSON Merge Patch (RFC 7396) taking the stored event to `texts`, for the fields `names`:
 * an emptied field is null (removed), and the position goes whole.
 */
export function mergePatch(texts, names) {
  const patch = {};
  const props = {};
  for (const n of names) {
    if (n === 'lon' || n === 'lat') patch.geometry = geometry(texts);
    else props[n] = valueOf(n, texts[n]);
  }
  if (Object.keys(props).length) patch.properties = props;
  return patch;
}

/**
 * Where the server's `field` goes in the form: a control's name, 'position' for the geometry,
 * 'id', or null for the event as a whole. `features[3].` is stripped: the batch's index is
 * the import's business.
 */
export function controlFor(field, problem) {
  const f = String(field).replace(/^features\[\d+\]\.?/, '');
  if (f.startsWith('geometry')) {
    if (/^longitude/.test(problem || '')) return 'lon';
    if (/^latitude/.test(problem || '')) return 'lat';
    return 'position';
  }
  if (f === 'id') return 'id';
  const m = f.match(/^properties\.([a-z_]+)/);
  return m && BY_NAME[m[1]] ? m[1] : null;
}
