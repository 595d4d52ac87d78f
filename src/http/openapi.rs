//! The API definition: an OpenAPI 3.0 document of every route (`/openapi.json`, and `/api`
//! for JSON clients), and the same document as a page for people (`/api` in a browser, or
//! `?f=html`). The landing page links them as `service-desc` and `service-doc`.
//!
//! The document is built here, at request time, from the catalog (layer ids become enums),
//! the settings (zoom and `limit` bounds, batch size) and the event model's schema, so that it
//! cannot fall behind the data or the limits. The routes themselves live in the router
//! (`super::routes`); a unit test below checks that each route in the router is described here
//! and each path described here is routed, and an integration test calls every operation of
//! the document to check that its methods are the router's. Writing the paths by hand rather
//! than deriving them from handler annotations (utoipa) was chosen to keep the handlers as they
//! are: the tests hold the two together instead.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::pages::{self, Format};
use super::query::Query;
use super::{ApiError, AppState, schema};
use crate::events::EventKind;
use crate::tile::MAX_LATITUDE;

/// The media type of an OpenAPI 3.0 document in JSON (OGC API - Features, `oas30`).
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";

/// `GET /openapi.json`: the OpenAPI document.
pub async fn openapi_json(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["f"], "/openapi.json")?;
    super::features::json_only(q.pairs())?;
    Ok(json_answer(document(&state, &state.base_url(&headers))))
}

/// `GET /api`: the OpenAPI document for JSON clients, the page for browsers (`f=json|html`).
pub async fn api(State(state): State<AppState>, headers: HeaderMap, q: Query) -> Result<Response, ApiError> {
    q.only(&["f"], "/api")?;
    let base = state.base_url(&headers);
    let doc = document(&state, &base);
    Ok(match pages::negotiate(q.pairs(), &headers)? {
        Format::Html => pages::api(&doc, &base),
        Format::Json => {
            let mut r = json_answer(doc);
            r.headers_mut().insert(header::VARY, HeaderValue::from_static("Accept"));
            r
        }
    })
}

fn json_answer(doc: Value) -> Response {
    let mut r = Json(doc).into_response();
    r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(OPENAPI_JSON));
    r
}

/// The whole document, with `base` as its server.
pub fn document(state: &AppState, base: &str) -> Value {
    let c = &state.catalog();
    let images: Vec<&str> = c.images.iter().map(|i| i.meta.id.as_str()).collect();
    let s = &state.config;
    let layer_ids: Vec<&str> = c.layers().iter().map(|l| l.meta.id.as_str()).collect();
    let mut collection_ids = layer_ids.clone();
    collection_ids.push("events");
    let mut vector_ids = layer_ids.clone();
    vector_ids.extend(["labels", "events"]);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": c.title,
            "version": env!("CARGO_PKG_VERSION"),
            "description": format!(
                "{} Served by tessera: raster and vector tiles (XYZ, Web Mercator), TileJSON, a MapLibre style, \
    OGC API - Features for the data layers and the event store, and writes to the events. \
    JSON routes refuse a parameter they do not take (400 invalid_parameter naming it); tile images ignore unknown \
    parameters, so that cache-busters work. A method a route does not take is 405 method_not_allowed. Every error \
    is JSON: {{code, description, status}}.",
                c.description
            ),
            "license": { "name": "See each layer's licence in /collections" },
        },
        "servers": [{ "url": base }],
        "tags": [
            { "name": "OGC API - Features" }, { "name": "Events" }, { "name": "Tiles" }, { "name": "Archives" },
            { "name": "Static maps" }, { "name": "Pages" }, { "name": "Operations" },
        ],
        "paths": paths(),
        "components": {
            "parameters": parameters(state, &layer_ids, &collection_ids, &vector_ids, &images),
            "responses": responses(),
            "schemas": schemas(s.events.max_batch),
            "securitySchemes": {
                "bearer": {
                    "type": "http", "scheme": "bearer",
                    "description": "The write token the server was started with (TESSERA_WRITE_TOKEN); with none, every write is 403 writes_disabled",
                },
            },
        },
    })
}

fn param(name: &str) -> Value {
    json!({ "$ref": format!("#/components/parameters/{name}") })
}

fn response(name: &str) -> Value {
    json!({ "$ref": format!("#/components/responses/{name}") })
}

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}

/// The answers every operation may give, whatever it is: the request limits and failures.
const COMMON_ERRORS: [(&str, &str); 5] = [
    ("408", "RequestTimeout"),
    ("414", "UriTooLong"),
    ("431", "HeadersTooLarge"),
    ("500", "Internal"),
    ("503", "Unavailable"),
];

/// A successful answer: status, description, and its media types with their schemas.
type Answer<'a> = (&'a str, &'a str, Vec<(&'a str, Value)>);

/// One operation: its id, tag, summary, parameters, its successful answers (status, description,
/// media types and schemas) and the error answers it adds to the common ones.
struct Op<'a> {
    id: &'a str,
    tag: &'a str,
    summary: &'a str,
    params: &'a [&'a str],
    ok: Vec<Answer<'a>>,
    errors: &'a [(&'a str, &'a str)],
}

impl Op<'_> {
    fn build(self) -> Value {
        let mut responses = Map::new();
        for (status, description, media) in self.ok {
            let mut r = json!({ "description": description });
            if !media.is_empty() {
                let content: Map<String, Value> =
                    media.into_iter().map(|(t, s)| (t.to_owned(), json!({ "schema": s }))).collect();
                r["content"] = Value::Object(content);
            }
            responses.insert(status.to_owned(), r);
        }
        for (status, name) in self.errors.iter().chain(COMMON_ERRORS.iter()) {
            responses.insert((*status).to_owned(), response(name));
        }
        json!({
            "operationId": self.id,
            "tags": [self.tag],
            "summary": self.summary,
            "parameters": self.params.iter().map(|p| param(p)).collect::<Vec<_>>(),
            "responses": responses,
        })
    }
}

fn get(op: Op) -> Value {
    json!({ "get": op.build() })
}

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const HTML: &str = "text/html";
const PNG: &str = "image/png";
const PROMETHEUS: &str = "text/plain; version=0.0.4";

fn binary() -> Value {
    json!({ "type": "string", "format": "binary" })
}

fn html() -> Value {
    json!({ "type": "string" })
}

fn not_modified<'a>() -> Answer<'a> {
    ("304", "Not modified: the If-None-Match ETag is current", vec![])
}

/// The errors of a request whose parameters may be wrong.
const BAD: [(&str, &str); 1] = [("400", "BadRequest")];
/// The errors of a request whose parameters may be wrong or whose object may not exist.
const BAD_OR_MISSING: [(&str, &str); 2] = [("400", "BadRequest"), ("404", "NotFound")];

/// Every path and operation. Each router path maps to one entry here, or to several where one
/// route serves several file names (`{y}.png`, `{y}@2x.png`, `{y}.mvt`).
fn paths() -> Value {
    let mut p = Map::new();
    let mut add = |path: &str, item: Value| {
        p.insert(path.to_owned(), item);
    };
    ogc_paths(&mut add);
    event_paths(&mut add);
    tile_paths(&mut add);
    page_paths(&mut add);
    Value::Object(p)
}

