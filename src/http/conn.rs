//! One client connection as the server sees it: the socket wrapped in [`Guarded`], which
//! passes every byte through but watches them, and the service wrapped in [`Tracked`], which
//! tells the socket when a request head has been parsed.
//!
//! What the socket watches for:
//!
//! - **a request head that trickles in.** hyper gives a head `head_timeout` in all; on top of
//!   that, once a head's first byte has arrived, the rest must keep coming at `head_min_rate`
//!   bytes a second after a grace of [`HEAD_GRACE`] (Apache's `mod_reqtimeout` does the same:
//!   each byte buys time). A client that sends a byte a second is closed after about 2 s
//!   instead of holding its connection until the head timeout. Only heads are measured: a
//!   connection idle between requests sends nothing and is left to the head timeout, and a
//!   body is bounded by the request timeout;
//! - **a client that does not read its answer.** A write that makes no progress for the
//!   request timeout closes the connection, and with it whatever hyper was holding to send;
//! - **hyper's bare answers.** hyper answers a request it cannot parse at all (a non-ASCII
//!   byte in the request line, a malformed header, a head too large) itself, with a status line
//!   and no body, before any service sees it. Each such answer (a 400, 414 or 431 whose only
//!   headers are `connection: close`, `content-length: 0` and `date`) is replaced with the JSON
//!   answer of every other error. hyper says 431 for three different things; the socket tells
//!   them apart from what it has seen of the head: a request line that never ended (414, a URL
//!   longer than the read buffer), a head over the buffer or with too many lines (431), and a
//!   complete head of a reasonable size, which hyper refused for a `Content-Length` past what
//!   it can count (400, as for any bad `Content-Length`). The alternative, parsing each head a
//!   second time in front of hyper, would be a second HTTP parser to keep in step with the
//!   first; counting lines is not;
//! - **an HTTP/2 client speaking first** (prior knowledge): its preface is answered with a
//!   JSON 400 saying to use HTTP/1.1, where hyper would close without a word.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use super::ApiError;
use super::server::MAX_HEADERS;

/// Time a request head may take before its rate is measured.
pub const HEAD_GRACE: Duration = Duration::from_secs(2);

/// What [`Guarded`] says in place of hyper's bare 400.
const MALFORMED: &str = "the request is not valid HTTP/1.1: its request line, a header, or its Content-Length or \
                         chunked framing could not be parsed (bytes outside ASCII in a URL must be percent-encoded)";

/// What answers an HTTP/2 connection preface.
const NOT_HTTP2: &str = "this server speaks HTTP/1.1 only: the request began with the HTTP/2 connection preface \
                         (prior knowledge); send it as HTTP/1.1";

/// The start of the HTTP/2 connection preface (RFC 9113 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// A header line longer than this makes hyper refuse the head (431).
const LONGEST_HEADER_NAME: usize = 64 * 1024;

/// The limits a connection is held to.
#[derive(Debug, Clone, Copy)]
pub struct ConnLimits {
    /// `max_url_bytes`, named in a 414.
    pub url: usize,
    /// `max_header_bytes`, named in a 431.
    pub headers: usize,
    /// `head_min_rate`, bytes a second; 0 for none.
    pub head_min_rate: u64,
    /// The request timeout: the longest a write may make no progress.
    pub write_stall: Duration,
}

/// What the service tells the socket: how many request heads hyper has parsed, and whether a
/// request is being answered now.
#[derive(Debug, Default)]
pub struct ConnState {
    heads: AtomicU64,
    answering: AtomicBool,
}

/// The connection's service: the app, telling [`ConnState`] when each request starts and ends.
#[derive(Debug, Clone)]
pub struct Tracked<S> {
    inner: S,
    state: Arc<ConnState>,
}

impl<S> Tracked<S> {
    /// `inner`, reporting to `state`.
    pub fn new(inner: S, state: Arc<ConnState>) -> Self {
        Self { inner, state }
    }
}

