//! The map pages: the viewer (`GET /` for browsers), `/embed` for iframes, the desk editor's
//! page (`/edit`), their stylesheets and script modules (`/web/{version}/main.js`,
//! `/web/{version}/edit.js` and the modules they import, compiled into the binary from
//! `src/web/`), and Leaflet itself when it is served from a local directory (`/web/leaflet/...`).
//!
//! Leaflet is a dependency, not part of the repository. By default a page loads Leaflet
//! 1.9.4 from a pinned CDN URL with Subresource Integrity hashes, so a changed file
//! is refused by the browser; `--leaflet-dir` serves it from a local copy instead, for sites that
//! load no third-party script. Bundling it into the binary was rejected: it would put 160 kB of
//! someone else's code into this repository's build and its updates on this project.
//!
//! A page gets its settings as one JSON document in a `<script type="application/json">`
//! element, escaped so that no value can close the element; the page runs no inline script, so
//! the Content-Security-Policy forbids inline script altogether. `/embed` may be framed by any
//! site (`frame-ancestors *`); the viewer may not be framed (`frame-ancestors 'none'`): it is the
//! full page, and `/embed` is the page made for frames. Nor may the editor's page, which holds
//! the write token while its tab lives: a frame would let another site overlay it and steer the
//! editor's clicks.
//!
//! The editor's page is made of the public API alone: it reads and writes events through
//! `/collections/events/...` with the token the editor types (sent only in the `Authorization`
//! header of its writes), so the server has no route of its own for it beyond the page.

mod assets;
pub(super) mod html;
mod maplibre;
pub(crate) mod params;

use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use self::assets::{EDIT_HTML, LEAFLET_CDN, PAGE_HTML, asset_version, leaflet_tags};
pub use self::assets::{asset, leaflet_file};
use self::html::{escape, fill, json_for_script};
pub use self::maplibre::{maplibre_file, rtl_text_file};
use self::params::{MAP_LAYERS, View};
use super::{AppState, query_pairs};
use crate::events::{DatePrecision, EventKind, LocationPrecision};
use crate::layer::Layer;
use crate::mvt::{self, EventLegend};
use crate::style::{Color, Icon, kind_style};
use crate::tile::TileCoord;

/// Which page: the full viewer, the page for iframes, or the desk editor's page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Viewer,
    Embed,
    Edit,
}

impl Page {
    fn name(self) -> &'static str {
        match self {
            Page::Viewer => "viewer",
            Page::Embed => "embed",
            Page::Edit => "edit",
        }
    }

    /// The module the page starts from.
    fn entry(self) -> &'static str {
        if self == Page::Edit { "edit.js" } else { "main.js" }
    }
}

/// The viewer, `GET /` for browsers; the view comes from the same parameters as `/embed`.
pub fn viewer(state: &AppState, pairs: &[(String, String)]) -> Response {
    page(state, Page::Viewer, pairs)
}

/// `GET /embed?layers=&lat=&lon=&zoom=&from=&to=&kind=`.
pub async fn embed(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    // A query that is not even URL encoding still gets the default map, not a JSON error
    // inside someone's article.
    page(&state, Page::Embed, &query_pairs(q.as_deref()).unwrap_or_default())
}

/// `GET /edit?lat=&lon=&zoom=`: the desk editor's page.
pub async fn edit(State(state): State<AppState>, RawQuery(q): RawQuery) -> Response {
    page(&state, Page::Edit, &query_pairs(q.as_deref()).unwrap_or_default())
}

