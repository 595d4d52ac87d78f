//! The connection side of the server: accepting connections within the connection limits, and
//! serving HTTP/1.1 on each with hyper, configured here rather than through `axum::serve`
//! because its builder is out of reach there:
//!
//! - the read buffer is bounded (about 100 KiB with the default limits, where hyper's own
//!   default is 400 KiB), so a request head with headers far over `max_header_bytes` is cut off
//!   by hyper (431) before it is all held in memory; smaller heads reach [`super::limits`],
//!   which measures them precisely. A URL over 64 KiB, the most the `http` crate holds, is
//!   refused by hyper (414) too;
//! - a connection has `head_timeout` to send each request head, and is closed otherwise; this
//!   is also the idle timeout of a kept-alive connection. Within it, a head must keep arriving
//!   at `head_min_rate` (see [`super::conn`], which also closes a connection whose client does
//!   not take its answer, and gives hyper's own error answers the JSON shape);
//! - past `max_connections`, the server stops accepting, and further clients wait in the
//!   kernel's listen backlog until a connection closes. Refusing them with 503 would take an
//!   accept, a socket and a write each, which is what a flood wants;
//! - one client address holds at most `max_connections_per_client` connections, and the last
//!   `reserved_connections` go only to addresses that hold none: a connection past either is
//!   closed as soon as it is accepted. So one client that opens connections and trickles heads
//!   into them (slowloris) can take neither every connection nor the last ones, and a new
//!   visitor is served at once. IPv6 clients are counted by /64, the block one host is given.

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use super::conn::{ConnLimits, ConnState, Guarded, Tracked};
use crate::config::Config;

/// Most header lines in one request (hyper's own default, stated here to be documented).
pub const MAX_HEADERS: usize = 100;

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in progress
/// finish (each is bounded by the request timeout) and returns.
pub async fn run(
    listener: TcpListener,
    app: Router,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(config.limits.max_connections));
    let clients = Arc::new(Clients::new(config));
    let (stop, stopping) = watch::channel(());
    let limits = ConnLimits {
        url: config.limits.max_url_bytes,
        headers: config.limits.max_header_bytes,
        head_min_rate: config.limits.head_min_rate,
        write_stall: config.request_timeout(),
    };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.head_timeout())
        .max_headers(MAX_HEADERS)
        .max_buf_size(read_buffer_bytes(config));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => permit.map_err(io::Error::other)?,
        };
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    back_off(&e).await;
                    continue;
                }
            },
        };
        let slot = match clients.admit(peer.ip()) {
            Ok(slot) => slot,
            Err(refusal) => {
                tracing::debug!(client = %peer.ip(), "connection closed at once: {refusal}");
                continue;
            }
        };
        let state = Arc::new(ConnState::default());
        let io = TokioIo::new(Guarded::new(stream, limits, Arc::clone(&state)));
        let conn = http.serve_connection(io, Tracked::new(TowerToHyperService::new(app.clone()), state));
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            // The slot goes back before the permit (a tuple drops its fields in order): the
            // accept loop waits for the permit, and must then find this connection uncounted,
            // or it would refuse the next client as holding one connection too many.
            let _held = (slot, permit);
            tokio::pin!(conn);
            let finished = tokio::select! {
                finished = conn.as_mut() => finished,
                _ = stopping.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = finished {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    let _ = stop.send(());
    // Every connection gives its permit back when it ends.
    let all = u32::try_from(config.limits.max_connections).unwrap_or(u32::MAX);
    let _ = connections.acquire_many(all).await;
    Ok(())
}

/// The connections open now, by client address, and the limits on them.
#[derive(Debug)]
struct Clients {
    per_client: usize,
    /// Past this many connections open, only addresses that hold none get one.
    unreserved: usize,
    open: Mutex<Open>,
}

#[derive(Debug, Default)]
struct Open {
    total: usize,
    by_client: HashMap<IpAddr, usize>,
}

/// Why a connection was closed as soon as it was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
enum Refusal {
    /// Its address holds `max_connections_per_client` already.
    #[error("its address holds max_connections_per_client connections already")]
    PerClient,
    /// Only the reserved connections are left, and its address holds one already.
    #[error("only the reserved_connections are free, and its address holds a connection already")]
    Reserved,
}

/// One admitted connection's place in [`Clients`], given back when dropped.
#[derive(Debug)]
struct Slot {
    clients: Arc<Clients>,
    client: IpAddr,
}

impl Clients {
    fn new(config: &Config) -> Self {
        let l = &config.limits;
        Self {
            per_client: l.max_connections_per_client,
            unreserved: l.max_connections.saturating_sub(l.reserved_connections),
            open: Mutex::new(Open::default()),
        }
    }

    /// A place for a connection from `ip`, or why it gets none.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<Slot, Refusal> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let held = open.by_client.get(&client).copied().unwrap_or(0);
        if held >= self.per_client {
            return Err(Refusal::PerClient);
        }
        if held > 0 && open.total >= self.unreserved {
            return Err(Refusal::Reserved);
        }
        open.total += 1;
        *open.by_client.entry(client).or_insert(0) += 1;
        Ok(Slot { clients: Arc::clone(self), client })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.clients.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        open.total = open.total.saturating_sub(1);
        if let Some(held) = open.by_client.get_mut(&self.client) {
            *held -= 1;
            if *held == 0 {
                open.by_client.remove(&self.client);
            }
        }
    }
}

