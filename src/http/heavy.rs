//! Heavy answers: the work of an answer that takes milliseconds of CPU rather than
//! microseconds (an items page of thousands of features, the compression of a large body), and
//! the memory of large answers until their client has taken them.
//!
//! Such work runs on tokio's blocking threads through a [`RenderPool`] of its own
//! (`heavy_workers` running, `heavy_queue` waiting, 503 `overloaded` at once past that), never
//! on the async executor: a 1.5 MB items page takes 67 ms to build and 110 ms more to gzip, and
//! fifty of them built on the executor kept a new visitor's `/health` waiting 3 s. The pool is
//! apart from the render pool, so that a flood of pages does not starve tile rendering, nor a
//! flood of tiles the pages. Cheap answers (health, cached tiles, small documents) never wait
//! for either.
//!
//! [`document`] makes a JSON document (an items page) on the pool, and compresses it in the same
//! job when it is large. [`large_answers`] takes every answer of [`LARGE`] bytes or more on its
//! way out:
//!
//! - it compresses it on the heavy pool, when the client accepts gzip or brotli (the
//!   compression layer, which works on the executor as the body streams out, is left the small
//!   answers only);
//! - it holds a share of the answer buffer (`answer_buffer_mb`) for the answer's bytes, inside
//!   the body itself, so the share is given back only when the last byte has been written to
//!   the socket or the connection has closed. A client that never reads its 1.5 MB answer keeps
//!   1.5 MB of the buffer until the write timeout closes its connection; when the buffer is
//!   full, further large answers are refused with 503 rather than held. Rejected: bounding only
//!   the work, which let 1,000 clients that never read push the process 230 MB over its cache.

use std::sync::Arc;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::ApiError;
use crate::cache::CachedTile;
use crate::config::LimitSettings;
use crate::metrics::{Metrics, Shed};
use crate::service::{PoolError, RenderPool};

/// Answers of this many bytes or more are compressed on the heavy pool and held against the
/// answer buffer.
pub const LARGE: usize = 64 * 1024;

/// The heavy pool and the answer buffer, shared by every request.
#[derive(Debug)]
pub struct Heavy {
    pool: RenderPool,
    /// One permit per KiB of answer buffer.
    buffer: Arc<Semaphore>,
    buffer_kib: usize,
    /// Where its refusals are counted.
    metrics: Arc<Metrics>,
}

impl Heavy {
    /// The pool and buffer of these limits, counting their refusals in `metrics`.
    pub fn new(limits: &LimitSettings, metrics: Arc<Metrics>) -> Self {
        let buffer_kib = limits.answer_buffer_mb.saturating_mul(1024).min(Semaphore::MAX_PERMITS);
        Self {
            pool: RenderPool::new(limits.heavy_workers, limits.heavy_queue),
            buffer: Arc::new(Semaphore::new(buffer_kib)),
            buffer_kib,
            metrics,
        }
    }

    /// Runs `f` on the heavy pool; 503 `overloaded` at once when the pool is full.
    pub async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
        self.pool.run(f).await.map_err(|e| match e {
            PoolError::Full => {
                self.metrics.shed(Shed::Heavy);
                ApiError::Overloaded
            }
            PoolError::Failed(why) => ApiError::Internal(why),
        })
    }

    /// A share of the answer buffer for `bytes`, or `None` when the buffer is full. An answer
    /// larger than the whole buffer takes all of it.
    fn hold(&self, bytes: usize) -> Option<OwnedSemaphorePermit> {
        let kib = bytes.div_ceil(1024).clamp(1, self.buffer_kib);
        Arc::clone(&self.buffer).try_acquire_many_owned(u32::try_from(kib).ok()?).ok()
    }

    /// A large answer's bytes (not to be compressed) as a body holding their share of the answer
    /// buffer, as [`large_answers`] holds them; `None` when the buffer is full.
    pub fn held_body(&self, bytes: Bytes) -> Option<Body> {
        let share = self.hold(bytes.len())?;
        Some(Body::from(Bytes::from_owner(Held { bytes, _share: share })))
    }

    /// Heavy jobs running or waiting now.
    pub fn jobs(&self) -> usize {
        self.pool.load()
    }

    /// KiB of the answer buffer held now.
    pub fn buffered_kib(&self) -> usize {
        self.buffer_kib - self.buffer.available_permits()
    }
}

