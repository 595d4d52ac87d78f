//! The geodata being served, and its hot reload.
//!
//! The catalog is held in an [`ArcSwap`]: a request reads it once and keeps its `Arc` to the
//! end, so a reload never changes the data under a request in flight; the next request reads
//! the new one. A reload loads and validates the whole data set on the blocking pool, exactly
//! as start-up does, and swaps it in only when every file passed: a half-written file, invalid
//! GeoJSON or a coordinate out of range leaves the last good data served, and the failure (file,
//! feature, reason) in the log, in `/health` and in the metrics until a good save.
//!
//! What changed is found by comparing each layer's and image's fingerprint (a hash of its file,
//! its manifest entry and, for a layer, the places it shares with others) with the old
//! catalog's: a layer that is the same keeps its revision, and so its cached tiles; a changed
//! one takes a new revision, which is part of its tiles' cache keys, and its old tiles are
//! dropped from memory.
//!
//! Reloads are triggered by file notifications on the geodata directory (inotify on Linux,
//! through `notify`), debounced so that a save in several writes makes one reload, and by
//! `SIGHUP`. Triggers arriving during a reload make one more reload after it. Only changes
//! count (a file created, written, closed after writing, renamed, removed): the reload's own
//! reading opens every file, and opening is also notified, so counting it would reload
//! forever. The debounce is ours (a quiet spell on a channel) rather than
//! `notify-debouncer-mini`'s, which forgets what kind each event was. The built-in data set
//! never changes, so it is never watched. The seed events file (`events = ...`) is
//! imported at start-up only: events live in the store, and a reload leaves them alone.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use arc_swap::ArcSwap;
use serde::Serialize;
use tokio::sync::mpsc;

use super::TileService;
use crate::layer::{Catalog, Changes, Geodata, MANIFEST, Problem};
use crate::metrics::Metrics;

/// How long the directory must be quiet after a change before it is reloaded: long enough to
/// gather the writes of one save, short enough that an edit shows within a couple of seconds.
pub const DEBOUNCE: Duration = Duration::from_millis(300);

/// The longest a reload waits for the directory to be quiet: a file written without pause
/// (a long copy) is reloaded at least this often, and fails as a half-written file would.
const MOST_WAIT: Duration = Duration::from_secs(2);

/// The catalog served now, swappable as a whole; cheap to clone.
#[derive(Debug, Clone)]
pub struct LiveCatalog(Arc<Shared>);

#[derive(Debug)]
struct Shared {
    current: ArcSwap<Catalog>,
    source: Geodata,
    status: Mutex<ReloadStatus>,
}

/// What `/health` says of the geodata: where it comes from, when the data served now was
/// loaded, and the last failure, while the files fail to load.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadStatus {
    /// The directory, or the built-in data set.
    pub source: String,
    /// Whether changes to the directory are watched.
    pub watching: bool,
    /// When the data served now was loaded (RFC 3339).
    pub loaded_at: String,
    /// Good reloads since start-up.
    pub reloads: u64,
    /// Reloads that failed since start-up.
    pub failed_reloads: u64,
    /// The last reload's failure, until a reload succeeds: the last good data is served
    /// meanwhile.
    pub error: Option<Failure>,
}

/// A reload that failed.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    /// When (RFC 3339).
    pub at: String,
    /// The file, the feature and the reason.
    #[serde(flatten)]
    pub problem: Problem,
}

impl LiveCatalog {
    /// Serves `catalog`, loaded from `source`.
    pub fn new(catalog: Catalog, source: Geodata) -> Self {
        let status = ReloadStatus {
            source: source.describe(),
            watching: false,
            loaded_at: now_text(),
            reloads: 0,
            failed_reloads: 0,
            error: None,
        };
        Self(Arc::new(Shared { current: ArcSwap::from_pointee(catalog), source, status: Mutex::new(status) }))
    }

    /// The catalog served now. Read it once per request and keep the `Arc`.
    pub fn current(&self) -> Arc<Catalog> {
        self.0.current.load_full()
    }

    /// Where the data comes from.
    pub fn source(&self) -> &Geodata {
        &self.0.source
    }