/// Marks the end of an answer when dropped (made, failed, or abandoned with its connection).
struct Answering(Arc<ConnState>);

impl Drop for Answering {
    fn drop(&mut self) {
        self.0.answering.store(false, Ordering::Release);
    }
}

impl<S, R> hyper::service::Service<R> for Tracked<S>
where
    S: hyper::service::Service<R>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn call(&self, request: R) -> Self::Future {
        self.state.answering.store(true, Ordering::Release);
        self.state.heads.fetch_add(1, Ordering::AcqRel);
        let answering = Answering(Arc::clone(&self.state));
        let answer = self.inner.call(request);
        Box::pin(async move {
            let answer = answer.await;
            drop(answering);
            answer
        })
    }
}

/// What has been read of the request head now arriving (reset when hyper parses a head).
#[derive(Debug, Default, Clone, Copy)]
struct HeadSeen {
    /// When its first byte arrived.
    started: Option<Instant>,
    bytes: u64,
    /// Line ends seen before the blank line that ends the head.
    lines: usize,
    /// The length of the line now arriving, and of the longest so far.
    line: usize,
    longest: usize,
    /// Whether the last bytes were a line end (and a CR after it).
    at_line_start: bool,
    cr_at_line_start: bool,
    /// Whether the blank line ending the head has arrived.
    complete: bool,
}

impl HeadSeen {
    fn take(&mut self, bytes: &[u8], now: Instant) {
        if bytes.is_empty() {
            return;
        }
        self.started.get_or_insert(now);
        self.bytes += bytes.len() as u64;
        for &b in bytes {
            if self.complete {
                return;
            }
            match b {
                b'\n' if self.at_line_start => self.complete = true,
                b'\n' => {
                    self.lines += 1;
                    self.longest = self.longest.max(self.line);
                    self.line = 0;
                    self.at_line_start = true;
                    self.cr_at_line_start = false;
                }
                b'\r' if self.at_line_start && !self.cr_at_line_start => self.cr_at_line_start = true,
                _ => {
                    self.line += 1;
                    self.at_line_start = false;
                    self.cr_at_line_start = false;
                }
            }
        }
        self.longest = self.longest.max(self.line);
    }

    /// The time by which the head must have arrived whole, or have sent more, at `rate`.
    fn deadline(&self, rate: u64) -> Option<Instant> {
        let started = self.started?;
        (rate > 0).then(|| started + HEAD_GRACE + Duration::from_secs_f64(self.bytes as f64 / rate as f64))
    }

    /// What hyper's bare 431 meant, from what has been seen of the head (module docs).
    fn refusal(&self, limits: ConnLimits) -> ApiError {
        if !self.complete && self.lines == 0 {
            ApiError::UriTooLong { limit: limits.url }
        } else if !self.complete || self.lines > MAX_HEADERS + 1 || self.longest >= LONGEST_HEADER_NAME {
            ApiError::HeadersTooLarge { limit: limits.headers }
        } else {
            ApiError::BadRequest(
                "the request's Content-Length is larger than any body the server can count (a bad Content-Length)"
                    .into(),
            )
        }
    }
}

/// A connection's socket; see the module documentation.
pub struct Guarded {
    inner: TcpStream,
    limits: ConnLimits,
    state: Arc<ConnState>,
    /// Heads parsed when `head` was last reset.
    heads: u64,
    head: HeadSeen,
    /// Wakes the connection when the head now arriving is too slow.
    head_timer: Option<Pin<Box<Sleep>>>,
    /// Armed while a write makes no progress.
    write_timer: Option<Pin<Box<Sleep>>>,
    /// Whether anything has been read yet (the HTTP/2 preface comes first).
    read_any: bool,
    /// After the answer to an HTTP/2 preface: reads end.
    ended: bool,
    /// A replacement answer still to be written, and how much of it has been.
    pending: Vec<u8>,
    written: usize,
}

