//! The fuzz corpus replayed without a fuzzer: every file of `fuzz/corpus/<target>/` and of
//! `fuzz/regressions/<target>/` goes through the same property checks the fuzz targets run
//! (`tessera::fuzzing`), on the stable toolchain. A crash the fuzzer once found is kept in
//! `fuzz/regressions/` so that it stays fixed.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use tessera::fuzzing::TARGETS;

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `fuzz/<kind>/<target>/`, sorted; none when the directory does not exist.
fn inputs(kind: &str, target: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(fuzz_dir().join(kind).join(target)) else { return Vec::new() };
    let mut files: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).filter(|p| p.is_file()).collect();
    files.sort();
    files
}

#[test]
fn fuzz_replay_every_corpus_and_regression_input_keeps_its_properties() {
    let mut failed = Vec::new();
    for (name, target) in TARGETS {
        let corpus = inputs("corpus", name);
        assert!(corpus.len() >= 10, "fuzz/corpus/{name}/ has {} files; the seeds are missing", corpus.len());
        for file in corpus.iter().chain(&inputs("regressions", name)) {
            let data = std::fs::read(file).unwrap();
            if catch_unwind(AssertUnwindSafe(|| target(&data))).is_err() {
                failed.push(file.strip_prefix(fuzz_dir()).unwrap_or(file).display().to_string());
            }
        }
    }
    assert!(failed.is_empty(), "properties failed for: {failed:#?}");
}

#[test]
fn fuzz_replay_every_corpus_directory_has_a_target() {
    for kind in ["corpus", "regressions"] {
        let Ok(dirs) = std::fs::read_dir(fuzz_dir().join(kind)) else { continue };
        for d in dirs.filter_map(Result::ok) {
            let name = d.file_name().to_string_lossy().to_string();
            assert!(TARGETS.iter().any(|(t, _)| *t == name), "fuzz/{kind}/{name}/ matches no target");
            let source = fuzz_dir().join("fuzz_targets").join(format!("{name}.rs"));
            assert!(source.is_file(), "fuzz/{kind}/{name}/ has no fuzz/fuzz_targets/{name}.rs");
        }
    }
}
