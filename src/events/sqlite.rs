//! The embedded event store: SQLite in WAL mode with `synchronous = FULL`, so a write is on
//! disk before it is acknowledged, and an in-memory [`EventIndex`] for reads.
//!
//! When the data directory cannot be written, the store opens read-only: it serves what the
//! database holds (or, with no database yet, the seed events in memory) and refuses every write
//! with [`StoreError::Unwritable`]. A write that fails later (a full disk, a file system turned
//! read-only) stores nothing and says which of the two it was; the next write tries again.
//!
//! The data directory is locked for the store's whole life (see `lock.rs`): one tessera per
//! directory.
//!
//! The schema is versioned with `PRIMARY KEY`-style migrations keyed on `PRAGMA user_version`:
//! at open, every migration above the file's version runs in one transaction.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior, params};

use super::lock::{DirLock, LOCK_FILE, LockMode};
use super::mirror::{ChangeListener, Mirror};
use super::{Event, EventExtent, EventFilter, EventInput, EventStore, Expect, StorageFault, StoreError};
use crate::tile::WorldRect;

/// The database file inside the data directory.
pub const DB_FILE: &str = "events.sqlite";

/// Schema migrations; entry `i` takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &["
    CREATE TABLE events (
        id      TEXT PRIMARY KEY,
        feature TEXT NOT NULL,     -- the event as sent, a GeoJSON Feature (validated)
        t_start INTEGER NOT NULL,  -- its time span, UTC seconds
        t_end   INTEGER NOT NULL,
        created INTEGER NOT NULL,  -- ms since 1970
        updated INTEGER NOT NULL,
        version INTEGER NOT NULL
    );
    CREATE INDEX events_by_time ON events (t_start, t_end);
    CREATE TABLE seeded (source TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (source, id));
"];

