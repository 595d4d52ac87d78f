//! The shared event store: PostgreSQL with PostGIS, for several tessera servers on one
//! database behind a load balancer.
//!
//! Each server keeps every event in its [`Mirror`] and serves reads, tiles and `/health` from
//! it, as with SQLite; the database is asked only by writes and by the change feed
//! (`feed.rs`), through which each server hears of the others' writes and drops exactly the
//! cached tiles they touch. So reads keep working while the database is down, and writes then
//! answer [`StorageFault::Unreachable`] until it is back (the pool reconnects by itself).
//!
//! A write is one transaction: `SELECT ... FOR UPDATE` of the event, the `If-Match` check
//! against that row, the change, its change-log row and `NOTIFY`, then the commit. Two editors
//! on two servers with the same `If-Match` queue on the row lock; the second reads the first's
//! version and is refused, and its server reads the log before answering, so both servers show
//! the winner.
//!
//! tokio-postgres is asynchronous and the [`EventStore`] trait is not (the HTTP layer calls
//! writes on its blocking pool, and `tessera import` has no runtime): the store runs its own
//! small runtime, for the pool, the feed and each write's `block_on`.

mod feed;
mod schema;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Transaction};
use tokio_postgres::NoTls;
use tokio_postgres::error::SqlState;

use self::feed::{CHANNEL, LOG_LOCK, Own};
use super::mirror::{ChangeListener, Mirror};
use super::{Event, EventExtent, EventFilter, EventInput, EventStore, Expect, StorageFault, StoreError, chain};
use crate::tile::WorldRect;

/// Connections a server keeps for writes (the feed has one more of its own). Writes commit one
/// at a time (see `feed.rs`), so more would wait rather than help.
const POOL_SIZE: usize = 8;
/// Longest wait for a connection to be made, or for a free one in the pool.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest one statement may run, well inside the default request timeout (30 s).
const STATEMENT_TIMEOUT_MS: u32 = 10_000;

/// `postgres://user@host:port/database`: the database without its password or options, for
/// logs and messages.
pub fn describe_database(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let user = config.get_user().map(|u| format!("{u}@")).unwrap_or_default();
    let ports = config.get_ports();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let host = match h {
                Host::Tcp(name) => name.clone(),
                Host::Unix(path) => path.display().to_string(),
            };
            match ports.get(i).or(ports.first()) {
                Some(p) => format!("{host}:{p}"),
                None => host,
            }
        })
        .collect();
    let db = config.get_dbname().unwrap_or("");
    format!("postgres://{user}{}/{db}", hosts.join(","))
}

/// What the store's tasks share.
pub(super) struct Shared {
    pool: Pool,
    mirror: Mirror,
    /// The last change of the log applied to the mirror; its lock orders the applying.
    applied: tokio::sync::Mutex<i64>,
    /// Whether the feed is connected (and so this server hears of others' writes).
    in_sync: AtomicBool,
    /// The database, without its password.
    target: String,
}

/// The store's own runtime, shut down without waiting when the store is dropped (which may
/// happen on another runtime's thread, where waiting is not allowed).
struct Background(Option<tokio::runtime::Runtime>);

impl Drop for Background {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

/// PostgreSQL-backed [`EventStore`].
pub struct PgStore {
    shared: Arc<Shared>,
    handle: tokio::runtime::Handle,
    _runtime: Background,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("database", &self.shared.target).field("mirror", &self.shared.mirror).finish()
    }
}

fn now_ms() -> i64 {
    Utc::now().timestamp_millis()
}

fn instant(ms: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(ms).unwrap_or_default()
}

fn second(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or_default()
}

/// A row (id, feature, created, updated, version) as an event.
pub(super) fn row_event(
    id: String,
    feature: serde_json::Value,
    created: DateTime<Utc>,
    updated: DateTime<Utc>,
    version: i64,
) -> Result<Event, StoreError> {
    let input = EventInput::from_stored(&feature).map_err(|errs| StoreError::Corrupt {
        id: id.clone(),
        reason: errs.iter().map(|e| format!("{}: {}", e.field, e.problem)).collect::<Vec<_>>().join("; "),
    })?;
    Ok(Event {
        id,
        input,
        created: created.timestamp_millis(),
        updated: updated.timestamp_millis(),
        version: version.max(1) as u64,
    })
}

