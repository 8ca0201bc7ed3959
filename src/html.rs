//! HTML made readable as plain text, for payloads that carry HTML (Mastodon's `content` and `note`): the
//! `text` template filter (`{{/payload#/status/content|text}}`).
//!
//! Parsing is html5ever's tokenizer (the browsers' algorithm: entities, unclosed and misnested tags, raw
//! text in `<script>`); this module only decides how tags read:
//! - `<br>` is a line break; paragraphs, headings, list items, quotes and other blocks start a new line,
//!   `<p>` a new paragraph (a blank line); a list item begins with `• `.
//! - `<script>`, `<style>`, `<template>` and `<noscript>` are dropped with their content.
//! - Spaces and newlines in the source collapse to one space, as a browser shows them (`<pre>` keeps them).
//! - Mastodon shortens links with `<span class="invisible">` (hidden) and `<span class="ellipsis">`
//!   (shown, followed by `…`); they read as on its web page.
//!
//! The result is raw text: the notification layer still cleans and escapes it.

use std::cell::RefCell;

use html5ever::tendril::StrTendril;
use html5ever::tokenizer::states::RawKind;
use html5ever::tokenizer::{BufferQueue, Tag, TagKind, Token, TokenSink, TokenSinkResult, Tokenizer, TokenizerOpts};

/// The readable text of an HTML fragment.
pub fn to_text(html: &str) -> String {
    let input = BufferQueue::default();
    input.push_back(StrTendril::from_slice(html));
    let tokenizer = Tokenizer::new(Reader::default(), TokenizerOpts::default());
    let _ = tokenizer.feed(&input);
    tokenizer.end();
    tokenizer.sink.text.into_inner().out
}

/// Elements whose content is not text to read.
const DROPPED: [&str; 4] = ["script", "style", "template", "noscript"];
/// Elements that start on a line of their own.
const BLOCKS: [&str; 20] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "dd",
    "div",
    "dl",
    "dt",
    "figcaption",
    "figure",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "section",
    "tr",
];
/// Elements separated from what surrounds them by a blank line.
const PARAGRAPHS: [&str; 5] = ["p", "ol", "ul", "pre", "table"];

#[derive(Default)]
struct Reader {
    text: RefCell<Text>,
}

/// The text so far, and what to put before the next visible character.
#[derive(Default)]
struct Text {
    out: String,
    /// A space is owed (collapsed whitespace) before the next character.
    space: bool,
    /// Newlines owed before the next character (0, 1 or 2); they win over a space.
    breaks: usize,
    /// Inside `<script>` and the like: the name of the element whose end tag ends the skip.
    dropping: Option<String>,
    /// Inside a Mastodon `<span class="invisible">`.
    invisible: bool,
    /// Inside a Mastodon `<span class="ellipsis">`: `…` follows it.
    ellipsis: bool,
    /// Inside `<pre>`: whitespace is kept.
    pre: usize,
}

impl Text {
    fn push(&mut self, text: &str) {
        if self.dropping.is_some() || self.invisible {
            return;
        }
        for c in text.chars() {
            if self.pre == 0 && matches!(c, ' ' | '\t' | '\n' | '\r' | '\x0c') {
                self.space = true;
                continue;
            }
            if c == '\n' {
                self.out.push('\n');
                self.space = false;
                continue;
            }
            if !self.out.is_empty() {
                if self.breaks > 0 {
                    let have = self.out.len() - self.out.trim_end_matches('\n').len();
                    for _ in have..self.breaks {
                        self.out.push('\n');
                    }
                } else if self.space {
                    self.out.push(' ');
                }
            }
            self.breaks = 0;
            self.space = false;
            self.out.push(c);
        }
    }

    /// Owe `n` newlines (1: a new line, 2: a new paragraph) before the next character.
    fn line_break(&mut self, n: usize) {
        self.breaks = self.breaks.max(n);
        self.space = false;
    }

