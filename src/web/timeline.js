// The timeline under the map: a slider over the days of the events (the extent of
// /collections/events), the width of the window of days shown, play and pause, and the date
// shown at the top of the map.
//
// The window is the state's `from`..`to`, the same dates as the date fields: the slider sets
// its last day, the width its length. The slider spans the events' first to last day, or,
// when the address plays a span, that span (so that a day of "1-29 February" is a finger wide
// rather than a pixel of three years of events), widened to hold any window the date fields set. Playing steps the window a day at a time through a span
// (the URL's from..to when it carries `play`, else from the window to the last day of the
// events), one step once the overlay's tiles of the last step have arrived and at least
// STEP_MS after it, so that a slow server is never sent a second step before it has drawn the
// first; Leaflet asks only for the tiles in view, once each per step, and the server answers
// them from its tile cache after the first reader. While playing, the address says what plays
// (`from` the window's first day, `to` the span's end, `play` the width in days), so a copied
// address plays on from there; paused, it says the window. Dragging the slider (or holding an
// arrow key) moves the label at once and the map once the slider rests, so a drag is one step,
// not fifty.
import { el } from './dom.js';
import { isDate } from './checks.js';

/** Shortest time a step of the playback is shown, ms. */
const STEP_MS = 1000;
/** Longest wait for a step's tiles before stepping on anyway, ms. */
const TILES_TIMEOUT_MS = 15000;
/** Rest after the last key or move of the slider before the map follows it, ms. */
const SETTLE_MS = 250;
/** The widths offered, days. */
const WIDTHS = [1, 3, 7, 14, 30];
const DAY_MS = 86400000;

const day = (s) => Date.parse(`${s}T00:00:00Z`) / DAY_MS;
const text = (d) => new Date(d * DAY_MS).toISOString().slice(0, 10);
const delay = (ms) => new Promise((r) => { setTimeout(r, ms); });
const FULL = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', year: 'numeric', timeZone: 'UTC' });
const DAY_MONTH = new Intl.DateTimeFormat('en-GB', { day: 'numeric', month: 'long', timeZone: 'UTC' });
const full = (d) => FULL.format(new Date(d * DAY_MS));

/** The window in words: "18 February 2020", "12–18 February 2020", "All dates"... */
export function windowText(from, to) {
  if (!from && !to) return 'All dates';
  if (!to) return `From ${full(day(from))}`;
  if (!from) return `Until ${full(day(to))}`;
  const [a, b] = [new Date(day(from) * DAY_MS), new Date(day(to) * DAY_MS)];
  if (from === to) return full(day(from));
  if (a.getUTCFullYear() === b.getUTCFullYear() && a.getUTCMonth() === b.getUTCMonth()) return `${a.getUTCDate()}–${full(day(to))}`;
  if (a.getUTCFullYear() === b.getUTCFullYear()) return `${DAY_MONTH.format(a)} – ${full(day(to))}`;
  return `${full(day(from))} – ${full(day(to))}`;
}

/** The first and last day of the events, from the collection's extent; null when there are none. */
async function eventDays() {
  const r = await fetch('/collections/events', { headers: { Accept: 'application/json' } });
  if (!r.ok) throw new Error(`HTTP ${r.status}`);
  const c = await r.json();
  const iv = c && c.extent && c.extent.temporal && Array.isArray(c.extent.temporal.interval) ? c.extent.temporal.interval[0] : null;
  const ends = Array.isArray(iv) ? iv.map((t) => (typeof t === 'string' ? t.slice(0, 10) : '')) : [];
  return ends.length === 2 && isDate(ends[0]) && isDate(ends[1]) && ends[0] <= ends[1] ? [day(ends[0]), day(ends[1])] : null;
}

/** A function that resolves once a Leaflet tile layer has loaded the tiles asked for after it was called. */
export function leafletReady(map, layer) {
  return () => new Promise((resolve) => {
    if (!map.hasLayer(layer)) { resolve(); return; }
    const done = () => { clearTimeout(timer); layer.off('load', done); resolve(); };
    const timer = setTimeout(done, TILES_TIMEOUT_MS);
    layer.on('load', done);
  });
}

