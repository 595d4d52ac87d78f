//! A layer's properties made ready for vector tiles once, on the first tile that shows the
//! layer: every distinct key and value numbered across the whole layer, each value's protobuf
//! bytes written once, and each feature's tags as pairs of those numbers.
//!
//! A tile then renumbers only the keys and values its own features use (MVT numbers them per
//! tile layer), with two arrays indexed by the layer-wide numbers, instead of cloning each
//! feature's JSON values and hashing them into the tile's tables: on the busiest tiles of the
//! peers' list that hashing and cloning was a third of the time of a vector tile.

use std::collections::HashMap;

use serde_json::Value as Json;

use super::write::Value;
use crate::layer::Feature;

/// The keys, values and per-feature tags of a layer, numbered layer-wide.
#[derive(Debug, Default)]
pub struct LayerTags {
    keys: Vec<String>,
    /// The body of each value's `Value` message, one after another; `value_at[i]..value_at[i + 1]`.
    value_bytes: Vec<u8>,
    value_at: Vec<u32>,
    /// Each feature's tags as (key, value) numbers, flattened; feature `i`'s are
    /// `tags[2 * tag_at[i]..2 * tag_at[i + 1]]`.
    tags: Vec<u32>,
    tag_at: Vec<u32>,
}

/// A property value as a key for sharing it within a layer.
#[derive(PartialEq, Eq, Hash)]
pub(super) enum ValueKey {
    Str(String),
    Int(i64),
    Uint(u64),
    Double(u64),
    Bool(bool),
}

impl ValueKey {
    /// The MVT value it stands for.
    pub(super) fn value(&self) -> Value<'_> {
        match self {
            ValueKey::Bool(b) => Value::Bool(*b),
            ValueKey::Uint(u) => Value::Uint(*u),
            ValueKey::Int(i) => Value::Sint(*i),
            ValueKey::Double(bits) => Value::Double(f64::from_bits(*bits)),
            ValueKey::Str(s) => Value::Str(s),
        }
    }
}

impl LayerTags {
    /// Numbers the properties of `features` (null values are left out, as MVT has no null).
    pub fn new(features: &[Feature]) -> Self {
        let mut t = LayerTags { value_at: vec![0], tag_at: vec![0], ..Self::default() };
        let mut keys: HashMap<&str, u32> = HashMap::new();
        let mut values: HashMap<ValueKey, u32> = HashMap::new();
        for f in features {
            for (k, v) in &f.properties {
                let Some(vk) = value_key(v) else { continue };
                let ki = *keys.entry(k.as_str()).or_insert_with(|| {
                    t.keys.push(k.clone());
                    (t.keys.len() - 1) as u32
                });
                let vi = match values.get(&vk) {
                    Some(&i) => i,
                    None => {
                        let value = vk.value();
                        value.write(&mut t.value_bytes);
                        t.value_at.push(t.value_bytes.len() as u32);
                        let i = (t.value_at.len() - 2) as u32;
                        values.insert(vk, i);
                        i
                    }
                };
                t.tags.push(ki);
                t.tags.push(vi);
            }
            t.tag_at.push((t.tags.len() / 2) as u32);
        }
        t
    }

    /// How many distinct keys and values the layer has.
    pub fn counts(&self) -> (usize, usize) {
        (self.keys.len(), self.value_at.len() - 1)
    }

    /// Feature `i`'s tags as layer-wide (key, value) numbers, flattened.
    pub fn of(&self, i: usize) -> &[u32] {
        match (self.tag_at.get(i), self.tag_at.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.tags[2 * a as usize..2 * b as usize],
            _ => &[],
        }
    }

    /// Key number `k`.
    pub fn key(&self, k: u32) -> &str {
        self.keys.get(k as usize).map_or("", String::as_str)
    }

    /// The `Value` message body of value number `v`.
    pub fn value(&self, v: u32) -> &[u8] {
        let v = v as usize;
        match (self.value_at.get(v), self.value_at.get(v + 1)) {
            (Some(&a), Some(&b)) => &self.value_bytes[a as usize..b as usize],
            _ => &[],
        }
    }
}

