//! The protobuf wire format of `vector_tile.proto`, written straight into byte buffers.
//!
//! A tile is written once and never read back, so building prost structs for it (a `Vec` of
//! tags and one of geometry per feature, each key and value cloned) and then walking them
//! twice (lengths, then bytes) cost more than the slicing did on busy tiles. Here a feature's
//! fields go straight into its layer's buffer, and a layer's into the tile. Fields are written
//! in the order prost writes them for [`super::proto`], so the bytes are those prost would
//! give for the same tile (a unit test decodes them with prost).

use super::proto::GeomType;

/// Wire types.
const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;

/// Appends `v` as a base-128 varint.
#[inline]
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Bytes of `v` as a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[inline]
fn key(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from((field << 3) | wire));
}

/// A length-delimited field: key, length, bytes.
pub fn bytes_field(out: &mut Vec<u8>, field: u32, bytes: &[u8]) {
    key(out, field, LEN);
    varint(out, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

/// The bytes of `values` as varints.
fn body_len(values: &[u32]) -> usize {
    values.iter().map(|&v| varint_len(u64::from(v))).sum()
}

/// A packed repeated field whose varints take `body` bytes (see [`body_len`]); nothing when
/// it is empty.
fn packed(out: &mut Vec<u8>, field: u32, values: &[u32], body: usize) {
    if values.is_empty() {
        return;
    }
    key(out, field, LEN);
    varint(out, body as u64);
    out.reserve(body);
    for &v in values {
        varint(out, u64::from(v));
    }
}

/// A `Value` message's fields (without its own key and length): the one set field.
#[derive(Debug, Clone, PartialEq)]
pub enum Value<'a> {
    /// `string_value`.
    Str(&'a str),
    /// `double_value`.
    Double(f64),
    /// `uint_value`.
    Uint(u64),
    /// `sint_value` (zigzag).
    Sint(i64),
    /// `bool_value`.
    Bool(bool),
}

impl Value<'_> {
    /// Appends the message body.
    pub fn write(&self, out: &mut Vec<u8>) {
        match *self {
            Value::Str(s) => bytes_field(out, 1, s.as_bytes()),
            Value::Double(f) => {
                key(out, 3, FIXED64);
                out.extend_from_slice(&f.to_le_bytes());
            }
            Value::Uint(u) => {
                key(out, 5, VARINT);
                varint(out, u);
            }
            Value::Sint(i) => {
                key(out, 6, VARINT);
                varint(out, ((i << 1) ^ (i >> 63)) as u64);
            }
            Value::Bool(b) => {
                key(out, 7, VARINT);
                varint(out, u64::from(b));
            }
        }
    }
}

/// Appends one `Feature` (field 2 of its layer, with key and length) to a layer's features.
pub fn feature(out: &mut Vec<u8>, id: Option<u64>, kind: GeomType, tags: &[u32], geometry: &[u32]) {
    // The varints' lengths are summed once and serve both the feature's length and the
    // packed fields'.
    let (tag_body, geometry_body) = (body_len(tags), body_len(geometry));
    let packed_len = |n: usize, body: usize| if n == 0 { 0 } else { 1 + varint_len(body as u64) + body };
    let len = id.map_or(0, |i| 1 + varint_len(i))
        + packed_len(tags.len(), tag_body)
        + 2
        + packed_len(geometry.len(), geometry_body);
    key(out, 2, LEN);
    varint(out, len as u64);
    if let Some(i) = id {
        key(out, 1, VARINT);
        varint(out, i);
    }
    packed(out, 2, tags, tag_body);
    key(out, 3, VARINT);
    varint(out, kind as u64);
    packed(out, 4, geometry, geometry_body);
}

/// Appends one `Layer` (field 3 of the tile, with key and length): its name, the features
/// already written, its keys and the bodies of its values.
pub fn layer<'k, 'v>(
    tile: &mut Vec<u8>,
    name: &str,
    extent: u32,
    features: &[u8],
    keys: impl Iterator<Item = &'k str> + Clone,
    values: impl Iterator<Item = &'v [u8]> + Clone,
) {
    let field = |n: usize| 1 + varint_len(n as u64) + n;
    let len = 2
        + field(name.len())
        + features.len()
        + keys.clone().map(|k| field(k.len())).sum::<usize>()
        + values.clone().map(|v| field(v.len())).sum::<usize>()
        + 1
        + varint_len(u64::from(extent));
    key(tile, 3, LEN);
    varint(tile, len as u64);
    bytes_field(tile, 1, name.as_bytes());
    tile.extend_from_slice(features);
    for k in keys {
        bytes_field(tile, 3, k.as_bytes());
    }
    for v in values {
        bytes_field(tile, 4, v);
    }
    key(tile, 5, VARINT);
    varint(tile, u64::from(extent));
    // prost writes fields in tag order: `version` (15) comes last.
    key(tile, 15, VARINT);
    varint(tile, 2);
}

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::super::proto;
    use super::*;

    #[test]
    fn varint_lengths_match_the_bytes_written() {
        for v in [0u64, 1, 127, 128, 300, 16_383, 16_384, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out.len(), varint_len(v), "{v}");
        }
    }

    #[test]
    fn a_tile_written_here_is_the_tile_prost_writes() {
        let values = [Value::Str("Idlib"), Value::Double(2.5), Value::Uint(300), Value::Sint(-7), Value::Bool(true)];
        let mut bodies = Vec::new();
        for v in &values {
            let mut b = Vec::new();
            v.write(&mut b);
            bodies.push(b);
        }
        let mut features = Vec::new();
        feature(&mut features, Some(1), GeomType::Point, &[0, 0, 1, 4], &[9, 50, 34]);
        feature(&mut features, None, GeomType::Linestring, &[], &[9, 4, 4, 18, 0, 16, 16, 0]);
        let keys = ["name", "kind"];
        let mut tile = Vec::new();
        layer(&mut tile, "places", 4096, &features, keys.iter().copied(), bodies.iter().map(Vec::as_slice));

        let value = |v: &Value<'_>| match *v {
            Value::Str(s) => proto::Value { string_value: Some(s.to_owned()), ..Default::default() },
            Value::Double(f) => proto::Value { double_value: Some(f), ..Default::default() },
            Value::Uint(u) => proto::Value { uint_value: Some(u), ..Default::default() },
            Value::Sint(i) => proto::Value { sint_value: Some(i), ..Default::default() },
            Value::Bool(b) => proto::Value { bool_value: Some(b), ..Default::default() },
        };
        let expected = proto::Tile {
            layers: vec![proto::Layer {
                version: 2,
                name: "places".into(),
                features: vec![
                    proto::Feature {
                        id: Some(1),
                        tags: vec![0, 0, 1, 4],
                        r#type: Some(GeomType::Point as i32),
                        geometry: vec![9, 50, 34],
                    },
                    proto::Feature {
                        id: None,
                        tags: vec![],
                        r#type: Some(GeomType::Linestring as i32),
                        geometry: vec![9, 4, 4, 18, 0, 16, 16, 0],
                    },
                ],
                keys: keys.iter().map(|k| (*k).to_owned()).collect(),
                values: values.iter().map(value).collect(),
                extent: Some(4096),
            }],
        };
        assert_eq!(tile, expected.encode_to_vec());
    }
}