function build() {
  const bar = el('div', { id: 'timeline', class: 'timeline', role: 'group', 'aria-label': 'Timeline' });
  const play = bar.appendChild(el('button', { type: 'button', id: 'timeline-play', class: 'button play', 'aria-label': 'Play', disabled: '' }));
  play.appendChild(el('span', { class: 'play-icon', 'aria-hidden': 'true' }));
  const slider = bar.appendChild(el('input', { type: 'range', id: 'timeline-day', name: 'day', min: '0', max: '0', step: '1', value: '0', 'aria-label': 'Last day shown', disabled: '' }));
  bar.appendChild(el('label', { for: 'timeline-width', class: 'width-label' }, 'Days shown'));
  const width = bar.appendChild(el('select', { id: 'timeline-width', name: 'width', disabled: '' }));
  width.appendChild(el('option', { value: 'all' }, 'All'));
  WIDTHS.forEach((w) => width.appendChild(el('option', { value: String(w) }, w === 1 ? '1 day' : `${w} days`)));
  const date = el('p', { id: 'timeline-date', class: 'timeline-date', hidden: '' });
  return { bar, play, slider, width, date };
}

/**
 * Builds the timeline and sets the state's first window; call before the map is made, so the
 * overlay's first tiles are the first step's. Returns { start({ ready, resized }) }: `ready()`
 * resolves once the overlay's tiles asked for after the call have arrived; `resized()` is
 * called when the timeline takes its room back (no events).
 */
