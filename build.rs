//! Embeds the default data set: writes `$OUT_DIR/geodata.rs`, a table of every file at the top of
//! `geodata/` as `include_bytes!`. rustc tracks each included file, so an edited layer rebuilds
//! the binary; `rerun-if-changed` on the directory catches files added or removed. (The
//! `include_dir` crate does the same job but cannot track changes on stable Rust, so an edited
//! file would silently leave the old data in the binary.)

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("geodata");
    println!("cargo:rerun-if-changed={}", dir.display());
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
                .filter_map(|e| e.file_name().into_string().ok())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut table = String::from("&[\n");
    for name in &names {
        let path = dir.join(name);
        table.push_str(&format!("    ({name:?}, include_bytes!({:?}).as_slice()),\n", path.display().to_string()));
    }
    table.push_str("]\n");
    let out = Path::new(&std::env::var("OUT_DIR").unwrap_or_default()).join("geodata.rs");
    if let Err(e) = std::fs::write(&out, table) {
        println!("cargo:warning=cannot write {}: {e}", out.display());
    }
}
