//! Fuzz target `tile_path`: the properties live in `tessera::fuzzing::tile_path`, so that the corpus
//! replay in `tests/integration/fuzz_replay.rs` checks the same ones without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera::fuzzing::tile_path(data));