    /// The reload status, for `/health`.
    pub fn status(&self) -> ReloadStatus {
        self.0.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    fn update(&self, change: impl FnOnce(&mut ReloadStatus)) {
        change(&mut self.0.status.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    }
}

/// Reloads the geodata of a [`LiveCatalog`] and drops the tiles that changed; cheap to clone.
#[derive(Debug, Clone)]
pub struct Reloader {
    live: LiveCatalog,
    tiles: TileService,
    metrics: Arc<Metrics>,
    /// One reload at a time.
    running: Arc<tokio::sync::Mutex<()>>,
}

/// What asks for a reload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// A file of the directory changed.
    Files,
    /// `SIGHUP`.
    Signal,
}

impl Reloader {
    /// The reloader of `live`, dropping changed tiles from `tiles`' cache.
    pub fn new(live: LiveCatalog, tiles: TileService, metrics: Arc<Metrics>) -> Self {
        Self { live, tiles, metrics, running: Arc::default() }
    }

    /// Loads the data set again, off the executor, and swaps it in if it loads; returns what
    /// changed, or why it did not load (the last good data stays).
    pub async fn reload(&self) -> Result<Changes, Problem> {
        let _one = self.running.lock().await;
        let started = Instant::now();
        let source = self.live.source().clone();
        let loaded = tokio::task::spawn_blocking(move || crate::layer::load(&source)).await;
        let loaded = match loaded {
            Ok(Ok(catalog)) => catalog,
            Ok(Err(e)) => return Err(self.failed(e.problem())),
            Err(e) => {
                let problem = Problem {
                    file: self.live.source().path_of(""),
                    feature: None,
                    feature_id: None,
                    reason: format!("the reload's task failed: {e}"),
                };
                return Err(self.failed(problem));
            }
        };
        let mut catalog = loaded;
        let old = self.live.current();
        let changes = catalog.follow(&old);
        let (layers, features) = (catalog.layers().len(), catalog.feature_count());
        self.live.0.current.store(Arc::new(catalog));
        self.tiles.cache().drop_changed(&changes);
        let at = SystemTime::now();
        self.metrics.reload_ok(at);
        self.live.update(|s| {
            s.loaded_at = now_text();
            s.reloads += 1;
            s.error = None;
        });
        let list =
            |ids: &std::collections::BTreeSet<String>| ids.iter().map(String::as_str).collect::<Vec<_>>().join(",");
        tracing::info!(
            source = %self.live.source().describe(),
            layers,
            features,
            changed_layers = %list(&changes.layers),
            changed_images = %list(&changes.images),
            background_changed = changes.background,
            took_ms = started.elapsed().as_millis() as u64,
            "geodata reloaded; the cached tiles of the changed layers were dropped",
        );
        Ok(changes)
    }

    fn failed(&self, problem: Problem) -> Problem {
        self.metrics.reload_failed();
        self.live.update(|s| {
            s.failed_reloads += 1;
            s.error = Some(Failure { at: now_text(), problem: problem.clone() });
        });
        tracing::error!(
            file = %problem.file.display(),
            feature = problem.feature.map(|i| i as i64).unwrap_or(-1),
            feature_id = problem.feature_id.as_deref().unwrap_or(""),
            reason = %problem.reason,
            "geodata reload failed; still serving the last good data",
        );
        problem
    }

