// Building the page with DOM calls only. Nothing from a URL, the settings or an event is ever
// written as HTML: text goes in with textContent; the one string Leaflet takes as HTML (the
// attribution) goes through escapeHtml.

/** The element with this id. */
export function $(id) {
  return document.getElementById(id);
}

/** A new element with string attributes and, optionally, text. */
export function el(tag, attrs, text) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
  if (text !== undefined && text !== null) e.textContent = String(text);
  return e;
}

const ENTITIES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(s) {
  return String(s).replace(/[&<>"']/g, (c) => ENTITIES[c]);
}
