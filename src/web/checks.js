// The checks every value from the page's settings or the server passes before use. The server
// checked them already; the page does not rely on it.

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** A finite number within lo..hi. */
export function isNum(x, lo, hi) {
  return typeof x === 'number' && Number.isFinite(x) && x >= lo && x <= hi;
}

/** A real calendar date written YYYY-MM-DD. */
export function isDate(s) {
  if (typeof s !== 'string' || !DATE.test(s)) return false;
  const d = new Date(`${s}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s;
}

/** The strings of a list (anything else dropped); [] for anything but an array. */
export function strings(list) {
  return Array.isArray(list) ? list.filter((s) => typeof s === 'string') : [];
}