impl Guarded {
    /// `inner`, held to `limits`, told of requests by `state`.
    pub fn new(inner: TcpStream, limits: ConnLimits, state: Arc<ConnState>) -> Self {
        Self {
            inner,
            limits,
            state,
            heads: 0,
            head: HeadSeen::default(),
            head_timer: None,
            write_timer: None,
            read_any: false,
            ended: false,
            pending: Vec::new(),
            written: 0,
        }
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
        self.pending = json_answer(buf, &self.head, self.limits)?;
        Some(match self.poll_pending(cx) {
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            _ => Poll::Ready(Ok(buf.len())),
        })
    }

    /// Whether a request head is arriving (rather than a request being answered, or nothing).
    fn reading_head(&mut self) -> bool {
        let heads = self.state.heads.load(Ordering::Acquire);
        if heads != self.heads {
            self.heads = heads;
            self.head = HeadSeen::default();
            self.head_timer = None;
        }
        !self.state.answering.load(Ordering::Acquire)
    }

    /// Fails when the head now arriving is behind its minimum rate; otherwise sets the timer
    /// that wakes the connection when it will be.
    fn poll_head_rate(&mut self, cx: &mut Context<'_>) -> io::Result<()> {
        let Some(deadline) = self.head.deadline(self.limits.head_min_rate) else { return Ok(()) };
        let timer = self.head_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep_until(deadline)));
        if timer.deadline() != deadline {
            timer.as_mut().reset(deadline);
        }
        if timer.as_mut().poll(cx).is_ready() {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "the request head arrived too slowly"));
        }
        Ok(())
    }

    /// Passes a write's outcome on, failing it when writes have made no progress for the
    /// request timeout.
    fn watch_write<T>(&mut self, cx: &mut Context<'_>, outcome: Poll<io::Result<T>>) -> Poll<io::Result<T>> {
        if outcome.is_ready() {
            self.write_timer = None;
            return outcome;
        }
        let limit = self.limits.write_stall;
        let timer = self.write_timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(limit)));
        if timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Err(io::Error::new(io::ErrorKind::TimedOut, "the client took no byte of its answer")));
        }
        Poll::Pending
    }
}

impl AsyncRead for Guarded {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.ended {
            ready!(this.poll_pending(cx))?;
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        let outcome = Pin::new(&mut this.inner).poll_read(cx, buf);
        if !this.reading_head() {
            return outcome;
        }
        if let Poll::Ready(Ok(())) = outcome {
            let new = &buf.filled()[before..];
            if !this.read_any && new.starts_with(H2_PREFACE) {
                let (status, body) = ApiError::BadRequest(NOT_HTTP2.into()).status_and_body();
                this.pending = json_bytes(status, &body.to_string(), None);
                this.ended = true;
                buf.set_filled(before);
                ready!(this.poll_pending(cx))?;
                return Poll::Ready(Ok(()));
            }
            this.read_any |= !new.is_empty();
            this.head.take(new, Instant::now());
            if this.head.complete {
                return outcome;
            }
        }
        if !this.head.complete
            && let Err(slow) = this.poll_head_rate(cx)
        {
            return Poll::Ready(Err(slow));
        }
        outcome
    }
}

impl AsyncWrite for Guarded {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(done) = this.replaced(cx, buf) {
            return done;
        }
        let outcome = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.watch_write(cx, outcome)
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
        let outcome = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.watch_write(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        let outcome = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch_write(cx, outcome)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

/// The JSON answer to put in place of `written`, when `written` is exactly hyper's bare answer
/// to a request it could not parse: a 400, 414 or 431 head with no body whose only headers are
/// `connection: close`, `content-length: 0` and `date`. `head` is what was seen of the request.
fn json_answer(written: &[u8], head: &HeadSeen, limits: ConnLimits) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(written.strip_suffix(b"\r\n\r\n")?).ok()?;
    let mut lines = text.split("\r\n");
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
        "431" => head.refusal(limits),
        _ => return None,
    };
    let (status, body) = error.status_and_body();
    Some(json_bytes(status, &body.to_string(), date))
}

