//! The connection side of the server: accepting connections, at most `max_connections` at a
//! time, and serving HTTP/1.1 on each with hyper, configured here rather than through
//! `axum::serve` because its builder is out of reach there:
//!
//! - the read buffer is bounded (about 100 KiB with the default limits, where hyper's own
//!   default is 400 KiB), so a request head with headers far over `max_header_bytes` is cut off
//!   by hyper (431) before it is all held in memory; smaller heads reach [`super::limits`],
//!   which measures them precisely. A URL over 64 KiB, the most the `http` crate holds, is
//!   refused by hyper (414) too;
//! - a connection has `request_timeout` to send each request head, and is closed otherwise:
//!   a client that opens connections and trickles headers (or sends nothing) holds none for
//!   long. This is also the idle timeout of a kept-alive connection;
//! - past `max_connections`, the server stops accepting, and further clients wait in the
//!   kernel's listen backlog until a connection closes. Refusing them with 503 would take an
//!   accept, a socket and a write each, which is what a flood wants.
//!
//! hyper answers a request it cannot parse at all (a non-ASCII byte in the request line, a
//! malformed header, a bad `Content-Length`, a head too large) itself, with a status line and no
//! body, before any service sees it. [`JsonParseErrors`] gives those answers the JSON shape of
//! every other error: it watches what hyper writes and replaces exactly that bodiless answer
//! (a 400, 414 or 431 whose only headers are `connection: close`, `content-length: 0` and
//! `date`) with the same status and a JSON body. Every other byte passes through untouched. The
//! alternative, parsing each request head a second time in front of hyper, would be a second
//! HTTP parser to keep in step with the first.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, watch};

use super::ApiError;
use crate::config::Config;

/// Most header lines in one request (hyper's own default, stated here to be documented).
pub const MAX_HEADERS: usize = 100;