/// SQLite-backed [`EventStore`].
#[derive(Debug)]
pub struct SqliteStore {
    conn: Mutex<Connection>,
    mirror: Mirror,
    /// The data directory, probed when a write fails; `None` in memory.
    dir: Option<PathBuf>,
    /// Opened without write access: every write is refused before it reaches SQLite.
    read_only: bool,
    /// The data directory's lock, held as long as the store; `None` in memory.
    lock: Option<DirLock>,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir`, migrates it, and loads every event, as
    /// [`SqliteStore::open_as`] does for a process described as plain `tessera`.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_as(dir, "tessera")
    }

    /// Locks `dir` for this process (see [`DirLock`]; `command` names the process to the next
    /// one, e.g. `tessera serve`), then opens (creating if needed) the store in it, migrates it,
    /// and loads every event. The lock is held until the store is dropped. A directory that
    /// cannot be written, or that this process can only lock shared, opens read-only (see the
    /// module documentation).
    pub fn open_as(dir: &Path, command: &str) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir { path: dir.to_owned(), source })?;
        let lock = DirLock::acquire(dir, command)?;
        match (probe(dir), lock.mode()) {
            (Some(StorageFault::ReadOnly), _) => return Self::open_read_only(dir, lock),
            (_, LockMode::Shared | LockMode::Unlocked) => {
                tracing::warn!(dir = %dir.display(), "{LOCK_FILE} cannot be written by this process: serving the directory read-only, so that no other tessera loses a write to this one");
                return Self::open_read_only(dir, lock);
            }
            (Some(fault), LockMode::Exclusive) => {
                tracing::warn!(dir = %dir.display(), "{}: event writes will fail", fault.explain());
            }
            (None, LockMode::Exclusive) => {}
        }
        let mut store = Self::with_connection(Connection::open(dir.join(DB_FILE))?)?;
        store.dir = Some(dir.to_owned());
        store.lock = Some(lock);
        Ok(store)
    }

    /// The events of `dir`'s database as they are now, read without taking the directory's
    /// lock: for `tessera export`, which reads them once and writes nothing, beside a server that
    /// may hold the directory and go on writing (in WAL mode a reader sees the last commit while
    /// a writer works). The connection is `query_only`; every write through the store is
    /// refused. With no database in `dir` yet, an empty store in memory, for the seed events.
    pub fn snapshot(dir: &Path) -> Result<Self, StoreError> {
        let path = dir.join(DB_FILE);
        if !path.exists() {
            return Self::in_memory();
        }
        // Read-write at the file level so that SQLite may use the log's shared memory as any
        // reader does; `query_only` makes the connection refuse to write.
        let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE)
            .or_else(|_| Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY))?;
        conn.pragma_update(None, "query_only", true)?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        if found != MIGRATIONS.len() as i64 {
            return Err(StoreError::Corrupt {
                id: String::new(),
                reason: format!(
                    "{} has schema version {found}, this tessera reads {}; start `tessera serve` on it once to migrate it",
                    path.display(),
                    MIGRATIONS.len()
                ),
            });
        }
        let events = load_all(&conn)?;
        let mut store = Self::new(conn, events);
        store.read_only = true;
        Ok(store)
    }

    /// A store in memory only (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    /// The store of a directory that cannot be written: its database opened read-only, or, when
    /// there is none, an empty database in memory that only [`EventStore::seed`] fills.
    fn open_read_only(dir: &Path, lock: DirLock) -> Result<Self, StoreError> {
        if lock.mode() == LockMode::Unlocked {
            tracing::warn!(dir = %dir.display(), "the read-only data directory has no {LOCK_FILE} to lock: a tessera that can write it would not be kept out");
        }
        let path = dir.join(DB_FILE);
        let mut store = if path.exists() {
            // With no write-ahead log beside it the file is all there is, and `immutable` lets
            // SQLite read it without creating the log's shared-memory file, which it could not.
            let wal = dir.join(format!("{DB_FILE}-wal"));
            let mode = if wal.exists() { "mode=ro" } else { "immutable=1" };
            let uri = format!("file:{}?{mode}", uri_path(&path));
            let conn =
                Connection::open_with_flags(&uri, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI)?;
            let found: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if found != MIGRATIONS.len() as i64 {
                return Err(StoreError::Corrupt {
                    id: String::new(),
                    reason: format!(
                        "{} has schema version {found}, this tessera needs {}, and the read-only directory does not allow the upgrade",
                        path.display(),
                        MIGRATIONS.len()
                    ),
                });
            }
            let events = load_all(&conn)?;
            tracing::warn!(dir = %dir.display(), events = events.len(), "the data directory is read-only: serving its events, refusing writes");
            Self::new(conn, events)
        } else {
            tracing::warn!(dir = %dir.display(), "the data directory is read-only and holds no event database: serving the seed events from memory, refusing writes");
            Self::with_connection(Connection::open_in_memory()?)?
        };
        store.read_only = true;
        store.dir = Some(dir.to_owned());
        store.lock = Some(lock);
        Ok(store)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let events = load_all(&conn)?;
        Ok(Self::new(conn, events))
    }

    fn new(conn: Connection, events: Vec<Event>) -> Self {
        Self { conn: Mutex::new(conn), mirror: Mirror::new(events), dir: None, read_only: false, lock: None }
    }

    /// Runs a write: refused at once when read-only; a failure of the database becomes
    /// [`StoreError::Unwritable`], naming the fault.
    fn writing<T>(&self, write: impl FnOnce() -> Result<T, StoreError>) -> Result<T, StoreError> {
        if self.read_only {
            return Err(StoreError::Unwritable {
                fault: StorageFault::ReadOnly,
                detail: "the store was opened read-only".into(),
            });
        }
        write().map_err(|e| self.unwritable(e))
    }

    fn unwritable(&self, error: StoreError) -> StoreError {
        let StoreError::Storage(e) = error else { return error };
        let fault = match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StorageFault::Full,
            Some(ErrorCode::ReadOnly) => StorageFault::ReadOnly,
            // An I/O error does not say why: ask the file system.
            _ => self.dir.as_deref().and_then(probe).unwrap_or(StorageFault::Failed),
        };
        tracing::error!(error = %e, fault = fault.explain(), "an event write failed; nothing of it was stored");
        StoreError::Unwritable { fault, detail: e.to_string() }
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether `dir` takes a small durable write; `None` when it does.
fn probe(dir: &Path) -> Option<StorageFault> {
    let path = dir.join(".tessera-write-probe");
    let written = std::fs::File::create(&path).and_then(|mut f| {
        f.write_all(&[0; 4096])?;
        f.sync_all()
    });
    let _ = std::fs::remove_file(&path);
    let error = written.err()?;
    use std::io::ErrorKind::{PermissionDenied, QuotaExceeded, ReadOnlyFilesystem, StorageFull};
    Some(match error.kind() {
        StorageFull | QuotaExceeded => StorageFault::Full,
        ReadOnlyFilesystem | PermissionDenied => StorageFault::ReadOnly,
        _ => StorageFault::Failed,
    })
}

/// A path as the path part of an SQLite `file:` URI (RFC 3986 percent-encoding).
fn uri_path(path: &Path) -> String {
    let mut out = String::new();
    for &b in path.to_string_lossy().as_bytes() {
        if b.is_ascii_alphanumeric() || b"/-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let current: usize = conn.pragma_query_value(None, "user_version", |r| r.get::<_, i64>(0))?.max(0) as usize;
    if current >= MIGRATIONS.len() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    for sql in &MIGRATIONS[current..] {
        tx.execute_batch(sql)?;
    }
    tx.pragma_update(None, "user_version", MIGRATIONS.len() as i64)?;
    tx.commit()?;
    Ok(())
}

fn load_all(conn: &Connection) -> Result<Vec<Event>, StoreError> {
    let mut stmt = conn.prepare("SELECT id, feature, created, updated, version FROM events")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, i64>(3)?,
            r.get::<_, i64>(4)?,
        ))
    })?;
    let mut out = Vec::new();
    for row in rows {
        out.push(row_event(row?)?);
    }
    Ok(out)
}

/// A row (id, feature, created, updated, version) as an event.
fn row_event((id, feature, created, updated, version): (String, String, i64, i64, i64)) -> Result<Event, StoreError> {
    let corrupt = |reason: String| StoreError::Corrupt { id: id.clone(), reason };
    let value: serde_json::Value = serde_json::from_str(&feature).map_err(|e| corrupt(e.to_string()))?;
    let input = EventInput::from_stored(&value).map_err(|errs| {
        corrupt(errs.iter().map(|e| format!("{}: {}", e.field, e.problem)).collect::<Vec<_>>().join("; "))
    })?;
    Ok(Event { id, input, created, updated, version: version.max(1) as u64 })
}

/// The event as the database holds it now, read inside a write's transaction.
fn stored(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<Option<Event>, StoreError> {
    let row = tx
        .query_row("SELECT id, feature, created, updated, version FROM events WHERE id = ?1", [id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    row.map(row_event).transpose()
}

fn row_feature(e: &Event) -> String {
    e.to_feature().to_string()
}

fn insert_row(tx: &rusqlite::Transaction<'_>, e: &Event) -> Result<(), rusqlite::Error> {
    tx.execute(
        "INSERT INTO events (id, feature, t_start, t_end, created, updated, version) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![e.id, row_feature(e), e.input.span.start, e.input.span.end, e.created, e.updated, e.version as i64],
    )?;
    Ok(())
}

impl EventStore for SqliteStore {
    fn insert(&self, inputs: Vec<EventInput>) -> Result<Vec<Arc<Event>>, StoreError> {
        self.writing(|| self.insert_now(inputs))
    }

    fn replace(&self, id: &str, input: EventInput, expect: Expect) -> Result<Arc<Event>, StoreError> {
        self.writing(|| self.replace_now(id, input, expect))
    }

    fn delete(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError> {
        self.writing(|| self.delete_now(id, expect))
    }

    /// Not refused when read-only: the seed of a read-only directory with no database goes
    /// into memory; a read-only database refuses it itself.
    fn seed(&self, source: &str, inputs: Vec<EventInput>) -> Result<usize, StoreError> {
        self.seed_now(source, inputs).map_err(|e| self.unwritable(e))
    }

    fn read_only(&self) -> bool {
        self.read_only
    }

    fn backend(&self) -> &'static str {
        "sqlite"
    }

    fn get(&self, id: &str) -> Option<Arc<Event>> {
        self.mirror.read().get(id).cloned()
    }

    fn query(&self, filter: &EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>) {
        self.mirror.read().query(filter, offset, limit)
    }

    fn select(&self, rect: &WorldRect, filter: &EventFilter) -> Vec<Arc<Event>> {
        self.mirror.read().select(rect, filter)
    }

    fn extent(&self) -> Option<EventExtent> {
        self.mirror.read().extent()
    }

    fn len(&self) -> usize {
        self.mirror.read().len()
    }

    fn data_version(&self) -> u64 {
        self.mirror.version()
    }

    fn on_change(&self, listener: ChangeListener) {
        self.mirror.listen(listener);
    }
}

/// The writes themselves, run through [`SqliteStore::writing`].
impl SqliteStore {
    fn insert_now(&self, inputs: Vec<EventInput>) -> Result<Vec<Arc<Event>>, StoreError> {
        let now = now_ms();
        let events: Vec<Event> = inputs.into_iter().map(|input| Event::new(input, now)).collect();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for e in &events {
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM events WHERE id = ?1", [&e.id], |r| r.get(0)).optional()?;
            if exists.is_some() {
                return Err(StoreError::Conflict(e.id.clone()));
            }
            insert_row(&tx, e).map_err(|err| match err {
                rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                    StoreError::Conflict(e.id.clone())
                }
                other => StoreError::Storage(other),
            })?;
        }
        tx.commit()?;
        Ok(self.mirror.put(events))
    }

    fn replace_now(&self, id: &str, input: EventInput, expect: Expect) -> Result<Arc<Event>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let cur = self.check(&tx, id, expect)?;
        let e = Event {
            id: id.to_owned(),
            input: EventInput { id: Some(id.to_owned()), ..input },
            created: cur.created,
            updated: now_ms().max(cur.updated),
            version: cur.version + 1,
        };
        tx.execute(
            "UPDATE events SET feature = ?2, t_start = ?3, t_end = ?4, updated = ?5, version = ?6 WHERE id = ?1",
            params![e.id, row_feature(&e), e.input.span.start, e.input.span.end, e.updated, e.version as i64],
        )?;
        tx.commit()?;
        self.mirror.put(vec![e]).pop().ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    fn delete_now(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let cur = self.check(&tx, id, expect)?;
        tx.execute("DELETE FROM events WHERE id = ?1", [id])?;
        tx.commit()?;
        self.mirror.remove(id);
        Ok(Arc::new(cur))
    }

    /// Checks a write's expectation against the event as the database holds it, inside the
    /// write's transaction (`BEGIN IMMEDIATE`: no other connection writes between this read
    /// and the write's commit), so that no write replaces a version it was not shown. The index
    /// is not asked: it mirrors what this process wrote, and a database written by another
    /// hand (which the data directory's lock keeps other tessera processes from being) differs.
    /// When it does differ for this event, the index takes the database's word for it, so that
    /// the client told to read again reads what it must merge with.
    fn check(&self, tx: &rusqlite::Transaction<'_>, id: &str, expect: Expect) -> Result<Event, StoreError> {
        let Some(cur) = stored(tx, id)? else {
            self.mirror.remove(id);
            return Err(StoreError::NotFound(id.to_owned()));
        };
        if self.get(id).is_none_or(|known| known.version != cur.version) {
            tracing::warn!(
                id,
                version = cur.version,
                "the event database holds a version of this event that the server did not write: serving it"
            );
            self.mirror.put(vec![cur.clone()]);
        }
        match expect {
            Expect::Version(v) if v != cur.version => Err(StoreError::Stale { id: id.to_owned(), current: cur.etag() }),
            _ => Ok(cur),
        }
    }

    fn seed_now(&self, source: &str, inputs: Vec<EventInput>) -> Result<usize, StoreError> {
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut added = Vec::new();
        for input in inputs {
            let Some(id) = input.id.clone() else { continue };
            let seen = tx.execute("INSERT OR IGNORE INTO seeded (source, id) VALUES (?1, ?2)", params![source, id])?;
            let exists: Option<i64> =
                tx.query_row("SELECT 1 FROM events WHERE id = ?1", [&id], |r| r.get(0)).optional()?;
            if seen == 1 && exists.is_none() {
                let e = Event { id, input, created: now, updated: now, version: 1 };
                insert_row(&tx, &e)?;
                added.push(e);
            }
        }
        tx.commit()?;
        let n = added.len();
        self.mirror.put(added);
        Ok(n)
    }
}
