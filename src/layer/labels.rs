//! A layer's names, read once at load: each feature's label (its names, where it is anchored,
//! its rank and class), and the places it shares with features of other layers, which the
//! catalog links after every layer is loaded.
//!
//! They sit with the layer rather than in `render` because both renderers read them: the
//! raster labels and the vector tiles' `labels` layer (and the glyphs the style needs) follow
//! the same names, ranks and places. Placing them on a tile, with collisions, is `render`'s.

use std::sync::Arc;

use super::{Feature, PlaceRef, Shape};
use crate::style::{LabelSpec, LayerStyles, Names};
use crate::tile::{LonLat, WorldPoint};

/// A feature's label as read at load: where it is anchored and its names.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureLabel {
    /// Anchor in the unit square: the point itself, or a polygon's interior point.
    pub anchor: WorldPoint,
    /// The names, cleaned.
    pub names: Names,
    /// Rank within the layer: the `label_rank` property, `-inf` when absent.
    pub rank: f64,
    /// Radius (CSS px) of the symbol drawn at the anchor, which the label keeps clear of; 0
    /// for polygons.
    pub symbol_px: f32,
    /// Width of a polygon's bounding box in the unit square: a label wider than its polygon
    /// is not drawn. `None` for points.
    pub area_width: Option<f64>,
    /// Class within the layer (`label_class`), lower first; ranks before `rank`.
    pub class: u32,
}

/// The label part of a layer.
#[derive(Debug, Default)]
pub(super) struct LayerLabels {
    /// How the layer's features are named; `None`: they are not labelled.
    pub(super) spec: Option<LabelSpec>,
    /// Each feature's label (`None`: no name, or a line), in file order.
    pub(super) items: Vec<Option<FeatureLabel>>,
    /// Property naming a point's place across layers (`place_id`), and the distance within which
    /// two of the layer's own points are one place (`place_merge_km`).
    pub(super) place_keys: (Option<String>, Option<f64>),
    /// For each feature held by other features too (a city in two layers): every feature of
    /// that place, most important first. Set by the catalog, which sees every layer.
    pub(super) places: Vec<Option<Arc<[PlaceRef]>>>,
    /// For each feature, its position in the order names are placed over the whole catalog
    /// (`u32::MAX`: unlabelled). Set by the catalog.
    pub(super) order: Vec<u32>,
}

impl LayerLabels {
    /// Reads every feature's names and anchor. Points are labelled beside their symbol (kept
    /// clear of it by its style's reach), polygons at their interior point; lines are not.
    pub(super) fn read(&mut self, spec: LabelSpec, features: &[Feature], styles: &LayerStyles) {
        self.items = features
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let names = spec.names(&f.properties);
                if names.latin.is_none() && names.arabic.is_none() {
                    return None;
                }
                let (anchor, symbol_px, area_width) = match &f.shape {
                    Shape::Points(ps) => (*ps.first()?, styles.of(i).reach_px() - 1.0, None),
                    Shape::Polygons(_) => {
                        use geo::InteriorPoint;
                        let p = f.geometry.interior_point()?;
                        let b = f.shape.bounds();
                        (LonLat::new(p.x(), p.y()).to_world(), 0.0, Some(b.max.x - b.min.x))
                    }
                    Shape::Lines(_) => return None,
                };
                Some(FeatureLabel {
                    anchor,
                    names,
                    rank: spec.rank_of(&f.properties),
                    symbol_px,
                    area_width,
                    class: spec.class_of(&f.properties),
                })
            })
            .collect();
        self.spec = Some(spec);
    }
}