fn page(state: &AppState, which: Page, pairs: &[(String, String)]) -> Response {
    let c = &state.catalog;
    let view = View::parse(pairs, c, state.config.tiles.max_zoom);
    let local = state.config.server.leaflet_dir.is_some();
    let config = page_config(state, which, &view);
    // The vector view brings MapLibre instead of Leaflet, in the same slots.
    let (lib_css, lib_js) = if view.vector { maplibre::maplibre_tags(&state.config) } else { leaflet_tags(local) };
    let html = fill(
        if which == Page::Edit { EDIT_HTML } else { PAGE_HTML },
        &[
            ("title", escape(&c.title)),
            ("description", escape(&c.description)),
            ("page", which.name().to_owned()),
            ("leaflet_css", lib_css),
            ("leaflet_js", lib_js),
            ("version", asset_version().to_owned()),
            ("module_preloads", module_preloads(which.entry())),
            ("config", json_for_script(&config)),
            ("noscript_tiles", noscript_tiles(state)),
        ],
    );
    let mut headers = HeaderMap::new();
    let mut set = |name: header::HeaderName, value: &str| {
        if let Ok(v) = HeaderValue::from_str(value) {
            headers.insert(name, v);
        }
    };
    set(header::CONTENT_TYPE, "text/html; charset=utf-8");
    let policy = match view.vector {
        true => maplibre::vector_csp(&state.config, if which == Page::Embed { "*" } else { "'none'" }),
        false => csp(which, local),
    };
    set(header::CONTENT_SECURITY_POLICY, &policy);
    set(header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(header::REFERRER_POLICY, "strict-origin-when-cross-origin");
    set(header::CACHE_CONTROL, "no-cache");
    set(header::VARY, "Accept");
    if which != Page::Embed {
        set(header::X_FRAME_OPTIONS, "DENY");
    }
    (headers, html).into_response()
}

/// A `<link rel="modulepreload">` for each module the entry imports, directly or not: the
/// browser fetches them all at once rather than one level of imports after another (main.js,
/// then events.js, then popup.js...), and a page preloads none of another page's modules.
fn module_preloads(entry: &str) -> String {
    let v = asset_version();
    imported_by(entry)
        .iter()
        .filter(|name| **name != entry)
        .map(|name| format!("<link rel=\"modulepreload\" href=\"/web/{v}/{name}\">"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The modules `entry` reaches through its static imports (`... from './x.js'`), itself
/// included, in the order of [`assets::ASSETS`].
fn imported_by(entry: &str) -> Vec<&'static str> {
    let mut reached = vec![entry];
    let mut i = 0;
    while let Some(&name) = reached.get(i) {
        let body = assets::ASSETS.iter().find(|(n, ..)| *n == name).map_or("", |(_, _, b)| *b);
        for import in body.lines().filter_map(|l| l.split(" from './").nth(1)) {
            let file = import.split('\'').next().unwrap_or_default();
            if let Some((n, ..)) = assets::ASSETS.iter().find(|(n, ..)| *n == file)
                && !reached.contains(n)
            {
                reached.push(n);
            }
        }
        i += 1;
    }
    assets::ASSETS.iter().map(|(n, ..)| *n).filter(|n| reached.contains(n)).collect()
}

/// The Content-Security-Policy of a page: its own origin, plus exactly the CDN path of Leaflet
/// when Leaflet comes from there; no inline script, no plugins, no forms, no `<base>`.
fn csp(which: Page, local: bool) -> String {
    let lib = if local { String::new() } else { format!(" {LEAFLET_CDN}") };
    let frames = if which == Page::Embed { "*" } else { "'none'" };
    format!(
        "default-src 'none'; script-src 'self'{lib}; style-src 'self'{lib}; img-src 'self' data:{lib}; \
connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors {frames}"
    )
}

/// Everything the page script needs, as JSON.
fn page_config(state: &AppState, which: Page, view: &View) -> Value {
    let c = &state.catalog;
    let center = c.center();
    let (lon, lat) = (center.position.lon, center.position.lat);
    let max_zoom = state.config.tiles.max_zoom;
    let default_zoom = center.zoom.min(max_zoom);
    let shown: Vec<&Layer> = match &view.data_layers {
        Some(ids) => c.layers().iter().filter(|l| ids.contains(&l.meta.id)).collect(),
        None => c.layers().iter().collect(),
    };
    let show = view.show.unwrap_or([true; 3]);
    let mut config = json!({
        "page": which.name(),
        "title": c.title,
        "publicUrl": state.config.server.public_url.as_ref().map(crate::config::PublicUrl::as_str),
        "defaults": { "lat": lat, "lon": lon, "zoom": default_zoom },
        "view": {
            "lat": view.lat.unwrap_or(lat),
            "lon": view.lon.unwrap_or(lon),
            "zoom": view.zoom.unwrap_or(default_zoom),
            "from": view.from,
            "to": view.to,
            "kinds": view.kinds,
            "show": MAP_LAYERS.iter().zip(show).map(|(k, on)| (k.to_string(), Value::Bool(on))).collect::<serde_json::Map<_, _>>(),
            "dataLayers": view.data_layers,
            "play": view.play,
            "renderer": if view.vector { "vector" } else { "raster" },
        },
        "rtlPlugin": view.vector.then(|| maplibre::rtl_plugin(&state.config)),
        "maxZoom": max_zoom,
        "attribution": c.attribution(shown.iter().copied()),
        "layers": shown.iter().map(|l| legend_entry(l)).collect::<Vec<_>>(),
        "events": {
            "kinds": EventKind::ALL.iter().map(|&k| {
                json!({ "id": k.as_str(), "label": kind_label(k), "icon": mvt::event_icon(k), "color": hex(kind_style(k).1) })
            }).collect::<Vec<_>>(),
            "legend": EventLegend::ALL.iter().map(|&e| {
                let (label, note) = event_legend_text(e);
                json!({ "label": label, "note": note, "icons": names(e.icons()) })
            }).collect::<Vec<_>>(),
        },
        "notes": view.notes,
        "images": c.images.iter().map(|i| image_entry(&i.meta, max_zoom)).collect::<Vec<_>>(),
    });
    if which == Page::Edit {
        config["editor"] = editor_config(state);
    }
    config
}

/// What the editor's form needs of the event model, so that the page never holds a second
/// copy of it: the accepted values of the closed fields (the kinds are in `events`), the size
/// of a batch, and whether this server takes writes at all (it says so before the editor types
/// anything). The page checks no field itself: the server's 422 names each problem.
fn editor_config(state: &AppState) -> Value {
    json!({
        "writes": state.config.events.write_token.is_some(),
        "maxBatch": state.config.events.max_batch,
        "locationPrecision": LocationPrecision::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
        "datePrecision": DatePrecision::ALL.iter().map(|p| p.as_str()).collect::<Vec<_>>(),
    })
}

/// A georeferenced image overlay for the page: its tiles, zooms, bounds, credit and the
/// opacity its slider starts at.
fn image_entry(m: &crate::imagery::ImageMeta, max_zoom: u8) -> Value {
    json!({
        "id": m.id, "title": m.title, "attribution": m.attribution, "opacity": m.opacity,
        "minZoom": m.minzoom.min(max_zoom), "maxZoom": m.maxzoom.min(max_zoom), "bounds": m.bounds.to_array(),
    })
}

/// One layer of the legend: its id, title, note, and the names of its swatches in the sprite
/// (`/sprites/tessera.json`), one per style in use.
fn legend_entry(l: &Layer) -> Value {
    let icons = names(mvt::layer_legend(l));
    json!({ "id": l.meta.id, "title": l.meta.title, "note": l.meta.note, "minzoom": l.meta.minzoom, "icons": icons })
}

fn names(icons: Vec<(String, Icon)>) -> Vec<String> {
    icons.into_iter().map(|(name, _)| name).collect()
}

/// The words of an item of the events' legend: its label and what it means.
fn event_legend_text(e: EventLegend) -> (&'static str, &'static str) {
    match e {
        EventLegend::Size => ("Size", "Bigger symbols: more people killed and injured."),
        EventLegend::Cluster => (
            "Cluster",
            "Several events close together, with their count; a red halo when people were killed or injured. Tap or click for the list.",
        ),
        EventLegend::Region => (
            "Somewhere in the region",
            "A soft disc with a dashed rim: the event is only known to have happened in the region; its point does not locate it. Several in one place show their count.",
        ),
    }
}

fn kind_label(k: EventKind) -> &'static str {
    match k {
        EventKind::Airstrike => "Air strike",
        EventKind::Shelling => "Shelling",
        EventKind::GroundClash => "Ground fighting",
        EventKind::Casualties => "Casualties",
        EventKind::Displacement => "Displacement",
        EventKind::HospitalHit => "Hospital hit",
        EventKind::Talks => "Talks",
        EventKind::Statement => "Statement",
        EventKind::Agreement => "Agreement",
        EventKind::Other => "Other",
    }
}

/// `#rrggbbaa`.
fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a)
}

