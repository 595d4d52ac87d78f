//! Fuzz target `query`: the properties live in `tessera::fuzzing::query`, so that the corpus
//! replay in `tests/integration/fuzz_replay.rs` checks the same ones without a fuzzer.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| tessera::fuzzing::query(data));
