//! Notification templates: how a feed's `--title`, `--body`, `--link` and `--priority` pick text out of
//! an event's payload.
//!
//! This module owns three things the [`rules`](crate::rules) module shares:
//! - [`Subject`]: the event a template or a rule looks at (feed name, SSE event type, raw data), with its
//!   data parsed as JSON at most once, lazily.
//! - [`Pointer`]: a JSON pointer (RFC 6901) into the data, optionally chained through JSON that is itself
//!   held in a string field (`/payload#/content`, for Mastodon's `payload`).
//! - [`Template`]: literal text with `{{ … }}` placeholders, parsed once (a template that parses cannot
//!   fail to render) and rendered per event.
//!
//! Rendering gives raw text. Making it safe to show ([`clean`](crate::notify::text::clean),
//! [`shorten`](crate::notify::text::shorten)) and keeping only web links
//! ([`is_web_link`](crate::notify::text::is_web_link)) stay with [`notify::text`](crate::notify::text).
//!
//! # Syntax
//! ```text
//! template    := ( text | "\{{" | "{{" placeholder "}}" )*
//! placeholder := alternative ( "??" alternative )* ( "|" filter )*
//!                                                        first alternative with a non-blank value wins
//! alternative := pointer | "type" | "feed" | "data" | string
//! pointer     := "/" … ( "#" ( "/" … )? )*               ends at whitespace, "??", "|" or "}}"
//! string      := '"' ( '\"' | '\\' | any other character )* '"'
//! filter      := "text"                                  HTML to readable plain text
//! ```
//! Filters apply to each value taken from the event (not to a literal string) before it is judged blank, so `{{/content ?? /note | text}}`
//! falls back when the content is HTML with no text in it (`<p></p>`). `text` reads HTML as a person
//! would ([`crate::html::to_text`]): tags gone, entities decoded, `<br>` and `<p>` as line breaks.
//! A string value renders as is; numbers and booleans as JSON text; objects and arrays as compact JSON;
//! null or a missing value as nothing. Names are case-insensitive. `\{{` is a literal `{{`; any other
//! backslash in literal text is kept.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::json_pointer;

/// The event a template renders or a rule tests.
#[derive(Debug)]
pub struct Subject<'a> {
    /// The feed's name.
    pub feed: &'a str,
    /// The SSE event type (`message` when the server sent none).
    pub event_type: &'a str,
    /// The event's data as received.
    pub data: &'a str,
    /// `data` parsed as JSON, on first use; `None` inside when it is not JSON.
    json: OnceCell<Option<Value>>,
}

impl<'a> Subject<'a> {
    pub fn new(feed: &'a str, event_type: &'a str, data: &'a str) -> Subject<'a> {
        Subject {
            feed,
            event_type,
            data,
            json: OnceCell::new(),
        }
    }

    /// The data as JSON, parsed on the first call only; `None` when the data is not JSON.
    pub fn json(&self) -> Option<&Value> {
        self.json.get_or_init(|| serde_json::from_str(self.data).ok()).as_ref()
    }
}

/// A JSON pointer into an event's data, possibly continuing inside JSON held in a string field.
///
/// `/payload#/content` takes the string at `/payload`, decodes it as JSON, and applies `/content` to
/// that; steps chain (`/a#/b#/c`). An empty step after `#` (`/payload#`) is the whole decoded value.
/// A `#` always starts a decode: a key containing `#` cannot be reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pointer {
    /// The source text, e.g. `/payload#/content`.
    text: String,
    /// One RFC 6901 pointer per step: the first is non-empty, later ones may be empty.
    steps: Vec<String>,
    /// Each step's reference tokens, unescaped (`/a~1b/c` is `["a/b", "c"]`).
    tokens: Vec<Vec<String>>,
}

impl Pointer {
    /// Parse a pointer such as `/title` or `/payload#/content`.
    pub fn parse(text: &str) -> Result<Pointer, TemplateError> {
        parse_pointer(text, 0).map_err(|(at, message)| TemplateError::new(text, at, message))
    }

    /// The value the pointer reaches in `subject`'s data; `None` when the data is not JSON, a step is
    /// missing, or a step before `#` is not a string holding JSON.
    pub fn resolve<'s>(&self, subject: &'s Subject<'_>) -> Option<Cow<'s, Value>> {
        let (first, rest) = self.steps.split_first()?;
        let mut current = Cow::Borrowed(subject.json()?.pointer(first)?);
        for step in rest {
            let Value::String(inner) = current.as_ref() else {
                return None;
            };
            let mut decoded: Value = serde_json::from_str(inner).ok()?;
            current = Cow::Owned(decoded.pointer_mut(step).map(Value::take)?);
        }
        Some(current)
    }