/// For browsers without script: the 3x3 tiles around the default view.
fn noscript_tiles(state: &AppState) -> String {
    let c = &state.catalog;
    let center = c.center();
    let z = center.zoom.min(state.config.tiles.max_zoom);
    let Ok(centre) = TileCoord::containing(center.position.to_world(), z) else {
        return String::new();
    };
    let n = 1i64 << z;
    let mut out = String::new();
    for dy in -1i64..=1 {
        for dx in -1i64..=1 {
            let (x, y) = (i64::from(centre.x()) + dx, i64::from(centre.y()) + dy);
            if (0..n).contains(&x) && (0..n).contains(&y) {
                out.push_str(&format!(
                    "<img src=\"/tiles/{z}/{x}/{y}.png\" srcset=\"/tiles/{z}/{x}/{y}@2x.png 2x\" width=\"256\" height=\"256\" alt=\"tile {z}/{x}/{y}\">"
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_exactly_leaflets_cdn_path_and_frames_only_the_embed() {
        let viewer = csp(Page::Viewer, false);
        assert!(viewer.contains("script-src 'self' https://unpkg.com/leaflet@1.9.4/dist/;"), "{viewer}");
        assert!(viewer.contains("frame-ancestors 'none'") && !viewer.contains("unsafe"));
        let embed = csp(Page::Embed, true);
        assert!(embed.contains("script-src 'self';") && embed.contains("frame-ancestors *"), "{embed}");
        assert_eq!(csp(Page::Edit, false), viewer, "the editor's page has the viewer's policy");
    }

    #[test]
    fn every_module_import_is_a_served_file_and_every_file_in_src_web_is_served() {
        use std::collections::BTreeSet;
        let served: BTreeSet<&str> = assets::ASSETS.iter().map(|(n, ..)| *n).collect();
        // The entries and the stylesheets the templates link, then every module they import.
        let mut reached = BTreeSet::from(["main.js", "edit.js"]);
        for template in [PAGE_HTML, EDIT_HTML] {
            for link in template.split("href=\"/web/{{version}}/").skip(1) {
                reached.extend(served.iter().filter(|n| link.starts_with(&format!("{n}\""))));
            }
        }
        for (name, _, body) in assets::ASSETS {
            for import in body.lines().filter_map(|l| l.split(" from './").nth(1)) {
                let file = import.split('\'').next().unwrap_or_default();
                assert!(served.contains(file), "{name} imports {file}, which is not served");
                reached.insert(file);
            }
        }
        assert_eq!(reached, served, "a served file that nothing imports");
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
        let on_disk: BTreeSet<String> = std::fs::read_dir(dir)
            .map(|d| d.filter_map(|e| e.ok()?.file_name().into_string().ok()).collect())
            .unwrap_or_default();
        let on_disk: BTreeSet<&str> = on_disk.iter().map(String::as_str).filter(|n| !n.ends_with(".html")).collect();
        assert_eq!(on_disk, served, "src/web/ and the served files differ");
        assert!(PAGE_HTML.contains("<script type=\"module\" src=\"/web/{{version}}/main.js\"></script>"));
        assert!(EDIT_HTML.contains("<script type=\"module\" src=\"/web/{{version}}/edit.js\"></script>"));
    }

    #[test]
    fn each_page_preloads_exactly_the_modules_its_entry_imports() {
        let viewer = imported_by("main.js");
        let editor = imported_by("edit.js");
        assert!(viewer.contains(&"timeline.js") && !viewer.iter().any(|n| n.starts_with("edit")), "{viewer:?}");
        assert!(editor.contains(&"edit-form.js") && !editor.contains(&"main.js") && !editor.contains(&"timeline.js"));
        let all: Vec<&str> = assets::ASSETS.iter().map(|(n, ..)| *n).filter(|n| n.ends_with(".js")).collect();
        assert!(all.iter().all(|n| viewer.contains(n) || editor.contains(n)), "a module no page imports");
        for (entry, modules) in [("main.js", viewer), ("edit.js", editor)] {
            let preloads = module_preloads(entry);
            assert_eq!(preloads.lines().count(), modules.len() - 1, "{preloads}");
            assert!(
                modules.iter().filter(|m| **m != entry).all(|m| preloads.contains(&format!("/{m}\""))),
                "{preloads}"
            );
        }
    }

    #[test]
    fn the_pages_have_every_slot_filled() {
        for slot in ["title", "page", "leaflet_css", "leaflet_js", "version", "module_preloads", "config"] {
            assert!(EDIT_HTML.contains(&format!("{{{{{slot}}}}}")), "edit.html: {slot}");
        }
        for slot in [
            "title",
            "description",
            "page",
            "leaflet_css",
            "leaflet_js",
            "version",
            "module_preloads",
            "config",
            "noscript_tiles",
        ] {
            assert!(PAGE_HTML.contains(&format!("{{{{{slot}}}}}")), "{slot}");
        }
    }
}
