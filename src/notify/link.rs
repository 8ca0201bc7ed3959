//! Links from event payloads open in the OS browser, and only if they are web links: a payload comes from
//! a server, so `file:`, `javascript:` or a custom scheme never reaches the opener.

use url::Url;

/// `text` as an http or https URL, or `None`.
pub fn web_link(text: &str) -> Option<Url> {
    Url::parse(text.trim())
        .ok()
        .filter(|url| matches!(url.scheme(), "http" | "https"))
}

#[cfg(test)]
mod tests {
    use super::web_link;

    #[test]
    fn only_web_links() {
        for good in [
            "https://example.com/deploys/1",
            "http://127.0.0.1:8080/",
            " https://example.com ",
        ] {
            assert!(web_link(good).is_some(), "{good}");
        }
        for bad in [
            "file:///etc/passwd",
            "javascript:alert(1)",
            "ssh://host",
            "example.com",
            "",
            "mailto:a@b.c",
        ] {
            assert!(web_link(bad).is_none(), "{bad}");
        }
    }
}
