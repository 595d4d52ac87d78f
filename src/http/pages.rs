//! HTML pages of the OGC API resources (`f=html`, or a browser's `Accept`): the conformance
//! classes, the collections, one collection, and the API definition.
//!
//! Each page is rendered from the very JSON document the route serves, so the two cannot say
//! different things. The pages are static HTML with browser styling: no script, no stylesheet,
//! no image, so their Content-Security-Policy allows nothing at all beyond the document itself,
//! and every piece of text (titles, descriptions, URLs, which come from the manifest and the
//! request's host) is escaped.

use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::web::html::escape;

/// The Content-Security-Policy of these pages: nothing to load, no frames, no forms.
pub const CSP: &str = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Which representation a request asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// JSON (the default).
    Json,
    /// An HTML page.
    Html,
}

/// `f=json` or `f=html` decides; without `f`, an `Accept` naming `text/html` (a browser) gets
/// HTML and any other client JSON.
pub fn negotiate(pairs: &[(String, String)], headers: &HeaderMap) -> Result<Format, super::ApiError> {
    match pairs.iter().rev().find(|(k, _)| k == "f").map(|(_, v)| v.as_str()) {
        Some("json") => Ok(Format::Json),
        Some("html") => Ok(Format::Html),
        Some(_) => Err(super::ApiError::param("f", "use f=json or f=html")),
        None => {
            let accept = headers.get(header::ACCEPT).and_then(|a| a.to_str().ok()).unwrap_or("");
            Ok(if accept.contains("text/html") { Format::Html } else { Format::Json })
        }
    }
}

/// A whole page: the title, the navigation between the resources, and `main` (already HTML).
pub fn page(title: &str, base: &str, main: &str) -> Response {
    let b = escape(base);
    let html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{t}</title>\n</head>\n<body>\n\
<nav><a href=\"{b}/\">map</a> | <a href=\"{b}/collections?f=html\">collections</a> | \
<a href=\"{b}/conformance?f=html\">conformance</a> | <a href=\"{b}/api?f=html\">API</a></nav>\n\
<main>\n<h1>{t}</h1>\n{main}</main>\n</body>\n</html>\n",
        t = escape(title),
    );
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "strict-origin-when-cross-origin"),
        (header::CACHE_CONTROL, "no-cache"),
        (header::VARY, "Accept"),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    (headers, html).into_response()
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => escape(s),
        Value::Null => String::new(),
        other => escape(&other.to_string()),
    }
}

/// A link list from a document's `links`.
fn links(doc: &Value) -> String {
    let items: String = doc["links"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|l| {
            let label = if l["title"].is_string() { text(&l["title"]) } else { text(&l["rel"]) };
            format!(
                "<li><a href=\"{}\">{label}</a> <small>({}, {})</small></li>\n",
                text(&l["href"]),
                text(&l["rel"]),
                text(&l["type"])
            )
        })
        .collect();
    format!("<ul>\n{items}</ul>\n")
}

/// `GET /conformance?f=html`.
pub fn conformance(doc: &Value, base: &str) -> Response {
    let items: String = doc["conformsTo"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| format!("<li><code>{}</code></li>\n", text(c)))
        .collect();
    page("Conformance classes", base, &format!("<p>This API implements these classes:</p>\n<ul>\n{items}</ul>\n"))
}

/// `GET /collections?f=html`.
pub fn collections(doc: &Value, base: &str) -> Response {
    let rows: String = doc["collections"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|c| {
            format!(
                "<tr><td><a href=\"{b}/collections/{id}?f=html\">{id}</a></td><td>{title}</td><td>{desc}</td></tr>\n",
                b = escape(base),
                id = text(&c["id"]),
                title = text(&c["title"]),
                desc = text(&c["description"]),
            )
        })
        .collect();
    let main = format!(
        "<table>\n<thead><tr><th>id</th><th>title</th><th>description</th></tr></thead>\n<tbody>\n{rows}</tbody>\n</table>\n\
<h2>Links</h2>\n{}",
        links(doc)
    );
    page("Collections", base, &main)
}

/// `GET /collections/{id}?f=html`.
pub fn collection(doc: &Value, base: &str) -> Response {
    let mut rows = String::new();
    let mut row = |name: &str, value: String| {
        if !value.is_empty() {
            rows.push_str(&format!("<tr><th>{name}</th><td>{value}</td></tr>\n"));
        }
    };
    row("id", text(&doc["id"]));
    row("description", text(&doc["description"]));
    row("attribution", text(&doc["attribution"]));
    row("licence", text(&doc["license"]));
    let bbox = doc["extent"]["spatial"]["bbox"][0].as_array().and_then(|b| match b.as_slice() {
        [w, s, e, n] => {
            Some(format!("west {}, south {}, east {}, north {} (degrees, CRS84)", text(w), text(s), text(e), text(n)))
        }
        _ => None,
    });
    row("extent", bbox.unwrap_or_default());
    let interval = doc["extent"]["temporal"]["interval"][0].as_array().map(|i| {
        let ends: Vec<String> = i.iter().map(|t| if t.is_null() { "..".into() } else { text(t) }).collect();
        ends.join(" to ")
    });
    row("time", interval.unwrap_or_default());
    let title = doc["title"].as_str().unwrap_or("Collection");
    page(title, base, &format!("<table>\n{rows}</table>\n<h2>Links</h2>\n{}", links(doc)))
}

