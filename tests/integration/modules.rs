//! The module graph of the library has no cycle (issue 13): each top-level module of `src/`
//! may use the ones below it and never, through any chain, itself. A cycle is how the HTTP
//! layer used to end up holding domain logic, so the test reads the sources and fails naming
//! the chain.
//!
//! A module uses another when its code (not its comments, nor its `#[cfg(test)] mod tests`,
//! which may reach across for fixtures) names `crate::other`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Every `crate::x` a file names in code, with `x` a top-level module.
fn uses_of(text: &str, into: &mut BTreeSet<String>) {
    for line in text.lines() {
        if line.trim_start().starts_with("mod tests") {
            break;
        }
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            rest = &rest[i + "crate::".len()..];
            let name: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
            if !name.is_empty() {
                into.insert(name);
            }
        }
        // `use crate::{a, b::c}` names several.
        if let Some(i) = code.find("crate::{") {
            for part in code[i + "crate::{".len()..].split(',') {
                let name: String = part.trim().chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
                if !name.is_empty() {
                    into.insert(name);
                }
            }
        }
    }
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("a source directory") {
        let path = entry.expect("an entry").path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Top-level module -> the top-level modules it uses.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(&src).expect("src") {
        let path = entry.expect("an entry").path();
        let name = path.file_stem().and_then(|s| s.to_str()).expect("a name").to_owned();
        if matches!(name.as_str(), "lib" | "main" | "cli") {
            continue;
        }
        let mut paths = Vec::new();
        if path.is_dir() {
            files(&path, &mut paths);
        } else {
            paths.push(path.clone());
        }
        let mut used = BTreeSet::new();
        for p in paths {
            uses_of(&std::fs::read_to_string(&p).expect("a source file"), &mut used);
        }
        used.remove(&name);
        graph.insert(name, used);
    }
    let known: BTreeSet<String> = graph.keys().cloned().collect();
    for used in graph.values_mut() {
        used.retain(|m| known.contains(m));
    }
    graph
}

/// A cycle through `from`, as the chain of modules, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        graph: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut chain = path[i..].to_vec();
            chain.push(m.to_owned());
            return Some(chain);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_owned());
        for next in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(graph, next, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph.keys().find_map(|m| visit(graph, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_module_graph_has_no_cycle() {
    let graph = graph();
    assert!(graph.len() >= 10, "read the modules of src/: {:?}", graph.keys());
    assert!(graph["http"].contains("service"), "the reader sees http use service: {graph:?}");
    if let Some(chain) = cycle(&graph) {
        panic!("import cycle: {}", chain.join(" -> "));
    }
}

#[test]
fn the_cycle_finder_finds_a_cycle() {
    let mut g = BTreeMap::new();
    g.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    g.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    g.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(cycle(&g), Some(vec!["a", "b", "c", "a"].into_iter().map(String::from).collect()));
    g.get_mut("c").map(BTreeSet::clear);
    assert_eq!(cycle(&g), None);
}
