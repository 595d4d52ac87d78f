//! One tessera per data directory: an advisory lock on `DATA/tessera.lock`, held by the event
//! store for its whole life.
//!
//! Why: the store answers reads from an in-memory index of its database and writes through it.
//! A second process on the same database has an index of its own that never sees the first's
//! writes, so each serves its own history (two servers once both answered "v2" to two PATCHes
//! of "v1", with different contents). The version check inside each write's transaction (see
//! `sqlite.rs`) keeps such a process from overwriting what it did not read; the lock keeps it
//! from starting at all.
//!
//! How: `flock(2)` through `fs4`. The kernel drops the lock when the process ends, however it
//! ends (SIGKILL too), so a crash never leaves a lock to clear by hand. The file itself stays;
//! the holder writes its pid, start time and command into it, so that the process refused can
//! say what holds the directory. Its contents mean nothing without the lock. `flock` locks
//! belong to an open file, not to a process, so two stores in one process exclude each other
//! too.
//!
//! A read-only data directory: a store that cannot write cannot lose a write, but it must not
//! serve beside a writer either (its index would go stale). When the lock file exists (left by
//! the last writable run) it is opened read-only and locked shared: a writer's exclusive lock
//! and it exclude each other, read-only servers do not. A read-only directory without a lock
//! file cannot get one, and is served unlocked. A store that could lock only shared (the lock
//! file is read-only to it) serves read-only too.

use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::path::{Path, PathBuf};

use fs4::{FileExt, TryLockError};
use serde::{Deserialize, Serialize};

/// The lock file inside the data directory.
pub const LOCK_FILE: &str = "tessera.lock";

/// The lock a store holds on its data directory; released when dropped.
#[derive(Debug)]
pub struct DirLock {
    /// The locked file; `None` when unlocked.
    _file: Option<File>,
    mode: LockMode,
}

/// How a data directory is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LockMode {
    /// Alone, with writes.
    Exclusive,
    /// Beside other read-only stores, without writes.
    Shared,
    /// Not at all: a read-only directory with no lock file.
    Unlocked,
}

/// Who holds a data directory, as its lock file says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holder {
    /// Process id.
    pub pid: u32,
    /// When it took the lock, RFC 3339 UTC.
    pub since: String,
    /// What it runs (`tessera serve`, `tessera import`).
    pub command: String,
}

/// What holds a directory that could not be locked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeldBy {
    /// A process that writes it; `None` when its lock file does not name it (yet).
    Writer(Option<Holder>),
    /// One or more stores serving it read-only (they cannot write their names into it).
    ReadOnly,
}

impl std::fmt::Display for HeldBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Writer(Some(h)) => write!(f, "{} (pid {}, since {})", h.command, h.pid, h.since),
            Self::Writer(None) => write!(f, "another process, which its lock file does not name"),
            Self::ReadOnly => write!(f, "a tessera serving it read-only"),
        }
    }
}

/// Why a data directory could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another process holds it.
    #[error("data directory {} is in use by {holder}", .dir.display())]
    Held {
        /// The data directory.
        dir: PathBuf,
        /// What holds it.
        holder: HeldBy,
    },
    /// The lock file could not be opened or locked.
    #[error("cannot lock data directory {}: {}: {source}", .dir.display(), .path.display())]
    Io {
        /// The data directory.
        dir: PathBuf,
        /// The lock file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
}