/// The OGC API - Features routes of the data layers: landing page, API definition, conformance, collections, queryables, items.
fn ogc_paths(add: &mut impl FnMut(&str, Value)) {
    add(
        "/",
        get(Op {
            id: "getLandingPage",
            tag: "OGC API - Features",
            summary: "The landing page (JSON) for clients; the map viewer for browsers (Accept: text/html or f=html)",
            params: &[
                "fHtml",
                "viewLat",
                "viewLon",
                "viewZoom",
                "viewFrom",
                "viewTo",
                "viewKind",
                "viewLayers",
                "viewPlay",
                "viewRenderer",
            ],
            ok: vec![(
                "200",
                "The landing page, or the viewer",
                vec![(JSON, schema_ref("LandingPage")), (HTML, html())],
            )],
            errors: &BAD,
        }),
    );
    add(
        "/api",
        get(Op {
            id: "getApi",
            tag: "OGC API - Features",
            summary: "This API definition: OpenAPI 3.0 for clients, a page for browsers",
            params: &["fHtml"],
            ok: vec![(
                "200",
                "The API definition",
                vec![(super::openapi::OPENAPI_JSON, schema_ref("OpenApi")), (HTML, html())],
            )],
            errors: &BAD,
        }),
    );
    add(
        "/openapi.json",
        get(Op {
            id: "getOpenApi",
            tag: "OGC API - Features",
            summary: "This API definition, OpenAPI 3.0 in JSON",
            params: &["fJson"],
            ok: vec![("200", "The API definition", vec![(super::openapi::OPENAPI_JSON, schema_ref("OpenApi"))])],
            errors: &BAD,
        }),
    );
    add(
        "/conformance",
        get(Op {
            id: "getConformance",
            tag: "OGC API - Features",
            summary: "The conformance classes this API implements",
            params: &["fHtml"],
            ok: vec![("200", "The conformance classes", vec![(JSON, schema_ref("Conformance")), (HTML, html())])],
            errors: &BAD,
        }),
    );
    add(
        "/collections",
        get(Op {
            id: "getCollections",
            tag: "OGC API - Features",
            summary: "Every data layer, and the events, as collections",
            params: &["fHtml"],
            ok: vec![("200", "The collections", vec![(JSON, schema_ref("Collections")), (HTML, html())])],
            errors: &BAD,
        }),
    );
    add(
        "/collections/{collectionId}",
        get(Op {
            id: "getCollection",
            tag: "OGC API - Features",
            summary: "One data layer: title, description, credits, licence, extent, links",
            params: &["collectionId", "fHtml"],
            ok: vec![("200", "The collection", vec![(JSON, schema_ref("Collection")), (HTML, html())]), not_modified()],
            errors: &BAD_OR_MISSING,
        }),
    );
    add(
        "/collections/events",
        get(Op {
            id: "getEventsCollection",
            tag: "Events",
            summary: "The events collection, with the extent of the stored events (where and when)",
            params: &["fHtml"],
            ok: vec![("200", "The collection", vec![(JSON, schema_ref("Collection")), (HTML, html())])],
            errors: &BAD,
        }),
    );
    add(
        "/collections/{collectionId}/queryables",
        get(Op {
            id: "getQueryables",
            tag: "OGC API - Features",
            summary: "The properties of a collection's features, as a JSON Schema (OGC API - Features Part 3): inferred from the data for layers, the event model for events",
            params: &["anyCollectionId", "fJson"],
            ok: vec![
                ("200", "The queryables", vec![("application/schema+json", schema_ref("Queryables"))]),
                not_modified(),
            ],
            errors: &BAD_OR_MISSING,
        }),
    );
    add(
        "/collections/{collectionId}/items",
        get(Op {
            id: "getFeatures",
            tag: "OGC API - Features",
            summary: "A data layer's features, paged in file order",
            params: &["collectionId", "bbox", "datetimeNoTime", "limit", "offset", "fJson"],
            ok: vec![
                (
                    "200",
                    "A page of features, with numberMatched, numberReturned and next/prev links",
                    vec![(GEOJSON, schema_ref("FeatureCollection"))],
                ),
                not_modified(),
            ],
            errors: &BAD_OR_MISSING,
        }),
    );
    add(
        "/collections/{collectionId}/items/{featureId}",
        get(Op {
            id: "getFeature",
            tag: "OGC API - Features",
            summary: "One feature of a data layer",
            params: &["collectionId", "featureId", "fJson"],
            ok: vec![("200", "The feature", vec![(GEOJSON, schema_ref("Feature"))]), not_modified()],
            errors: &BAD_OR_MISSING,
        }),
    );
}

/// The events collection: its items, and writing them.
fn event_paths(add: &mut impl FnMut(&str, Value)) {
    add(
        "/collections/events/items",
        json!({
            "get": Op {
                id: "getEvents", tag: "Events", summary: "The events, ordered by start time then id",
                params: &["bbox", "datetime", "kind", "ids", "limit", "offset", "fJson"],
                ok: vec![
                    ("200", "A page of events", vec![(GEOJSON, schema_ref("EventCollection"))]),
                    not_modified(),
                ],
                errors: &BAD,
            }.build(),
            "post": write(Op {
                id: "createEvents", tag: "Events",
                summary: "Adds an event (201 with Location and ETag), or a batch of events as a FeatureCollection, all or nothing",
                params: &[],
                ok: vec![("201", "Created: the event, or the batch as a FeatureCollection", vec![(GEOJSON, json!({ "oneOf": [schema_ref("Event"), schema_ref("EventCollection")] }))])],
                errors: &[
                    ("400", "InvalidJson"), ("401", "Unauthorized"), ("403", "WritesDisabled"), ("409", "Conflict"),
                    ("413", "PayloadTooLarge"), ("415", "UnsupportedMediaType"), ("422", "InvalidEvent"),
                ],
            }, json!({
                "description": "A GeoJSON Feature, or a FeatureCollection of them (a batch)",
                "required": true,
                "content": {
                    GEOJSON: { "schema": { "oneOf": [schema_ref("EventInput"), schema_ref("EventBatch")] } },
                    JSON: { "schema": { "oneOf": [schema_ref("EventInput"), schema_ref("EventBatch")] } },
                },
            })),
        }),
    );
    let changes = [
        ("400", "InvalidJson"),
        ("401", "Unauthorized"),
        ("403", "WritesDisabled"),
        ("404", "NotFound"),
        ("412", "PreconditionFailed"),
        ("413", "PayloadTooLarge"),
        ("415", "UnsupportedMediaType"),
        ("422", "InvalidEvent"),
        ("428", "PreconditionRequired"),
    ];
    add(
        "/collections/events/items/{featureId}",
        json!({
            "get": Op {
                id: "getEvent", tag: "Events", summary: "One event, with its ETag",
                params: &["eventId", "fJson"],
                ok: vec![("200", "The event", vec![(GEOJSON, schema_ref("Event"))]), not_modified()],
                errors: &BAD_OR_MISSING,
            }.build(),
            "put": write(Op {
                id: "replaceEvent", tag: "Events", summary: "Replaces an event whole",
                params: &["eventId", "ifMatch"],
                ok: vec![("200", "The event as stored, with its new ETag", vec![(GEOJSON, schema_ref("Event"))])],
                errors: &changes,
            }, json!({
                "description": "The whole event, a GeoJSON Feature",
                "required": true,
                "content": { GEOJSON: { "schema": schema_ref("EventInput") }, JSON: { "schema": schema_ref("EventInput") } },
            })),
            "patch": write(Op {
                id: "patchEvent", tag: "Events", summary: "Changes fields of an event (JSON Merge Patch, RFC 7396)",
                params: &["eventId", "ifMatch"],
                ok: vec![("200", "The event as stored, with its new ETag", vec![(GEOJSON, schema_ref("Event"))])],
                errors: &changes,
            }, json!({
                "description": "A JSON Merge Patch of the event's Feature (null removes a field)",
                "required": true,
                "content": { "application/merge-patch+json": { "schema": schema_ref("MergePatch") } },
            })),
            "delete": write(Op {
                id: "deleteEvent", tag: "Events", summary: "Deletes an event",
                params: &["eventId", "ifMatch"],
                ok: vec![("204", "Deleted", vec![])],
                errors: &[
                    ("401", "Unauthorized"), ("403", "WritesDisabled"), ("404", "NotFound"),
                    ("412", "PreconditionFailed"), ("428", "PreconditionRequired"),
                ],
            }, Value::Null),
        }),
    );
}

