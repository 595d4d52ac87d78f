//! `GET /overlays/events/{z}/{x}/{y}.json`: the markers of an overlay tile as GeoJSON, so that
//! a page can make the overlay's symbols clickable without clustering events itself.
//!
//! Each marker is the server's own (`events::cluster`, the grid of 48-pixel cells the overlay
//! PNG is drawn from), listed by the one tile that holds its position: a page that asks for the
//! tiles it shows gets every marker once. A marker carries the ids of all its events; their
//! details are one `/collections/events/items?ids=` request away. Rejected: deriving clusters
//! from the MVT `events` layer, which names only a cluster's first event and would need a
//! protobuf decoder in the page; and putting every member event in full into the tile, whose
//! size would then follow the events' descriptions rather than their number.

use axum::http::HeaderMap;
use axum::response::Response;
use serde_json::{Value, json};

use super::cached::{get_or_render, tile_response};
use super::{ApiError, AppState};
use crate::cache::{TileKey, TileKind};
use crate::events::{self, EventFilter, Marker};
use crate::render::{marker_color, marker_lift_px, marker_reach_px};
use crate::style::Color;
use crate::tile::TileCoord;

const GEOJSON: &str = "application/geo+json";

/// The markers of `tile` for the events that pass `filter`.
pub async fn tile(
    state: AppState,
    headers: &HeaderMap,
    tile: TileCoord,
    filter: EventFilter,
) -> Result<Response, ApiError> {
    let key = TileKey {
        kind: TileKind::Markers,
        tile,
        scale: 0,
        variant: super::tiles::filter_key(&filter).into(),
        version: state.cache.version(tile),
    };
    let st = state.clone();
    let cached = get_or_render(&state, key, move || {
        // Every cell that meets the tile, whole, so that each marker placed in it is complete.
        let found = st.events.select(&events::fetch_rect(tile, 0.0), &filter);
        let features: Vec<Value> = events::cluster(&found, tile.z())
            .iter()
            .filter(|m| TileCoord::containing(m.at(), tile.z()).is_ok_and(|t| t == tile))
            .map(feature)
            .collect();
        Ok(json!({ "type": "FeatureCollection", "features": features }).to_string().into_bytes())
    })
    .await?;
    Ok(tile_response(headers, cached, GEOJSON, state.config.tiles.events_max_age))
}

/// One marker: its position, what the overlay draws there, and its events' ids (sorted).
fn feature(m: &Marker) -> Value {
    let p = m.at().to_lonlat();
    let (ids, kind, title, casualties, region) = match m {
        Marker::Single(e) | Marker::Region(e) => (
            vec![e.id.clone()],
            Some(e.input.kind.as_str()),
            Some(e.input.title.clone()),
            e.input.casualties(),
            matches!(m, Marker::Region(_)),
        ),
        Marker::Cluster { ids, casualties, region, .. } => (ids.clone(), None, None, *casualties, *region),
    };
    json!({
        "type": "Feature",
        "geometry": { "type": "Point", "coordinates": [p.lon, p.lat] },
        "properties": {
            "cluster": matches!(m, Marker::Cluster { .. }),
            "region": region,
            "count": m.count(),
            "casualties": casualties,
            "kind": kind,
            "title": title,
            "color": hex(marker_color(m)),
            "reach_px": marker_reach_px(m),
            "lift_px": marker_lift_px(m),
            "ids": ids,
        },
    })
}

/// `#rrggbbaa`.
fn hex(c: Color) -> String {
    format!("#{:02x}{:02x}{:02x}{:02x}", c.r, c.g, c.b, c.a)
}
