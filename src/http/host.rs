//! The `Host` of a request: checked strictly, and kept out of any answer a shared cache could
//! hand to someone else.
//!
//! Without `public_url`, absolute links (TileJSON's `tiles`, the OGC API `links`, the style's
//! sources) are made from the request's host, since the server cannot know the name it is
//! reached by. That host is what the client says, so:
//!
//! - it must be one valid authority (RFC 9112 3.2, RFC 3986 3.2.2): exactly one `Host` line in
//!   an HTTP/1.1 request, holding a registered name (letters, digits, `-`, `.`, `_`, `~`), an
//!   IPv4 address or a bracketed IPv6 address, and optionally `:` and a port up to 65535.
//!   Anything else is 400 `bad_request`; `[::1]:80]evil` or `a b` never reach a link;
//! - a request in absolute form (`GET http://name/path`) is answered for the name in its
//!   target, which is then the host (RFC 9112 3.2.2: the `Host` line is ignored);
//! - an answer whose links were made from it says `Vary: Host` and is `private` rather than
//!   `public` in `Cache-Control`, so that no shared cache serves the links one client asked for
//!   to another. With `public_url` set the links never depend on the request, and the answers
//!   stay `public`.
//!
//! Rejected: relative links. OGC API - Features allows them, but GDAL and several TileJSON
//! clients resolve them wrongly or not at all; absolute links from a checked host, not cached
//! by shared caches, cost only a proxy's cache of the JSON documents (tiles never depend on
//! the host), and a deployment behind a proxy sets `public_url` anyway.

use std::cell::Cell;
use std::net::Ipv6Addr;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Uri, Version, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::{ApiError, AppState};

tokio::task_local! {
    /// Set while a request is answered without `public_url`: whether its links used the host.
    static HOST_USED: Cell<bool>;
}

/// Notes that the answer being made depends on the request's host (see the module docs).
pub fn note_used() {
    let _ = HOST_USED.try_with(|used| used.set(true));
}

/// Whether `host` is a valid `Host` value: `reg-name / IPv4 / "[" IPv6 "]"`, then optionally
/// `":" port`.
pub fn valid(host: &str) -> bool {
    let (name_ok, port) = match host.strip_prefix('[') {
        Some(rest) => {
            let Some((v6, after)) = rest.split_once(']') else { return false };
            let port = match after {
                "" => None,
                after => match after.strip_prefix(':') {
                    Some(port) => Some(port),
                    None => return false,
                },
            };
            (v6.parse::<Ipv6Addr>().is_ok(), port)
        }
        None => {
            let (name, port) = match host.split_once(':') {
                Some((name, port)) => (name, Some(port)),
                None => (host, None),
            };
            let name_ok = !name.is_empty()
                && name.len() <= 253
                && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            (name_ok, port)
        }
    };
    let port_ok = port.is_none_or(|p| {
        (1..=5).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
    });
    name_ok && port_ok
}

/// Whether a request names its host plainly, so that [`check`] would pass it on unchanged: an
/// origin-form target (`/path`) and exactly one `Host` line, valid.
pub fn plain(uri: &Uri, headers: &HeaderMap) -> bool {
    let mut hosts = headers.get_all(header::HOST).iter();
    uri.authority().is_none()
        && matches!((hosts.next(), hosts.next()), (Some(host), None) if host.to_str().is_ok_and(valid))
}

/// Checks the request's host, takes it from an absolute-form target, and marks answers that
/// depend on it (see the module documentation).
pub async fn check(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let hosts: Vec<&HeaderValue> = req.headers().get_all(header::HOST).iter().collect();
    let refuse = |why: &str| ApiError::BadRequest(format!("the request's Host header {why}")).into_response();
    if hosts.len() > 1 {
        return refuse("is given more than once: send exactly one");
    }
    let target = req.uri().authority().map(|a| a.as_str().to_owned());
    let host = match (&target, hosts.first()) {
        // RFC 9112 3.2.2: the target's authority wins over the Host line.
        (Some(authority), _) if authority.contains('@') => {
            return ApiError::BadRequest("the request target holds a user name (user@host): send none".into())
                .into_response();
        }
        (Some(authority), _) => Some(authority.clone()),
        (None, Some(value)) => Some(value.to_str().map(str::to_owned).unwrap_or_default()),
        (None, None) if req.version() < Version::HTTP_11 => None,
        (None, None) => return refuse("is missing: an HTTP/1.1 request must name the host it is sent to"),
    };
    if let Some(host) = host {
        if !valid(&host) {
            return refuse(
                "is not a valid host: a name (letters, digits, '-', '.'), an IPv4 address or a bracketed IPv6 address, optionally ':' and a port",
            );
        }
        if target.is_some()
            && let Ok(value) = HeaderValue::from_str(&host)
        {
            req.headers_mut().insert(header::HOST, value);
        }
    }
    if state.config.server.public_url.is_some() {
        return next.run(req).await;
    }
    let (mut response, used) = HOST_USED
        .scope(Cell::new(false), async move {
            let response = next.run(req).await;
            (response, HOST_USED.with(Cell::get))
        })
        .await;
    if used {
        private_to_this_host(&mut response);
    }
    response
}

/// `Vary: Host`, and `Cache-Control: private` in place of `public`.
fn private_to_this_host(response: &mut Response) {
    let headers = response.headers_mut();
    headers.append(header::VARY, HeaderValue::from_static("host"));
    let cc = headers.get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()).map(str::to_owned);
    if let Some(cc) = cc {
        let private: Vec<&str> = cc
            .split(',')
            .map(str::trim)
            .map(|d| if d.eq_ignore_ascii_case("public") { "private" } else { d })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&private.join(", ")) {
            headers.insert(header::CACHE_CONTROL, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_checked_strictly() {
        for good in [
            "localhost",
            "localhost:8080",
            "maps.example.org",
            "127.0.0.1:65535",
            "[::1]",
            "[::1]:80",
            "[2001:db8::7]:443",
            "tessera_web",
        ] {
            assert!(valid(good), "{good}");
        }
        for bad in [
            "",
            ":80",
            "[::1]:80]evil",
            "[::1]evil",
            "[evil]",
            "a b",
            "evil.example:666:1",
            "evil.example:",
            "evil.example:65536",
            "evil.example:+80",
            "user@evil.example",
            "evil.example/path",
            "evil\"><script>",
            "[::1",
            "exa%41mple",
        ] {
            assert!(!valid(bad), "{bad}");
        }
        assert!(!valid(&"a".repeat(254)));
    }
}