/// Tiles of every kind, their TileJSON, the style, its sprite and glyphs.
fn tile_paths(add: &mut impl FnMut(&str, Value)) {
    let tile_errors = [("400", "BadRequest"), ("404", "NotFound")];
    let raster: &[&str] = &["z", "x", "y", "layers", "lang"];
    let events: &[&str] = &["z", "x", "y", "datetime", "from", "to", "kind"];
    let image: &[&str] = &["imageId", "z", "x", "y"];
    let (all, transparent): (&[&str], &[&str]) = (&["png", "webp", "jpg"], &["png", "webp"]);
    for (base, id, what, params, formats) in [
        ("/tiles/{z}/{x}/{y}", "getRasterTile", "raster tile", raster, all),
        ("/overlays/events/{z}/{x}/{y}", "getOverlayTile", "transparent tile of the events", events, transparent),
        (
            "/overlays/{imageId}/{z}/{x}/{y}",
            "getImageOverlayTile",
            "transparent tile of a georeferenced image, empty beyond its bounds",
            image,
            transparent,
        ),
    ] {
        for ext in formats {
            for (at, px) in [("", 256), ("@2x", 512)] {
                let (media, name) = match *ext {
                    "webp" => ("image/webp", "Webp"),
                    "jpg" => ("image/jpeg", "Jpeg"),
                    _ => (PNG, ""),
                };
                let op_id = format!("{id}{name}{}", if at.is_empty() { "" } else { "2x" });
                let summary = match at {
                    "" => format!("A {px} px {what} ({ext})"),
                    _ => format!("A {px} px {what}, for high-density screens ({ext})"),
                };
                add(
                    &format!("{base}{at}.{ext}"),
                    get(Op {
                        id: &op_id,
                        tag: "Tiles",
                        summary: &summary,
                        params,
                        ok: vec![("200", "The tile", vec![(media, binary())]), not_modified()],
                        errors: &tile_errors,
                    }),
                );
            }
        }
    }
    add(
        "/overlays/events/{z}/{x}/{y}.json",
        get(Op {
            id: "getOverlayMarkers",
            tag: "Tiles",
            summary: "The markers an overlay tile draws, as GeoJSON: each cluster, event and region area whose position lies in the tile, with its count, colour, reach and lift (CSS px) and the ids of its events",
            params: &["z", "x", "y", "datetime", "from", "to", "kind"],
            ok: vec![("200", "The markers", vec![(GEOJSON, json!({ "type": "object" }))]), not_modified()],
            errors: &tile_errors,
        }),
    );
    add(
        "/overlays",
        get(Op {
            id: "getOverlays",
            tag: "Tiles",
            summary: "Every overlay: the events, and each georeferenced image with its TileJSON, bounds, zooms and opacity",
            params: &[],
            ok: vec![("200", "The overlays", vec![(JSON, schema_ref("Object"))]), not_modified()],
            errors: &BAD,
        }),
    );
    add(
        "/overlays/{imageId}/tiles.json",
        get(Op {
            id: "getImageOverlayTileJson",
            tag: "Tiles",
            summary: "TileJSON 3.0.0 of a georeferenced image overlay",
            params: &["imageId", "overlayFormat"],
            ok: vec![("200", "TileJSON", vec![(JSON, schema_ref("TileJson"))]), not_modified()],
            errors: &BAD_OR_MISSING,
        }),
    );
    add(
        "/tiles/{z}/{x}/{y}.mvt",
        get(Op {
            id: "getVectorTile",
            tag: "Tiles",
            summary: "A Mapbox Vector Tile 2.1: one layer per data layer visible at the zoom, and the events (clustered)",
            params: &["z", "x", "y", "vectorLayers", "datetime", "from", "to", "kind"],
            ok: vec![
                ("200", "The tile", vec![("application/vnd.mapbox-vector-tile", binary())]),
                ("204", "An empty tile", vec![]),
                not_modified(),
            ],
            errors: &tile_errors,
        }),
    );
    add(
        "/tiles.json",
        get(Op {
            id: "getRasterTileJson",
            tag: "Tiles",
            summary: "TileJSON 3.0.0 of the raster tiles; layers and lang are carried into the tile URL, layers narrows the credits and zooms, format chooses the tiles' format",
            params: &["layers", "lang", "tileFormat"],
            ok: vec![("200", "TileJSON", vec![(JSON, schema_ref("TileJson"))]), not_modified()],
            errors: &BAD,
        }),
    );
    add(
        "/tiles/vector.json",
        get(Op {
            id: "getVectorTileJson",
            tag: "Tiles",
            summary: "TileJSON 3.0.0 of the vector tiles; layers narrows vector_layers, the credits and zooms, and every parameter is carried into the tile URL",
            params: &["vectorLayers", "datetime", "from", "to", "kind"],
            ok: vec![("200", "TileJSON with vector_layers", vec![(JSON, schema_ref("TileJson"))]), not_modified()],
            errors: &BAD,
        }),
    );
    add(
        "/style.json",
        get(Op {
            id: "getStyle",
            tag: "Tiles",
            summary: "A MapLibre GL style drawing the vector tiles like the raster tiles, place names (in lang) and cluster counts included; its glyphs are /fonts",
            params: &["lang"],
            ok: vec![("200", "The style", vec![(JSON, schema_ref("Object"))])],
            errors: &BAD,
        }),
    );
    add(
        "/sprites/{file}",
        get(Op {
            id: "getSprite",
            tag: "Tiles",
            summary: "The style's sprite: its index (JSON) and image (PNG), at 1x and 2x",
            params: &["spriteFile"],
            ok: vec![("200", "The sprite file", vec![(JSON, schema_ref("Object")), (PNG, binary())])],
            errors: &[("404", "NotFound")],
        }),
    );
    add(
        "/fonts.json",
        get(Op {
            id: "getFonts",
            tag: "Tiles",
            summary: "The fonts the style's text-font may name (a JSON array of names)",
            params: &[],
            ok: vec![
                ("200", "The font names", vec![(JSON, json!({ "type": "array", "items": { "type": "string" } }))]),
                not_modified(),
            ],
            errors: &BAD,
        }),
    );
    add(
        "/fonts/{fontstack}/{range}.pbf",
        get(Op {
            id: "getGlyphs",
            tag: "Tiles",
            summary: "Signed-distance-field glyphs of 256 code points for MapLibre GL (protobuf llmr.glyphs), each from the first font of the stack that has it",
            params: &["fontStack", "glyphRange"],
            ok: vec![("200", "The glyph range", vec![("application/x-protobuf", binary())]), not_modified()],
            errors: &[("400", "BadRequest"), ("404", "NotFound")],
        }),
    );
}

