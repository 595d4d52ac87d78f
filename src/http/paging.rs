//! The links of a page of items (OGC API - Features): `self`, `next` and `prev`, each carrying
//! the request's own parameters with its `limit` and `offset`.

use serde_json::{Value, json};

/// A page of `matched` items: where it starts and how long pages are.
#[derive(Debug, Clone)]
pub struct Page<'a> {
    /// The items' URL, without a query.
    pub url: String,
    /// The request's parameters that every page keeps (a box, a time, kinds...).
    pub kept: Vec<(&'a str, &'a str)>,
    /// Items a page holds.
    pub limit: usize,
    /// Where this page starts.
    pub offset: usize,
    /// How many items match in all.
    pub matched: usize,
    /// How many this page returns.
    pub returned: usize,
}

impl Page<'_> {
    fn href(&self, offset: usize) -> String {
        let mut pairs: Vec<(&str, String)> = self.kept.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        pairs.push(("limit", self.limit.to_string()));
        pairs.push(("offset", offset.to_string()));
        format!("{}?{}", self.url, serde_urlencoded::to_string(pairs).unwrap_or_default())
    }

    /// `self`, then `next` when items follow, and `prev` when the page does not start at the
    /// first (from past the end, "previous" is the last page), all of media type `media`.
    pub fn links(&self, media: &str) -> Vec<Value> {
        let mut links =
            vec![json!({ "href": self.href(self.offset), "rel": "self", "type": media, "title": "this page" })];
        if self.offset.saturating_add(self.returned) < self.matched {
            let next = self.href(self.offset + self.returned);
            links.push(json!({ "href": next, "rel": "next", "type": media, "title": "next page" }));
        }
        if self.offset > 0 {
            let prev = self.href(self.offset.min(self.matched).saturating_sub(self.limit));
            links.push(json!({ "href": prev, "rel": "prev", "type": media, "title": "previous page" }));
        }
        links
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_and_prev_follow_the_page() {
        let page = |offset, returned| Page {
            url: "/i".into(),
            kept: vec![("bbox", "1,2,3,4")],
            limit: 10,
            offset,
            matched: 25,
            returned,
        };
        let rels =
            |p: Page<'_>| p.links("x").iter().map(|l| l["rel"].as_str().unwrap_or("").to_owned()).collect::<Vec<_>>();
        assert_eq!(rels(page(0, 10)), ["self", "next"]);
        assert_eq!(rels(page(10, 10)), ["self", "next", "prev"]);
        assert_eq!(rels(page(20, 5)), ["self", "prev"]);
        let past = page(1000, 0).links("x");
        assert_eq!(past[1]["href"], "/i?bbox=1%2C2%2C3%2C4&limit=10&offset=15", "from past the end, the last page");
    }
}
