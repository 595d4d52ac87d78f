//! Which feature names a place at a zoom, and in what order names are placed: the rules the
//! raster labels follow (see `render::label`), shared with the vector tiles' `labels` layer so
//! that both maps name the same places the same way.
//!
//! The order is one list over every labelled feature of the catalog, made once when the
//! catalog is: the layer's `label_priority` (higher first), the feature's class, its rank
//! (higher first), then draw order and file order. A selection of layers keeps the same
//! relative order, so a feature's position in it serves any selection.

use super::Layer;
use crate::style::Names;

/// Whether feature `i` of `layer` is left to a more important feature of its place among
/// `layers` drawn at zoom `z` (the Natural Earth point of a city that is a place of the
/// report): then it is neither drawn nor named.
pub fn held_by_another(layers: &[&Layer], layer: &Layer, i: usize, z: u8) -> bool {
    held_by(layers, layer, i, z).is_some()
}

/// The layer of the feature that holds feature `i` of `layer` at zoom `z` (see
/// [`held_by_another`]), if one does.
pub fn held_by<'a>(layers: &[&'a Layer], layer: &Layer, i: usize, z: u8) -> Option<&'a Layer> {
    for p in layer.place(i)? {
        if p.layer == layer.meta.id && p.feature == i {
            return None;
        }
        if let Some(l) = layers.iter().find(|l| l.meta.id == p.layer && l.visible_at(z)) {
            return Some(l);
        }
    }
    None
}

/// The feature that names feature `i` of `layer` at zoom `z`: itself when its layer is named
/// at `z`, else the most important feature of its place among `layers` that is.
pub fn namer<'a>(layers: &[&'a Layer], layer: &'a Layer, i: usize, z: u8) -> Option<(&'a Layer, usize)> {
    let named = |l: &Layer, f: usize| {
        l.visible_at(z) && l.label_spec().is_some_and(|s| s.visible_at(z)) && l.label(f).is_some()
    };
    if named(layer, i) {
        return Some((layer, i));
    }
    layer.place(i)?.iter().find_map(|p| {
        let l = layers.iter().find(|l| l.meta.id == p.layer)?;
        named(l, p.feature).then_some((*l, p.feature))
    })
}

/// The names of feature `i` of `layer`, a script it lacks taken from the other features of its
/// place among `layers`, most important first.
pub fn place_names(layers: &[&Layer], layer: &Layer, i: usize) -> Names {
    let mut names = layer.label(i).map(|l| l.names.clone()).unwrap_or_default();
    for p in layer.place(i).unwrap_or_default() {
        if names.latin.is_some() && names.arabic.is_some() {
            break;
        }
        let Some(other) = layers.iter().find(|l| l.meta.id == p.layer).and_then(|l| l.label(p.feature)) else {
            continue;
        };
        names.latin = names.latin.or_else(|| other.names.latin.clone());
        names.arabic = names.arabic.or_else(|| other.names.arabic.clone());
    }
    names
}

/// The position of every labelled feature in the order names are placed, most important
/// first; recorded in each layer (unlabelled features get `u32::MAX`).
pub(super) fn order_labels(layers: &mut [Layer]) {
    let mut all: Vec<(usize, usize)> = Vec::new();
    for (li, l) in layers.iter().enumerate() {
        all.extend((0..l.features().len()).filter(|&i| l.label(i).is_some()).map(|i| (li, i)));
    }
    let key = |&(li, i): &(usize, usize)| {
        let l: &Layer = &layers[li];
        let label = l.label(i);
        (
            l.label_spec().map_or(i32::MIN, |s| s.priority),
            label.map_or(u32::MAX, |x| x.class),
            label.map_or(f64::NEG_INFINITY, |x| x.rank),
        )
    };
    all.sort_by(|a, b| {
        let ((pa, ca, ra), (pb, cb, rb)) = (key(a), key(b));
        pb.cmp(&pa).then(ca.cmp(&cb)).then(rb.total_cmp(&ra)).then(a.cmp(b))
    });
    let mut orders: Vec<Vec<u32>> = layers.iter().map(|l| vec![u32::MAX; l.features().len()]).collect();
    for (pos, (li, i)) in all.into_iter().enumerate() {
        orders[li][i] = u32::try_from(pos).unwrap_or(u32::MAX);
    }
    for (l, order) in layers.iter_mut().zip(orders) {
        l.label_order = order;
    }
}
