// "Embed this map": the <iframe> code of the view as it is, with a copy button.
import { $, escapeHtml } from './dom.js';
import { viewParams } from './urls.js';

/** The <iframe> code that shows this view on another site. */
export function embedCode(cfg, map, state) {
  const src = `${cfg.base}/embed?${viewParams(map, state)}`;
  return `<iframe src="${escapeHtml(src)}" title="${escapeHtml(cfg.title)}" width="100%" height="480" ` +
    'style="border:0" loading="lazy" allowfullscreen></iframe>';
}

function copy(code) {
  const done = () => { $('embed-copied').textContent = 'Copied.'; };
  code.select();
  if (navigator.clipboard && navigator.clipboard.writeText) {
    navigator.clipboard.writeText(code.value).then(done, () => { document.execCommand('copy'); done(); });
  } else {
    document.execCommand('copy');
    done();
  }
}

/** Wires the dialog; returns a function that refreshes its code when it is open. */
export function wireEmbed(cfg, map, state) {
  const dialog = $('embed-dialog'), code = $('embed-code'), open = $('embed-open');
  open.addEventListener('click', () => {
    code.value = embedCode(cfg, map, state);
    dialog.hidden = false;
    open.setAttribute('aria-expanded', 'true');
    code.focus();
    code.select();
  });
  $('embed-close').addEventListener('click', () => {
    dialog.hidden = true;
    open.setAttribute('aria-expanded', 'false');
    open.focus();
  });
  $('embed-copy').addEventListener('click', () => copy(code));
  return () => { if (!dialog.hidden) code.value = embedCode(cfg, map, state); };
}
