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
    let mut server = Running::start(tessera().args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_WRITE_TOKEN", TOKEN));
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
    let statuses: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("HTTP/"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .collect();
    // create, read, patch, stale patch, delete (the overlay goes to a file).
    assert_eq!(statuses, ["201", "200", "200", "412", "204"], "{stdout}");
    assert!(stdout.contains("\"injured\":11"), "the patch shows in its answer: {stdout}");
    let png = std::fs::read(dir.join("overlay.png")).expect("the overlay example wrote overlay.png");
    assert_eq!(&png[1..4], b"PNG");
}