/// What [`JsonParseErrors`] says in place of hyper's bare 400.
const MALFORMED: &str = "the request is not valid HTTP/1.1: its request line, a header, or its Content-Length or \
                         chunked framing could not be parsed (bytes outside ASCII in a URL must be percent-encoded)";

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in progress
/// finish (each is bounded by the request timeout) and returns.
pub async fn run(
    listener: TcpListener,
    app: Router,
    config: &Config,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    let connections = Arc::new(Semaphore::new(config.limits.max_connections));
    let (stop, stopping) = watch::channel(());
    let limits = HeadLimits { url: config.limits.max_url_bytes, headers: config.limits.max_header_bytes };
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(config.request_timeout())
        .max_headers(MAX_HEADERS)
        .max_buf_size(read_buffer_bytes(config));
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            () = &mut shutdown => break,
            permit = Arc::clone(&connections).acquire_owned() => permit.map_err(io::Error::other)?,
        };
        let stream = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    back_off(&e).await;
                    continue;
                }
            },
        };
        let io = TokioIo::new(JsonParseErrors::new(stream, limits));
        let conn = http.serve_connection(io, TowerToHyperService::new(app.clone()));
        let mut stopping = stopping.clone();
        tokio::spawn(async move {
            let _permit = permit;
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

/// The limits named in the answers that replace hyper's.
#[derive(Debug, Clone, Copy)]
struct HeadLimits {
    url: usize,
    headers: usize,
}

/// A connection that passes every byte through, except that it replaces hyper's bare answer to
/// an unparsable request with a JSON one (see the module documentation).
struct JsonParseErrors {
    inner: TcpStream,
    limits: HeadLimits,
    /// A replacement answer still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl JsonParseErrors {
    fn new(inner: TcpStream, limits: HeadLimits) -> Self {
        Self { inner, limits, pending: Vec::new(), written: 0 }
    }

    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.pending.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.pending[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.pending.clear();
        self.written = 0;
        Poll::Ready(Ok(()))
    }

    /// Takes `buf` in place of writing it when it is hyper's bare error answer: the JSON answer
    /// is written instead (now or on the next flush) and all of `buf` reported written.
    fn replaced(&mut self, cx: &mut Context<'_>, buf: &[u8]) -> Option<Poll<io::Result<usize>>> {
        self.pending = json_answer(buf, self.limits)?;
        Some(match self.poll_pending(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }
}

impl AsyncRead for JsonParseErrors {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl AsyncWrite for JsonParseErrors {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(done) = this.replaced(cx, buf) {
            return done;
        }
        Pin::new(&mut this.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        let mut nonempty = bufs.iter().filter(|b| !b.is_empty());
        if let (Some(only), None) = (nonempty.next(), nonempty.next())
            && let Some(done) = this.replaced(cx, only)
        {
            return done;
        }
        Pin::new(&mut this.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The JSON answer to put in place of `written`, when `written` is exactly hyper's bare answer
/// to a request it could not parse: a 400, 414 or 431 head with no body whose only headers are
/// `connection: close`, `content-length: 0` and `date`.
fn json_answer(written: &[u8], limits: HeadLimits) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(written.strip_suffix(b"\r\n\r\n")?).ok()?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let code = status_line.strip_prefix("HTTP/1.1 ").or_else(|| status_line.strip_prefix("HTTP/1.0 "))?.get(..3)?;
    let (mut close, mut empty, mut date) = (false, false, None);
    for line in lines {
        let (name, value) = line.split_once(": ")?;
        match name.to_ascii_lowercase().as_str() {
            "connection" if value == "close" => close = true,
            "content-length" if value == "0" => empty = true,
            "date" => date = Some(value),
            _ => return None,
        }
    }
    if !(close && empty) {
        return None;
    }
    let error = match code {
        "400" => ApiError::BadRequest(MALFORMED.into()),
        "414" => ApiError::UriTooLong { limit: limits.url },
        "431" => ApiError::HeadersTooLarge { limit: limits.headers },
        _ => return None,
    };
    let (status, body) = error.status_and_body();
    let body = body.to_string();
    let mut answer = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\nx-content-type-options: nosniff\r\ncontent-length: {}\r\nconnection: close\r\n",
        status.as_str(),
        status.canonical_reason().unwrap_or(""),
        body.len()
    );
    if let Some(date) = date {
        answer.push_str(&format!("date: {date}\r\n"));
    }
    answer.push_str("\r\n");
    answer.push_str(&body);
    Some(answer.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: HeadLimits = HeadLimits { url: 8192, headers: 16384 };

    #[test]
    fn hypers_bare_answers_become_json() {
        for (bare, status, code) in [
            (
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: D\r\n\r\n",
                400,
                "bad_request",
            ),
            ("HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", 414, "uri_too_long"),
            (
                "HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
                431,
                "headers_too_large",
            ),
        ] {
            let answer = json_answer(bare.as_bytes(), LIMITS).unwrap_or_else(|| unreachable!("{bare}"));
            let text = String::from_utf8(answer).unwrap_or_default();
            let (head, body) = text.split_once("\r\n\r\n").unwrap_or_default();
            assert!(head.starts_with(&format!("HTTP/1.1 {status} ")), "{head}");
            assert!(head.contains(&format!("content-length: {}\r\n", body.len())), "{head}");
            let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            assert_eq!((json["status"].as_u64(), json["code"].as_str()), (Some(status), Some(code)));
        }
    }

    #[test]
    fn every_other_write_passes_through() {
        for written in [
            // The server's own answers always carry a type.
            "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 0\r\n\r\n",
            // A head with a body after it.
            "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n{}",
            // Not an error hyper makes.
            "HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n",
            "HTTP/1.1 204 No Content\r\ndate: D\r\n\r\n",
            // A body chunk.
            "\u{89}PNG\r\n\r\n",
        ] {
            assert!(json_answer(written.as_bytes(), LIMITS).is_none(), "{written}");
        }
    }
}
