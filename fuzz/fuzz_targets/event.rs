//! Fuzz target `event`: the properties live in `tessera::fuzzing::event`, so that the corpus
//! replay in `tests/integration/fuzz_replay.rs` checks the same ones without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera::fuzzing::event(data));
