//! The embedded event store: SQLite in WAL mode with `synchronous = FULL`, so a write is on
//! disk before it is acknowledged, and an in-memory [`EventIndex`] for reads.
//!
//! The schema is versioned with `PRIMARY KEY`-style migrations keyed on `PRAGMA user_version`:
//! at open, every migration above the file's version runs in one transaction.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use rusqlite::{Connection, OptionalExtension, params};

use super::{Event, EventFilter, EventIndex, EventInput, EventStore, Expect, StoreError};
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
    index: RwLock<EventIndex>,
    version: AtomicU64,
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

impl SqliteStore {
    /// Opens (creating if needed) the store in `dir`, migrates it, and loads every event.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir).map_err(|source| StoreError::Dir { path: dir.to_owned(), source })?;
        Self::with_connection(Connection::open(dir.join(DB_FILE))?)
    }

    /// A store in memory only (tests).
    pub fn in_memory() -> Result<Self, StoreError> {
        Self::with_connection(Connection::open_in_memory()?)
    }

    fn with_connection(mut conn: Connection) -> Result<Self, StoreError> {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        migrate(&mut conn)?;
        let events = load_all(&conn)?;
        Ok(Self { conn: Mutex::new(conn), index: RwLock::new(EventIndex::new(events)), version: AtomicU64::new(1) })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves SQLite consistent (transactions roll back).
        self.conn.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, EventIndex> {
        self.index.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, EventIndex> {
        self.index.write().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn bump(&self) {
        self.version.fetch_add(1, Ordering::SeqCst);
    }

    /// Checks an expectation against the current event.
    fn expect(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError> {
        let cur = self.get(id).ok_or_else(|| StoreError::NotFound(id.to_owned()))?;
        match expect {
            Expect::Version(v) if v != cur.version => Err(StoreError::Stale { id: id.to_owned(), current: cur.etag() }),
            _ => Ok(cur),
        }
    }
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
        let (id, feature, created, updated, version) = row?;
        let corrupt = |reason: String| StoreError::Corrupt { id: id.clone(), reason };
        let value: serde_json::Value = serde_json::from_str(&feature).map_err(|e| corrupt(e.to_string()))?;
        let input = EventInput::from_feature(&value, "").map_err(|errs| {
            corrupt(errs.iter().map(|e| format!("{}: {}", e.field, e.problem)).collect::<Vec<_>>().join("; "))
        })?;
        out.push(Event { id, input, created, updated, version: version.max(1) as u64 });
    }
    Ok(out)
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
        let now = now_ms();
        let events: Vec<Event> = inputs
            .into_iter()
            .map(|input| {
                let id = input.id.clone().unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
                Event {
                    id: id.clone(),
                    input: EventInput { id: Some(id), ..input },
                    created: now,
                    updated: now,
                    version: 1,
                }
            })
            .collect();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
        let mut index = self.write();
        for e in &events {
            index.put(e.clone());
        }
        self.bump();
        Ok(events.iter().filter_map(|e| index.get(&e.id).cloned()).collect())
    }

    fn replace(&self, id: &str, input: EventInput, expect: Expect) -> Result<Arc<Event>, StoreError> {
        let conn = self.conn();
        let cur = self.expect(id, expect)?;
        let e = Event {
            id: id.to_owned(),
            input: EventInput { id: Some(id.to_owned()), ..input },
            created: cur.created,
            updated: now_ms().max(cur.updated),
            version: cur.version + 1,
        };
        conn.execute(
            "UPDATE events SET feature = ?2, t_start = ?3, t_end = ?4, updated = ?5, version = ?6 WHERE id = ?1",
            params![e.id, row_feature(&e), e.input.span.start, e.input.span.end, e.updated, e.version as i64],
        )?;
        let mut index = self.write();
        index.put(e);
        self.bump();
        index.get(id).cloned().ok_or_else(|| StoreError::NotFound(id.to_owned()))
    }

    fn delete(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError> {
        let conn = self.conn();
        let cur = self.expect(id, expect)?;
        conn.execute("DELETE FROM events WHERE id = ?1", [id])?;
        self.write().remove(id);
        self.bump();
        Ok(cur)
    }

    fn seed(&self, source: &str, inputs: Vec<EventInput>) -> Result<usize, StoreError> {
        let now = now_ms();
        let mut conn = self.conn();
        let tx = conn.transaction()?;
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
        if n > 0 {
            let mut index = self.write();
            added.into_iter().for_each(|e| index.put(e));
            self.bump();
        }
        Ok(n)
    }

    fn get(&self, id: &str) -> Option<Arc<Event>> {
        self.read().get(id).cloned()
    }

    fn query(&self, filter: &EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>) {
        self.read().query(filter, offset, limit)
    }

    fn select(&self, rect: &WorldRect, filter: &EventFilter) -> Vec<Arc<Event>> {
        self.read().select(rect, filter)
    }

    fn len(&self) -> usize {
        self.read().len()
    }

    fn data_version(&self) -> u64 {
        self.version.load(Ordering::SeqCst)
    }
}
