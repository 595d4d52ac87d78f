//! Entity tags: one strong tag per representation.
//!
//! Handlers tag the plain bytes of an answer (`"T"`); the compression layer then encodes JSON
//! and MVT answers per request, with gzip or brotli as the client accepts. A strong tag names
//! one exact sequence of bytes (RFC 9110 8.8.3), so each encoding has its own tag:
//! [`tag_per_coding`] turns `"T"` into `"T-gzip"` or `"T-br"` on the way out (Apache's scheme).
//! Every tag tessera sends is strong, so whichever one a client was given works in `If-Match`.
//!
//! The representations of one content count as one in comparisons. `If-None-Match` (weak
//! comparison) matches the tag of any of them, and its 304 gives back the tag the client named,
//! so that a cache freshens the response it holds (RFC 9111 4.3.4). `If-Match` (strong
//! comparison) accepts the tag of any representation of the current version: they differ only
//! in content coding, so a client holding any of them has seen this version, and a new version
//! changes all of them. A weak tag never matches in `If-Match` (RFC 9110 13.1.1).
//!
//! Rejected: weak tags on encoded answers (`W/"T"`, what tessera did before). They revalidate,
//! but no weak tag can pass `If-Match`, so a browser, which always accepts compression, could
//! never edit an event it had read. Rejected too: leaving tagged answers uncompressed, which
//! costs every client the bytes.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::Response;
use headers::{ETag, Header, HeaderMapExt, IfMatch, IfNoneMatch};

/// The content codings the compression layer applies (tower-http's `compression-gzip` and
/// `compression-br` features), as `Content-Encoding` names them; each has its own tag.
const CODINGS: [&str; 2] = ["gzip", "br"];

/// The tag of the representation of a content under `coding`: `"T"` gives `"T-gzip"`. `None`
/// for a coding tessera does not apply, or a tag that is not strong.
fn coded(etag: &str, coding: &str) -> Option<String> {
    let inner = etag.strip_prefix('"')?.strip_suffix('"')?;
    CODINGS.contains(&coding).then(|| format!("\"{inner}-{coding}\""))
}

/// The tags of every representation of the content tagged `etag`, the plain one first.
fn representations(etag: &str) -> impl Iterator<Item = (String, ETag)> + '_ {
    std::iter::once(etag.to_owned())
        .chain(CODINGS.iter().filter_map(|coding| coded(etag, coding)))
        .filter_map(|tag| tag.parse::<ETag>().ok().map(|parsed| (tag, parsed)))
}

/// Which representation of the content tagged `etag` the request's `If-None-Match` names (weak
/// comparison; `*` names the plain one): the tag its 304 carries. `None` when it names none,
/// or is absent or malformed (the full answer is then sent).
pub fn none_match(headers: &HeaderMap, etag: &str) -> Option<String> {
    let condition: IfNoneMatch = headers.typed_get()?;
    representations(etag).find(|(_, tag)| !condition.precondition_passes(tag)).map(|(text, _)| text)
}

/// What a request's `If-Match` says of a resource whose current plain tag is `etag`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No `If-Match`.
    Absent,
    /// `If-Match: *`.
    Any,
    /// It names a representation of the current version.
    Current,
    /// It names the current version only with a weak tag, which never matches.
    Weak,
    /// It names other versions only.
    Stale,
    /// It holds no quoted entity tag at all (`If-Match: e-v3`).
    Malformed,
}

/// Evaluates `If-Match` (strong comparison) against every representation of the current
/// version.
pub fn if_match(headers: &HeaderMap, etag: &str) -> Precondition {
    let condition = match headers.typed_try_get::<IfMatch>() {
        Ok(Some(c)) => c,
        Ok(None) => return Precondition::Absent,
        Err(_) => return Precondition::Malformed,
    };
    if condition.is_any() {
        return Precondition::Any;
    }
    // The parser skips elements that are not entity tags; a list with no quote at all is a
    // client that forgot them, which deserves its own answer.
    if !headers.get_all(header::IF_MATCH).iter().any(|v| v.as_bytes().contains(&b'"')) {
        return Precondition::Malformed;
    }
    if representations(etag).any(|(_, tag)| condition.precondition_passes(&tag)) {
        return Precondition::Current;
    }
    // The same list compared weakly: does it name this version, only with `W/`?
    let weakly = IfNoneMatch::decode(&mut headers.get_all(header::IF_MATCH).iter()).ok();
    if weakly.is_some_and(|w| representations(etag).any(|(_, tag)| !w.precondition_passes(&tag))) {
        Precondition::Weak
    } else {
        Precondition::Stale
    }
}