    fn tag(&mut self, tag: &Tag) -> TokenSinkResult<()> {
        let name: &str = &tag.name;
        let start = tag.kind == TagKind::StartTag;
        if let Some(dropped) = &self.dropping {
            if !start && dropped == name {
                self.dropping = None;
            }
            return TokenSinkResult::Continue;
        }
        match name {
            _ if DROPPED.contains(&name) && start && !tag.self_closing => {
                self.dropping = Some(name.to_string());
                return match name {
                    "script" => TokenSinkResult::RawData(RawKind::ScriptData),
                    "style" | "noscript" => TokenSinkResult::RawData(RawKind::Rawtext),
                    _ => TokenSinkResult::Continue,
                };
            }
            // A `<br>` right after another makes an empty line.
            "br" => {
                self.breaks = (self.breaks + 1).min(2);
                self.space = false;
            }
            "li" if start => {
                self.line_break(1);
                self.push("•");
                self.space = true;
            }
            "span" if start => {
                let class = tag
                    .attrs
                    .iter()
                    .find(|attr| &*attr.name.local == "class")
                    .map(|attr| attr.value.to_string())
                    .unwrap_or_default();
                let has = |word: &str| class.split_ascii_whitespace().any(|c| c == word);
                self.invisible = has("invisible");
                self.ellipsis = has("ellipsis");
            }
            "span" => {
                self.invisible = false;
                if std::mem::take(&mut self.ellipsis) {
                    self.push("…");
                }
            }
            "pre" => {
                self.pre = if start {
                    self.pre + 1
                } else {
                    self.pre.saturating_sub(1)
                };
                self.line_break(2);
            }
            _ if PARAGRAPHS.contains(&name) => self.line_break(2),
            _ if BLOCKS.contains(&name) || name == "li" => self.line_break(1),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

impl TokenSink for Reader {
    type Handle = ();

    fn process_token(&self, token: Token, _line: u64) -> TokenSinkResult<()> {
        let mut text = self.text.borrow_mut();
        match token {
            Token::CharacterTokens(chars) => text.push(&chars),
            Token::TagToken(tag) => return text.tag(&tag),
            _ => {}
        }
        TokenSinkResult::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::to_text;

    #[test]
    fn html_reads_as_text() {
        let rows: &[(&str, &str)] = &[
            // (HTML, text)
            ("plain words", "plain words"),
            ("", ""),
            ("<p>Hello</p>", "Hello"),
            ("<p>One</p><p>Two</p>", "One\n\nTwo"),
            ("a<br>b<br/>c", "a\nb\nc"),
            ("a<br><br>b", "a\n\nb"),
            ("<p>line one<br>line two</p><p>next</p>", "line one\nline two\n\nnext"),
            (
                "Tom &amp; Jerry &lt;3 &quot;hi&quot; &#39;x&#39; &#x1F600; &eacute;",
                "Tom & Jerry <3 \"hi\" 'x' 😀 é",
            ),
            ("&nbsp;kept&nbsp;", "\u{a0}kept\u{a0}"),
            ("AT&T &bogus; 5 < 6", "AT&T &bogus; 5 < 6"),
            ("<b>bold <i>and <u>nested</u></i></b> text", "bold and nested text"),
            (
                "<div><p>deep <span><a href=\"x\">link</a></span></p></div>",
                "deep link",
            ),
            ("  lots \n of\t\tspace  ", "lots of space"),
            ("<p>unclosed<p>paragraphs", "unclosed\n\nparagraphs"),
            ("before<script>alert('<p>x</p>')</script>after", "beforeafter"),
            ("a <style>p { color: red }</style>b", "a b"),
            ("<SCRIPT type=\"text/javascript\">var a = 1 < 2;</SCRIPT>shown", "shown"),
            ("x<!-- a comment -->y", "xy"),
            ("<ul><li>one</li><li>two</li></ul>after", "• one\n• two\n\nafter"),
            ("<h1>Title</h1>body", "Title\nbody"),
            ("<pre>  keep\n  this</pre>", "  keep\n  this"),
            ("<img src=x alt=pic>text", "text"),
            ("<p>broken <b>markup</p> still", "broken markup\n\nstill"),
            (
                "<p>see <a href=\"https://example.com/a/long/path\"><span class=\"invisible\">https://</span>\
                 <span class=\"ellipsis\">example.com/a/lo</span><span class=\"invisible\">ng/path</span></a></p>",
                "see example.com/a/lo…",
            ),
            (
                "<p>Hello <span class=\"h-card\"><a href=\"https://x.social/@me\" class=\"u-url mention\">@<span>me</span></a></span></p>",
                "Hello @me",
            ),
            (
                "<p><a href=\"https://x.social/tags/rust\" class=\"mention hashtag\">#<span>rust</span></a> is fun</p>",
                "#rust is fun",
            ),
        ];
        for (html, text) in rows {
            assert_eq!(&to_text(html), text, "{html:?}");
        }
    }
}