/// `GET /api?f=html`: every operation of the OpenAPI document, with its parameters, request
/// body and answers.
pub fn api(doc: &Value, base: &str) -> Response {
    let mut main = format!(
        "<p>{}</p>\n<p>The machine-readable definition: <a href=\"{b}/openapi.json\">OpenAPI 3.0 (JSON)</a>.</p>\n",
        text(&doc["info"]["description"]),
        b = escape(base)
    );
    let empty = serde_json::Map::new();
    for (path, item) in doc["paths"].as_object().unwrap_or(&empty) {
        for (method, op) in item.as_object().unwrap_or(&empty) {
            main.push_str(&operation(doc, path, method, op));
        }
    }
    let title = format!("{} API", doc["info"]["title"].as_str().unwrap_or("tessera"));
    page(&title, base, &main)
}

fn operation(doc: &Value, path: &str, method: &str, op: &Value) -> String {
    let mut out = format!(
        "<section>\n<h2><code>{} {}</code></h2>\n<p>{}</p>\n",
        escape(&method.to_ascii_uppercase()),
        escape(path),
        text(&op["summary"])
    );
    if op["description"].is_string() {
        out.push_str(&format!("<p>{}</p>\n", text(&op["description"])));
    }
    if op["security"].is_array() {
        out.push_str("<p>Needs <code>Authorization: Bearer &lt;token&gt;</code>.</p>\n");
    }
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str(
            "<table>\n<thead><tr><th>parameter</th><th>in</th><th>schema</th><th>meaning</th></tr></thead>\n<tbody>\n",
        );
        for p in params {
            out.push_str(&format!(
                "<tr><td><code>{}</code>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td></tr>\n",
                text(&p["name"]),
                if p["required"] == true { " (required)" } else { "" },
                text(&p["in"]),
                escape(&p["schema"].to_string()),
                text(&p["description"])
            ));
        }
        out.push_str("</tbody>\n</table>\n");
    }
    if let Some(content) = op["requestBody"]["content"].as_object() {
        let types: Vec<String> = content.keys().map(|k| format!("<code>{}</code>", escape(k))).collect();
        out.push_str(&format!("<p>Body: {} ({})</p>\n", text(&op["requestBody"]["description"]), types.join(", ")));
    }
    if let Some(responses) = op["responses"].as_object() {
        out.push_str("<ul>\n");
        for (status, r) in responses {
            // A shared answer is a `$ref` to `#/components/responses/Name`.
            let shared = r["$ref"].as_str().and_then(|s| s.rsplit('/').next());
            let r = shared.map_or(r, |name| &doc["components"]["responses"][name]);
            let description = text(&r["description"]);
            out.push_str(&format!("<li><code>{}</code> {description}</li>\n", escape(status)));
        }
        out.push_str("</ul>\n");
    }
    out.push_str("</section>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(r: Response) -> String {
        let bytes = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap_or_default();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    #[tokio::test]
    async fn every_text_of_a_collection_page_is_escaped() {
        let hostile = "<script>alert(1)</script>\"'&";
        let doc = serde_json::json!({
            "id": hostile, "title": hostile, "description": hostile, "attribution": hostile, "license": hostile,
            "extent": { "spatial": { "bbox": [[hostile, 1, 2, 3]] }, "temporal": { "interval": [[hostile, null]] } },
            "links": [{ "href": "\"><script>x</script>", "rel": hostile, "type": hostile, "title": hostile }],
        });
        let page = body(collection(&doc, "http://h\"><script>")).await;
        assert!(!page.contains("<script"), "{page}");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;"), "{page}");
        let page = body(collections(&serde_json::json!({ "collections": [doc] }), "b")).await;
        assert!(!page.contains("<script"), "{page}");
    }

    #[test]
    fn f_decides_and_else_the_accept_header() {
        let browser = HeaderMap::from_iter([(header::ACCEPT, HeaderValue::from_static("text/html,*/*;q=0.8"))]);
        let f = |v: &str| vec![("f".to_owned(), v.to_owned())];
        assert_eq!(negotiate(&[], &browser).ok(), Some(Format::Html));
        assert_eq!(negotiate(&[], &HeaderMap::new()).ok(), Some(Format::Json));
        assert_eq!(negotiate(&f("json"), &browser).ok(), Some(Format::Json));
        assert_eq!(negotiate(&f("html"), &HeaderMap::new()).ok(), Some(Format::Html));
        assert!(negotiate(&f("xml"), &HeaderMap::new()).is_err());
    }
}