/// The pages and their files, archives, static maps, health and metrics.
fn page_paths(add: &mut impl FnMut(&str, Value)) {
    add(
        "/embed",
        get(Op {
            id: "getEmbed",
            tag: "Pages",
            summary: "The map for an iframe; a parameter that fails its check is ignored and the page says so",
            params: &[
                "viewLat",
                "viewLon",
                "viewZoom",
                "viewFrom",
                "viewTo",
                "viewKind",
                "viewLayers",
                "viewPlay",
                "viewRenderer",
            ],
            ok: vec![("200", "The page", vec![(HTML, html())])],
            errors: &[],
        }),
    );
    add(
        "/edit",
        get(Op {
            id: "getEditor",
            tag: "Pages",
            summary: "The desk editor's page: events entered, corrected, moved, deleted and imported in the browser through the event API, with the write token typed into the page (never framed)",
            params: &["viewLat", "viewLon", "viewZoom"],
            ok: vec![("200", "The page", vec![(HTML, html())])],
            errors: &[],
        }),
    );
    add(
        "/web/{version}/{file}",
        get(Op {
            id: "getPageFile",
            tag: "Pages",
            summary: "The map pages' stylesheet and script modules, at the version the pages name (cached for a year; another version is 404)",
            params: &["assetVersion", "assetFile"],
            ok: vec![("200", "The file", vec![("text/javascript", html()), ("text/css", html())]), not_modified()],
            errors: &[("404", "NotFound")],
        }),
    );
    add(
        "/web/leaflet/{file}",
        get(Op {
            id: "getLeafletFile",
            tag: "Pages",
            summary: "Leaflet's files, when the server was started with --leaflet-dir (404 otherwise)",
            params: &["leafletFile"],
            ok: vec![("200", "The file", vec![("*/*", binary())])],
            errors: &[("404", "NotFound")],
        }),
    );
    archive_paths(add);
    static_paths(add);
    add(
        "/web/maplibre/{file}",
        get(Op {
            id: "getMapLibreFile",
            tag: "Pages",
            summary: "maplibre-gl.js and maplibre-gl.css for the vector view, when the server was started with --maplibre-dir (404 otherwise)",
            params: &["maplibreFile"],
            ok: vec![("200", "The file", vec![("*/*", binary())])],
            errors: &[("404", "NotFound")],
        }),
    );
    add(
        "/web/rtl-text/{file}",
        get(Op {
            id: "getRtlTextFile",
            tag: "Pages",
            summary: "MapLibre's RTL text plugin (mapbox-gl-rtl-text.js), when the server was started with --rtl-text-dir (404 otherwise)",
            params: &["rtlTextFile"],
            ok: vec![("200", "The file", vec![("*/*", binary())])],
            errors: &[("404", "NotFound")],
        }),
    );
    add(
        "/health",
        get(Op {
            id: "getHealth",
            tag: "Operations",
            summary: "Whether the server is up, and what it holds",
            params: &[],
            ok: vec![("200", "The server's state", vec![(JSON, schema_ref("Health"))])],
            errors: &BAD,
        }),
    );
    add(
        "/metrics",
        get(Op {
            id: "getMetrics",
            tag: "Operations",
            summary: "Prometheus metrics: requests, tiles rendered, the tile cache, event writes, reloads, the process (text format 0.0.4); 404 here when they have an address of their own (metrics_listen)",
            params: &[],
            ok: vec![(
                "200",
                "Every metric, in the Prometheus text format",
                vec![(PROMETHEUS, json!({ "type": "string" }))],
            )],
            errors: &BAD_OR_MISSING,
        }),
    );
}

/// The pre-rendered archives: the list, each archive's TileJSON, its tiles, and a PMTiles file
/// in byte ranges.
fn archive_paths(add: &mut impl FnMut(&str, Value)) {
    add(
        "/archives",
        get(Op {
            id: "getArchives",
            tag: "Archives",
            summary: "Every pre-rendered archive the server was started with (--archive NAME=PATH): format, zooms, bounds, TileJSON and, for PMTiles, the file's URL",
            params: &[],
            ok: vec![("200", "The archives", vec![(JSON, schema_ref("Object"))]), not_modified()],
            errors: &[("400", "BadRequest")],
        }),
    );
    add(
        "/archives/{name}.json",
        get(Op {
            id: "getArchiveTileJson",
            tag: "Archives",
            summary: "TileJSON 3.0.0 of an archive, from its own metadata (vector_layers for vector tiles)",
            params: &["archiveName"],
            ok: vec![("200", "TileJSON", vec![(JSON, schema_ref("TileJson"))]), not_modified()],
            errors: &[("400", "BadRequest"), ("404", "NotFound")],
        }),
    );
    add(
        "/archives/{name}.pmtiles",
        get(Op {
            id: "getArchiveFile",
            tag: "Archives",
            summary: "A PMTiles archive's file, whole or one byte range (Range: bytes=...), for MapLibre's PMTiles protocol or a CDN; several ranges in one request are refused (416)",
            params: &["archiveName", "range", "ifRange"],
            ok: vec![
                ("200", "The whole file", vec![(super::archives::PMTILES, binary())]),
                ("206", "The range asked for, with Content-Range", vec![(super::archives::PMTILES, binary())]),
                not_modified(),
            ],
            errors: &[("404", "NotFound"), ("416", "RangeNotSatisfiable")],
        }),
    );
    for (ext, media) in
        [("png", PNG), ("webp", "image/webp"), ("jpg", "image/jpeg"), ("mvt", "application/vnd.mapbox-vector-tile")]
    {
        let mut ok = vec![("200", "The tile as the archive holds it", vec![(media, binary())]), not_modified()];
        if ext == "mvt" {
            ok.push(("204", "A vector tile the archive does not hold: empty", vec![]));
        }
        add(
            &format!("/archives/{{name}}/{{z}}/{{x}}/{{y}}.{ext}"),
            get(Op {
                id: &format!("getArchiveTile{}", ext[..1].to_ascii_uppercase() + &ext[1..]),
                tag: "Archives",
                summary: &format!(
                    "A tile of an archive of {ext} tiles (another ending is 404 unsupported_format); a tile it does not hold is 404"
                ),
                params: &["archiveName", "z", "x", "y"],
                ok,
                errors: &[("400", "BadRequest"), ("404", "NotFound")],
            }),
        );
    }
}