    /// The text of the value the pointer reaches (see [`value_text`]); `None` when it reaches nothing.
    pub fn text<'s>(&self, subject: &'s Subject<'_>) -> Option<Cow<'s, str>> {
        Some(match self.resolve(subject)? {
            Cow::Borrowed(value) => value_text(value),
            Cow::Owned(value) => Cow::Owned(value_text(&value).into_owned()),
        })
    }

    /// The text of the value the pointer reaches in the JSON text `data`, as [`Pointer::text`] reads it, but
    /// entering only what lies on the pointer's path. It is more lenient where the data is malformed away
    /// from that path (see [`crate::json_pointer`]).
    pub fn text_in<'d>(&self, data: &'d str) -> Option<Cow<'d, str>> {
        json_pointer::find_through(data, &self.tokens).map(json_pointer::Found::into_text)
    }
}

impl fmt::Display for Pointer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// How a JSON value reads as text: a string as is, numbers and booleans as JSON, objects and arrays as
/// compact JSON, null as nothing.
pub fn value_text(value: &Value) -> Cow<'_, str> {
    match value {
        Value::String(text) => Cow::Borrowed(text),
        Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

/// Parse the pointer `text`, which starts at byte `base` of a larger source, into its steps.
/// Errors are (byte offset in that source, message).
pub(crate) fn parse_pointer(text: &str, base: usize) -> Result<Pointer, (usize, String)> {
    if !text.starts_with('/') {
        return Err((base, format!("a pointer starts with `/`: write `/{text}`")));
    }
    let mut steps = Vec::new();
    let mut start = 0;
    for step in text.split('#') {
        if !steps.is_empty() && !step.is_empty() && !step.starts_with('/') {
            return Err((
                base + start,
                format!(
                    "after `#` comes a pointer into the decoded JSON, starting with `/` (`#/{step}`), \
                     or nothing for the whole decoded value"
                ),
            ));
        }
        let bytes = step.as_bytes();
        for (i, &b) in bytes.iter().enumerate() {
            if b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')) {
                return Err((
                    base + start + i,
                    "`~` in a pointer must be followed by 0 (for `~`) or 1 (for `/`)".to_string(),
                ));
            }
        }
        steps.push(step.to_string());
        start += step.len() + 1;
    }
    let tokens = steps
        .iter()
        .map(|step| json_pointer::tokens(step).expect("every step is empty or starts with `/`"))
        .collect();
    Ok(Pointer {
        text: text.to_string(),
        steps,
        tokens,
    })
}

/// Read a double-quoted string starting at byte `at` of `source` (which holds the opening `"`).
/// `\"` is a quote and `\\` a backslash; any other backslash is kept, so regular expressions read
/// naturally (`"\d+"`). Returns the text and the byte just past the closing quote.
pub(crate) fn read_string(source: &str, at: usize) -> Result<(String, usize), (usize, String)> {
    let mut out = String::new();
    let mut chars = source[at + 1..].char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, at + 1 + i + 1)),
            '\\' => match chars.clone().next() {
                Some((_, next @ ('"' | '\\'))) => {
                    out.push(next);
                    chars.next();
                }
                _ => out.push('\\'),
            },
            c => out.push(c),
        }
    }
    Err((at, "this string is not closed: add a `\"` at its end".to_string()))
}

/// A notification template, e.g. `{{/title ?? type}}` or `{{feed}}: {{/payload#/content}}`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Template {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Placeholder(Vec<Alternative>, Vec<Filter>),
}

/// What a placeholder does to its value after `|`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Filter {
    /// HTML to readable plain text.
    Text,
}

impl Filter {
    const NAMES: &'static str = "`text` (HTML to plain text)";

    fn parse(name: &str) -> Option<Filter> {
        match name.to_ascii_lowercase().as_str() {
            "text" => Some(Filter::Text),
            _ => None,
        }
    }

    fn apply(self, text: &str) -> String {
        match self {
            Filter::Text => crate::html::to_text(text),
        }
    }
}

#[derive(Debug, Clone)]
enum Alternative {
    Pointer(Pointer),
    Type,
    Feed,
    Data,
    Literal(String),
}