/// A JSON document made on the heavy pool by `make` (`None`: 404 `gone`), answered with its
/// ETag, `If-None-Match` and `Cache-Control` for `max_age` like any tagged answer, and
/// compressed in the same job when it is large and the client accepts it: made and compressed
/// in one admission, so that a page that was made is never shed for want of a second one.
pub async fn document(
    heavy: &Heavy,
    headers: &HeaderMap,
    content_type: &'static str,
    max_age: u64,
    gone: ApiError,
    make: impl FnOnce() -> Option<CachedTile> + Send + 'static,
) -> Result<Response, ApiError> {
    let coding = negotiate(headers);
    let known = headers.clone();
    let job = move || {
        let tile = make()?;
        let fresh = super::etag::none_match(&known, &tile.etag).is_some();
        let coded = match coding {
            Some(coding) if !fresh && tile.body.len() >= LARGE => Some((coding, compress(&tile.body, coding))),
            _ => None,
        };
        Some((tile, coded))
    };
    let (tile, coded) = heavy.run(job).await?.ok_or(gone)?;
    let mut response = super::cached::tile_response(headers, tile, content_type, max_age);
    if let Some((coding, compressed)) = coded {
        let compressed = compressed.map_err(|e| ApiError::Internal(format!("compressing an answer: {e}")))?;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
        headers.remove(header::CONTENT_LENGTH);
        vary_accept_encoding(headers);
        *response.body_mut() = Body::from(compressed);
    }
    Ok(response)
}

/// Marks an answer [`large_answers`] has taken, which the compression layer must leave alone.
#[derive(Debug, Clone, Copy)]
pub struct Taken;

/// A content coding the heavy pool applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Coding {
    Gzip,
    Brotli,
}

impl Coding {
    fn name(self) -> &'static str {
        match self {
            Self::Gzip => "gzip",
            Self::Brotli => "br",
        }
    }
}

/// Compresses (on the heavy pool) and holds against the answer buffer every answer of
/// [`LARGE`] bytes or more; see the module documentation.
pub async fn large_answers(State(heavy): State<Arc<Heavy>>, req: Request, next: Next) -> Response {
    let coding = negotiate(req.headers());
    let response = next.run(req).await;
    let large = response.body().size_hint().exact().is_some_and(|n| n >= LARGE as u64);
    if !large {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Made and compressed on the heavy pool already (see `document`): held, not compressed again.
    let coding = coding.filter(|_| !parts.headers.contains_key(header::CONTENT_ENCODING));
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return ApiError::Internal("a large answer's body could not be read".into()).into_response();
    };
    // The original's share is held while it is compressed, then narrowed to what is sent.
    let Some(mut held) = heavy.hold(bytes.len()) else {
        heavy.metrics.shed(Shed::Heavy);
        return ApiError::Overloaded.into_response();
    };
    let compressible = compressible(&parts.headers);
    let coding = coding.filter(|_| compressible);
    let bytes = match coding {
        Some(coding) => match heavy.run(move || compress(&bytes, coding)).await {
            Ok(Ok(compressed)) => compressed,
            Ok(Err(e)) => return ApiError::Internal(format!("compressing an answer: {e}")).into_response(),
            Err(refused) => return refused.into_response(),
        },
        None => bytes,
    };
    let kib = bytes.len().div_ceil(1024).max(1);
    if held.num_permits() > kib {
        drop(held.split(held.num_permits() - kib));
    }
    if let Some(coding) = coding {
        parts.headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static(coding.name()));
    }
    if compressible {
        vary_accept_encoding(&mut parts.headers);
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.extensions.insert(Taken);
    let body = Bytes::from_owner(Held { bytes, _share: held });
    Response::from_parts(parts, Body::from(body))
}

/// An answer's bytes with its share of the answer buffer: hyper keeps the bytes until they are
/// written, and the share goes with them.
struct Held {
    bytes: Bytes,
    _share: OwnedSemaphorePermit,
}

impl AsRef<[u8]> for Held {
    fn as_ref(&self) -> &[u8] {
        &self.bytes
    }
}

/// Whether the compression layer should compress this answer: not one [`large_answers`] took.
pub fn left_to_compression_layer(extensions: &axum::http::Extensions) -> bool {
    extensions.get::<Taken>().is_none()
}