/// Static map images: a centre and zoom, or a box, at a size, in each format and scale.
fn static_paths(add: &mut impl FnMut(&str, Value)) {
    let params: &[&str] = &["vectorLayers", "lang", "datetime", "from", "to", "kind"];
    for (view, what, view_params) in [
        ("{lon},{lat},{zoom}", "centred on a point at a whole zoom", &["staticLon", "staticLat", "staticZoom"][..]),
        (
            "{west},{south},{east},{north}",
            "fitted to a box (the deepest whole zoom at which it fits)",
            &["west", "south", "east", "north"][..],
        ),
    ] {
        for (ext, media) in [("png", PNG), ("webp", "image/webp"), ("jpg", "image/jpeg")] {
            for at in ["", "@2x"] {
                let all: Vec<&str> =
                    view_params.iter().chain(["width", "height"].iter()).chain(params.iter()).copied().collect();
                let first = if view.starts_with("{lon}") { "Centre" } else { "Box" };
                add(
                    &format!("/static/{view}/{{width}}x{{height}}{at}.{ext}"),
                    get(Op {
                        id: &format!(
                            "getStaticMap{first}{}{}",
                            ext[..1].to_ascii_uppercase() + &ext[1..],
                            if at.is_empty() { "" } else { "2x" }
                        ),
                        tag: "Static maps",
                        summary: &format!(
                            "A static map {what}, width x height CSS px (at most 1280 each{}), the events drawn, the credit in the bottom-right corner",
                            if at.is_empty() { "" } else { "; twice the device pixels" }
                        ),
                        params: &all,
                        ok: vec![("200", "The image", vec![(media, binary())]), not_modified()],
                        errors: &[("400", "BadRequest")],
                    }),
                );
            }
        }
    }
}

/// A write operation: the bearer token, and its request body (none for `Value::Null`).
fn write(op: Op, body: Value) -> Value {
    let mut v = op.build();
    v["security"] = json!([{ "bearer": [] }]);
    if !body.is_null() {
        v["requestBody"] = body;
    }
    v
}

fn query(name: &str, description: &str, schema: Value) -> Value {
    json!({ "name": name, "in": "query", "required": false, "description": description, "schema": schema })
}

/// A comma-separated list (OpenAPI: form style, not exploded).
fn list(name: &str, description: &str, items: Value) -> Value {
    json!({
        "name": name, "in": "query", "required": false, "description": description,
        "style": "form", "explode": false,
        "schema": { "type": "array", "minItems": 1, "items": items },
    })
}

fn path_param(name: &str, description: &str, schema: Value, example: Value) -> Value {
    json!({ "name": name, "in": "path", "required": true, "description": description, "schema": schema, "example": example })
}