/// Why a write did not happen, before it is told to the HTTP layer.
enum WriteError {
    /// Refused by the store's rules (missing, stale, taken).
    Refused(StoreError),
    /// No connection could be had.
    Pool(PoolError),
    /// A statement failed; the transaction rolled back.
    Statement(tokio_postgres::Error),
    /// The commit failed.
    Commit(tokio_postgres::Error),
}

impl From<tokio_postgres::Error> for WriteError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Statement(e)
    }
}

impl From<PoolError> for WriteError {
    fn from(e: PoolError) -> Self {
        Self::Pool(e)
    }
}

/// What kind of failure a database error is, for the client.
fn fault(e: &tokio_postgres::Error) -> StorageFault {
    if e.is_closed() {
        return StorageFault::Unreachable;
    }
    match e.code() {
        Some(c) if *c == SqlState::DISK_FULL => StorageFault::Full,
        Some(c) if *c == SqlState::READ_ONLY_SQL_TRANSACTION => StorageFault::ReadOnly,
        // Class 08, connection exception; 57P, the server shutting down or starting.
        Some(c) if c.code().starts_with("08") || c.code().starts_with("57P") => StorageFault::Unreachable,
        Some(_) => StorageFault::Failed,
        // No SQLSTATE: the client's side of the connection failed (refused, reset, timed out).
        None if std::error::Error::source(e).is_some_and(|s| s.is::<std::io::Error>()) => StorageFault::Unreachable,
        None => StorageFault::Failed,
    }
}

impl PgStore {
    /// Connects to the database at `url`, migrates its schema (under a lock, so that servers
    /// starting at once do not race), loads every event and starts following the changes.
    /// `command` names this process to the database (`application_name`).
    pub fn open(url: &str, command: &str) -> Result<Self, StoreError> {
        let mut config: tokio_postgres::Config = url
            .parse()
            .map_err(|e| StoreError::Database { target: "(the events_db URL)".into(), source: Box::new(e) })?;
        let target = describe_database(&config);
        let database =
            |source: Box<dyn std::error::Error + Send + Sync>| StoreError::Database { target: target.clone(), source };
        let pid = std::process::id();
        tune(&mut config);
        let mut feed_config = config.clone();
        config.application_name(format!("{command} ({pid})"));
        feed_config.application_name(format!("tessera feed ({pid})"));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("tessera-postgres")
            .enable_all()
            .build()
            .map_err(|e| database(Box::new(e)))?;
        let manager =
            Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Verified });
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .wait_timeout(Some(CONNECT_TIMEOUT))
            .create_timeout(Some(CONNECT_TIMEOUT))
            .recycle_timeout(Some(CONNECT_TIMEOUT))
            .build()
            .map_err(|e| database(Box::new(e)))?;
        let handle = runtime.handle().clone();
        let (events, last) = handle.block_on(async {
            let mut client = pool.get().await.map_err(|e| database(Box::new(e)))?;
            match schema::migrate(&mut client).await {
                Ok(_) => {}
                Err(schema::MigrateError::Database(e)) => return Err(database(Box::new(e))),
                Err(schema::MigrateError::Newer(found)) => {
                    return Err(StoreError::NewerSchema { target: target.clone(), found, known: schema::latest() });
                }
            }
            feed::snapshot(&mut client).await.map_err(|e| database(Box::new(e)))
        })?;
        tracing::info!(database = %target, events = events.len(), "event database open");
        let shared = Arc::new(Shared {
            pool,
            mirror: Mirror::new(events),
            applied: tokio::sync::Mutex::new(last),
            in_sync: AtomicBool::new(false),
            target,
        });
        runtime.spawn(feed::follow(Arc::clone(&shared), feed_config));
        Ok(Self { shared, handle, _runtime: Background(Some(runtime)) })
    }

    /// The database, as `postgres://user@host:port/database`.
    pub fn target(&self) -> &str {
        &self.shared.target
    }

    /// Runs a write on the store's runtime and turns a database failure into
    /// [`StoreError::Unwritable`], naming the fault.
    fn writing<T>(&self, write: impl Future<Output = Result<T, WriteError>>) -> Result<T, StoreError> {
        let (fault, detail) = match self.handle.block_on(write) {
            Ok(v) => return Ok(v),
            Err(WriteError::Refused(e)) => return Err(e),
            Err(WriteError::Pool(PoolError::Backend(e))) => (fault(&e), chain(&e)),
            Err(WriteError::Pool(e @ PoolError::Timeout(_))) => (StorageFault::Unreachable, chain(&e)),
            Err(WriteError::Pool(e)) => (StorageFault::Failed, chain(&e)),
            Err(WriteError::Statement(e)) => (fault(&e), chain(&e)),
            // The commit was sent and the answer lost: it may have been stored.
            Err(WriteError::Commit(e)) => match fault(&e) {
                StorageFault::Unreachable => (StorageFault::Unconfirmed, chain(&e)),
                other => (other, chain(&e)),
            },
        };
        tracing::error!(database = %self.shared.target, error = %detail, fault = fault.explain(), "an event write failed");
        Err(StoreError::Unwritable { fault, detail })
    }
}