/// Gives an encoded answer the tag of its representation (`"T"` becomes `"T-gzip"`), so that
/// no strong tag is shared by two byte sequences. Runs outside the compression layer, which
/// sets `Content-Encoding`. An encoded answer whose tag cannot be made its own loses the tag:
/// no validator is better than a wrong one.
pub async fn tag_per_coding(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    let Some(coding) = headers.get(header::CONTENT_ENCODING).and_then(|c| c.to_str().ok()).map(str::to_owned) else {
        return response;
    };
    let Some(etag) = headers.get(header::ETAG).and_then(|t| t.to_str().ok()).map(str::to_owned) else {
        return response;
    };
    match coded(&etag, coding.trim()).and_then(|tag| HeaderValue::from_str(&tag).ok()) {
        Some(tag) => headers.insert(header::ETAG, tag),
        None => headers.remove(header::ETAG),
    };
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(name: header::HeaderName, value: &'static str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_static(value));
        h
    }

    #[test]
    fn each_coding_has_its_own_strong_tag() {
        assert_eq!(coded("\"e-v3\"", "gzip").as_deref(), Some("\"e-v3-gzip\""));
        assert_eq!(coded("\"e-v3\"", "br").as_deref(), Some("\"e-v3-br\""));
        assert_eq!(coded("\"e-v3\"", "zstd"), None, "a coding tessera does not apply");
        assert_eq!(coded("W/\"e-v3\"", "gzip"), None, "a weak tag");
    }

    #[test]
    fn if_none_match_names_any_representation_weakly() {
        let tag = |v| none_match(&with(header::IF_NONE_MATCH, v), "\"e-v3\"");
        assert_eq!(tag("\"e-v3\"").as_deref(), Some("\"e-v3\""));
        assert_eq!(tag("\"x\", \"e-v3-br\"").as_deref(), Some("\"e-v3-br\""));
        assert_eq!(tag("W/\"e-v3-gzip\"").as_deref(), Some("\"e-v3-gzip\""), "weak comparison, strong answer");
        assert_eq!(tag("*").as_deref(), Some("\"e-v3\""));
        assert_eq!(tag("\"e-v2\", \"e-v2-gzip\""), None);
        assert_eq!(tag("\"e-v3-zstd\""), None);
        assert_eq!(tag("e-v3"), None, "not a quoted tag");
        assert_eq!(none_match(&HeaderMap::new(), "\"e-v3\""), None);
    }

    #[test]
    fn if_match_compares_strongly_against_every_representation_of_the_current_version() {
        let check = |v| if_match(&with(header::IF_MATCH, v), "\"e-v3\"");
        assert_eq!(if_match(&HeaderMap::new(), "\"e-v3\""), Precondition::Absent);
        assert_eq!(check("*"), Precondition::Any);
        for current in ["\"e-v3\"", "\"e-v3-gzip\"", "\"e-v3-br\"", "\"e-v2\", \"e-v3-gzip\""] {
            assert_eq!(check(current), Precondition::Current, "{current}");
        }
        for weak in ["W/\"e-v3\"", "W/\"e-v3-gzip\", \"e-v2\""] {
            assert_eq!(check(weak), Precondition::Weak, "{weak}");
        }
        for stale in ["\"e-v2\"", "\"e-v2-gzip\"", "W/\"e-v2\"", "\"e-v3-zstd\"", "\"e-v33\"", "\"e-v3", "w/\"e-v3\""] {
            assert_eq!(check(stale), Precondition::Stale, "{stale}");
        }
        for malformed in ["e-v3", "e-v3-gzip, e-v2"] {
            assert_eq!(check(malformed), Precondition::Malformed, "{malformed}");
        }
    }
}