/// How a JSON property value goes into a tile (`None`: it does not): MVT values are scalars,
/// so arrays and objects travel as their JSON text.
pub(super) fn value_key(v: &Json) -> Option<ValueKey> {
    Some(match v {
        Json::Null => return None,
        Json::Bool(b) => ValueKey::Bool(*b),
        Json::Number(n) => {
            if let Some(u) = n.as_u64() {
                ValueKey::Uint(u)
            } else if let Some(i) = n.as_i64() {
                ValueKey::Int(i)
            } else {
                ValueKey::Double(n.as_f64().unwrap_or(0.0).to_bits())
            }
        }
        Json::String(s) => ValueKey::Str(s.clone()),
        other => ValueKey::Str(other.to_string()),
    })
}

/// Renumbering of one layer's keys and values for one tile layer, kept between tiles: a
/// number's entry is valid only when stamped with the current generation, so that nothing is
/// cleared between tiles.
#[derive(Debug, Default)]
pub struct Renumber {
    generation: u32,
    keys: Vec<(u32, u32)>,
    values: Vec<(u32, u32)>,
    /// The layer-wide numbers of the tile's keys and values, in tile order.
    pub used_keys: Vec<u32>,
    /// See `used_keys`.
    pub used_values: Vec<u32>,
    /// Tags of this tile alone (`held_by`, which depends on the zoom): their keys and value
    /// bodies, numbered after the layer's own (`table` keys and values, then these).
    extra_keys: Vec<String>,
    extra_values: Vec<Vec<u8>>,
    table: (usize, usize),
}

impl Renumber {
    /// Starts a tile layer of a layer with these many keys and values.
    pub fn begin(&mut self, (keys, values): (usize, usize)) {
        self.generation = self.generation.wrapping_add(1);
        if self.generation == 0 {
            // After 4 billion tile layers: forget every stamp rather than trust an old one.
            self.keys.clear();
            self.values.clear();
            self.generation = 1;
        }
        if self.keys.len() < keys {
            self.keys.resize(keys, (0, 0));
        }
        if self.values.len() < values {
            self.values.resize(values, (0, 0));
        }
        self.used_keys.clear();
        self.used_values.clear();
        self.extra_keys.clear();
        self.extra_values.clear();
        self.table = (keys, values);
    }

    /// Appends a tag that is not in the layer's table to `out`, in this tile's numbers.
    pub fn extra(&mut self, key: &str, value: Value<'_>, out: &mut Vec<u32>) {
        let mut body = Vec::new();
        value.write(&mut body);
        let k = match self.extra_keys.iter().position(|k| k == key) {
            Some(k) => k,
            None => {
                self.extra_keys.push(key.to_owned());
                self.extra_keys.len() - 1
            }
        };
        let v = match self.extra_values.iter().position(|v| *v == body) {
            Some(v) => v,
            None => {
                self.extra_values.push(body);
                self.extra_values.len() - 1
            }
        };
        let (k, v) = ((self.table.0 + k) as u32, (self.table.1 + v) as u32);
        if self.keys.len() <= k as usize {
            self.keys.resize(k as usize + 1, (0, 0));
        }
        if self.values.len() <= v as usize {
            self.values.resize(v as usize + 1, (0, 0));
        }
        self.tags(&[k, v], out);
    }

    /// The key of a number in `used_keys`: the table's, or this tile's own.
    pub fn key<'a>(&'a self, table: &'a LayerTags, k: u32) -> &'a str {
        match (k as usize).checked_sub(self.table.0) {
            Some(e) => self.extra_keys.get(e).map_or("", String::as_str),
            None => table.key(k),
        }
    }

    /// The value body of a number in `used_values`: the table's, or this tile's own.
    pub fn value<'a>(&'a self, table: &'a LayerTags, v: u32) -> &'a [u8] {
        match (v as usize).checked_sub(self.table.1) {
            Some(e) => self.extra_values.get(e).map_or(&[], Vec::as_slice),
            None => table.value(v),
        }
    }

    /// The tile's numbers of layer-wide tags, appended to `out`.
    pub fn tags(&mut self, layer_tags: &[u32], out: &mut Vec<u32>) {
        for pair in layer_tags.chunks_exact(2) {
            out.push(number(&mut self.keys, &mut self.used_keys, self.generation, pair[0]));
            out.push(number(&mut self.values, &mut self.used_values, self.generation, pair[1]));
        }
    }
}

fn number(map: &mut [(u32, u32)], used: &mut Vec<u32>, generation: u32, global: u32) -> u32 {
    let slot = &mut map[global as usize];
    if slot.0 != generation {
        *slot = (generation, used.len() as u32);
        used.push(global);
    }
    slot.1
}