    /// Reloads at every trigger sent on the returned channel, and at every change to the
    /// geodata directory (when the data set is a directory): a task that runs as long as the
    /// runtime. Several triggers that arrive during a reload make one reload after it.
    pub fn start(self) -> mpsc::UnboundedSender<Trigger> {
        let (tx, mut rx) = mpsc::unbounded_channel::<Trigger>();
        let watcher = match self.live.source() {
            Geodata::Dir(dir) => match watch(dir, tx.clone()) {
                Ok(w) => {
                    self.live.update(|s| s.watching = true);
                    // The data was loaded before the watch began (at start-up, before the
                    // server was built): a save in between was not notified, and is reloaded now.
                    if changed_since(dir, self.live.current().read_at) {
                        let _ = tx.send(Trigger::Files);
                    }
                    Some(w)
                }
                Err(e) => {
                    tracing::warn!(dir = %dir.display(), error = %e, "cannot watch the geodata directory; send SIGHUP to reload it");
                    None
                }
            },
            Geodata::BuiltIn => None,
        };
        tokio::spawn(async move {
            // Kept alive as long as the task: dropping it stops the notifications.
            let _watcher = watcher;
            while let Some(first) = rx.recv().await {
                let mut signalled = first == Trigger::Signal;
                // Gathers the writes of one save: waits for a quiet spell (not after SIGHUP,
                // which an operator sends once the files are saved).
                let since = Instant::now();
                while !signalled && since.elapsed() < MOST_WAIT {
                    match tokio::time::timeout(DEBOUNCE, rx.recv()).await {
                        Ok(Some(more)) => signalled |= more == Trigger::Signal,
                        Ok(None) | Err(_) => break,
                    }
                }
                while let Ok(more) = rx.try_recv() {
                    signalled |= more == Trigger::Signal;
                }
                if let Geodata::BuiltIn = self.live.source() {
                    tracing::info!("SIGHUP: the built-in data set never changes; nothing to reload");
                    continue;
                }
                tracing::info!(trigger = if signalled { "SIGHUP" } else { "file change" }, "reloading the geodata");
                let _ = self.reload().await;
            }
        });
        tx
    }
}

/// Whether a change to this file can change the data set: the manifest, a GeoJSON file, an
/// image. Editors' swap and backup files, and other files, are left alone.
pub fn is_geodata_file(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else { return false };
    if name.starts_with('.') {
        return false;
    }
    if name == MANIFEST {
        return true;
    }
    let ext = Path::new(name).extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
    matches!(ext.as_deref(), Some("geojson" | "png" | "jpg" | "jpeg" | "webp"))
}

/// How far a file's modification time may lag the clock: the kernel stamps files from a clock
/// that advances by ticks (up to 10 ms), so a file written just after a load began can carry a
/// time just before it.
const MTIME_LAG: Duration = Duration::from_millis(20);

/// Whether the directory, or a data file in it, changed since `read_at` (a catalog without a
/// time, not made by the loader, counts as changed). The directory's own time covers files
/// created, renamed or removed.
fn changed_since(dir: &Path, read_at: Option<SystemTime>) -> bool {
    let Some(since) = read_at.and_then(|t| t.checked_sub(MTIME_LAG)) else { return true };
    let newer = |path: &Path| std::fs::metadata(path).and_then(|m| m.modified()).is_ok_and(|t| t >= since);
    if newer(dir) {
        return true;
    }
    let Ok(entries) = std::fs::read_dir(dir) else { return true };
    entries.flatten().map(|e| e.path()).any(|p| is_geodata_file(&p) && newer(&p))
}

/// Whether a notified event changes a file: not an open, a read or a close after reading
/// (the reload's own reading), nor a change of access time.
fn is_change(kind: &notify::EventKind) -> bool {
    use notify::event::{AccessKind, AccessMode, EventKind, MetadataKind, ModifyKind};
    match kind {
        // `Any`: a backend that cannot tell what happened.
        EventKind::Create(_) | EventKind::Remove(_) | EventKind::Any => true,
        EventKind::Modify(ModifyKind::Metadata(MetadataKind::AccessTime)) => false,
        EventKind::Modify(_) => true,
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => true,
        EventKind::Access(_) | EventKind::Other => false,
    }
}

/// Watches `dir` (not its subdirectories), sending a trigger at each change to a data file.
fn watch(dir: &Path, tx: mpsc::UnboundedSender<Trigger>) -> Result<notify::RecommendedWatcher, notify::Error> {
    use notify::Watcher;
    let mut watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| match event {
        Ok(event) => {
            if is_change(&event.kind) && event.paths.iter().any(|p| is_geodata_file(p)) {
                let _ = tx.send(Trigger::Files);
            }
        }
        Err(e) => tracing::warn!(error = %e, "watching the geodata directory failed"),
    })?;
    watcher.watch(dir, notify::RecursiveMode::NonRecursive)?;
    Ok(watcher)
}

fn now_text() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_data_files_trigger_a_reload() {
        for yes in ["layers.toml", "towns.geojson", "TOWNS.GeoJSON", "scan-1.png", "scan.JPG", "scan.webp"] {
            assert!(is_geodata_file(Path::new("/g").join(yes).as_path()), "{yes}");
        }
        for no in [".towns.geojson.swp", "towns.geojson~", "4913", "notes.md", ".layers.toml.tmp", "layers.toml.bak"] {
            assert!(!is_geodata_file(Path::new("/g").join(no).as_path()), "{no}");
        }
    }
}