/// Timeouts for every connection: to connect, per statement, for a transaction left idle, and
/// TCP keepalives, so that a database gone silent is noticed rather than waited on.
fn tune(config: &mut tokio_postgres::Config) {
    config.connect_timeout(CONNECT_TIMEOUT);
    config.keepalives(true);
    config.keepalives_idle(Duration::from_secs(30));
    config.tcp_user_timeout(Duration::from_secs(15));
    let mut options = config.get_options().map(|o| format!("{o} ")).unwrap_or_default();
    options.push_str(&format!(
        "-c statement_timeout={STATEMENT_TIMEOUT_MS} -c idle_in_transaction_session_timeout={}",
        STATEMENT_TIMEOUT_MS * 3
    ));
    config.options(options);
}

const INSERT_EVENT: &str = "INSERT INTO events (id, feature, t_start, t_end, created, updated, version, geom) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, ST_SetSRID(ST_MakePoint($8, $9), 4326)) ON CONFLICT (id) DO NOTHING";
const UPDATE_EVENT: &str = "UPDATE events SET feature = $2, t_start = $3, t_end = $4, updated = $5, version = $6, \
     geom = ST_SetSRID(ST_MakePoint($7, $8), 4326) WHERE id = $1";
const CURRENT: &str = "SELECT id, feature, created, updated, version FROM events WHERE id = $1 FOR UPDATE";

/// Stores a new event; `false` when its id is taken.
async fn insert_row(tx: &Transaction<'_>, e: &Event) -> Result<bool, tokio_postgres::Error> {
    let stmt = tx.prepare_cached(INSERT_EVENT).await?;
    let (span, at) = (e.input.span, e.input.position);
    let n = tx
        .execute(
            &stmt,
            &[
                &e.id,
                &e.to_feature(),
                &second(span.start),
                &second(span.end),
                &instant(e.created),
                &instant(e.updated),
                &(e.version as i64),
                &at.lon,
                &at.lat,
            ],
        )
        .await?;
    Ok(n == 1)
}

/// The event as the database holds it, locked until the transaction ends.
async fn current(tx: &Transaction<'_>, id: &str) -> Result<Option<Event>, WriteError> {
    let stmt = tx.prepare_cached(CURRENT).await?;
    let Some(row) = tx.query_opt(&stmt, &[&id]).await? else { return Ok(None) };
    row_event(row.get(0), row.get(1), row.get(2), row.get(3), row.get(4)).map(Some).map_err(WriteError::Refused)
}

/// Appends the changed events to the log under the log's lock, and announces the last one at
/// commit; returns the first and last `seq` taken. One statement, so that the lock, held from
/// here to the commit, is held for one round trip and the commit: `locked` is joined into the
/// rows inserted, so the lock is taken before the first `seq` is.
const LOG_CHANGES: &str = "WITH locked AS (SELECT pg_advisory_xact_lock($3)), \
     logged AS (INSERT INTO event_changes (id, op) SELECT ids.id, $2 FROM locked, unnest($1::text[]) AS ids(id) \
     RETURNING seq) \
     SELECT min(seq), max(seq), pg_notify($4, max(seq)::text) FROM logged";