fn parameters(
    state: &AppState,
    layer_ids: &[&str],
    collection_ids: &[&str],
    vector_ids: &[&str],
    images: &[&str],
) -> Value {
    let s = &state.config;
    let kinds: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
    let datetime = "An instant, a date, or an interval start/end whose ends may be open (..): 2020-02-18, 2020-02-18T19:30:00Z, 2020-02-01/2020-02-29, 2020-02-01/..";
    let mut view_layers: Vec<&str> = vec!["base", "overlay", "markers"];
    view_layers.extend_from_slice(layer_ids);
    let first_layer = layer_ids.first().copied().unwrap_or("");
    // An empty enum is not a schema: with no images, any id is described (and answers 404).
    let image_ids = match images.is_empty() {
        true => json!({ "type": "string", "pattern": "^[a-z0-9_-]{1,64}$" }),
        false => json!({ "type": "string", "enum": images }),
    };
    let first_image = images.first().copied().unwrap_or("none");
    let mut params = json!({
        "fJson": query("f", "The representation: JSON only", json!({ "type": "string", "enum": ["json"] })),
        "fHtml": query("f", "The representation; without it, browsers (Accept: text/html) get HTML and other clients JSON", json!({ "type": "string", "enum": ["json", "html"] })),
        "bbox": {
            "name": "bbox", "in": "query", "required": false, "style": "form", "explode": false,
            "description": "west,south,east,north in degrees (CRS84), or the six-number form with heights (ignored); west greater than east crosses the antimeridian",
            "schema": { "type": "array", "minItems": 4, "maxItems": 6, "items": { "type": "number" } },
        },
        "datetime": query("datetime", &format!("{datetime}. An event matches when its own time overlaps it."), json!({ "type": "string" })),
        "datetimeNoTime": query("datetime", &format!("{datetime}. The features of data layers have no time: the value is checked, and every feature matches (no temporal filter applies)."), json!({ "type": "string" })),
        "from": query("from", "First day of the events shown (a date or date-time); with to, instead of datetime", json!({ "type": "string" })),
        "to": query("to", "Last day of the events shown (a date or date-time), inclusive", json!({ "type": "string" })),
        "kind": list("kind", "Only these kinds of event", json!({ "type": "string", "enum": kinds })),
        "limit": query("limit", &format!("Items per page; values above {} are lowered to it", s.features.items_max_limit), json!({ "type": "integer", "minimum": 1, "maximum": s.features.items_max_limit, "default": s.features.items_limit })),
        "offset": query("offset", "Items to skip (paging); the next link carries it", json!({ "type": "integer", "minimum": 0, "default": 0 })),
        "layers": list("layers", "Only these layers, drawn in draw order whatever the order of the list; an unknown layer is 400 unknown_layer", json!({ "type": "string", "enum": layer_ids })),
        "vectorLayers": list("layers", "Only these layers, and labels (the names of the data layers chosen) and events beside them; an unknown layer is 400 unknown_layer", json!({ "type": "string", "enum": vector_ids })),
        "lang": query("lang", "Language of the place names: en, ar, both (English above Arabic), or none", json!({ "type": "string", "enum": ["en", "ar", "both", "none"], "default": s.tiles.label_lang.as_str() })),
        "collectionId": path_param("collectionId", "A data layer's id", json!({ "type": "string", "enum": layer_ids }), json!(first_layer)),
        "anyCollectionId": path_param("collectionId", "A collection's id: a data layer, or events", json!({ "type": "string", "enum": collection_ids }), json!("events")),
        "featureId": path_param("featureId", "A feature's id: its GeoJSON id, else its id property, else its index in the file", json!({ "type": "string" }), json!("0")),
        "eventId": path_param("featureId", "An event's id", json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$" }), json!("termanin-strike-desk")),
        "z": path_param("z", "Zoom level", json!({ "type": "integer", "minimum": 0, "maximum": s.tiles.max_zoom }), json!(8)),
        "x": path_param("x", "Column, 0 to 2^z - 1, from the west", json!({ "type": "integer", "minimum": 0 }), json!(154)),
        "y": path_param("y", "Row, 0 to 2^z - 1, from the north", json!({ "type": "integer", "minimum": 0 }), json!(100)),
        "tileFormat": query("format", "Format of the tiles listed: png, webp (lossless) or jpg (JPEG, no transparency)", json!({ "type": "string", "enum": ["png", "webp", "jpg"], "default": "png" })),
        "overlayFormat": query("format", "Format of the tiles listed: png or webp (lossless); overlays are transparent, so not jpg", json!({ "type": "string", "enum": ["png", "webp"], "default": "png" })),
        "imageId": path_param("imageId", "A georeferenced image overlay's id (see /overlays)", image_ids, json!(first_image)),
        "spriteFile": path_param("file", "The sprite file", json!({ "type": "string", "enum": ["tessera.json", "tessera.png", "tessera@2x.json", "tessera@2x.png"] }), json!("tessera.json")),
        "fontStack": path_param("fontstack", "Font names separated by commas, first preferred (see /fonts.json); an unknown font is 404 not_found", json!({ "type": "string" }), json!("Noto Sans Regular,Noto Sans Arabic Regular")),
        "glyphRange": path_param("range", "First and last code point of the range: a multiple of 256, and 255 more", json!({ "type": "string", "pattern": "^[0-9]+-[0-9]+$" }), json!("0-255")),
        "assetVersion": path_param("version", "The version of the pages' files (a hash of them all), as the pages name it", json!({ "type": "string" }), json!("0123456789abcdef")),
        "assetFile": path_param("file", "One of the pages' files (main.js, edit.js, the modules they import, the stylesheets)", json!({ "type": "string" }), json!("main.js")),
        "ids": list("ids", "Only the events with these ids (at most 100)", json!({ "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$" })),
        "leafletFile": path_param("file", "A file of Leaflet's dist directory (leaflet.js, leaflet.css, images/...)", json!({ "type": "string" }), json!("leaflet.js")),
        "ifMatch": {
            "name": "If-Match", "in": "header", "required": true,
            "description": "The event's current ETag (from GET), or * to overwrite whatever is there",
            "schema": { "type": "string" },
        },
        "viewLat": query("lat", "Latitude of the map's centre, degrees (-85 to 85)", json!({ "type": "number", "minimum": -MAX_LATITUDE, "maximum": MAX_LATITUDE })),
        "viewLon": query("lon", "Longitude of the map's centre, degrees", json!({ "type": "number", "minimum": -180, "maximum": 180 })),
        "viewZoom": query("zoom", "Zoom level of the map", json!({ "type": "integer", "minimum": 0, "maximum": s.tiles.max_zoom })),
        "viewFrom": query("from", "First day of events shown, YYYY-MM-DD", json!({ "type": "string", "format": "date" })),
        "viewTo": query("to", "Last day of events shown, YYYY-MM-DD, inclusive", json!({ "type": "string", "format": "date" })),
        "viewKind": list("kind", "Event kinds shown", json!({ "type": "string", "enum": kinds })),
        "viewLayers": list("layers", "Map layers shown: base, overlay, markers, or data layer ids (the base map with those layers only)", json!({ "type": "string", "enum": view_layers })),
    });
    // Outside the json! above, whose size reaches the macro's recursion limit.
    params["maplibreFile"] = path_param(
        "file",
        "maplibre-gl.js or maplibre-gl.css",
        json!({ "type": "string", "enum": ["maplibre-gl.js", "maplibre-gl.css"] }),
        json!("maplibre-gl.js"),
    );
    params["rtlTextFile"] = path_param(
        "file",
        "The plugin's file",
        json!({ "type": "string", "enum": ["mapbox-gl-rtl-text.js"] }),
        json!("mapbox-gl-rtl-text.js"),
    );
    params["viewPlay"] = query(
        "play",
        "The timeline plays from..to (the events' first and last day where either is left out), a window of this many days at a time, a day a step; without it the map shows from..to and waits",
        json!({ "type": "integer", "minimum": 1, "maximum": 366 }),
    );
    params["viewRenderer"] = query(
        "renderer",
        "How the map is drawn: raster (Leaflet over the raster tiles) or vector (MapLibre GL JS over the vector tiles and /style.json)",
        json!({ "type": "string", "enum": ["raster", "vector"], "default": "raster" }),
    );
    if let (Some(all), Value::Object(more)) = (params.as_object_mut(), publish_parameters(s)) {
        all.extend(more);
    }
    params
}

/// The parameters of the archive and static map routes.
fn publish_parameters(s: &crate::config::Config) -> Value {
    json!({
        "archiveName": path_param("name", "An archive's name (see /archives)", json!({ "type": "string", "pattern": "^[a-z0-9_-]{1,64}$" }), json!("idlib")),
        "range": {
            "name": "Range", "in": "header", "required": false,
            "description": "One byte range of the file (bytes=FIRST-LAST, bytes=FIRST- or bytes=-SUFFIX); several in one header are refused with 416",
            "schema": { "type": "string" },
        },
        "ifRange": {
            "name": "If-Range", "in": "header", "required": false,
            "description": "The file's ETag: the range is served only if the file is still that one, else the whole file",
            "schema": { "type": "string" },
        },
        "staticLon": path_param("lon", "Longitude of the image's centre, degrees", json!({ "type": "number", "minimum": -180, "maximum": 180 }), json!(36.817)),
        "staticLat": path_param("lat", "Latitude of the image's centre, degrees (Web Mercator: within 85.0511)", json!({ "type": "number", "minimum": -85.051_128_78, "maximum": 85.051_128_78 }), json!(36.233)),
        "staticZoom": path_param("zoom", "The zoom drawn, a whole number", json!({ "type": "integer", "minimum": 0, "maximum": s.tiles.max_zoom }), json!(12)),
        "west": path_param("west", "West edge of the box to fit, degrees", json!({ "type": "number", "minimum": -180, "maximum": 180 }), json!(35.9)),
        "south": path_param("south", "South edge, degrees", json!({ "type": "number", "minimum": -90, "maximum": 90 }), json!(35.3)),
        "east": path_param("east", "East edge, degrees (greater than west: a box across the antimeridian is refused)", json!({ "type": "number", "minimum": -180, "maximum": 180 }), json!(37.3)),
        "north": path_param("north", "North edge, degrees", json!({ "type": "number", "minimum": -90, "maximum": 90 }), json!(36.4)),
        "width": path_param("width", "Width of the image, CSS px", json!({ "type": "integer", "minimum": 1, "maximum": super::statics::MAX_STATIC_PX }), json!(300)),
        "height": path_param("height", "Height of the image, CSS px", json!({ "type": "integer", "minimum": 1, "maximum": super::statics::MAX_STATIC_PX }), json!(200)),
    })
}

/// The error answers, each with the error schema and the codes it carries.
fn responses() -> Value {
    let err = |description: &str| json!({ "description": description, "content": { JSON: { "schema": schema_ref("Error") } } });
    let mut r = json!({
        "BadRequest": err("invalid_parameter (a bad or unknown parameter, named), unknown_layer, invalid_tile, invalid_view (a static map's view or size), image_too_large (a static map over the size limit) or bad_request"),
        "RangeNotSatisfiable": err("range_not_satisfiable: the Range is malformed, beyond the file's end, or names several ranges; Content-Range gives the file's length"),
        "NotFound": err("not_found (no such collection, feature, event or file), tile_out_of_range or unsupported_format"),
        "InvalidJson": err("invalid_json: the body is not JSON or UTF-8, or nests deeper than 32 levels; or bad_request: the body ended early"),
        "Unauthorized": err("unauthorized: no bearer token, or the wrong one"),
        "WritesDisabled": err("writes_disabled: the server has no write token configured"),
        "Conflict": err("conflict: a new event's id is taken"),
        "PreconditionFailed": err("precondition_failed: If-Match is not the event's current ETag"),
        "PreconditionRequired": err("precondition_required: no If-Match"),
        "PayloadTooLarge": err("payload_too_large: the body is over max_body_bytes, or the batch over max_batch"),
        "UnsupportedMediaType": err("unsupported_media_type: the body's Content-Type is not one the operation takes"),
        "RequestTimeout": err("request_timeout: the request did not arrive whole, or was not answered, in time"),
        "UriTooLong": err("uri_too_long: the path and query are longer than max_url_bytes"),
        "HeadersTooLarge": err("headers_too_large: the header lines are over max_header_bytes, or more than 100"),
        "Internal": err("internal: a failure inside the server (the log has the detail)"),
        "Unavailable": err("overloaded (too busy; Retry-After: 1) or storage_unavailable (the event database cannot write; Retry-After: 30, or 5 when PostgreSQL cannot be reached)"),
        "InvalidEvent": {
            "description": "invalid_event: the body is JSON but not a valid event; errors names each field and its problem",
            "content": { JSON: { "schema": schema_ref("InvalidEvent") } },
        },
    });
    r["Unauthorized"]["headers"] =
        json!({ "WWW-Authenticate": { "schema": { "type": "string", "enum": ["Bearer"] } } });
    r["Unavailable"]["headers"] = json!({ "Retry-After": { "schema": { "type": "integer" } } });
    r
}

fn schemas(max_batch: usize) -> Value {
    let link = json!({
        "type": "object", "required": ["href", "rel"],
        "properties": {
            "href": { "type": "string" }, "rel": { "type": "string" }, "type": { "type": "string" }, "title": { "type": "string" },
        },
    });
    let links = json!({ "type": "array", "items": schema_ref("Link") });
    let geometry = json!({
        "type": "object", "required": ["type"],
        "description": "A GeoJSON geometry (RFC 7946), WGS84 longitude and latitude",
        "properties": {
            "type": { "type": "string", "enum": ["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon"] },
            "coordinates": { "type": "array", "items": {} },
        },
    });
    let point = json!({
        "type": "object", "required": ["type", "coordinates"],
        "properties": {
            "type": { "type": "string", "enum": ["Point"] },
            "coordinates": {
                "type": "array", "minItems": 2, "maxItems": 2,
                "description": "[longitude, latitude], WGS84 degrees, in range",
                "items": { "type": "number" },
            },
        },
    });
    let mut event_props = oas30(schema::event_properties());
    let input_props = event_props.clone();
    if let (Some(p), Some(server)) = (event_props.as_object_mut(), oas30(schema::event_server_properties()).as_object())
    {
        p.extend(server.clone());
    }
    let codes = [
        "invalid_tile",
        "tile_out_of_range",
        "unsupported_format",
        "unknown_layer",
        "invalid_parameter",
        "not_found",
        "invalid_view",
        "image_too_large",
        "range_not_satisfiable",
        "method_not_allowed",
        "invalid_json",
        "bad_request",
        "unauthorized",
        "writes_disabled",
        "conflict",
        "precondition_failed",
        "precondition_required",
        "payload_too_large",
        "unsupported_media_type",
        "invalid_event",
        "request_timeout",
        "uri_too_long",
        "headers_too_large",
        "internal",
        "overloaded",
        "storage_unavailable",
    ];
    let geodata = json!({
        "type": "object",
        "description": "where the layers come from, and their reloads; error names the file, feature and reason of the last failed reload until one succeeds (the last good data is served meanwhile)",
        "properties": {
            "source": { "type": "string" }, "watching": { "type": "boolean" },
            "loaded_at": { "type": "string", "format": "date-time" },
            "reloads": { "type": "integer" }, "failed_reloads": { "type": "integer" },
            "error": {
                "type": "object", "nullable": true,
                "properties": {
                    "at": { "type": "string", "format": "date-time" }, "file": { "type": "string" },
                    "feature": { "type": "integer", "nullable": true, "description": "the feature's index in its file" },
                    "feature_id": { "type": "string", "nullable": true }, "reason": { "type": "string" },
                },
            },
        },
    });
    let health = json!({
        "type": "object", "required": ["status"],
        "properties": {
            "status": { "type": "string", "enum": ["ok"] }, "version": { "type": "string" },
            "layers": { "type": "integer" }, "features": { "type": "integer" }, "events": { "type": "integer" },
            "events_read_only": { "type": "boolean" },
            "events_store": { "type": "string", "enum": ["sqlite", "postgres"], "description": "where the events are kept" },
            "events_in_sync": { "type": "boolean", "description": "false while a server on PostgreSQL does not hear of other servers' writes (its change feed is disconnected)" },
            "cached_tiles": { "type": "integer" },
            "cached_bytes": { "type": "integer" }, "render_jobs": { "type": "integer" }, "tiles_rendered": { "type": "integer" },
            "geodata": geodata,
            "heavy_jobs": { "type": "integer" }, "answer_buffer_kib": { "type": "integer" }, "shed_requests": { "type": "integer" },
        },
    });
    json!({
        "Error": {
            "type": "object", "required": ["code", "description", "status"],
            "properties": {
                "code": { "type": "string", "enum": codes },
                "description": { "type": "string", "description": "What was wrong, naming the parameter, layer or field" },
                "status": { "type": "integer", "description": "The HTTP status" },
            },
        },
        "InvalidEvent": {
            "allOf": [schema_ref("Error"), {
                "type": "object", "required": ["errors"],
                "properties": {
                    "errors": {
                        "type": "array",
                        "items": {
                            "type": "object", "required": ["field", "problem"],
                            "properties": {
                                "field": { "type": "string", "description": "geometry.coordinates, properties.killed, features[3].properties.kind..." },
                                "problem": { "type": "string" },
                            },
                        },
                    },
                },
            }],
        },
        "Link": link,
        "Object": { "type": "object" },
        "OpenApi": { "type": "object", "description": "An OpenAPI 3.0 document" },
        "LandingPage": {
            "type": "object", "required": ["links"],
            "properties": { "title": { "type": "string" }, "description": { "type": "string" }, "attribution": { "type": "string" }, "links": links.clone() },
        },
        "Conformance": {
            "type": "object", "required": ["conformsTo"],
            "properties": { "conformsTo": { "type": "array", "items": { "type": "string" } } },
        },
        "Extent": {
            "type": "object",
            "properties": {
                "spatial": {
                    "type": "object",
                    "properties": {
                        "bbox": { "type": "array", "items": { "type": "array", "minItems": 4, "maxItems": 4, "items": { "type": "number" } } },
                        "crs": { "type": "string" },
                    },
                },
                "temporal": {
                    "type": "object",
                    "properties": {
                        "interval": { "type": "array", "items": { "type": "array", "minItems": 2, "maxItems": 2, "items": { "type": "string", "format": "date-time", "nullable": true } } },
                        "trs": { "type": "string" },
                    },
                },
            },
        },
        "Collection": {
            "type": "object", "required": ["id", "links"],
            "properties": {
                "id": { "type": "string" }, "title": { "type": "string" }, "description": { "type": "string" },
                "attribution": { "type": "string" }, "license": { "type": "string" }, "itemType": { "type": "string" },
                "crs": { "type": "array", "items": { "type": "string" } }, "extent": schema_ref("Extent"),
                "minzoom": { "type": "integer" }, "maxzoom": { "type": "integer" }, "links": links.clone(),
            },
        },
        "Collections": {
            "type": "object", "required": ["links", "collections"],
            "properties": { "links": links.clone(), "collections": { "type": "array", "items": schema_ref("Collection") } },
        },
        "Geometry": geometry,
        "Feature": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "properties": {
                "type": { "type": "string", "enum": ["Feature"] },
                "id": { "oneOf": [{ "type": "string" }, { "type": "integer" }] },
                "geometry": schema_ref("Geometry"),
                "properties": { "type": "object" },
                "links": links.clone(),
            },
        },
        "FeatureCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": { "type": "string", "enum": ["FeatureCollection"] },
                "features": { "type": "array", "items": schema_ref("Feature") },
                "numberMatched": { "type": "integer", "minimum": 0 },
                "numberReturned": { "type": "integer", "minimum": 0 },
                "links": links,
            },
        },
        "EventInput": {
            "type": "object", "required": ["type", "geometry", "properties"],
            "description": "An event as a client writes it: any property not listed is refused (422)",
            "properties": {
                "type": { "type": "string", "enum": ["Feature"] },
                "id": { "type": "string", "pattern": "^[A-Za-z0-9._-]{1,128}$" },
                "geometry": point.clone(),
                "properties": {
                    "type": "object",
                    "required": crate::events::FIELDS.iter().filter(|f| f.required).map(|f| f.name).collect::<Vec<_>>(),
                    "additionalProperties": false,
                    "properties": input_props,
                },
            },
        },
        "EventBatch": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": { "type": "string", "enum": ["FeatureCollection"] },
                "features": { "type": "array", "minItems": 1, "maxItems": max_batch, "items": schema_ref("EventInput") },
            },
        },
        "Event": {
            "type": "object", "required": ["type", "id", "geometry", "properties"],
            "properties": {
                "type": { "type": "string", "enum": ["Feature"] },
                "id": { "type": "string" },
                "geometry": point,
                "properties": { "type": "object", "properties": event_props },
            },
        },
        "EventCollection": {
            "type": "object", "required": ["type", "features"],
            "properties": {
                "type": { "type": "string", "enum": ["FeatureCollection"] },
                "features": { "type": "array", "items": schema_ref("Event") },
                "numberMatched": { "type": "integer", "minimum": 0 },
                "numberReturned": { "type": "integer", "minimum": 0 },
                "links": { "type": "array", "items": schema_ref("Link") },
            },
        },
        "MergePatch": { "type": "object", "description": "RFC 7396: objects merge key by key, null removes, anything else replaces" },
        "Queryables": {
            "type": "object", "required": ["$schema", "$id", "type", "properties"],
            "description": "A JSON Schema (2020-12) of the features' properties",
            "properties": {
                "$schema": { "type": "string" }, "$id": { "type": "string" }, "type": { "type": "string", "enum": ["object"] },
                "title": { "type": "string" }, "properties": { "type": "object" }, "additionalProperties": { "type": "boolean" },
            },
        },
        "TileJson": {
            "type": "object", "required": ["tilejson", "tiles"],
            "properties": {
                "tilejson": { "type": "string", "enum": ["3.0.0"] },
                "tiles": { "type": "array", "items": { "type": "string" } },
                "minzoom": { "type": "integer" }, "maxzoom": { "type": "integer" },
                "bounds": { "type": "array", "minItems": 4, "maxItems": 4, "items": { "type": "number" } },
                "center": { "type": "array", "minItems": 3, "maxItems": 3, "items": { "type": "number" }, "description": "longitude, latitude, and a whole zoom" },
                "attribution": { "type": "string" },
                "vector_layers": { "type": "array", "items": { "type": "object" } },
            },
        },
        "Health": health,
    })
}

