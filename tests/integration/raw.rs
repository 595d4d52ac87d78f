//! HTTP written byte by byte over TCP, for what a well-behaved client cannot send (bytes that
//! are not UTF-8 in a path, a broken `Content-Length`, a head of exact size, a body that stalls
//! half-way), and answers read back raw. Every read is bounded by a timeout, so that a server
//! that never answers fails the test instead of hanging it.

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::Value;

/// How long a read waits before the test gives up on an answer.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// One answer, read raw.
#[derive(Debug)]
pub struct RawReply {
    /// Status code.
    pub status: u16,
    /// The head as text: the status line and the header lines.
    pub head: String,
    /// The body (empty for 1xx, 204 and 304).
    pub body: Vec<u8>,
}

impl RawReply {
    /// A header's value (names compared without case), when present.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().skip(1).find_map(|line| {
            let (n, v) = line.split_once(':')?;
            n.trim().eq_ignore_ascii_case(name).then(|| v.trim())
        })
    }

    /// The body parsed as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("body is not JSON ({e}): {}\n{}", self.head, String::from_utf8_lossy(&self.body))
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A connection to a server, with what was read past the last answer kept for the next.
pub struct Conn {
    stream: TcpStream,
    pending: Vec<u8>,
}

impl Conn {
    /// Connects to a server given by its base URL (`http://127.0.0.1:PORT`).
    pub fn open(base: &str) -> Self {
        let stream = TcpStream::connect(base.trim_start_matches("http://")).expect("connect");
        stream.set_read_timeout(Some(PATIENCE)).expect("read timeout");
        stream.set_write_timeout(Some(PATIENCE)).expect("write timeout");
        Self { stream, pending: Vec::new() }
    }

    /// Connects to a server given by its base URL from the local address `from` (any address
    /// of 127.0.0.0/8 is this machine, so tests can be several clients).
    pub fn open_from(base: &str, from: &str) -> std::io::Result<Self> {
        Self::open_with(base, from, None)
    }

    /// Like [`Conn::open_from`], with a receive buffer of `receive_buffer` bytes (the kernel's
    /// own choice when `None`): a client that reads little can be made to hold little.
    pub fn open_with(base: &str, from: &str, receive_buffer: Option<u32>) -> std::io::Result<Self> {
        let to: std::net::SocketAddr = base.trim_start_matches("http://").parse().expect("a socket address");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
        let stream = runtime.block_on(async {
            let socket = tokio::net::TcpSocket::new_v4()?;
            socket.bind(format!("{from}:0").parse().expect("a local address"))?;
            if let Some(bytes) = receive_buffer {
                socket.set_recv_buffer_size(bytes)?;
            }
            socket.connect(to).await?.into_std()
        })?;
        stream.set_nonblocking(false)?;
        stream.set_read_timeout(Some(PATIENCE))?;
        stream.set_write_timeout(Some(PATIENCE))?;
        Ok(Self { stream, pending: Vec::new() })
    }

    /// Sets how long a read waits.
    pub fn patience(&self, wait: Duration) {
        self.stream.set_read_timeout(Some(wait)).expect("read timeout");
    }

    /// Sends bytes as they are.
    pub fn send(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        self.stream.write_all(bytes)?;
        self.stream.flush()
    }

    /// More bytes from the socket into `pending`; `Ok(false)` at the end of the stream.
    fn fill(&mut self) -> std::io::Result<bool> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk)?;
        self.pending.extend_from_slice(&chunk[..n]);
        Ok(n > 0)
    }

    /// Reads one answer: the head, then `Content-Length` bytes of body (or up to the end of
    /// the stream when there is none).
    pub fn reply(&mut self) -> std::io::Result<RawReply> {
        let end = loop {
            if let Some(at) = self.pending.windows(4).position(|w| w == b"\r\n\r\n") {
                break at;
            }
            if !self.fill()? {
                return Err(ErrorKind::UnexpectedEof.into());
            }
        };
        let head = String::from_utf8_lossy(&self.pending[..end]).into_owned();
        self.pending.drain(..end + 4);
        let status: u16 = head.get(9..12).and_then(|s| s.parse().ok()).ok_or(ErrorKind::InvalidData)?;
        let mut reply = RawReply { status, head, body: Vec::new() };
        if (100..200).contains(&status) || status == 204 || status == 304 {
            return Ok(reply);
        }
        match reply.header("content-length").and_then(|v| v.parse::<usize>().ok()) {
            Some(length) => {
                while self.pending.len() < length {
                    if !self.fill()? {
                        return Err(ErrorKind::UnexpectedEof.into());
                    }
                }
                reply.body = self.pending.drain(..length).collect();
            }
            None => {
                while self.fill()? {}
                reply.body = std::mem::take(&mut self.pending);
            }
        }
        Ok(reply)
    }

    /// Whether the server closed the connection (an end of stream or a reset) without sending
    /// anything more, waiting at most the read timeout.
    pub fn closed_without_answer(&mut self) -> bool {
        match self.fill() {
            Ok(false) => self.pending.is_empty(),
            Err(e) => e.kind() == ErrorKind::ConnectionReset && self.pending.is_empty(),
            Ok(true) => false,
        }
    }

    /// Whether nothing at all arrives within `wait`, the connection staying open.
    pub fn silent_for(&mut self, wait: Duration) -> bool {
        self.patience(wait);
        let silent = matches!(self.fill(), Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut));
        self.patience(PATIENCE);
        silent
    }
}

/// Sends `request` on a new connection and reads its answer.
pub fn exchange(base: &str, request: &[u8]) -> RawReply {
    let mut conn = Conn::open(base);
    conn.send(request).expect("send");
    conn.reply().unwrap_or_else(|e| panic!("no answer ({e}) to {}", String::from_utf8_lossy(request)))
}

/// A GET of `target` with only a `Host` header and `Connection: close`.
pub fn get(target: &str) -> Vec<u8> {
    format!("GET {target} HTTP/1.1\r\nHost: tessera.test\r\nConnection: close\r\n\r\n").into_bytes()
}

/// `GET /health` on a new connection answers 200 with `"status": "ok"`.
pub fn healthy(base: &str) -> bool {
    let reply = exchange(base, &get("/health"));
    reply.status == 200 && reply.json()["status"] == "ok"
}