async fn log(tx: &Transaction<'_>, ids: &[&str], op: &str) -> Result<(i64, i64), tokio_postgres::Error> {
    let stmt = tx.prepare_cached(LOG_CHANGES).await?;
    let row = tx.query_one(&stmt, &[&ids, &op, &LOG_LOCK, &CHANNEL]).await?;
    Ok((row.get::<_, Option<i64>>(0).unwrap_or(0), row.get::<_, Option<i64>>(1).unwrap_or(0)))
}

/// Refuses a write whose expectation the stored event does not meet.
fn check(id: &str, cur: Option<Event>, expect: Expect) -> Result<Event, StoreError> {
    let Some(cur) = cur else { return Err(StoreError::NotFound(id.to_owned())) };
    match expect {
        Expect::Version(v) if v != cur.version => Err(StoreError::Stale { id: id.to_owned(), current: cur.etag() }),
        _ => Ok(cur),
    }
}

/// The writes themselves, run through [`PgStore::writing`].
impl PgStore {
    async fn insert_now(&self, events: Vec<Event>) -> Result<Vec<Event>, WriteError> {
        let mut conn = self.shared.pool.get().await?;
        let tx = conn.transaction().await?;
        for e in &events {
            if !insert_row(&tx, e).await? {
                return Err(WriteError::Refused(StoreError::Conflict(e.id.clone())));
            }
        }
        let ids: Vec<&str> = events.iter().map(|e| e.id.as_str()).collect();
        let seqs = log(&tx, &ids, "put").await?;
        tx.commit().await.map_err(WriteError::Commit)?;
        self.shared.settle(&mut conn, seqs, Own::Put(events.clone())).await;
        Ok(events)
    }

    async fn replace_now(&self, id: &str, input: EventInput, expect: Expect) -> Result<Event, WriteError> {
        let mut conn = self.shared.pool.get().await?;
        let tx = conn.transaction().await?;
        let cur = match check(id, current(&tx, id).await?, expect) {
            Ok(cur) => cur,
            Err(refusal) => {
                tx.rollback().await?;
                self.shared.sync(&mut conn).await;
                return Err(WriteError::Refused(refusal));
            }
        };
        let e = Event {
            id: id.to_owned(),
            input: EventInput { id: Some(id.to_owned()), ..input },
            created: cur.created,
            updated: now_ms().max(cur.updated),
            version: cur.version + 1,
        };
        let stmt = tx.prepare_cached(UPDATE_EVENT).await?;
        let (span, at) = (e.input.span, e.input.position);
        tx.execute(
            &stmt,
            &[
                &e.id,
                &e.to_feature(),
                &second(span.start),
                &second(span.end),
                &instant(e.updated),
                &(e.version as i64),
                &at.lon,
                &at.lat,
            ],
        )
        .await?;
        let seqs = log(&tx, &[id], "put").await?;
        tx.commit().await.map_err(WriteError::Commit)?;
        self.shared.settle(&mut conn, seqs, Own::Put(vec![e.clone()])).await;
        Ok(e)
    }

    async fn delete_now(&self, id: &str, expect: Expect) -> Result<Event, WriteError> {
        let mut conn = self.shared.pool.get().await?;
        let tx = conn.transaction().await?;
        let cur = match check(id, current(&tx, id).await?, expect) {
            Ok(cur) => cur,
            Err(refusal) => {
                tx.rollback().await?;
                self.shared.sync(&mut conn).await;
                return Err(WriteError::Refused(refusal));
            }
        };
        tx.execute("DELETE FROM events WHERE id = $1", &[&id]).await?;
        let seqs = log(&tx, &[id], "delete").await?;
        tx.commit().await.map_err(WriteError::Commit)?;
        self.shared.settle(&mut conn, seqs, Own::Remove(id.to_owned())).await;
        Ok(cur)
    }

