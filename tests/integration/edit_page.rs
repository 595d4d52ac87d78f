//! The desk editor's page (`/edit`) and the timeline's `play` parameter, as the server sends
//! them: headers, the settings the page script gets, and the modules it preloads. What the
//! page does in a browser is tested in `tests/browser/edit.test.mjs` and `timeline.test.mjs`.

use serde_json::Value;

use crate::common::{get, get_url, get_with, page_config, scratch_dir, settings_with, start_server};

fn settings_of(html: &str) -> Value {
    let tag = "id=\"tessera-config\">";
    let start = html.find(tag).expect("the config element") + tag.len();
    let end = start + html[start..].find("</script>").expect("its end");
    serde_json::from_str(&html[start..end]).expect("the config is JSON")
}

#[test]
fn the_editor_page_cannot_be_framed_and_runs_no_inline_script() {
    let page = get_with("/edit?lat=36.233&lon=36.817&zoom=12", &[("Accept", "text/html")]);
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").starts_with("text/html"));
    assert_eq!(page.header("x-frame-options"), "DENY");
    assert_eq!(page.header("x-content-type-options"), "nosniff");
    let csp = page.header("content-security-policy");
    assert!(csp.ends_with("frame-ancestors 'none'"), "{csp}");
    assert!(
        csp.contains("connect-src 'self'") && csp.contains("form-action 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(csp, get_with("/", &[("Accept", "text/html")]).header("content-security-policy"), "the viewer's policy");
    let html = page.text();
    // Every script is a file of the server's (or Leaflet's), none is inline.
    for script in html.split("<script").skip(1) {
        let open = &script[..script.find('>').expect("tag end")];
        assert!(
            open.contains("src=") || open.contains("type=\"application/json\""),
            "an inline script: <script{open}>"
        );
    }
    let view = &settings_of(&html)["view"];
    assert_eq!(
        (view["lat"].as_f64(), view["lon"].as_f64(), view["zoom"].as_u64()),
        (Some(36.233), Some(36.817), Some(12))
    );
}

#[test]
fn the_editor_page_preloads_its_own_modules_and_each_is_served() {
    let html = get_with("/edit", &[("Accept", "text/html")]).text();
    let preloads: Vec<&str> =
        html.split("<link rel=\"modulepreload\" href=\"").skip(1).map(|s| &s[..s.find('"').expect("quote")]).collect();
    let names: Vec<&str> = preloads.iter().map(|p| p.rsplit('/').next().unwrap_or("")).collect();
    for wanted in ["edit-api.js", "edit-form.js", "edit-conflict.js", "edit-import.js", "edit-list.js", "dom.js"] {
        assert!(names.contains(&wanted), "{wanted} in {names:?}");
    }
    for not_here in ["main.js", "edit.js", "timeline.js", "events.js", "popup.js"] {
        assert!(!names.contains(&not_here), "{not_here} in {names:?}");
    }
    for p in preloads {
        let r = get(p);
        assert_eq!(r.status, 200, "{p}");
        assert!(r.header("content-type").starts_with("text/javascript"), "{p}");
    }
    assert!(html.contains("/edit.css\">") && html.contains("/edit.js\"></script>"));
}

#[test]
fn the_editor_gets_the_event_model_from_the_server_and_whether_it_takes_writes() {
    let config = page_config("/edit");
    let editor = &config["editor"];
    assert_eq!(editor["writes"], true, "the shared server has a write token");
    assert_eq!(editor["maxBatch"], 50);
    // The same closed lists as the event model's schema.
    let schema = get("/collections/events/queryables").json();
    for (field, key) in [("location_precision", "locationPrecision"), ("date_precision", "datePrecision")] {
        let listed = &schema["properties"][field]["enum"];
        assert!(listed.is_array(), "{field}: {}", schema["properties"][field]);
        assert_eq!(&editor[key], listed, "{field}");
    }
    let kinds: Vec<&str> =
        config["events"]["kinds"].as_array().expect("kinds").iter().filter_map(|k| k["id"].as_str()).collect();
    let schema_kinds: Vec<&str> =
        schema["properties"]["kind"]["enum"].as_array().expect("kind enum").iter().filter_map(Value::as_str).collect();
    assert_eq!(kinds, schema_kinds);
    assert!(page_config("/")["editor"].is_null() && page_config("/embed")["editor"].is_null(), "only /edit has it");

    let read_only = start_server(settings_with(|c| c.events.write_token = None), &scratch_dir("edit-no-token"));
    let html = get_url(&format!("{read_only}/edit")).text();
    assert_eq!(settings_of(&html)["editor"]["writes"], false);
}

#[test]
fn play_is_a_number_of_days_and_a_bad_one_is_ignored_with_a_note() {
    let config = page_config("/embed?from=2020-02-01&to=2020-02-29&play=1");
    assert_eq!(config["view"]["play"], 1);
    assert_eq!(
        (config["view"]["from"].as_str(), config["view"]["to"].as_str()),
        (Some("2020-02-01"), Some("2020-02-29"))
    );
    assert_eq!(page_config("/?play=7")["view"]["play"], 7);
    assert!(page_config("/embed")["view"]["play"].is_null());
    for bad in ["0", "367", "yes", "%3Cscript%3E"] {
        let config = page_config(&format!("/embed?play={bad}"));
        assert!(config["view"]["play"].is_null(), "{bad}");
        let notes: Vec<&str> = config["notes"].as_array().expect("notes").iter().filter_map(Value::as_str).collect();
        assert_eq!(notes.len(), 1, "{bad}: {notes:?}");
        assert!(notes[0].starts_with("'play' was ignored") && !notes[0].contains('<'), "{notes:?}");
    }
}
