//! How event markers look, shared by the overlay tiles and the vector style.

use super::{Color, Style, Symbol};
use crate::events::EventKind;

/// The symbol and colour of an event kind.
pub fn kind_style(kind: EventKind) -> (Symbol, Color) {
    let c = |r, g, b| Color::rgba(r, g, b, 255);
    match kind {
        EventKind::Airstrike => (Symbol::Triangle, c(0xd7, 0x30, 0x1f)),
        EventKind::Shelling => (Symbol::Diamond, c(0xf1, 0x69, 0x13)),
        EventKind::GroundClash => (Symbol::Square, c(0x8c, 0x2d, 0x04)),
        EventKind::Casualties => (Symbol::Circle, c(0x67, 0x00, 0x0d)),
        EventKind::Displacement => (Symbol::Square, c(0x6a, 0x51, 0xa3)),
        EventKind::HospitalHit => (Symbol::Hospital, c(0xc0, 0x1c, 0x28)),
        EventKind::Talks => (Symbol::Circle, c(0x21, 0x71, 0xb5)),
        EventKind::Statement => (Symbol::Square, c(0x41, 0x8f, 0xc8)),
        EventKind::Agreement => (Symbol::Diamond, c(0x23, 0x8b, 0x45)),
        EventKind::Other => (Symbol::Circle, c(0x73, 0x73, 0x73)),
    }
}

/// Symbol diameter (CSS px) for an event with this many killed and injured: grows with the
/// logarithm, from 12 px with none to 30 px.
pub fn event_size(casualties: u64) -> f32 {
    (12.0 + 3.0 * ((casualties as f32) + 1.0).log2()).min(30.0)
}

/// The symbol of one event of `kind` with this many killed and injured: its kind's shape and
/// colour, outlined in white, sized by [`event_size`]; hospitals hit are ringed.
pub fn event_style(kind: EventKind, casualties: u64) -> Style {
    let (symbol, color) = kind_style(kind);
    Style {
        fill: Some(color),
        stroke: Some(Color::rgba(255, 255, 255, 255)),
        stroke_width: 1.5,
        dash: Vec::new(),
        symbol,
        size: event_size(casualties),
        ring: (kind == EventKind::HospitalHit).then_some(color),
    }
}
