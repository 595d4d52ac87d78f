//! `tessera serve` as a child process: refusing broken geodata, serving a plain directory of
//! GeoJSON files, and taking its address from the environment. Each server listens on a port
//! the OS picks and announces it on its first line of output.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};

use crate::cli::{at, broken_files, scratch, tessera};
use crate::common::{Image, decode_png, get_url, mercator_px};

/// Kills the child when dropped, so that no server outlives a failing test.
pub struct Running {
    /// The server process.
    pub child: Child,
    stdout: BufReader<ChildStdout>,
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Running {
    /// Spawns the command with its stdout and stderr piped.
    pub fn start(cmd: &mut Command) -> Self {
        let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn tessera");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self { child, stdout }
    }

    /// Spawns the command with its stdout piped and its stderr written to `log` (a server that
    /// logs much would stop on a full pipe that nobody reads).
    pub fn start_logged(cmd: &mut Command, log: &Path) -> Self {
        let file = std::fs::File::create(log).expect("create the server log");
        let mut child = cmd.stdout(Stdio::piped()).stderr(file).spawn().expect("spawn tessera");
        let stdout = BufReader::new(child.stdout.take().expect("stdout"));
        Self { child, stdout }
    }

    /// The base URL from the line that announces it; `None` when stdout ends first.
    pub fn url(&mut self) -> Option<String> {
        let mut line = String::new();
        while self.stdout.read_line(&mut line).expect("read stdout") > 0 {
            if let Some(at) = line.find("http://") {
                let url: String = line[at..].chars().take_while(|c| !c.is_whitespace()).collect();
                return Some(url.trim_end_matches('/').to_owned());
            }
            line.clear();
        }
        None
    }
}

/// `tessera serve` on port 0 with its event store in `data`, a write token and a log level
/// (`RUST_LOG`; stderr is a pipe, so keep it quiet); returns the server and its base URL.
pub fn serve_events(data: &Path, token: &str, log: &str) -> (Running, String) {
    let mut cmd = tessera();
    cmd.args(["serve", "--listen", "127.0.0.1:0"]).env("TESSERA_DATA", data).env("TESSERA_WRITE_TOKEN", token);
    cmd.env("RUST_LOG", log);
    let mut server = Running::start(&mut cmd);
    let base = server.url().expect("the server announces its URL");
    (server, base)
}

#[test]
fn serve_refuses_broken_geodata_without_listening() {
    for (file, content, _) in broken_files() {
        let dir = scratch(&format!("serve-{file}"));
        std::fs::write(dir.join(file), content).expect("write");
        let mut server =
            Running::start(tessera().args(["serve", "--listen", "127.0.0.1:0"]).arg("--geodata").arg(&dir));
        assert_eq!(server.url(), None, "{file}: the server started");
        let status = server.child.wait().expect("wait");
        assert!(!status.success(), "{file}");
        let mut stderr = String::new();
        if let Some(mut e) = server.child.stderr.take() {
            std::io::Read::read_to_string(&mut e, &mut stderr).expect("stderr");
        }
        assert!(stderr.contains(file), "{file}: {stderr}");
    }
}

/// The tile at zoom `z` that holds a point.
fn tile_of((lon, lat): (f64, f64), z: u8) -> (u32, u32) {
    let (gx, gy) = mercator_px(lon, lat, z);
    ((gx / 256.0) as u32, (gy / 256.0) as u32)
}

fn tile(base: &str, path: &str) -> Image {
    let reply = get_url(&format!("{base}{path}"));
    assert_eq!(reply.status, 200, "{path}");
    assert_eq!(reply.header("content-type"), "image/png");
    decode_png(&reply.body)
}

#[test]
fn serve_a_plain_directory_of_geojson_files() {
    let dir = scratch("plain");
    let points = [(36.60, 35.90), (36.70, 35.95)];
    let members: Vec<String> = points
        .iter()
        .map(|(lon, lat)| {
            format!(
                r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":[{lon},{lat}]}}}}"#
            )
        })
        .collect();
    let fc = |m: &str| format!(r#"{{"type":"FeatureCollection","features":[{m}]}}"#);
    std::fs::write(dir.join("Clinics.geojson"), fc(&members.join(","))).expect("write");
    let square = r#"{"type":"Feature","properties":{},"geometry":{"type":"Polygon","coordinates":[[[30,30],[31,30],[31,31],[30,31],[30,30]]]}}"#;
    std::fs::write(dir.join("area.geojson"), fc(square)).expect("write");

    let mut server = Running::start(tessera().args(["serve", "--listen", "127.0.0.1:0"]).arg("--geodata").arg(&dir));
    let base = server.url().expect("the server announces its URL");
    let collections = get_url(&format!("{base}/collections")).json();
    let mut ids: Vec<&str> =
        collections["collections"].as_array().expect("collections").iter().filter_map(|c| c["id"].as_str()).collect();
    ids.sort_unstable();
    assert_eq!(ids, ["area", "clinics", "events"], "the layers, and the event store");

    // No manifest means a transparent background and the default styles.
    let (tx, ty) = tile_of(points[0], 10);
    assert_eq!(tile_of(points[1], 10), (tx, ty), "both points in one tile");
    let image = tile(&base, &format!("/tiles/10/{tx}/{ty}.png"));
    for (lon, lat) in points {
        let (x, y) = at(lon, lat, 10, tx, ty);
        assert_eq!(image.pixel(x, y)[3], 255, "point {lon},{lat} at ({x}, {y})");
    }
    assert_eq!(image.pixel(0, 255), [0, 0, 0, 0], "away from the points");
    let (tx, ty) = tile_of((30.5, 30.5), 10);
    let (x, y) = at(30.5, 30.5, 10, tx, ty);
    let fill = tile(&base, &format!("/tiles/10/{tx}/{ty}.png")).pixel(x, y);
    assert!(fill[3] > 0 && fill[3] < 255, "the square's fill is translucent: {fill:?}");
}

#[test]
fn serve_takes_its_address_from_the_environment() {
    let mut server = Running::start(tessera().arg("serve").env("TESSERA_LISTEN", "127.0.0.1:0"));
    let base = server.url().expect("the server announces its URL");
    assert!(base.starts_with("http://127.0.0.1:") && !base.ends_with(":8080"), "{base}");
    let health = get_url(&format!("{base}/health")).json();
    assert_eq!(health["layers"], 13);
    let image = tile(&base, "/tiles/12/2466/1605.png");
    assert_eq!((image.width, image.height), (256, 256));
}

/// Issue 12, item 10: `tessera --listen ...` said "unexpected argument '--listen'" although
/// `serve` is the default command.
#[test]
fn serve_flags_work_without_the_word_serve() {
    let mut server = Running::start(tessera().args(["--listen", "127.0.0.1:0", "--max-zoom", "12"]));
    let base = server.url().expect("the server announces its URL");
    let tilejson = get_url(&format!("{base}/tiles.json")).json();
    assert_eq!(tilejson["maxzoom"], 12, "the flag after no command reached serve");
}

/// Issue 12, item 11: run outside the repository, the binary stopped with
/// "tessera: geodata: No such file or directory". The default data set is built in.
#[test]
fn the_binary_serves_the_built_in_map_from_any_directory() {
    let elsewhere = scratch("elsewhere");
    let mut cmd = tessera();
    cmd.current_dir(&elsewhere).args(["--listen", "127.0.0.1:0"]).env("RUST_LOG", "info");
    let mut server = Running::start(&mut cmd);
    let base = server.url().expect("the server announces its URL");
    let collections = get_url(&format!("{base}/collections")).json();
    let ids: Vec<&str> =
        collections["collections"].as_array().expect("collections").iter().filter_map(|c| c["id"].as_str()).collect();
    assert!(ids.contains(&"report-places") && ids.contains(&"observation-points"), "{ids:?}");
    let termanin = get_url(&format!("{base}/collections/report-places/items/termanin")).json();
    assert_eq!(termanin["geometry"]["coordinates"], serde_json::json!([36.817, 36.233]));
    assert_eq!(get_url(&format!("{base}/health")).json()["events"], 9, "the seed events, from the binary too");
    assert!(!elsewhere.join("geodata").exists());
    let _ = server.child.kill();
    let mut log = String::new();
    if let Some(mut e) = server.child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut log).expect("stderr");
    }
    assert!(log.contains("built-in default data set"), "the log says which data it serves: {log}");
}

/// Issue 12, item 11: `--geodata` still chooses a directory, and a missing one is a clear error.
#[test]
fn a_missing_geodata_directory_is_named_with_where_it_came_from() {
    let missing = scratch("missing-geodata").join("nope");
    let mut server = Running::start(tessera().args(["--listen", "127.0.0.1:0"]).arg("--geodata").arg(&missing));
    assert_eq!(server.url(), None, "the server started");
    assert!(!server.child.wait().expect("wait").success());
    let mut stderr = String::new();
    if let Some(mut e) = server.child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).expect("stderr");
    }
    assert!(stderr.contains(&missing.display().to_string()) && stderr.contains("does not exist"), "{stderr}");
    assert!(stderr.contains("--geodata"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
}