/// The client an address stands for: an IPv4 address (mapped into IPv6 or not), or an IPv6
/// address's /64.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => IpAddr::V6((u128::from(v6) & !u128::from(u64::MAX)).into()),
        v4 => v4,
    }
}

/// hyper's read buffer, which must hold a whole request head: room for the longest URL hyper
/// takes (so that a long URL is always answered 414, never 431) and for headers at twice their
/// limit (so that headers a little over it are measured and answered by [`super::limits`]).
fn read_buffer_bytes(config: &Config) -> usize {
    crate::config::bounds::MAX_URL_BYTES + 2 * config.limits.max_header_bytes + 4 * 1024
}

/// After a failed accept: at once for an error of that one connection, after a pause for an
/// error of the process (out of file descriptors), so as not to spin.
async fn back_off(e: &io::Error) {
    use io::ErrorKind::{ConnectionAborted, ConnectionRefused, ConnectionReset};
    if matches!(e.kind(), ConnectionAborted | ConnectionRefused | ConnectionReset) {
        return;
    }
    tracing::error!(error = %e, "accepting a connection failed; trying again in 100 ms");
    tokio::time::sleep(Duration::from_millis(100)).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clients(max: usize, per_client: usize, reserved: usize) -> Arc<Clients> {
        let mut config = Config::default();
        config.limits.max_connections = max;
        config.limits.max_connections_per_client = per_client;
        config.limits.reserved_connections = reserved;
        Arc::new(Clients::new(&config))
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap_or(IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED))
    }

    #[test]
    fn one_address_holds_at_most_its_share() {
        let c = clients(100, 3, 10);
        let held: Vec<Slot> = (0..3).filter_map(|_| c.admit(ip("10.0.0.1")).ok()).collect();
        assert_eq!(held.len(), 3);
        assert_eq!(c.admit(ip("10.0.0.1")).err(), Some(Refusal::PerClient));
        assert_eq!(c.admit(ip("::ffff:10.0.0.1")).err(), Some(Refusal::PerClient), "the same address, mapped");
        assert!(c.admit(ip("10.0.0.2")).is_ok(), "another address");
        drop(held);
        assert!(c.admit(ip("10.0.0.1")).is_ok(), "its places are given back");
    }

    #[test]
    fn the_reserved_connections_go_to_addresses_that_hold_none() {
        let c = clients(6, 4, 2);
        let mut held: Vec<Slot> = (0..4).filter_map(|_| c.admit(ip("10.0.0.1")).ok()).collect();
        assert_eq!(held.len(), 4, "four of the six, the two reserved left");
        held.extend(c.admit(ip("10.0.0.2")).ok());
        assert_eq!(c.admit(ip("10.0.0.2")).err(), Some(Refusal::Reserved), "it holds one already");
        assert!(c.admit(ip("10.0.0.3")).is_ok(), "a new address gets a reserved one");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_64() {
        let c = clients(100, 2, 0);
        let a = c.admit(ip("2001:db8:1:2::1"));
        let b = c.admit(ip("2001:db8:1:2:ffff::9"));
        assert!(a.is_ok() && b.is_ok());
        assert_eq!(c.admit(ip("2001:db8:1:2::77")).err(), Some(Refusal::PerClient));
        assert!(c.admit(ip("2001:db8:1:3::1")).is_ok(), "another /64");
    }
}
