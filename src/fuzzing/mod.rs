//! Property checks over untrusted input, one entry point per fuzz target.
//!
//! Each function takes arbitrary bytes, feeds them to the parsers and validators that meet
//! requests and files from outside, and asserts what must hold for every input: nothing
//! panics, what is accepted satisfies the invariants of its type (a tile lies inside its zoom,
//! a time span does not end before it starts, a box is finite and in range), what the server
//! writes back out is accepted again unchanged, and an error message echoes only a bounded
//! slice of what was sent. A failed property is a panic, which a fuzzer reports as a crash.
//!
//! The fuzz crate in `fuzz/` calls these functions from its targets, and the integration test
//! `fuzz_replay` feeds them the committed corpus on the stable toolchain, so that CI runs the
//! same checks without a fuzzer. Keeping the properties here, rather than in the fuzz crate,
//! is what makes that replay possible. This module is not part of the API.

mod event;
mod geojson;
mod query;
mod tile_path;

pub use event::event;
pub use geojson::geojson;
pub use query::query;
pub use tile_path::tile_path;

/// One fuzz target: it takes any bytes, and panics when a property fails.
pub type Target = fn(&[u8]);

/// The targets by name (the names of `fuzz/fuzz_targets/*.rs` and of `fuzz/corpus/*/`).
pub const TARGETS: [(&str, Target); 4] =
    [("geojson", geojson), ("event", event), ("tile_path", tile_path), ("query", query)];

/// The longest error message accepted, in bytes: messages quote at most a short, clipped part
/// of the input, so that a huge or hostile value is never reflected whole.
const MAX_MESSAGE: usize = 1024;

/// Asserts that an error's message is short and says something.
fn short_message(message: &str) {
    assert!(!message.is_empty(), "an error without a message");
    assert!(message.len() <= MAX_MESSAGE, "an error message of {} bytes: {message:.200}", message.len());
}