impl DirLock {
    /// Takes `dir` for this process, exclusively when the lock file can be opened for writing
    /// (see the module documentation for the other cases); `command` is written into the lock
    /// file to name this process to the next one.
    pub fn acquire(dir: &Path, command: &str) -> Result<Self, LockError> {
        let path = dir.join(LOCK_FILE);
        match OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path) {
            Ok(file) => Self::exclusive(dir, file, command),
            Err(e) if matches!(e.kind(), ErrorKind::ReadOnlyFilesystem | ErrorKind::PermissionDenied) => {
                Self::shared(dir, &path)
            }
            Err(source) => Err(LockError::Io { dir: dir.to_owned(), path, source }),
        }
    }

    /// How the directory is held.
    pub fn mode(&self) -> LockMode {
        self.mode
    }

    fn exclusive(dir: &Path, mut file: File, command: &str) -> Result<Self, LockError> {
        // Named in full: std's `File::try_lock` (Rust 1.89) would shadow the trait's method on
        // newer toolchains, with another error type.
        match FileExt::try_lock(&file) {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(LockError::Held { dir: dir.to_owned(), holder: held_by(&mut file) });
            }
            Err(TryLockError::Error(source)) => {
                return Err(LockError::Io { dir: dir.to_owned(), path: dir.join(LOCK_FILE), source });
            }
        }
        let holder = Holder {
            pid: std::process::id(),
            since: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            command: command.to_owned(),
        };
        // The record only names the holder; failing to write it (a full disk) keeps the lock.
        let record = serde_json::to_vec(&holder).unwrap_or_default();
        if let Err(e) = file.set_len(0).and_then(|()| file.write_all(&record)) {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot write this process's name into {LOCK_FILE}; the directory is locked all the same");
        }
        Ok(Self { _file: Some(file), mode: LockMode::Exclusive })
    }

    /// The lock of a directory whose lock file this process cannot write.
    fn shared(dir: &Path, path: &Path) -> Result<Self, LockError> {
        let io = |source| LockError::Io { dir: dir.to_owned(), path: path.to_owned(), source };
        let mut file = match File::open(path) {
            Ok(file) => file,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(Self { _file: None, mode: LockMode::Unlocked }),
            Err(e) => return Err(io(e)),
        };
        match FileExt::try_lock_shared(&file) {
            Ok(()) => Ok(Self { _file: Some(file), mode: LockMode::Shared }),
            Err(TryLockError::WouldBlock) => {
                Err(LockError::Held { dir: dir.to_owned(), holder: HeldBy::Writer(read_holder(&mut file)) })
            }
            Err(TryLockError::Error(e)) => Err(io(e)),
        }
    }
}

/// Who holds the lock that `file` could not take exclusively: read-only stores when a shared
/// lock can be had (the record then names the last writer, not them), else the writer the
/// record names.
fn held_by(file: &mut File) -> HeldBy {
    if FileExt::try_lock_shared(file).is_ok() {
        let _ = FileExt::unlock(file);
        return HeldBy::ReadOnly;
    }
    HeldBy::Writer(read_holder(file))
}

fn read_holder(file: &mut File) -> Option<Holder> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(&text).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tessera-lock-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn a_second_lock_is_refused_naming_the_first_until_it_is_dropped() {
        let d = dir("exclusive");
        let first = DirLock::acquire(&d, "tessera serve").expect("the first lock");
        assert_eq!(first.mode(), LockMode::Exclusive);
        match DirLock::acquire(&d, "tessera import") {
            Err(LockError::Held { dir, holder: HeldBy::Writer(Some(h)) }) => {
                assert_eq!(dir, d);
                assert_eq!((h.pid, h.command.as_str()), (std::process::id(), "tessera serve"));
                assert!(h.since.ends_with('Z'), "{}", h.since);
            }
            other => panic!("the second lock: {other:?}"),
        }
        drop(first);
        let again = DirLock::acquire(&d, "tessera import").expect("free again");
        assert_eq!(again.mode(), LockMode::Exclusive);
        let _ = std::fs::remove_dir_all(&d);
    }

    #[test]
    fn read_only_stores_share_the_directory_and_exclude_writers() {
        let d = dir("shared");
        let path = d.join(LOCK_FILE);
        assert_eq!(DirLock::shared(&d, &path).expect("no lock file").mode(), LockMode::Unlocked);
        let writer = DirLock::acquire(&d, "tessera serve").expect("writer");
        match DirLock::shared(&d, &path) {
            Err(LockError::Held { holder: HeldBy::Writer(Some(h)), .. }) => assert_eq!(h.pid, std::process::id()),
            other => panic!("a read-only store beside a writer: {other:?}"),
        }
        drop(writer);
        let a = DirLock::shared(&d, &path).expect("read-only a");
        let b = DirLock::shared(&d, &path).expect("read-only b");
        assert_eq!((a.mode(), b.mode()), (LockMode::Shared, LockMode::Shared));
        match DirLock::acquire(&d, "tessera serve") {
            Err(e @ LockError::Held { holder: HeldBy::ReadOnly, .. }) => {
                assert!(e.to_string().contains("read-only"), "{e}");
            }
            other => panic!("a writer beside read-only stores: {other:?}"),
        }
        let _ = std::fs::remove_dir_all(&d);
    }
}
