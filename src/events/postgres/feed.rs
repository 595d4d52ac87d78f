//! How each server's copy of the events follows the database: the change log, the
//! notifications, and catching up.
//!
//! Every write inserts one row per changed event into `event_changes` in its own transaction,
//! and `NOTIFY`s the channel, which PostgreSQL delivers at commit. The log's `seq` is taken under
//! a transaction-level advisory lock held until the commit, so changes commit in `seq` order:
//! once a server has seen change `n`, every change below `n` is committed too, and "everything
//! after the last `seq` I applied" is a complete answer. (Without the lock, a transaction that
//! took `seq` 10 could commit after one that took 11, and a server that read 11 would never
//! look back for 10.) The lock makes writes one at a time across all servers, for the few
//! milliseconds from the log insert to the commit; SQLite writes one at a time too.
//!
//! Each server applies changes to its [`Mirror`] in `seq` order, under one lock that holds the
//! last `seq` applied: its own writes right after their commit (directly when nothing came
//! between, else by reading the log), and everyone's when a notification arrives or every few
//! seconds. A change is applied by reading the event's current row, so applying it twice, or
//! late, converges on the database. The listening connection is the server's own, outside the
//! pool; when it is lost the server reconnects with backoff and reads the log from the last
//! `seq` it applied, so it misses nothing. The log keeps the last [`KEEP`] changes; a server
//! that was away for longer (its last `seq` below `event_log_floor`) reloads every event.

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use tokio_postgres::{AsyncMessage, Client, IsolationLevel, NoTls};

use super::{Shared, row_event};
use crate::events::{Event, Mirror, chain};

/// The channel writes notify and servers listen on.
pub(super) const CHANNEL: &str = "tessera_events";
/// The advisory lock that orders the change log (see the module documentation).
pub(super) const LOG_LOCK: i64 = 0x7465_7373_0002;
/// Changes kept in the log; older ones are trimmed.
pub(super) const KEEP: i64 = 10_000;
/// How often a server reads the log without a notification (a notification lost with a
/// connection the server has not yet seen die is made up for by this).
const POLL_EVERY: Duration = Duration::from_secs(5);
/// How often a server trims the log.
const TRIM_EVERY: Duration = Duration::from_secs(600);
/// First and longest wait before reconnecting.
const BACKOFF: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(2));

/// Every change after `seq`, oldest first, with the event's current row (none once deleted).
const CHANGES_SINCE: &str = "SELECT c.seq, c.id, e.feature, e.created, e.updated, e.version \
     FROM event_changes c LEFT JOIN events e ON e.id = c.id WHERE c.seq > $1 ORDER BY c.seq";

/// What a server's own write changed, applied to its mirror right after the commit.
#[derive(Debug)]
pub(super) enum Own {
    /// Events stored, as stored.
    Put(Vec<Event>),
    /// An event deleted.
    Remove(String),
}

impl Own {
    fn apply(self, mirror: &Mirror) {
        match self {
            Self::Put(events) => {
                mirror.put(events);
            }
            Self::Remove(id) => {
                mirror.remove(&id);
            }
        }
    }
}

/// Every event and the last change they include, read in one snapshot.
pub(super) async fn snapshot(client: &mut Client) -> Result<(Vec<Event>, i64), tokio_postgres::Error> {
    let tx = client.build_transaction().isolation_level(IsolationLevel::RepeatableRead).read_only(true).start().await?;
    tx.batch_execute("SET LOCAL statement_timeout = 0").await?;
    let last: i64 = tx
        .query_one("SELECT greatest((SELECT max(seq) FROM event_changes), (SELECT seq FROM event_log_floor), 0)", &[])
        .await?
        .get(0);
    let rows = tx.query("SELECT id, feature, created, updated, version FROM events", &[]).await?;
    tx.commit().await?;
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        if let Some(e) = readable(row_event(row.get(0), row.get(1), row.get(2), row.get(3), row.get(4))) {
            events.push(e);
        }
    }
    Ok((events, last))
}

/// An event read back, or `None` (logged) when the row is not a valid event: a row written by
/// hand must not stop the servers.
fn readable(read: Result<Event, crate::events::StoreError>) -> Option<Event> {
    read.map_err(|e| tracing::error!(error = %e, "skipping an event row that is not a valid event")).ok()
}

impl Shared {
    /// Applies every change after `*applied` to the mirror and moves `*applied` past them; the
    /// caller holds the lock of `applied`.
    pub(super) async fn catch_up(&self, applied: &mut i64, client: &mut Client) -> Result<(), tokio_postgres::Error> {
        let rows = client.query(CHANGES_SINCE, &[&*applied]).await?;
        // Read after the changes: a trim that removed some of them committed before that read,
        // so this one sees its floor.
        let floor: i64 = client.query_one("SELECT seq FROM event_log_floor", &[]).await?.get(0);
        if floor > *applied {
            tracing::warn!(
                applied = *applied,
                floor,
                "changes missed were trimmed from the log: reloading every event"
            );
            let (events, last) = snapshot(client).await?;
            self.mirror.reload(events);
            *applied = last;
            return Ok(());
        }
        let Some(last) = rows.last().map(|r| r.get::<_, i64>(0)) else { return Ok(()) };
        // The latest state of each event changed; the order between events does not matter.
        let mut latest: HashMap<String, Option<Event>> = HashMap::new();
        for row in rows {
            let id: String = row.get(1);
            let state = match row.get::<_, Option<serde_json::Value>>(2) {
                Some(feature) => readable(row_event(id.clone(), feature, row.get(3), row.get(4), row.get(5))),
                None => None,
            };
            latest.insert(id, state);
        }
        let (mut puts, mut removes) = (Vec::new(), Vec::new());
        {
            let index = self.mirror.read();
            for (id, state) in latest {
                match state {
                    // Unchanged for this server (its own write, applied already): no tile drops.
                    Some(e) if index.get(&id).is_some_and(|known| **known == e) => {}
                    Some(e) => puts.push(e),
                    None if index.get(&id).is_some() => removes.push(id),
                    None => {}
                }
            }
        }
        self.mirror.put(puts);
        for id in removes {
            self.mirror.remove(&id);
        }
        *applied = last;
        Ok(())
    }