impl Template {
    /// Parse a template; the error points at the mistake.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        TemplateParser { source: text, pos: 0 }
            .parse()
            .map_err(|(at, message)| TemplateError::new(text, at, message))
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The text for `subject`. Placeholders whose every alternative is blank render as nothing.
    pub fn render(&self, subject: &Subject<'_>) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                Part::Placeholder(alternatives, filters) => {
                    let chosen = alternatives
                        .iter()
                        .find_map(|alternative| alternative.filtered(subject, filters));
                    if let Some(text) = chosen {
                        out.push_str(&text);
                    }
                }
            }
        }
        out
    }
}

impl Alternative {
    /// [`Alternative::text`] through `filters`, judged blank after them. A literal is the user's own
    /// text: it is not filtered.
    fn filtered<'s>(&'s self, subject: &'s Subject<'_>, filters: &[Filter]) -> Option<Cow<'s, str>> {
        let text = self.text(subject)?;
        if filters.is_empty() || matches!(self, Alternative::Literal(_)) {
            return Some(text);
        }
        let text = filters
            .iter()
            .fold(text.into_owned(), |text, filter| filter.apply(&text));
        (!text.trim().is_empty()).then_some(Cow::Owned(text))
    }

    /// This alternative's text for `subject`, or `None` when it is blank (so the next one is tried).
    /// A literal always counts, even when empty.
    fn text<'s>(&'s self, subject: &'s Subject<'_>) -> Option<Cow<'s, str>> {
        let text = match self {
            Alternative::Literal(text) => return Some(Cow::Borrowed(text)),
            Alternative::Pointer(pointer) => pointer.text(subject)?,
            Alternative::Type => Cow::Borrowed(subject.event_type),
            Alternative::Feed => Cow::Borrowed(subject.feed),
            Alternative::Data => Cow::Borrowed(subject.data),
        };
        (!text.trim().is_empty()).then_some(text)
    }
}

impl PartialEq for Template {
    fn eq(&self, other: &Template) -> bool {
        self.source == other.source
    }
}

impl Eq for Template {}

impl fmt::Display for Template {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Template {
    type Err = TemplateError;

    fn from_str(text: &str) -> Result<Template, TemplateError> {
        Template::parse(text)
    }
}

impl TryFrom<String> for Template {
    type Error = TemplateError;

    fn try_from(text: String) -> Result<Template, TemplateError> {
        Template::parse(&text)
    }
}

impl From<Template> for String {
    fn from(template: Template) -> String {
        template.source
    }
}

/// A template that does not parse: where (a byte offset into the template) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {message} (at byte {at})")]
pub struct TemplateError {
    /// The template as written.
    pub text: String,
    /// Byte offset of the mistake in `text`.
    pub at: usize,
    pub message: String,
}

impl TemplateError {
    fn new(text: &str, at: usize, message: String) -> TemplateError {
        TemplateError {
            text: text.to_string(),
            at,
            message,
        }
    }
}

struct TemplateParser<'t> {
    source: &'t str,
    pos: usize,
}

const EXPECTED_ALTERNATIVE: &str = "a pointer, a name or \"text\"";

