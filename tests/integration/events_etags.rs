//! Issue 12, item 1: a client that accepts compression (every browser, Python `requests`) must
//! be able to edit with the ETag it was given. Each representation of an event (plain, gzip,
//! brotli) has its own strong ETag; `If-Match` takes the tag of any representation of the
//! current version, and only a new version gives 412. Runs on a server of its own, in-process
//! ([`TestApp`]), through the compression layer as a browser meets it.

use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::common::{Reply, TestApp, bearer};
use crate::events_api::{event, spot};

/// The app of these tests (each writes events of its own ids).
fn app() -> &'static TestApp {
    static APP: OnceLock<TestApp> = OnceLock::new();
    APP.get_or_init(TestApp::new)
}

fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
    app().request(method, path, headers, body)
}

fn get(path: &str) -> Reply {
    app().get(path)
}

fn post_json(body: &Value) -> Reply {
    let auth = bearer();
    let headers = [("Authorization", auth.as_str()), ("Content-Type", "application/geo+json")];
    request("POST", "/collections/events/items", &headers, body.to_string().as_bytes())
}

fn item(id: &str) -> String {
    format!("/collections/events/items/{id}")
}

/// A write to one event as a browser sends it: the token, `If-Match`, and `Accept-Encoding`.
fn write(method: &str, id: &str, if_match: &str, coding: &str, body: &Value) -> Reply {
    let auth = bearer();
    let content_type = if method == "PATCH" { "application/merge-patch+json" } else { "application/geo+json" };
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", content_type),
        ("If-Match", if_match),
        ("Accept-Encoding", coding),
    ];
    let body = if method == "DELETE" { Vec::new() } else { body.to_string().into_bytes() };
    request(method, &item(id), &headers, &body)
}

/// Asserts a strong ETag (quoted, no `W/`) and returns it.
fn strong_etag(reply: &Reply, what: &str) -> String {
    let etag = reply.header("etag").to_owned();
    assert!(etag.len() > 2 && etag.starts_with('"') && etag.ends_with('"'), "{what}: not a strong ETag: {etag:?}");
    etag
}

/// What the server holds now, read plainly.
fn current(id: &str) -> Value {
    let reply = get(&format!("/collections/events/items/{id}"));
    assert_eq!(reply.status, 200, "{}", reply.text());
    reply.json()
}

#[test]
fn editing_with_the_etag_of_a_compressed_read_works_and_only_a_new_version_gives_412() {
    for (n, coding) in [(6, "gzip"), (7, "br")] {
        let id = format!("etag-{coding}");
        assert_eq!(post_json(&event(&id, spot(n))).status, 201);

        // The read a browser makes: compressed, with a strong ETag of its own.
        let read = request("GET", &item(&id), &[("Accept-Encoding", coding)], b"");
        assert_eq!((read.status, read.header("content-encoding")), (200, coding), "{coding}: the answer is compressed");
        assert_eq!(read.json()["id"], id.as_str(), "{coding}: the body decodes");

        // PATCH with the tag that read gave, whatever its form: accepted.
        let v1 = read.header("etag").to_owned();
        let patched = write("PATCH", &id, &v1, coding, &json!({"properties": {"injured": 7}}));
        assert_eq!(
            patched.status,
            200,
            "{coding}: PATCH with {v1}, the ETag of the compressed read: {}",
            patched.text()
        );
        assert_eq!(current(&id)["properties"]["injured"], 7);
        // It was strong, and not the plain answer's: one strong tag names one byte sequence
        // (RFC 9110 8.8.3).
        strong_etag(&read, coding);
        let v2 = strong_etag(&patched, "PATCH answer");
        let plain_v2 = strong_etag(&request("GET", &item(&id), &[], b""), "plain read");
        assert_ne!(v2, plain_v2, "{coding}: one strong ETag for two byte sequences");

        // The same tag again names a version that is gone: 412, and nothing changes.
        let stale = write("PATCH", &id, &v1, coding, &json!({"properties": {"killed": 1}}));
        let description = stale.assert_error(412, "precondition_failed");
        assert!(description.contains("changed since it was read"), "{description}");
        assert_eq!(current(&id)["properties"]["killed"], 3, "a stale PATCH changed the event");

        // PUT with the tag of the PATCH's (compressed) answer, then DELETE with the PUT's.
        let mut replacement = event(&id, spot(n));
        replacement["properties"]["title"] = json!(format!("replaced after a {coding} read"));
        let put = write("PUT", &id, &v2, coding, &replacement);
        assert_eq!(put.status, 200, "{coding}: PUT with the ETag of the PATCH answer: {}", put.text());
        let v3 = strong_etag(&put, "PUT answer");
        write("PUT", &id, &v2, coding, &replacement).assert_error(412, "precondition_failed");
        assert_eq!(current(&id)["properties"]["title"], format!("replaced after a {coding} read"));
        write("DELETE", &id, &v2, coding, &Value::Null).assert_error(412, "precondition_failed");
        let deleted = write("DELETE", &id, &v3, coding, &Value::Null);
        assert_eq!(deleted.status, 204, "{coding}: DELETE with the ETag of the PUT answer: {}", deleted.text());
        get(&format!("/collections/events/items/{id}")).assert_error(404, "not_found");
    }
}

#[test]
fn each_representation_of_an_event_revalidates_and_the_304_carries_a_strong_etag() {
    let id = "etag-revalidate";
    assert_eq!(post_json(&event(id, spot(8))).status, 201);
    let plain = strong_etag(&request("GET", &item(id), &[], b""), "plain");
    let gzip = strong_etag(&request("GET", &item(id), &[("Accept-Encoding", "gzip")], b""), "gzip");
    let br = strong_etag(&request("GET", &item(id), &[("Accept-Encoding", "br")], b""), "br");
    assert!(plain != gzip && gzip != br && plain != br, "{plain} {gzip} {br}");
    for (coding, etag) in [("identity", &plain), ("gzip", &gzip), ("br", &br)] {
        let again = request("GET", &item(id), &[("Accept-Encoding", coding), ("If-None-Match", etag)], b"");
        assert_eq!((again.status, again.header("etag")), (304, etag.as_str()), "{coding}");
        assert!(again.body.is_empty(), "{coding}");
    }
    // A weak tag (as tessera used to give compressed answers) still revalidates (weak
    // comparison), and the 304 gives the strong tag back, which works in If-Match.
    let weak = format!("W/{plain}");
    let again = request("GET", &item(id), &[("Accept-Encoding", "gzip"), ("If-None-Match", &weak)], b"");
    assert_eq!((again.status, again.header("etag")), (304, plain.as_str()));
    // In If-Match a weak tag never matches (RFC 9110 13.1.1), and the answer says why.
    let refused = write("PATCH", id, &weak, "gzip", &json!({"properties": {"killed": 4}}));
    let description = refused.assert_error(412, "precondition_failed");
    assert!(description.contains("weak"), "{description}");
    let patched = write("PATCH", id, again.header("etag"), "gzip", &json!({"properties": {"killed": 4}}));
    assert_eq!(patched.status, 200, "{}", patched.text());
    assert_eq!(current(id)["properties"]["killed"], 4);
}