export function makeTimeline(cfg, state) {
  const ui = build();
  document.getElementById('stage').append(ui.bar, ui.date);
  document.body.classList.add('has-timeline');
  const body = document.body;
  const days = cfg.view.play;
  // The span to play, as day numbers; from the URL when it carries `play`.
  const span = { start: null, end: null };
  if (days) {
    span.end = state.to ? day(state.to) : null;
    // Playing from the start: the markers wait (see events.js), and the address keeps `play`.
    state.play = { days, end: state.to };
    if (state.from) {
      span.start = day(state.from);
      state.set({ from: state.from, to: text(Math.min(span.start + days - 1, span.end ?? Infinity)) }, 'time');
    }
  }
  let width = days || (state.from && state.to ? day(state.to) - day(state.from) + 1 : 1);
  let range = null, playing = false, run = 0, own = false, settle = null;
  let seen = `${state.from}/${state.to}`;

  /** Offers the width `w` (a window the date fields set may have any). */
  const offerWidth = (w) => {
    if (![...ui.width.options].some((o) => o.value === String(w))) ui.width.appendChild(el('option', { value: String(w) }, `${w} days`));
  };

  /** Widens the slider's days to hold the window. */
  const fit = () => {
    if (!range) return;
    range = [Math.min(range[0], state.from ? day(state.from) : Infinity), Math.max(range[1], state.to ? day(state.to) : -Infinity)];
    ui.slider.max = String(range[1] - range[0]);
  };

  /** The slider, its words and the label on the map, from the state. */
  const show = () => {
    const words = windowText(state.from, state.to);
    ui.date.textContent = words;
    ui.date.hidden = !state.from && !state.to;
    ui.slider.setAttribute('aria-valuetext', words);
    if (range) ui.slider.value = String((state.to ? day(state.to) : range[1]) - range[0]);
    // "All" while the map shows no window of days (all dates, or from or until a day).
    ui.width.value = state.from && state.to ? String(width) : 'all';
    body.setAttribute('data-window', `${state.from || '..'}/${state.to || '..'}`);
  };

  /** The window of `width` days ending on day `end`. */
  const setWindow = (end) => {
    own = true;
    state.set({ from: text(end - width + 1), to: text(end) }, 'time');
    own = false;
  };

  const setPlaying = (on) => {
    playing = on;
    ui.play.setAttribute('aria-label', on ? 'Pause' : 'Play');
    ui.play.classList.toggle('playing', on);
    body.setAttribute('data-timeline', on ? 'playing' : 'paused');
    own = true;
    state.set({ play: on ? { days: width, end: text(span.end) } : null }, 'play');
    own = false;
  };

  const pause = () => { run += 1; if (playing) setPlaying(false); };

  async function loop(mine, first) {
    await first;
    for (;;) {
      await delay(STEP_MS);
      while (document.hidden && mine === run) await new Promise((r) => { document.addEventListener('visibilitychange', r, { once: true }); });
      if (mine !== run) return;
      const end = day(state.to);
      if (end >= span.end) { pause(); return; }
      const loaded = ready();
      setWindow(end + 1);
      body.setAttribute('data-timeline-step', String(Number(body.getAttribute('data-timeline-step') || 0) + 1));
      await loaded;
      if (mine !== run) return;
    }
  }

  let ready = () => Promise.resolve();
  /**
   * Plays from the window on to the end of the span; from the span's start when the window is
   * at its end (a replay) or there is no window. A window moved past the span plays on to the
   * last day of the events. `first` resolves when the tiles shown now have arrived.
   */
  const play = (first = Promise.resolve()) => {
    if (!range) return;
    let loaded = first;
    const end = state.from && state.to ? day(state.to) : null;
    if (span.end === null) span.end = range[1];
    if (end !== null && end > span.end) [span.start, span.end] = [null, range[1]];
    if (end === null || end >= span.end) {
      if (span.start === null || span.start >= span.end) span.start = range[0];
      loaded = ready();
      setWindow(Math.min(span.start + width - 1, span.end));
    } else if (span.start === null || span.start > day(state.from)) {
      span.start = day(state.from);
    }
    run += 1;
    setPlaying(true);
    loop(run, loaded);
  };

  ui.play.addEventListener('click', () => { if (playing) pause(); else play(); });
  // A drag or a held key fires many inputs (and, from keys, as many changes): the map follows
  // once they rest, so only the window let go of is asked for.
  ui.slider.addEventListener('input', () => {
    pause();
    const end = range[0] + Number(ui.slider.value);
    ui.date.textContent = windowText(text(end - width + 1), text(end));
    ui.date.hidden = false;
    ui.slider.setAttribute('aria-valuetext', ui.date.textContent);
    clearTimeout(settle);
    settle = setTimeout(() => setWindow(end), SETTLE_MS);
  });
  ui.width.addEventListener('change', () => {
    if (ui.width.value === 'all') {
      pause();
      own = true;
      state.set({ from: '', to: '' }, 'time');
      own = false;
      return;
    }
    width = Number(ui.width.value);
    setWindow(state.to ? day(state.to) : range[1]);
    if (playing) setPlaying(true);
  });
  state.onChange((what) => {
    if (what !== 'time') return;
    const now = `${state.from}/${state.to}`;
    const moved = now !== seen;
    seen = now;
    if (moved && !own) {
      // The date fields changed the window: the timeline follows, and stops playing.
      pause();
      if (state.from && state.to) offerWidth((width = day(state.to) - day(state.from) + 1));
      fit();
    }
    show();
  });
  offerWidth(width);
  show();
  body.setAttribute('data-timeline', 'loading');

  return {
    start(hooks) {
      ready = hooks.ready;
      const first = days ? ready() : Promise.resolve();
      eventDays().then((extent) => {
        if (!extent) {
          ui.bar.remove();
          ui.date.remove();
          body.classList.remove('has-timeline');
          body.setAttribute('data-timeline', 'none');
          state.set({ play: null }, 'play');
          hooks.resized();
          return;
        }
        // Playing a span (an article's "1-29 February"), the slider spans it, a day being
        // wide enough to find with a finger; else the events' first to last day.
        range = days ? [span.start ?? extent[0], span.end ?? extent[1]] : extent;
        fit();
        [ui.play, ui.slider, ui.width].forEach((c) => { c.disabled = false; });
        ui.slider.setAttribute('aria-valuetext', '');
        show();
        body.setAttribute('data-timeline', 'paused');
        if (days) play(first);
      }, () => {
        ui.date.hidden = true;
        body.setAttribute('data-timeline', 'failed');
        state.set({ play: null }, 'play');
      });
    },
  };
}