/// A whole HTTP/1.1 answer with a JSON body, closing the connection.
fn json_bytes(status: axum::http::StatusCode, body: &str, date: Option<&str>) -> Vec<u8> {
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
    answer.push_str(body);
    answer.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: ConnLimits =
        ConnLimits { url: 8192, headers: 16384, head_min_rate: 256, write_stall: Duration::from_secs(30) };

    fn seen(bytes: &[u8]) -> HeadSeen {
        let mut head = HeadSeen::default();
        // In pieces, as a socket may deliver them.
        for chunk in bytes.chunks(3) {
            head.take(chunk, Instant::now());
        }
        head
    }

    fn code(answer: &[u8]) -> (u64, String) {
        let text = String::from_utf8(answer.to_vec()).unwrap_or_default();
        let (_, body) = text.split_once("\r\n\r\n").unwrap_or_default();
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        (json["status"].as_u64().unwrap_or(0), json["code"].as_str().unwrap_or("").to_owned())
    }

    #[test]
    fn hypers_bare_answers_become_json() {
        let head = seen(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n");
        for (bare, status, want) in [
            (
                "HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\ndate: D\r\n\r\n",
                400,
                "bad_request",
            ),
            ("HTTP/1.1 414 URI Too Long\r\nconnection: close\r\ncontent-length: 0\r\n\r\n", 414, "uri_too_long"),
        ] {
            let answer = json_answer(bare.as_bytes(), &head, LIMITS).unwrap_or_else(|| unreachable!("{bare}"));
            let text = String::from_utf8(answer.clone()).unwrap_or_default();
            let (head_text, body) = text.split_once("\r\n\r\n").unwrap_or_default();
            assert!(head_text.starts_with(&format!("HTTP/1.1 {status} ")), "{head_text}");
            assert!(head_text.contains(&format!("content-length: {}\r\n", body.len())), "{head_text}");
            assert_eq!(code(&answer), (status, want.to_owned()));
        }
    }

    #[test]
    fn each_cause_of_a_bare_431_gets_its_own_answer() {
        let bare = b"HTTP/1.1 431 Request Header Fields Too Large\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";
        let answer = |head: &[u8]| code(&json_answer(bare, &seen(head), LIMITS).unwrap_or_default());
        // The request line never ended: the URL filled the buffer.
        assert_eq!(answer(format!("GET /{}", "a".repeat(5000)).as_bytes()), (414, "uri_too_long".into()));
        // Headers that never ended, or too many of them.
        assert_eq!(answer(format!("GET / HTTP/1.1\r\nX: {}", "a".repeat(5000)).as_bytes()).1, "headers_too_large");
        let many: String = (0..120).map(|i| format!("X-{i}: y\r\n")).collect();
        assert_eq!(answer(format!("GET / HTTP/1.1\r\n{many}\r\n").as_bytes()).1, "headers_too_large");
        // A whole, small head: hyper refused its Content-Length.
        let huge = b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 18446744073709551614\r\n\r\n";
        assert_eq!(answer(huge), (400, "bad_request".into()));
    }

    #[test]
    fn every_other_write_passes_through() {
        let head = HeadSeen::default();
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
            assert!(json_answer(written.as_bytes(), &head, LIMITS).is_none(), "{written}");
        }
    }

    #[test]
    fn a_head_buys_time_with_each_byte_after_the_grace() {
        let start = Instant::now();
        let mut head = HeadSeen::default();
        assert_eq!(head.deadline(256), None, "nothing arrived: no clock");
        head.take(&[b'G'; 256], start);
        assert_eq!(head.deadline(256), Some(start + HEAD_GRACE + Duration::from_secs(1)));
        assert_eq!(head.deadline(0), None, "no minimum rate");
        head.take(b"\r\n\r\n", start);
        assert!(head.complete);
    }
}
