//! The README's curl examples, run as written (only the port differs) against the real binary.
//! If the README and the server drift apart, this fails.

use std::process::Command;

use crate::cli::tessera;
use crate::cli_serve::Running;

const TOKEN: &str = "change-me-to-a-long-random-secret";

/// The shell lines of the README's "Writing" example, from `# create` to the end of the block.
fn readme_curl_block() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let start = readme.find("# create (201").expect("the README has the create example");
    let rest = &readme[start..];
    rest[..rest.find("```").expect("the block ends")].to_owned()
}

#[test]
fn readme_curl_examples_work_as_written() {
    let mut server =
        Running::start(tessera().args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_WRITE_TOKEN", TOKEN));
    let base = server.url().expect("the server announces its URL");
    let script = readme_curl_block().replace("http://127.0.0.1:8080", &base);
    let dir = crate::cli::scratch("readme-curl");
    let out = Command::new("bash")
        .args(["-e", "-c", &script])
        .current_dir(&dir)
        .env("TESSERA_WRITE_TOKEN", TOKEN)
        .output()
        .expect("bash and curl run");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "the README block failed: {}\n{stdout}", String::from_utf8_lossy(&out.stderr));
    // curl prints each body without a newline after it, so a status line may follow a body on
    // the same line.
    let statuses: Vec<&str> =
        stdout.split("HTTP/1.1 ").skip(1).filter_map(|answer| answer.split_whitespace().next()).collect();
    // create, read, patch, stale patch, delete (the overlay goes to a file).
    assert_eq!(statuses, ["201", "200", "200", "412", "204"], "{stdout}");
    assert!(stdout.contains("\"injured\":11"), "the patch shows in its answer: {stdout}");
    let png = std::fs::read(dir.join("overlay.png")).expect("the overlay example wrote overlay.png");
    assert_eq!(&png[1..4], b"PNG");
}

/// The README's configuration table lists every setting, each with its file key, flag and
/// variable as the code declares them, and nothing else.
#[test]
fn readme_configuration_table_matches_the_settings() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).expect("README.md");
    let section = &readme[readme.find("## Configuration\n").expect("a Configuration section")..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    let cell = |c: &str| c.trim().split('`').nth(1).unwrap_or("").to_owned();
    let mut rows: Vec<(String, String, String)> = section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<&str> = l.split('|').collect();
            (cell(cells[1]), cell(cells[2]), cell(cells[3]))
        })
        .collect();
    let mut settings: Vec<(String, String, String)> =
        tessera::config::catalogue().into_iter().map(|s| (s.key.to_owned(), s.flag, s.env.to_owned())).collect();
    rows.sort();
    settings.sort();
    assert_eq!(rows, settings, "README rows (key, flag, variable) against src/config");
}
