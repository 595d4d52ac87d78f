// Swatches from the server's sprite (/sprites/tessera{,@2x}.{json,png}), drawn by the code that
// draws the tiles and the overlay: a swatch is a canvas named by data-icon, painted with its
// cell of the sheet once the sheet has loaded.
import { el } from './dom.js';
import { isNum } from './checks.js';

/** Tallest swatch, CSS px: larger cells are scaled down to it. */
const SWATCH_MAX_PX = 32;

function loadImage(src) {
  return new Promise((resolve, reject) => {
    const img = new Image();
    img.onload = () => resolve(img);
    img.onerror = reject;
    img.src = src;
  });
}

/** The sheet for this screen's density: { index, image }. */
export async function loadSprite() {
  const base = window.devicePixelRatio >= 1.5 ? '/sprites/tessera@2x' : '/sprites/tessera';
  const response = await fetch(`${base}.json`);
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  const [index, image] = await Promise.all([response.json(), loadImage(`${base}.png`)]);
  return { index, image };
}

/** An empty swatch for the icon `name`. */
export function swatch(name) {
  return el('canvas', { class: 'swatch', 'data-icon': name, 'aria-hidden': 'true', width: '1', height: '1' });
}

/** Paints a swatch with its cell, pixel for pixel, at its CSS size (at most SWATCH_MAX_PX high). */
export function paint(canvas, sprite) {
  const cell = sprite.index[canvas.getAttribute('data-icon')];
  if (!cell || !isNum(cell.width, 1, 4096) || !isNum(cell.height, 1, 4096)) return;
  const ratio = isNum(cell.pixelRatio, 1, 4) ? cell.pixelRatio : 1;
  const fit = Math.min(1, (SWATCH_MAX_PX * ratio) / cell.height);
  canvas.width = cell.width;
  canvas.height = cell.height;
  canvas.style.width = `${(cell.width * fit) / ratio}px`;
  canvas.style.height = `${(cell.height * fit) / ratio}px`;
  canvas.getContext('2d').drawImage(sprite.image, cell.x, cell.y, cell.width, cell.height, 0, 0, cell.width, cell.height);
}

/** Paints every swatch under `root`; the legend keeps its words if the sheet fails to load. */
export async function paintAll(root) {
  try {
    const sprite = await loadSprite();
    root.querySelectorAll('canvas[data-icon]').forEach((c) => paint(c, sprite));
    document.body.setAttribute('data-legend-painted', 'true');
  } catch {
    document.body.setAttribute('data-legend-painted', 'failed');
  }
}