    /// Imports the seed events never imported from `source` into this database: servers
    /// starting at once queue on the `seeded` rows, and the later ones find them taken.
    async fn seed_now(&self, source: &str, inputs: Vec<EventInput>) -> Result<usize, WriteError> {
        let now = now_ms();
        let mut conn = self.shared.pool.get().await?;
        let tx = conn.transaction().await?;
        let mark = tx.prepare_cached("INSERT INTO seeded (source, id) VALUES ($1, $2) ON CONFLICT DO NOTHING").await?;
        let mut added = Vec::new();
        for input in inputs {
            let Some(id) = input.id.clone() else { continue };
            if tx.execute(&mark, &[&source, &id]).await? == 1 {
                let e = Event { id, input, created: now, updated: now, version: 1 };
                if insert_row(&tx, &e).await? {
                    added.push(e);
                }
            }
        }
        if added.is_empty() {
            tx.commit().await.map_err(WriteError::Commit)?;
            return Ok(0);
        }
        let ids: Vec<&str> = added.iter().map(|e| e.id.as_str()).collect();
        let seqs = log(&tx, &ids, "put").await?;
        tx.commit().await.map_err(WriteError::Commit)?;
        let n = added.len();
        self.shared.settle(&mut conn, seqs, Own::Put(added)).await;
        Ok(n)
    }
}

impl EventStore for PgStore {
    fn insert(&self, inputs: Vec<EventInput>) -> Result<Vec<Arc<Event>>, StoreError> {
        let now = now_ms();
        let events: Vec<Event> = inputs.into_iter().map(|input| Event::new(input, now)).collect();
        let stored = self.writing(self.insert_now(events))?;
        Ok(stored.into_iter().map(Arc::new).collect())
    }

    fn replace(&self, id: &str, input: EventInput, expect: Expect) -> Result<Arc<Event>, StoreError> {
        self.writing(self.replace_now(id, input, expect)).map(Arc::new)
    }

    fn delete(&self, id: &str, expect: Expect) -> Result<Arc<Event>, StoreError> {
        self.writing(self.delete_now(id, expect)).map(Arc::new)
    }

    fn seed(&self, source: &str, inputs: Vec<EventInput>) -> Result<usize, StoreError> {
        self.writing(self.seed_now(source, inputs))
    }

    fn get(&self, id: &str) -> Option<Arc<Event>> {
        self.shared.mirror.read().get(id).cloned()
    }

    fn query(&self, filter: &EventFilter, offset: usize, limit: usize) -> (usize, Vec<Arc<Event>>) {
        self.shared.mirror.read().query(filter, offset, limit)
    }

    fn select(&self, rect: &WorldRect, filter: &EventFilter) -> Vec<Arc<Event>> {
        self.shared.mirror.read().select(rect, filter)
    }

    fn extent(&self) -> Option<EventExtent> {
        self.shared.mirror.read().extent()
    }

    fn len(&self) -> usize {
        self.shared.mirror.read().len()
    }

    fn data_version(&self) -> u64 {
        self.shared.mirror.version()
    }

    fn on_change(&self, listener: ChangeListener) {
        self.shared.mirror.listen(listener);
    }

    fn backend(&self) -> &'static str {
        "postgres"
    }

    fn in_sync(&self) -> bool {
        self.shared.in_sync.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_database_is_described_without_its_password() {
        let config: tokio_postgres::Config =
            "postgres://editor:s3cret-pass@db.example.org:5433/tessera?sslmode=disable".parse().unwrap_or_default();
        let shown = describe_database(&config);
        assert_eq!(shown, "postgres://editor@db.example.org:5433/tessera");
        assert!(!shown.contains("s3cret"));
    }

    #[test]
    fn faults_without_a_database_answer_are_unreachable() {
        let refused: std::io::Result<std::net::TcpStream> = std::net::TcpStream::connect("127.0.0.1:1");
        assert!(refused.is_err(), "port 1 is closed on loopback");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
        let Ok(runtime) = runtime else { return };
        let mut config: tokio_postgres::Config = "postgres://u@127.0.0.1:1/db".parse().unwrap_or_default();
        config.connect_timeout(Duration::from_secs(2));
        match runtime.block_on(config.connect(NoTls)) {
            Err(e) => assert_eq!(fault(&e), StorageFault::Unreachable, "{e}"),
            Ok(_) => unreachable!("nothing listens on port 1"),
        }
    }
}
