//! Writing text into the page: HTML escaping, JSON inside a `<script>` element, and the
//! template's `{{slot}}`s.

use serde_json::Value;

/// Fills `{{name}}` slots in one pass, so that a value is never searched for slots itself.
pub fn fill(template: &str, values: &[(&str, String)]) -> String {
    let mut out = String::with_capacity(template.len() + 4096);
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        match after.find("}}").and_then(|end| values.iter().find(|(k, _)| *k == &after[..end]).map(|(_, v)| (end, v))) {
            Some((end, v)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// JSON that can sit inside `<script type="application/json">`: `<`, `>` and `&` are written as
/// `\u` escapes (so no `</script>` or `<!--` can appear), as are U+2028 and U+2029.
pub fn json_for_script(v: &Value) -> String {
    let text = v.to_string();
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes text for HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = serde_json::json!({ "title": "</script><script>alert(1)</script><!-- & \u{2028}" });
        let s = json_for_script(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&') && !s.contains('\u{2028}'), "{s}");
        assert_eq!(serde_json::from_str::<Value>(&s).ok(), Some(v));
    }

    #[test]
    fn slots_are_filled_once_and_values_are_not_read_as_slots() {
        let out = fill("<t>{{a}}</t>{{b}}{{unknown}}", &[("a", "{{b}}".into()), ("b", "B".into())]);
        assert_eq!(out, "<t>{{b}}</t>B{{unknown}}");
    }

    #[test]
    fn escaping_covers_content_and_both_quotes() {
        assert_eq!(
            escape("<a href='x' title=\"y\">&</a>"),
            "&lt;a href=&#39;x&#39; title=&quot;y&quot;&gt;&amp;&lt;/a&gt;"
        );
    }
}