/// A JSON Schema (2020-12, as the queryables are written) in the dialect of OpenAPI 3.0's
/// schema objects: a list of types with `null` becomes one type and `nullable` (several others
/// become `anyOf`), and `examples` becomes `example`. Every property schema of the event
/// model goes through here.
fn oas30(mut schema: Value) -> Value {
    if let Some(o) = schema.as_object_mut() {
        if let Some(Value::Array(types)) = o.get("type").cloned() {
            let others: Vec<Value> = types.iter().filter(|t| *t != "null").cloned().collect();
            o.remove("type");
            if others.len() < types.len() {
                o.insert("nullable".into(), Value::Bool(true));
            }
            match others.as_slice() {
                [one] => {
                    o.insert("type".into(), one.clone());
                }
                many => {
                    o.insert("anyOf".into(), many.iter().map(|t| json!({ "type": t })).collect());
                }
            }
        }
        if let Some(Value::Array(examples)) = o.remove("examples")
            && let Some(first) = examples.into_iter().next()
        {
            o.insert("example".into(), first);
        }
        for v in o.values_mut() {
            *v = oas30(v.take());
        }
    }
    schema
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Whether a router path (`{name}` takes one segment, `{*rest}` the rest) and a document
    /// path (`{name}` is a whole segment or part of one, as in `{y}.png`) describe the same
    /// requests: segment by segment, a router parameter takes any document segment, and
    /// literal segments must be equal.
    fn same_route(router: &str, doc: &str) -> bool {
        let (r, d): (Vec<&str>, Vec<&str>) = (router.split('/').collect(), doc.split('/').collect());
        for (i, rs) in r.iter().enumerate() {
            if rs.starts_with("{*") {
                return d.len() > i;
            }
            let Some(ds) = d.get(i) else { return false };
            let literal = !rs.starts_with('{');
            if literal && rs != ds {
                return false;
            }
            if !literal && !ds.contains('{') {
                return false;
            }
        }
        r.len() == d.len()
    }

    #[test]
    fn every_route_is_described_and_every_described_path_is_routed() {
        let doc = paths();
        let described: Vec<&String> = doc.as_object().map(|p| p.keys().collect()).unwrap_or_default();
        let routed = super::super::route_paths();
        for r in &routed {
            assert!(described.iter().any(|d| same_route(r, d)), "route {r} is not in the OpenAPI document");
        }
        for d in &described {
            // A concrete path wins over a templated one, in the router as in OpenAPI.
            let matches: Vec<&&str> = routed.iter().filter(|r| same_route(r, d)).collect();
            assert!(!matches.is_empty(), "{d} is described but not routed");
        }
        // Tiles: one route serves .png, @2x.png and .mvt.
        assert!(same_route("/tiles/{z}/{x}/{file}", "/tiles/{z}/{x}/{y}@2x.png"));
        // An image overlay's route is not the event overlay's.
        assert!(!same_route("/overlays/{id}/{z}/{x}/{file}", "/overlays/events/{z}/{x}/{y}.png"));
        assert!(same_route("/overlays/{id}/{z}/{x}/{file}", "/overlays/{imageId}/{z}/{x}/{y}.webp"));
        assert!(!same_route("/tiles/{z}/{x}/{file}", "/tiles/vector.json"));
        assert!(same_route("/web/leaflet/{*file}", "/web/leaflet/{file}"));
    }

    #[test]
    fn json_schema_types_become_openapi_3_0_schemas() {
        let s = oas30(json!({
            "properties": { "killed": { "type": ["integer", "null"], "minimum": 0 }, "t": { "examples": ["a", "b"] } },
        }));
        assert_eq!(s["properties"]["killed"], json!({ "type": "integer", "nullable": true, "minimum": 0 }));
        assert_eq!(s["properties"]["t"], json!({ "example": "a" }));
    }
}
