//! Turning an event's untrusted payload into the text a notification shows.
//!
//! [`present`] picks a title, body and link from the data (JSON `title`, `message`/`body`, `link`/`url`/
//! `click`), strips control and bidirectional-override characters, and shortens. The result is plain text:
//! stored as such and rendered as text by the UI. [`escape_markup`] is applied only at the edge where a
//! notification server might read markup in the body.

use std::borrow::Cow;

use super::fields::known_fields;
use crate::feed::Mapping;
use crate::quiet::{PriorityScale, Urgency};
use crate::template::Subject;

/// Longest title shown, in characters.
pub const TITLE_CHARS: usize = 120;
/// Longest body shown, in characters.
pub const BODY_CHARS: usize = 400;

/// What a notification for one event shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Presented {
    pub title: String,
    pub body: String,
    /// An http(s) link from the payload, if it had one.
    pub link: Option<String>,
    pub urgency: Urgency,
}

/// Present an event of `feed` with type `event_type` and payload `data`, with no mapping of its own.
pub fn present(feed: &str, event_type: &str, data: &str) -> Presented {
    present_mapped(&Mapping::default(), &Subject::new(feed, event_type, data))
}

/// Present an event through its feed's mapping: each template that renders something wins over the
/// default; the priority template's value becomes urgency through the feed's scale (ntfy's by default).
pub fn present_mapped(mapping: &Mapping, subject: &Subject<'_>) -> Presented {
    let mut shown = present_default(subject.feed, subject.event_type, subject.data);
    let render = |template: &Option<crate::template::Template>| {
        template
            .as_ref()
            .map(|t| t.render(subject))
            .filter(|text| !text.trim().is_empty())
    };
    if let Some(title) = render(&mapping.title) {
        shown.title = tidy(&title, false, TITLE_CHARS);
    }
    if let Some(body) = render(&mapping.body) {
        shown.body = tidy(&body, true, BODY_CHARS);
    }
    if mapping.link.is_some() {
        shown.link = render(&mapping.link)
            .map(|link| link.trim().to_string())
            .filter(|link| is_web_link(link));
    }
    if let Some(priority) = render(&mapping.priority) {
        shown.urgency = mapping
            .priority_scale
            .unwrap_or(PriorityScale::NTFY)
            .urgency(priority.trim());
    }
    shown
}

fn present_default(feed: &str, event_type: &str, data: &str) -> Presented {
    let fields = known_fields(data).unwrap_or_default();
    let title = match first_text(&[&fields.title]) {
        Some(title) => tidy(title, false, TITLE_CHARS),
        None => tidy(&format!("{feed}: {event_type}"), false, TITLE_CHARS),
    };
    let body = tidy(
        first_text(&[&fields.message, &fields.body]).unwrap_or(data),
        true,
        BODY_CHARS,
    );
    let link = first_text(&[&fields.link, &fields.url, &fields.click])
        .filter(|link| is_web_link(link))
        .map(String::from);
    Presented {
        title,
        body,
        link,
        urgency: Urgency::Normal,
    }
}

/// The first of these fields that holds more than whitespace.
fn first_text<'a>(fields: &[&'a Option<Cow<'_, str>>]) -> Option<&'a str> {
    fields
        .iter()
        .filter_map(|field| field.as_deref())
        .find(|text| !text.trim().is_empty())
}

/// [`clean`], then [`shorten`] to `max` characters.
fn tidy(text: &str, keep_newlines: bool, max: usize) -> String {
    let cleaned = clean(text, keep_newlines);
    // No more bytes than `max` means no more characters either.
    if cleaned.len() <= max {
        cleaned
    } else {
        shorten(&cleaned, max)
    }
}

/// Only http and https links are ever opened.
pub fn is_web_link(text: &str) -> bool {
    url::Url::parse(text.trim()).is_ok_and(|url| matches!(url.scheme(), "http" | "https"))
}

/// Remove what could hide or reorder text: control characters (newlines kept in bodies, as spaces in
/// titles) and bidirectional overrides and isolates.
pub fn clean(text: &str, keep_newlines: bool) -> String {
    // Most text has nothing to remove: then the trimmed text is the answer (what is trimmed off is
    // whitespace, which the loop below would only turn into spaces or drop).
    let trimmed = text.trim();
    if !needs_cleaning(trimmed, keep_newlines) {
        return trimmed.to_string();
    }
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\n' if keep_newlines => out.push('\n'),
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control() || is_hiding(c) => {}
            c => out.push(c),
        }
    }
    out.trim().to_string()
}

