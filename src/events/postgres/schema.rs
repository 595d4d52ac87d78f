//! The PostgreSQL schema and its migrations.
//!
//! The tables are plain enough for SQL users and QGIS to read beside tessera: `events` has one
//! row per event with its GeoJSON Feature (`feature`, jsonb, exactly as the API serves it),
//! its time span, kind and title as columns, and a PostGIS `geom geometry(Point, 4326)` with a
//! GiST index. Writes go through tessera: a row written by hand is not announced to the servers
//! (see `feed.rs`).
//!
//! Every server migrates at start, inside one transaction under a transaction-level advisory
//! lock, so that servers starting at once queue behind the first one and find the schema
//! current: none of them runs a migration twice or reads a half-made schema.

use tokio_postgres::Client;

/// Migration `i` takes the schema from version `i` to `i + 1` (kept in `schema_version`).
///
/// Version 1 is the events as one server needs them. Version 2 adds what several servers and
/// SQL readers need: the change log the servers follow (`event_changes`, with the floor below
/// which it has been trimmed) and the kind and title as columns.
pub(super) const MIGRATIONS: &[&str] = &[V1, V2];

const V1: &str = "
    CREATE EXTENSION IF NOT EXISTS postgis;
    CREATE TABLE events (
        id      text PRIMARY KEY,
        feature jsonb NOT NULL,              -- the event as served, a GeoJSON Feature
        t_start timestamptz NOT NULL,        -- its time span, first and last second
        t_end   timestamptz NOT NULL,
        created timestamptz NOT NULL,
        updated timestamptz NOT NULL,
        version bigint NOT NULL,             -- 1, then one more at every change: the ETag
        geom    geometry(Point, 4326) NOT NULL
    );
    CREATE INDEX events_geom ON events USING gist (geom);
    CREATE INDEX events_time ON events (t_start, t_end);
    CREATE TABLE seeded (source text NOT NULL, id text NOT NULL, PRIMARY KEY (source, id));
";

const V2: &str = "
    CREATE TABLE event_changes (
        seq bigserial PRIMARY KEY,           -- in commit order (see feed.rs)
        id  text NOT NULL,
        op  text NOT NULL CHECK (op IN ('put', 'delete')),
        at  timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE event_log_floor (seq bigint NOT NULL);
    INSERT INTO event_log_floor VALUES (0);
    ALTER TABLE events
        ADD COLUMN kind text GENERATED ALWAYS AS (feature #>> '{properties,kind}') STORED,
        ADD COLUMN title text GENERATED ALWAYS AS (feature #>> '{properties,title}') STORED;
";

/// The advisory lock that migrations run under (an arbitrary number of tessera's own).
const MIGRATION_LOCK: i64 = 0x7465_7373_0001;

/// What the database said, or that its schema is newer than this build's.
#[derive(Debug)]
pub(super) enum MigrateError {
    /// A statement failed.
    Database(tokio_postgres::Error),
    /// The schema version found is above every version this build knows.
    Newer(i32),
}

impl From<tokio_postgres::Error> for MigrateError {
    fn from(e: tokio_postgres::Error) -> Self {
        Self::Database(e)
    }
}

/// The newest schema version.
pub(super) fn latest() -> i32 {
    MIGRATIONS.len() as i32
}

/// Brings the schema to the latest version; returns the version found before.
pub(super) async fn migrate(client: &mut Client) -> Result<i32, MigrateError> {
    let tx = client.transaction().await?;
    // A migration may wait for another server's, and may rewrite a large table.
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&MIGRATION_LOCK]).await?;
    tx.batch_execute("CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)").await?;
    let found: Option<i32> = tx.query_one("SELECT max(version) FROM schema_version", &[]).await?.get(0);
    let found = found.unwrap_or(0);
    if found > latest() {
        return Err(MigrateError::Newer(found));
    }
    for (from, sql) in MIGRATIONS.iter().enumerate().skip(found.max(0) as usize) {
        tx.batch_execute(sql).await?;
        tracing::info!(from, to = from + 1, "event database schema migrated");
    }
    if found < latest() {
        tx.execute("DELETE FROM schema_version", &[]).await?;
        tx.execute("INSERT INTO schema_version (version) VALUES ($1)", &[&latest()]).await?;
    }
    tx.commit().await?;
    Ok(found)
}