impl TemplateParser<'_> {
    fn rest(&self) -> &str {
        &self.source[self.pos..]
    }

    fn parse(mut self) -> Result<Template, (usize, String)> {
        let mut parts = Vec::new();
        let mut text = String::new();
        while !self.rest().is_empty() {
            let rest = self.rest();
            if rest.starts_with("\\{{") {
                text.push_str("{{");
                self.pos += 3;
            } else if rest.starts_with("{{") {
                if !text.is_empty() {
                    parts.push(Part::Text(std::mem::take(&mut text)));
                }
                let (alternatives, filters) = self.placeholder()?;
                parts.push(Part::Placeholder(alternatives, filters));
            } else {
                let next = rest.find(['\\', '{']).map_or(rest.len(), |i| i.max(1));
                text.push_str(&rest[..next]);
                self.pos += next;
            }
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        Ok(Template {
            source: self.source.to_string(),
            parts,
        })
    }

    fn skip_whitespace(&mut self) {
        let rest = self.rest();
        self.pos += rest.len() - rest.trim_start().len();
    }

    /// Parse `{{ alternative ?? … | filter }}` at `self.pos`.
    fn placeholder(&mut self) -> Result<(Vec<Alternative>, Vec<Filter>), (usize, String)> {
        let open = self.pos;
        let unclosed = || {
            (
                open,
                "this `{{` is not closed: add `}}` after the placeholder".to_string(),
            )
        };
        self.pos += 2;
        let mut alternatives = Vec::new();
        let mut after = "{{";
        loop {
            self.skip_whitespace();
            if self.rest().is_empty() {
                return Err(unclosed());
            }
            if self.rest().starts_with("}}") || self.rest().starts_with("??") {
                return Err((self.pos, format!("expected {EXPECTED_ALTERNATIVE} after `{after}`")));
            }
            alternatives.push(self.alternative()?);
            self.skip_whitespace();
            let rest = self.rest();
            if rest.starts_with("}}") {
                self.pos += 2;
                return Ok((alternatives, Vec::new()));
            } else if rest.starts_with('|') {
                let filters = self.filters()?;
                return Ok((alternatives, filters));
            } else if rest.starts_with("??") {
                self.pos += 2;
                after = "??";
            } else if rest.is_empty() {
                return Err(unclosed());
            } else {
                return Err((self.pos, "expected `??`, `|` or `}}` after an alternative".to_string()));
            }
        }
    }

    /// Parse `| filter | filter }}` at `self.pos` (on the first `|`), through the closing `}}`.
    fn filters(&mut self) -> Result<Vec<Filter>, (usize, String)> {
        let mut filters = Vec::new();
        while self.rest().starts_with('|') {
            self.pos += 1;
            self.skip_whitespace();
            let start = self.pos;
            let len = token_len(self.rest());
            let name = &self.source[start..start + len];
            if name.is_empty() {
                return Err((start, format!("expected a filter after `|`: {}", Filter::NAMES)));
            }
            let filter = Filter::parse(name).ok_or_else(|| {
                (
                    start,
                    format!("unknown filter `{name}`: the filters are {}", Filter::NAMES),
                )
            })?;
            filters.push(filter);
            self.pos += len;
            self.skip_whitespace();
        }
        if self.rest().starts_with("}}") {
            self.pos += 2;
            Ok(filters)
        } else if self.rest().is_empty() {
            Err((
                self.pos,
                "this placeholder is not closed: add `}}` after its filters".to_string(),
            ))
        } else {
            Err((self.pos, "expected `|` or `}}` after a filter".to_string()))
        }
    }

    fn alternative(&mut self) -> Result<Alternative, (usize, String)> {
        let start = self.pos;
        let source = self.source;
        let rest = &source[start..];
        if rest.starts_with('"') {
            let (text, end) = read_string(source, start)?;
            self.pos = end;
            return Ok(Alternative::Literal(text));
        }
        let len = token_len(rest);
        let token = &rest[..len];
        self.pos += len;
        if token.starts_with('/') {
            return parse_pointer(token, start).map(Alternative::Pointer);
        }
        match token.to_ascii_lowercase().as_str() {
            "type" => Ok(Alternative::Type),
            "feed" => Ok(Alternative::Feed),
            "data" => Ok(Alternative::Data),
            _ if token.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') => Err((
                start,
                format!(
                    "unknown name `{token}`: a field is a pointer starting with `/` (`/{token}`); \
                     the names are `type`, `feed` and `data`"
                ),
            )),
            _ => Err((start, format!("expected {EXPECTED_ALTERNATIVE}, not `{token}`"))),
        }
    }
}