/// The coding to use for a client's `Accept-Encoding`: the one of gzip and brotli with the
/// highest q-value (brotli on a tie, as it is smaller), `None` for neither.
fn negotiate(headers: &HeaderMap) -> Option<Coding> {
    let (mut gzip, mut br, mut any) = (None, None, None);
    for value in headers.get_all(header::ACCEPT_ENCODING) {
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .map_or(Some(1.0), |q| q.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)));
            let Some(q) = q else { continue };
            match name.as_str() {
                "gzip" | "x-gzip" => gzip = Some(q),
                "br" => br = Some(q),
                "*" => any = Some(q),
                _ => {}
            }
        }
    }
    let (gzip, br) = (gzip.or(any).unwrap_or(0.0), br.or(any).unwrap_or(0.0));
    match (gzip > 0.0, br > 0.0) {
        (_, true) if br >= gzip => Some(Coding::Brotli),
        (true, _) => Some(Coding::Gzip),
        _ => None,
    }
}

/// Whether an answer of this type gains by compression (images are compressed already).
fn compressible(headers: &HeaderMap) -> bool {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    !(ct.is_empty() || ct.starts_with("image/") || ct.starts_with("application/grpc") || ct == "text/event-stream")
}

fn vary_accept_encoding(headers: &mut HeaderMap) {
    let named = headers
        .get_all(header::VARY)
        .iter()
        .any(|v| v.to_str().is_ok_and(|v| v.split(',').any(|n| n.trim().eq_ignore_ascii_case("accept-encoding"))));
    if !named {
        headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
}

/// `bytes` in `coding`, at the levels the compression layer uses for small answers (gzip 6,
/// brotli 4: brotli's own default of 11 takes ten times as long).
fn compress(bytes: &[u8], coding: Coding) -> std::io::Result<Bytes> {
    use std::io::Write;
    let mut out = Vec::with_capacity(bytes.len() / 4);
    match coding {
        Coding::Gzip => {
            let mut encoder = flate2::write::GzEncoder::new(&mut out, flate2::Compression::new(6));
            encoder.write_all(bytes)?;
            encoder.finish()?;
        }
        Coding::Brotli => {
            let params = brotli::enc::BrotliEncoderParams { quality: 4, ..Default::default() };
            brotli::BrotliCompress(&mut &bytes[..], &mut out, &params)?;
        }
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &'static str) -> Option<Coding> {
        let mut h = HeaderMap::new();
        h.insert(header::ACCEPT_ENCODING, HeaderValue::from_static(value));
        negotiate(&h)
    }

    #[test]
    fn the_coding_follows_the_clients_preferences() {
        assert_eq!(accept("gzip"), Some(Coding::Gzip));
        assert_eq!(accept("gzip, deflate, br"), Some(Coding::Brotli));
        assert_eq!(accept("br;q=0.5, gzip"), Some(Coding::Gzip));
        assert_eq!(accept("gzip;q=0, br;q=0"), None);
        assert_eq!(accept("*"), Some(Coding::Brotli));
        assert_eq!(accept("*;q=0.2, gzip;q=0.8"), Some(Coding::Gzip));
        assert_eq!(accept("identity"), None);
        assert_eq!(accept("gzip;q=2"), None, "a q-value out of range is ignored");
        assert_eq!(negotiate(&HeaderMap::new()), None);
    }

    #[test]
    fn compressed_answers_decode_to_the_original() {
        use std::io::Read;
        let original: Vec<u8> = (0..200_000u32).flat_map(|i| format!("{{\"n\":{}}},", i % 977).into_bytes()).collect();
        let gz = compress(&original, Coding::Gzip).unwrap_or_default();
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap_or_default();
        assert_eq!(back, original);
        let br = compress(&original, Coding::Brotli).unwrap_or_default();
        let mut back = Vec::new();
        brotli_decompressor::Decompressor::new(&br[..], 4096).read_to_end(&mut back).unwrap_or_default();
        assert_eq!(back, original);
        assert!(br.len() < original.len() / 4 && gz.len() < original.len() / 4);
    }

    #[test]
    fn the_answer_buffer_is_shared_out_by_kib_and_refuses_past_it() {
        let limits = LimitSettings { answer_buffer_mb: 1, ..LimitSettings::default() };
        let heavy = Heavy::new(&limits, Arc::new(Metrics::new().unwrap_or_else(|e| unreachable!("{e}"))));
        let a = heavy.hold(700 * 1024);
        assert!(a.is_some());
        assert_eq!(heavy.buffered_kib(), 700);
        assert!(heavy.hold(400 * 1024).is_none(), "past the buffer");
        drop(a);
        assert!(heavy.hold(5 * 1024 * 1024).is_some(), "larger than the whole buffer: takes all of it");
        assert_eq!(heavy.buffered_kib(), 0, "the share was given back when dropped");
    }
}