    /// After this server's write committed as changes `first..=last`: applies it to the mirror
    /// in order with everyone else's, before the write is acknowledged.
    pub(super) async fn settle(&self, client: &mut Client, (first, last): (i64, i64), own: Own) {
        let mut applied = self.applied.lock().await;
        if *applied >= last {
            // The feed read this write (or a later state) already.
            return;
        }
        if *applied == first - 1 {
            own.apply(&self.mirror);
            *applied = last;
            return;
        }
        if let Err(e) = self.catch_up(&mut applied, client).await {
            // The write is stored; the feed applies it when it next reads the log.
            tracing::warn!(error = %chain(&e), "a stored write could not be read back at once");
        }
    }

    /// Brings the mirror up to the database now (after a write refused because the database
    /// differs from it), so that this server shows what the client must merge with.
    pub(super) async fn sync(&self, client: &mut Client) {
        let mut applied = self.applied.lock().await;
        if let Err(e) = self.catch_up(&mut applied, client).await {
            tracing::warn!(error = %chain(&e), "could not read the event database's recent changes");
        }
    }
}

/// Follows the database's changes for as long as the store lives: listens, catches up, and
/// reconnects with backoff when the connection is lost.
pub(super) async fn follow(shared: std::sync::Arc<Shared>, config: tokio_postgres::Config) {
    let mut delay = BACKOFF.0;
    loop {
        let started = Instant::now();
        let ended = session(&shared, &config).await;
        let was = shared.in_sync.swap(false, Ordering::SeqCst);
        match ended {
            Err(e) if was => {
                tracing::warn!(database = %shared.target, error = %chain(&e), "lost the event database's change feed; reconnecting")
            }
            Err(e) => {
                tracing::debug!(database = %shared.target, error = %e, "the event database's change feed is still down")
            }
            Ok(()) => {
                tracing::warn!(database = %shared.target, "the event database closed the change feed; reconnecting")
            }
        }
        if started.elapsed() > Duration::from_secs(10) {
            delay = BACKOFF.0;
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(BACKOFF.1);
    }
}

/// One connection's life: listen, catch up, then apply changes as they are announced. Returns
/// when the connection ends.
async fn session(shared: &Shared, config: &tokio_postgres::Config) -> Result<(), tokio_postgres::Error> {
    let (mut client, mut connection) = config.connect(NoTls).await?;
    let (heard_tx, mut heard) = tokio::sync::mpsc::unbounded_channel::<()>();
    // The connection delivers notifications only while polled; this task polls it and passes
    // them on. It ends when the connection does (or when the client is dropped).
    let driver = tokio::spawn(async move {
        loop {
            match std::future::poll_fn(|cx| connection.poll_message(cx)).await {
                Some(Ok(AsyncMessage::Notification(_))) => {
                    let _ = heard_tx.send(());
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => return Err(e),
                None => return Ok(()),
            }
        }
    });
    // LISTEN first, then read the log: a change committed in between is in the log.
    client.batch_execute(&format!("LISTEN {CHANNEL}")).await?;
    shared.sync_on(&mut client).await?;
    trim(&mut client).await?;
    if !shared.in_sync.swap(true, Ordering::SeqCst) {
        tracing::info!(database = %shared.target, "following the event database's changes");
    }
    let mut last_trim = Instant::now();
    loop {
        tokio::select! {
            heard_one = heard.recv() => {
                if heard_one.is_none() {
                    return match driver.await {
                        Ok(Err(e)) => Err(e),
                        _ => Ok(()),
                    };
                }
                // Several announcements are one read of the log.
                while heard.try_recv().is_ok() {}
            }
            () = tokio::time::sleep(POLL_EVERY) => {}
        }
        shared.sync_on(&mut client).await?;
        if last_trim.elapsed() > TRIM_EVERY {
            trim(&mut client).await?;
            last_trim = Instant::now();
        }
    }
}

impl Shared {
    async fn sync_on(&self, client: &mut Client) -> Result<(), tokio_postgres::Error> {
        let mut applied = self.applied.lock().await;
        self.catch_up(&mut applied, client).await
    }
}

/// Drops all but the last [`KEEP`] changes, and raises the floor to the last one dropped.
async fn trim(client: &mut Client) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let last: Option<i64> = tx.query_one("SELECT max(seq) FROM event_changes", &[]).await?.get(0);
    let cut = last.unwrap_or(0) - KEEP;
    if cut > 0 {
        let dropped = tx.execute("DELETE FROM event_changes WHERE seq <= $1", &[&cut]).await?;
        tx.execute("UPDATE event_log_floor SET seq = greatest(seq, $1)", &[&cut]).await?;
        if dropped > 0 {
            tracing::info!(dropped, floor = cut, "trimmed the event change log");
        }
    }
    tx.commit().await
}