/// How long the bare token at the start of `rest` is: up to whitespace, `??`, `|` or `}}`.
fn token_len(rest: &str) -> usize {
    for (i, c) in rest.char_indices() {
        let tail = &rest[i..];
        if c.is_whitespace() || c == '|' || tail.starts_with("??") || tail.starts_with("}}") {
            return i;
        }
    }
    rest.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(template: &str, event_type: &str, data: &str) -> String {
        match Template::parse(template) {
            Ok(template) => template.render(&Subject::new("builds", event_type, data)),
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn renders_table() {
        let mastodon = r#"{"event":"update","payload":"{\"content\":\"<p>hi</p>\",\"account\":{\"acct\":\"ann\"}}"}"#;
        let rows: &[(&str, &str, &str, &str)] = &[
            // (template, event type, data, expected)
            ("plain text", "message", "{}", "plain text"),
            ("", "message", "{}", ""),
            ("{{/title}}", "message", r#"{"title":"Deploy done"}"#, "Deploy done"),
            ("{{ /title }}", "message", r#"{"title":"spaced"}"#, "spaced"),
            (
                "[{{/title}}] {{/message}}",
                "m",
                r#"{"title":"t","message":"b"}"#,
                "[t] b",
            ),
            ("{{/a/b/0}}", "m", r#"{"a":{"b":["first","second"]}}"#, "first"),
            ("{{/a~1b}}", "m", r#"{"a/b":"slash"}"#, "slash"),
            ("{{/a~0b}}", "m", r#"{"a~b":"tilde"}"#, "tilde"),
            ("{{/}}", "m", r#"{"":"empty key"}"#, "empty key"),
            ("{{/n}}", "m", r#"{"n":4}"#, "4"),
            ("{{/n}}", "m", r#"{"n":4.5}"#, "4.5"),
            ("{{/ok}}", "m", r#"{"ok":true}"#, "true"),
            ("{{/o}}", "m", r#"{"o":{"a": [1, 2]}}"#, r#"{"a":[1,2]}"#),
            ("{{/nothing}}", "m", r#"{"nothing":null}"#, ""),
            ("({{/missing}})", "m", r#"{}"#, "()"),
            ("{{/title}}", "m", "not json", ""),
            ("{{type}}", "deploy", "x", "deploy"),
            ("{{ TYPE }}/{{Feed}}", "deploy", "x", "deploy/builds"),
            ("{{data}}", "m", "raw text", "raw text"),
            ("{{/title ?? \"untitled\"}}", "m", "{}", "untitled"),
            ("{{/title ?? \"untitled\"}}", "m", r#"{"title":""}"#, "untitled"),
            ("{{/title ?? \"untitled\"}}", "m", r#"{"title":"  "}"#, "untitled"),
            ("{{/title ?? \"untitled\"}}", "m", r#"{"title":null}"#, "untitled"),
            ("{{/title ?? /subject ?? type}}", "m", r#"{"subject":"s"}"#, "s"),
            ("{{/title ?? /subject ?? type}}", "ping", r#"{}"#, "ping"),
            ("{{/title??type}}", "ping", r#"{}"#, "ping"),
            ("{{\"\" ?? /title}}", "m", r#"{"title":"t"}"#, ""),
            ("{{/t ?? \"say \\\"hi\\\" \\\\ \\d\"}}", "m", "{}", r#"say "hi" \ \d"#),
            ("{{/t ?? \"}} ?? {{\"}}", "m", "{}", "}} ?? {{"),
            ("{{/payload#/content}}", "update", mastodon, "<p>hi</p>"),
            ("{{/payload#/account/acct}}", "update", mastodon, "ann"),
            ("{{/payload#/missing ?? \"none\"}}", "update", mastodon, "none"),
            (
                "{{/event#/x ?? \"not json inside\"}}",
                "update",
                mastodon,
                "not json inside",
            ),
            ("{{/a#/b#/c}}", "m", r#"{"a":"{\"b\":\"{\\\"c\\\":7}\"}"}"#, "7"),
            ("{{/a#}}", "m", r#"{"a":"[1, 2]"}"#, "[1,2]"),
            ("{{/a#/0}}", "m", r#"{"a":"[1, 2]"}"#, "1"),
            ("\\{{/title}}", "m", r#"{"title":"t"}"#, "{{/title}}"),
            ("a \\ b {{/t}}", "m", r#"{"t":"x"}"#, "a \\ b x"),
            ("{ single } and }} close", "m", "{}", "{ single } and }} close"),
            ("{{/t}}}", "m", r#"{"t":"x"}"#, "x}"),
            ("{{/é}} ✓", "m", r#"{"é":"accent"}"#, "accent ✓"),
            ("{{/payload#/content|text}}", "update", mastodon, "hi"),
            (
                "{{ /c | text }}",
                "m",
                r#"{"c":"<p>a &amp; b</p><p>c<br>d</p>"}"#,
                "a & b\n\nc\nd",
            ),
            ("{{/c|TEXT}}", "m", r#"{"c":"<b>x</b>"}"#, "x"),
            ("{{/c|text|text}}", "m", r#"{"c":"&amp;lt;b&amp;gt;"}"#, "<b>"),
            (
                "{{/c ?? /n | text}}",
                "m",
                r#"{"c":"<p></p>","n":"<i>note</i>"}"#,
                "note",
            ),
            ("{{/c ?? \"<none>\" | text}}", "m", r#"{"c":"<p> </p>"}"#, "<none>"),
            ("{{/c}}", "m", r#"{"c":"<p>raw</p>"}"#, "<p>raw</p>"),
            ("{{data|text}}", "m", "<script>x()</script>plain", "plain"),
            ("{{\"a|b\"}}", "m", "{}", "a|b"),
        ];
        for (template, event_type, data, expected) in rows {
            assert_eq!(
                &render(template, event_type, data),
                expected,
                "template {template:?}, data {data}"
            );
        }
    }

    #[test]
    fn errors_table() {
        let rows: &[(&str, usize, &str)] = &[
            // (template, byte offset, message fragment)
            (
                "{{/title ?? }}",
                12,
                "expected a pointer, a name or \"text\" after `??`",
            ),
            ("{{}}", 2, "expected a pointer, a name or \"text\" after `{{`"),
            ("{{ ?? /a}}", 3, "after `{{`"),
            ("hello {{/title", 6, "this `{{` is not closed"),
            ("hello {{/title ?? ", 6, "this `{{` is not closed"),
            ("{{", 0, "this `{{` is not closed"),
            (
                "{{title}}",
                2,
                "unknown name `title`: a field is a pointer starting with `/` (`/title`)",
            ),
            ("x {{ /a ?? message }}", 11, "unknown name `message`"),
            (
                "{{'title'}}",
                2,
                "expected a pointer, a name or \"text\", not `'title'`",
            ),
            ("{{/a /b}}", 5, "expected `??`, `|` or `}}`"),
            ("{{/a|}}", 5, "expected a filter after `|`"),
            ("{{/a | html}}", 7, "unknown filter `html`: the filters are `text`"),
            ("{{/a|text /b}}", 10, "expected `|` or `}}` after a filter"),
            ("{{/a|text", 9, "not closed"),
            ("{{/a ?? \"open}}", 8, "this string is not closed"),
            ("{{/a~2}}", 4, "`~` in a pointer must be followed by 0"),
            ("{{/a~}}", 4, "`~` in a pointer"),
            (
                "{{/payload#content}}",
                11,
                "after `#` comes a pointer into the decoded JSON",
            ),
        ];
        for (text, at, fragment) in rows {
            match Template::parse(text) {
                Ok(_) => panic!("{text:?} parsed"),
                Err(e) => {
                    assert_eq!(e.at, *at, "offset for {text:?}: {e}");
                    assert!(e.message.contains(fragment), "message for {text:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn error_display_quotes_the_template_and_the_offset() {
        let e = Template::parse("{{/title ?? }}").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some("`{{/title ?? }}`: expected a pointer, a name or \"text\" after `??` (at byte 12)")
        );
    }

    #[test]
    fn serde_and_display_use_the_source_text() {
        let template = Template::parse("{{ /title ?? type }}!").ok();
        let json = serde_json::to_string(&template).ok();
        assert_eq!(json.as_deref(), Some(r#""{{ /title ?? type }}!""#));
        let back: Option<Template> = json.and_then(|json| serde_json::from_str(&json).ok());
        assert_eq!(back, template);
        assert_eq!(
            template.map(|t| t.to_string()).as_deref(),
            Some("{{ /title ?? type }}!")
        );
        let bad = serde_json::from_str::<Template>(r#""{{nope}}""#)
            .err()
            .map(|e| e.to_string());
        assert!(bad.is_some_and(|e| e.contains("unknown name `nope`")));
    }

    #[test]
    fn the_data_is_parsed_once_and_only_when_needed() {
        let subject = Subject::new("f", "m", r#"{"a":1}"#);
        assert!(subject.json.get().is_none(), "not parsed before use");
        let literal = Template::parse("{{type}} {{data}}").ok();
        assert_eq!(literal.map(|t| t.render(&subject)).as_deref(), Some(r#"m {"a":1}"#));
        assert!(subject.json.get().is_none(), "names need no parsing");
        let first = subject.json().map(|v| v as *const Value);
        let second = subject.json().map(|v| v as *const Value);
        assert_eq!(first, second, "the parsed value is cached");
    }

    #[test]
    fn pointers_parse_on_their_own() {
        assert_eq!(
            Pointer::parse("/payload#/content")
                .map(|p| p.to_string())
                .ok()
                .as_deref(),
            Some("/payload#/content")
        );
        let e = Pointer::parse("title").err();
        assert!(e.is_some_and(|e| e.at == 0 && e.message.contains("write `/title`")));
        let subject = Subject::new("f", "m", r#"{"id":"x1","n":3}"#);
        let text = |p: &str| {
            Pointer::parse(p)
                .ok()
                .and_then(|p| p.text(&subject).map(Cow::into_owned))
        };
        assert_eq!(text("/id").as_deref(), Some("x1"));
        assert_eq!(text("/n").as_deref(), Some("3"));
        assert_eq!(text("/none"), None);
    }
}