/// Whether `text` holds anything [`clean`] removes or replaces. ASCII text, which most is, is checked a byte at a
/// time: of it only control characters need cleaning (every event of a flood passes here twice, bench part 3).
fn needs_cleaning(text: &str, keep_newlines: bool) -> bool {
    if text.is_ascii() {
        return text
            .bytes()
            .any(|b| (b < b' ' || b == 0x7f) && !(b == b'\n' && keep_newlines));
    }
    text.chars()
        .any(|c| !(c == '\n' && keep_newlines) && (c.is_control() || is_hiding(c)))
}

/// Bidirectional overrides, isolates and marks: they reorder the text around them.
fn is_hiding(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Cut to at most `max` characters, ending with "…" when cut.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max.saturating_sub(1)) {
        Some((cut, _)) if text[cut..].chars().nth(1).is_some() => format!("{}…", text[..cut].trim_end()),
        _ => text.to_string(),
    }
}

/// Escape the characters the notification markup reads (`&`, `<`, `>`).
pub fn escape_markup(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_data_shows_feed_and_type_over_the_data() {
        let shown = present("builds", "message", "deploy finished");
        assert_eq!(shown.title, "builds: message");
        assert_eq!(shown.body, "deploy finished");
        assert_eq!(shown.link, None);
    }

    #[test]
    fn json_title_message_and_link_are_used() {
        let data = r#"{"title":"Build #12 failed","message":"web: tests broke","link":"https://ci.example/12"}"#;
        let shown = present("ci", "build", data);
        assert_eq!(shown.title, "Build #12 failed");
        assert_eq!(shown.body, "web: tests broke");
        assert_eq!(shown.link.as_deref(), Some("https://ci.example/12"));
        let shown = present("ci", "build", r#"{"body":"b","url":"javascript:alert(1)"}"#);
        assert_eq!((shown.title.as_str(), shown.body.as_str()), ("ci: build", "b"));
        assert_eq!(shown.link, None, "only http(s) links are kept");
    }

    #[test]
    fn json_without_known_fields_shows_the_json() {
        let shown = present("f", "message", r#"{"value": 3}"#);
        assert_eq!(shown.body, r#"{"value": 3}"#);
    }

    #[test]
    fn control_and_bidi_characters_are_removed() {
        let shown = present("f", "m", "pay\u{202E}lanigiro\u{0007}\u{1b}[31m ok\nline two");
        assert_eq!(shown.body, "paylanigiro[31m ok\nline two");
        let shown = present("f", "m", "{\"title\":\"a\\nb\\u2066c\"}");
        assert_eq!(shown.title, "a bc");
    }

    #[test]
    fn control_characters_in_plain_ascii_text_are_removed_too() {
        assert_eq!(clean("tab\there\u{7f}, bell\u{7}\nnext", false), "tab here, bell next");
        assert_eq!(clean(" kept\nlines\r\n", true), "kept\nlines");
        assert_eq!(clean("esc\u{1b}[0m", true), "esc[0m");
    }

    #[test]
    fn long_text_is_shortened_on_a_character_boundary() {
        let long = "é".repeat(1000);
        let shown = present("f", "m", &long);
        assert_eq!(shown.body.chars().count(), BODY_CHARS);
        assert!(shown.body.ends_with('…'));
        assert_eq!(shorten("abc", 3), "abc");
        assert_eq!(shorten("abcd", 3), "ab…");
    }

    #[test]
    fn templates_win_where_they_render_something() {
        let mapping = Mapping {
            title: Some("{{/topic}}: {{/title ?? \"no title\"}}".parse().unwrap()),
            body: Some("{{/missing}}".parse().unwrap()),
            link: Some("{{/click}}".parse().unwrap()),
            priority: Some("{{/priority}}".parse().unwrap()),
            priority_scale: None,
        };
        let data = r#"{"topic":"alerts","message":"disk full","click":"https://x.example/1","priority":5}"#;
        let shown = present_mapped(&mapping, &Subject::new("ntfy", "message", data));
        assert_eq!(shown.title, "alerts: no title");
        assert_eq!(shown.body, "disk full", "an empty render falls back to the default");
        assert_eq!(shown.link.as_deref(), Some("https://x.example/1"));
        assert_eq!(shown.urgency, Urgency::Critical);
        let data = r#"{"click":"file:///etc/passwd","priority":"low"}"#;
        let shown = present_mapped(&mapping, &Subject::new("ntfy", "message", data));
        assert_eq!(shown.link, None, "only http(s) links");
        assert_eq!(shown.urgency, Urgency::Low);
    }

    #[test]
    fn markup_is_escaped() {
        assert_eq!(
            escape_markup("<b>x</b> & <img src=x>"),
            "&lt;b&gt;x&lt;/b&gt; &amp; &lt;img src=x&gt;"
        );
    }
}
