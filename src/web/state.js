// What the reader has chosen: dates, kinds, map layers. Modules change it through set() and
// learn of changes through onChange(), so that the filters need not know the map, nor the map
// the filters.

/**
 * The state, from the checked view of the settings. `changed` tells listeners what changed:
 * 'time' (dates or kinds), 'layers', or 'play' (the timeline started or stopped playing:
 * `play` is then { days, end } or null).
 */
export function makeState(view) {
  const listeners = [];
  const state = {
    from: view.from,
    to: view.to,
    kinds: view.kinds,
    show: { ...view.show },
    dataLayers: view.dataLayers,
    play: null,
    renderer: view.renderer,
    onChange(fn) { listeners.push(fn); },
    set(values, what) {
      Object.assign(state, values);
      listeners.forEach((fn) => fn(what));
    },
  };
  return state;
}

/** The dates as an OGC `datetime` interval, or null for all dates. */
export function datetime(state) {
  if (!state.from && !state.to) return null;
  return `${state.from || '..'}/${state.to || '..'}`;
}
