//! The `labels` layer of the vector tiles: one point for each place or area the raster tiles
//! would name at the tile's zoom, with the names to draw and the order to place them in, so
//! that a MapLibre style names the same places as the raster map.
//!
//! The raster rules decide it, applied to the tile's zoom and layers (see
//! [`crate::layer::namer`]): a place held by several features is one point, at the symbol of its
//! most important feature drawn at this zoom, named by its most important feature named at this
//! zoom (Idlib at zoom 6 is the report's point named by the Natural Earth city); its names take a
//! missing script from the place's other features. A place drawn but not yet named (the towns
//! at zooms 9-10) is a point without names: the style gives it an invisible icon the size of its
//! symbol, which the names placed after it keep clear of, as on the raster tiles.
//!
//! The names are not added to the data layers' features, whose properties stay those of the
//! GeoJSON: an area's name needs one point (MapLibre would name every piece of a polygon that
//! a tile holds), and a place's name may come from another layer's feature.
//!
//! Properties: `layer` (the layer whose label settings draw the name: size, colour, weight),
//! `of` (the layer of the symbol), `name` and `name_ar` (Latin-script and Arabic, as the
//! raster tiles write them: `label_after` and `label_upper` applied; absent when there is
//! none), `sort` (position in the order names are placed, lower first: MapLibre's
//! `symbol-sort-key`), `symbol_px` (radius of the symbol the name keeps clear of, CSS px; 0 for
//! an area), and for areas `area = true` with `fits_en`, `fits_ar`, `fits_both` (whether the
//! name in that language is no wider than the area: a wider one is not drawn).

use serde_json::Value as Json;

use super::{Frame, LayerBuilder, proto};
use crate::layer::{Layer, Shape, held_by_another, namer, place_names};
use crate::style::Lang;
use crate::tile::{TileCoord, WorldPoint};

/// Name of the layer in the tiles.
pub const LABELS: &str = "labels";

/// Width (CSS px) of a name drawn as the raster tiles draw it: its widest line once wrapped, at
/// a size (CSS px), bold or not.
pub type Measure<'a> = &'a dyn Fn(&str, f32, bool) -> f32;

/// One point of the layer before encoding.
struct Entry<'a> {
    at: WorldPoint,
    /// Layer drawing the name (or, without a name, the symbol's own).
    text_layer: &'a Layer,
    symbol_layer: &'a Layer,
    names: crate::style::Names,
    sort: u32,
    symbol_px: f32,
    /// Width of the area, unit square; `None` for a place.
    area: Option<f64>,
}

/// The `labels` layer of a tile at its zoom, for the data layers given (in draw order); `None`
/// when nothing in the tile is named or marks a place.
pub fn labels_layer(layers: &[&Layer], tile: TileCoord, measure: Measure<'_>) -> Option<proto::Layer> {
    let z = tile.z();
    let bounds = tile.bounds();
    let inside = |p: WorldPoint| p.x >= bounds.min.x && p.x < bounds.max.x && p.y >= bounds.min.y && p.y < bounds.max.y;
    let mut entries: Vec<Entry<'_>> = Vec::new();
    for &layer in layers.iter().filter(|l| l.visible_at(z) && l.label_spec().is_some()) {
        for i in layer.query(&bounds) {
            let Some(label) = layer.label(i).filter(|l| inside(l.anchor)) else { continue };
            if held_by_another(layers, layer, i, z) {
                continue;
            }
            let entry = match namer(layers, layer, i, z) {
                Some((named_by, f)) => Entry {
                    at: label.anchor,
                    text_layer: named_by,
                    symbol_layer: layer,
                    names: place_names(layers, named_by, f),
                    sort: named_by.label_order(f).unwrap_or(u32::MAX),
                    symbol_px: label.symbol_px,
                    area: label.area_width,
                },
                // An area not named at this zoom marks nothing.
                None if label.area_width.is_some() => continue,
                None => Entry {
                    at: label.anchor,
                    text_layer: layer,
                    symbol_layer: layer,
                    names: Default::default(),
                    sort: layer.label_order(i).unwrap_or(u32::MAX),
                    symbol_px: label.symbol_px,
                    area: None,
                },
            };
            entries.push(entry);
        }
    }
    widen_coincident(&mut entries, tile);
    entries.sort_by_key(|e| e.sort);
    let frame = Frame::new(tile);
    let world = tile.world_tiles() * 256.0;
    let mut b = LayerBuilder::new(LABELS);
    for (n, e) in entries.iter().enumerate() {
        let Some(geom) = frame.encode(&Shape::Points(vec![e.at])) else { continue };
        let mut props: Vec<(&str, Json)> = vec![
            ("layer", Json::from(e.text_layer.meta.id.as_str())),
            ("of", Json::from(e.symbol_layer.meta.id.as_str())),
            ("name", e.names.latin.clone().map_or(Json::Null, Json::from)),
            ("name_ar", e.names.arabic.clone().map_or(Json::Null, Json::from)),
            ("sort", Json::from(e.sort)),
            ("symbol_px", Json::from(f64::from(e.symbol_px.max(0.0)))),
        ];
        if let (Some(width), Some(spec)) = (e.area, e.text_layer.label_spec()) {
            let room = width * world;
            let fits = |lang: Lang| {
                let widest = e.names.lines(lang).iter().map(|t| measure(t, spec.size, spec.bold)).fold(0.0, f32::max);
                Json::from(f64::from(widest) <= room)
            };
            props.extend([
                ("area", Json::from(true)),
                ("fits_en", fits(Lang::En)),
                ("fits_ar", fits(Lang::Ar)),
                ("fits_both", fits(Lang::Both)),
            ]);
        }
        b.push(Some(n as u64 + 1), geom, props);
    }
    (!b.layer.features.is_empty()).then_some(b.layer)
}

/// Symbols on one point (the Kenana hospital drawn on the Darat Izza town point): each name
/// keeps clear of the largest of them, as on the raster tiles.
fn widen_coincident(entries: &mut [Entry<'_>], tile: TileCoord) {
    let px = tile.world_tiles() * 256.0;
    let widest: Vec<f32> = entries
        .iter()
        .map(|e| {
            entries
                .iter()
                .filter(|o| ((o.at.x - e.at.x) * px).hypot((o.at.y - e.at.y) * px) < 1.0)
                .map(|o| o.symbol_px)
                .fold(e.symbol_px, f32::max)
        })
        .collect();
    for (e, w) in entries.iter_mut().zip(widest) {
        if e.area.is_none() {
            e.symbol_px = w;
        }
    }
}
