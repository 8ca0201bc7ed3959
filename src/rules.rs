//! Rules: the conditions behind a feed's `--skip-when` (drop the event, store nothing) and `--notify-when`
//! (store it, but notify only when it matches).
//!
//! A [`Rule`] is parsed once, when the feed is saved, into a tree that cannot fail to evaluate: regular
//! expressions are compiled then, and every mistake is reported with the byte offset it is at
//! ([`RuleError`]). Evaluation ([`Rule::matches`]) is pure and looks at a [`Subject`], the same event view
//! the [`template`](crate::template) module renders, so an event's data is parsed as JSON once for both.
//!
//! # Grammar
//! ```text
//! rule       := expr
//! expr       := term ( "or" term )*
//! term       := factor ( "and" factor )*
//! factor     := "not" factor | "(" expr ")" | comparison
//! comparison := operand op value
//! operand    := pointer | "type" | "data" | "feed"
//! op         := "==" | "!=" | "<" | "<=" | ">" | ">=" | "contains" | "matches"
//! value      := number | string | "true" | "false" | "null"
//! ```
//! Keywords are case-insensitive. A pointer is an RFC 6901 JSON pointer (`/priority`, `/tags/0`, `~0` and
//! `~1` escapes) with the template module's `#` decode (`/payload#/visibility`); it runs until whitespace
//! or one of `( ) = ! < > "`. A string is in double quotes; `\"` is a quote and `\\` a backslash, any other
//! backslash is kept (`matches "\d+"`). `and` binds tighter than `or`.
//!
//! # Meaning
//! - Numbers compare numerically, and a numeric string compares as a number against a number (ntfy and
//!   gotify send priorities both as `4` and as `"4"`). Strings compare as strings (`<` by bytes).
//! - `==` between different kinds is false, `!=` true. `true`, `false` and `null` equal only themselves.
//! - A pointer that reaches nothing (missing field, data not JSON) makes every comparison false except
//!   `!=`, which is true: `/x != 1` holds when there is no `/x`, and so does `/x != null`.
//! - `contains`: substring for strings; an element equal to the value (as `==`) for arrays; a key for
//!   objects. Anything else does not contain anything.
//! - `matches`: the regular expression searches the value's text (as a template would render it: a
//!   string as is, other values as JSON, null as empty). Matching takes linear time whatever the input.

use std::borrow::Cow;
use std::cmp::Ordering;
use std::fmt;

use regex::Regex;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::{Pointer, Subject, parse_pointer, read_string};

/// Deepest nesting of `(` and `not` a rule may have.
const MAX_DEPTH: usize = 64;

/// A parsed condition, e.g. `type == "keepalive" or /priority < 3`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rule {
    source: String,
    node: Node,
}

#[derive(Debug, Clone)]
enum Node {
    Any(Vec<Node>),
    All(Vec<Node>),
    Not(Box<Node>),
    Compare(Comparison),
}

#[derive(Debug, Clone)]
struct Comparison {
    operand: Operand,
    op: Op,
    value: Literal,
}

#[derive(Debug, Clone)]
enum Operand {
    Pointer(Pointer),
    Type,
    Data,
    Feed,
}

#[derive(Debug, Clone)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Contains,
    Matches(Regex),
}

#[derive(Debug, Clone, PartialEq)]
enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
    Null,
}

impl Rule {
    /// Parse a rule; the error points at the mistake.
    pub fn parse(text: &str) -> Result<Rule, RuleError> {
        let mut parser = Parser {
            source: text,
            pos: 0,
            peeked: None,
            prev: "",
            depth: 0,
        };
        match parser.rule() {
            Ok(node) => Ok(Rule {
                source: text.to_string(),
                node,
            }),
            Err((at, message)) => Err(RuleError {
                text: text.to_string(),
                at,
                message,
            }),
        }
    }

    /// The rule as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the event `subject` meets this rule.
    pub fn matches(&self, subject: &Subject<'_>) -> bool {
        self.node.eval(subject)
    }
}

impl PartialEq for Rule {
    fn eq(&self, other: &Rule) -> bool {
        self.source == other.source
    }
}

impl Eq for Rule {}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl std::str::FromStr for Rule {
    type Err = RuleError;

    fn from_str(text: &str) -> Result<Rule, RuleError> {
        Rule::parse(text)
    }
}

impl TryFrom<String> for Rule {
    type Error = RuleError;

    fn try_from(text: String) -> Result<Rule, RuleError> {
        Rule::parse(&text)
    }
}

impl From<Rule> for String {
    fn from(rule: Rule) -> String {
        rule.source
    }
}

/// A rule that does not parse: where (a byte offset into the rule) and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}`: {message} (at byte {at})")]
pub struct RuleError {
    /// The rule as written.
    pub text: String,
    /// Byte offset of the mistake in `text`.
    pub at: usize,
    pub message: String,
}

// ---- evaluation ----

impl Node {
    fn eval(&self, subject: &Subject<'_>) -> bool {
        match self {
            Node::Any(nodes) => nodes.iter().any(|node| node.eval(subject)),
            Node::All(nodes) => nodes.iter().all(|node| node.eval(subject)),
            Node::Not(node) => !node.eval(subject),
            Node::Compare(comparison) => comparison.eval(subject),
        }
    }
}

/// A value as comparisons see it.
#[derive(Clone, Copy)]
enum View<'v> {
    Null,
    Bool(bool),
    Number(f64),
    Text(&'v str),
    Array(&'v [Value]),
    Object(&'v serde_json::Map<String, Value>),
}

impl<'v> View<'v> {
    fn of(value: &'v Value) -> View<'v> {
        match value {
            Value::Null => View::Null,
            Value::Bool(b) => View::Bool(*b),
            // Without serde_json's arbitrary precision every number has an f64; NaN compares false.
            Value::Number(n) => View::Number(n.as_f64().unwrap_or(f64::NAN)),
            Value::String(text) => View::Text(text),
            Value::Array(items) => View::Array(items),
            Value::Object(map) => View::Object(map),
        }
    }

    /// The number this is or spells (`4`, `"4"`, `" 4.5 "`).
    fn number(self) -> Option<f64> {
        match self {
            View::Number(n) => Some(n),
            View::Text(text) => numeric(text),
            _ => None,
        }
    }
}

fn numeric(text: &str) -> Option<f64> {
    text.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

impl Comparison {
    fn eval(&self, subject: &Subject<'_>) -> bool {
        match &self.operand {
            Operand::Type => self.test(View::Text(subject.event_type), || Cow::Borrowed(subject.event_type)),
            Operand::Data => self.test(View::Text(subject.data), || Cow::Borrowed(subject.data)),
            Operand::Feed => self.test(View::Text(subject.feed), || Cow::Borrowed(subject.feed)),
            Operand::Pointer(pointer) => match pointer.resolve(subject) {
                Some(value) => self.test(View::of(&value), || crate::template::value_text(&value)),
                None => matches!(self.op, Op::Ne),
            },
        }
    }

    /// Apply the operator to a present value; `text` is its text, for `matches`.
    fn test<'v>(&self, view: View<'v>, text: impl FnOnce() -> Cow<'v, str>) -> bool {
        let order = || order(view, &self.value);
        match &self.op {
            Op::Eq => equals(view, &self.value),
            Op::Ne => !equals(view, &self.value),
            Op::Lt => order() == Some(Ordering::Less),
            Op::Le => matches!(order(), Some(Ordering::Less | Ordering::Equal)),
            Op::Gt => order() == Some(Ordering::Greater),
            Op::Ge => matches!(order(), Some(Ordering::Greater | Ordering::Equal)),
            Op::Contains => contains(view, &self.value),
            Op::Matches(regex) => regex.is_match(&text()),
        }
    }
}

fn equals(view: View<'_>, value: &Literal) -> bool {
    match (value, view) {
        (Literal::Number(n), view) => view.number() == Some(*n),
        (Literal::Text(s), View::Text(t)) => t == s,
        (Literal::Text(s), View::Number(n)) => numeric(s) == Some(n),
        (Literal::Bool(b), View::Bool(v)) => *b == v,
        (Literal::Null, View::Null) => true,
        _ => false,
    }
}

/// How `view` orders against `value`; `None` when they cannot be ordered (different kinds).
fn order(view: View<'_>, value: &Literal) -> Option<Ordering> {
    match (value, view) {
        (Literal::Number(n), view) => view.number()?.partial_cmp(n),
        (Literal::Text(s), View::Text(t)) => Some(t.cmp(s.as_str())),
        (Literal::Text(s), View::Number(n)) => n.partial_cmp(&numeric(s)?),
        _ => None,
    }
}

fn contains(view: View<'_>, value: &Literal) -> bool {
    match (view, value) {
        (View::Text(t), Literal::Text(s)) => t.contains(s.as_str()),
        (View::Text(t), Literal::Number(n)) => t.contains(&n.to_string()),
        (View::Array(items), value) => items.iter().any(|item| equals(View::of(item), value)),
        (View::Object(map), Literal::Text(key)) => map.contains_key(key),
        _ => false,
    }
}

// ---- parsing ----

#[derive(Debug, Clone, Copy, PartialEq)]
enum Sym {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Debug, Clone, PartialEq)]
enum Kind {
    Pointer,
    Word,
    Number(f64),
    Text(String),
    Sym(Sym),
    Open,
    Close,
    End,
}

#[derive(Debug, Clone)]
struct Token {
    kind: Kind,
    /// Byte range in the source.
    at: usize,
    end: usize,
}

type ParseResult<T> = Result<T, (usize, String)>;

const OPERATORS: &str = "(==, !=, <, <=, >, >=, contains, matches)";
const A_VALUE: &str = "a number, \"text\", true, false or null";

struct Parser<'t> {
    source: &'t str,
    /// Where the lexer continues.
    pos: usize,
    peeked: Option<Token>,
    /// The source text of the last token taken, for "after `…`" in messages.
    prev: &'t str,
    depth: usize,
}

impl<'t> Parser<'t> {
    fn text(&self, token: &Token) -> &'t str {
        match token.kind {
            Kind::End => "the end",
            _ => &self.source[token.at..token.end],
        }
    }

    fn peek(&mut self) -> ParseResult<Token> {
        if let Some(token) = &self.peeked {
            return Ok(token.clone());
        }
        let token = self.lex()?;
        self.pos = token.end;
        self.peeked = Some(token.clone());
        Ok(token)
    }

    fn bump(&mut self) -> ParseResult<Token> {
        let token = self.peek()?;
        self.peeked = None;
        self.prev = self.text(&token);
        Ok(token)
    }

    fn is_word(&self, token: &Token, word: &str) -> bool {
        token.kind == Kind::Word && self.text(token).eq_ignore_ascii_case(word)
    }

    fn rule(&mut self) -> ParseResult<Node> {
        let node = self.any()?;
        let token = self.peek()?;
        match token.kind {
            Kind::End => Ok(node),
            Kind::Close => Err((token.at, "this `)` has no matching `(`".to_string())),
            _ => Err((
                token.at,
                format!(
                    "expected `and`, `or` or the end of the rule, not `{}`",
                    self.text(&token)
                ),
            )),
        }
    }

    fn any(&mut self) -> ParseResult<Node> {
        let mut nodes = vec![self.all()?];
        loop {
            let next = self.peek()?;
            if !self.is_word(&next, "or") {
                break;
            }
            self.bump()?;
            nodes.push(self.all()?);
        }
        Ok(if nodes.len() == 1 {
            nodes.remove(0)
        } else {
            Node::Any(nodes)
        })
    }

    fn all(&mut self) -> ParseResult<Node> {
        let mut nodes = vec![self.factor()?];
        loop {
            let next = self.peek()?;
            if !self.is_word(&next, "and") {
                break;
            }
            self.bump()?;
            nodes.push(self.factor()?);
        }
        Ok(if nodes.len() == 1 {
            nodes.remove(0)
        } else {
            Node::All(nodes)
        })
    }

    fn factor(&mut self) -> ParseResult<Node> {
        let token = self.peek()?;
        if self.depth >= MAX_DEPTH {
            return Err((token.at, format!("the rule nests deeper than {MAX_DEPTH} levels")));
        }
        match &token.kind {
            Kind::Word if self.is_word(&token, "not") => {
                self.bump()?;
                self.depth += 1;
                let node = self.factor()?;
                self.depth -= 1;
                Ok(Node::Not(Box::new(node)))
            }
            Kind::Open => {
                self.bump()?;
                self.depth += 1;
                let node = self.any()?;
                self.depth -= 1;
                let close = self.peek()?;
                if close.kind != Kind::Close {
                    return Err((
                        close.at,
                        format!(
                            "expected `)` to close the `(` at byte {}, not `{}`",
                            token.at,
                            self.text(&close)
                        ),
                    ));
                }
                self.bump()?;
                Ok(node)
            }
            Kind::Pointer => {
                self.bump()?;
                let pointer = parse_pointer(self.text(&token), token.at)?;
                self.comparison(Operand::Pointer(pointer))
            }
            Kind::Word => {
                let word = self.text(&token);
                let operand = match word.to_ascii_lowercase().as_str() {
                    "type" => Operand::Type,
                    "data" => Operand::Data,
                    "feed" => Operand::Feed,
                    "and" | "or" | "contains" | "matches" | "true" | "false" | "null" => {
                        return Err((token.at, self.expected_condition(&token)));
                    }
                    _ => {
                        return Err((
                            token.at,
                            format!(
                                "unknown word `{word}`: a field is a pointer starting with `/` (`/{word}`); \
                                 a condition starts with a pointer, `type`, `data`, `feed`, `not` or `(`"
                            ),
                        ));
                    }
                };
                self.bump()?;
                self.comparison(operand)
            }
            Kind::End if self.prev.is_empty() => Err((
                token.at,
                "the rule is empty: write a condition such as `/priority >= 4` or `type == \"keepalive\"`".to_string(),
            )),
            _ => Err((token.at, self.expected_condition(&token))),
        }
    }

    fn expected_condition(&self, token: &Token) -> String {
        let what = "a condition: a pointer such as `/priority`, `type`, `data`, `feed`, `not` or `(`";
        if self.prev.is_empty() {
            format!("expected {what}, not `{}`", self.text(token))
        } else {
            format!("expected {what} after `{}`, not `{}`", self.prev, self.text(token))
        }
    }

    fn comparison(&mut self, operand: Operand) -> ParseResult<Node> {
        let operand_text = self.prev;
        let token = self.peek()?;
        // `None` stands for `matches`, whose regular expression is compiled once the value is read.
        let op = match token.kind {
            Kind::Sym(Sym::Eq) => Some(Op::Eq),
            Kind::Sym(Sym::Ne) => Some(Op::Ne),
            Kind::Sym(Sym::Lt) => Some(Op::Lt),
            Kind::Sym(Sym::Le) => Some(Op::Le),
            Kind::Sym(Sym::Gt) => Some(Op::Gt),
            Kind::Sym(Sym::Ge) => Some(Op::Ge),
            Kind::Word if self.is_word(&token, "contains") => Some(Op::Contains),
            Kind::Word if self.is_word(&token, "matches") => None,
            _ => {
                return Err((
                    token.at,
                    format!("expected an operator after `{operand_text}` {OPERATORS}"),
                ));
            }
        };
        let op_token = self.bump()?;
        let op_text = self.text(&op_token);

        let token = self.peek()?;
        let value = match &token.kind {
            Kind::Number(n) => Literal::Number(*n),
            Kind::Text(text) => Literal::Text(text.clone()),
            Kind::Word if self.is_word(&token, "true") => Literal::Bool(true),
            Kind::Word if self.is_word(&token, "false") => Literal::Bool(false),
            Kind::Word if self.is_word(&token, "null") => Literal::Null,
            _ => {
                return Err((
                    token.at,
                    format!(
                        "expected a value after `{op_text}`: {A_VALUE}, not `{}`",
                        self.text(&token)
                    ),
                ));
            }
        };
        self.bump()?;

        let op = match (op, &value) {
            (None, Literal::Text(pattern)) => match Regex::new(pattern) {
                Ok(regex) => Op::Matches(regex),
                Err(e) => return Err((token.at, format!("invalid regular expression: {}", regex_problem(&e)))),
            },
            (None, _) => {
                return Err((
                    token.at,
                    "`matches` takes a regular expression in double quotes, e.g. `matches \"^build-\"`".to_string(),
                ));
            }
            (Some(Op::Lt | Op::Le | Op::Gt | Op::Ge), Literal::Bool(_) | Literal::Null) => {
                return Err((
                    token.at,
                    format!(
                        "`{op_text}` orders numbers and text; `{}` has no order",
                        self.text(&token)
                    ),
                ));
            }
            (Some(op), _) => op,
        };
        Ok(Node::Compare(Comparison { operand, op, value }))
    }

    /// Read the token at `self.pos` (after whitespace).
    fn lex(&self) -> ParseResult<Token> {
        let source = self.source;
        let rest = &source[self.pos..];
        let at = self.pos + (rest.len() - rest.trim_start().len());
        let rest = &source[at..];
        let token = |kind: Kind, len: usize| {
            Ok(Token {
                kind,
                at,
                end: at + len,
            })
        };
        let mut chars = rest.chars();
        let Some(c) = chars.next() else {
            return token(Kind::End, 0);
        };
        let next = chars.next();
        match c {
            '(' => token(Kind::Open, 1),
            ')' => token(Kind::Close, 1),
            '=' if next == Some('=') => token(Kind::Sym(Sym::Eq), 2),
            '=' => Err((at, "use `==` to compare for equality".to_string())),
            '!' if next == Some('=') => token(Kind::Sym(Sym::Ne), 2),
            '!' => Err((
                at,
                "use `not` to negate a condition, or `!=` for \"not equal\"".to_string(),
            )),
            '<' if next == Some('=') => token(Kind::Sym(Sym::Le), 2),
            '<' => token(Kind::Sym(Sym::Lt), 1),
            '>' if next == Some('=') => token(Kind::Sym(Sym::Ge), 2),
            '>' => token(Kind::Sym(Sym::Gt), 1),
            '&' => Err((at, "combine conditions with `and`".to_string())),
            '|' => Err((at, "combine conditions with `or`".to_string())),
            '\'' => Err((at, "text goes in double quotes: \"…\"".to_string())),
            '"' => {
                let (text, end) = read_string(source, at)?;
                token(Kind::Text(text), end - at)
            }
            '/' => {
                let len = rest
                    .find(|c: char| c.is_whitespace() || "()=!<>\"".contains(c))
                    .unwrap_or(rest.len());
                token(Kind::Pointer, len)
            }
            c if c.is_ascii_digit() || ("+-.".contains(c) && next.is_some_and(|n| n.is_ascii_digit())) => {
                let mut len = c.len_utf8();
                let mut last = c;
                for c in rest[len..].chars() {
                    let exponent_sign = "+-".contains(c) && "eE".contains(last);
                    if !(c.is_ascii_alphanumeric() || c == '.' || exponent_sign) {
                        break;
                    }
                    len += c.len_utf8();
                    last = c;
                }
                let text = &rest[..len];
                match text.parse::<f64>() {
                    Ok(n) if n.is_finite() => token(Kind::Number(n), len),
                    Ok(_) => Err((at, format!("the number `{text}` is too large"))),
                    Err(_) => Err((at, format!("`{text}` is not a number"))),
                }
            }
            c if c.is_alphabetic() || c == '_' => {
                let len = rest
                    .find(|c: char| !(c.is_alphanumeric() || c == '_'))
                    .unwrap_or(rest.len());
                token(Kind::Word, len)
            }
            c => Err((at, format!("unexpected `{c}`"))),
        }
    }
}

/// The gist of a regex syntax error: its `error: …` line, without the pattern and caret it also prints.
fn regex_problem(error: &regex::Error) -> String {
    let text = error.to_string();
    text.lines()
        .rev()
        .find_map(|line| line.trim().strip_prefix("error: "))
        .map_or_else(|| text.clone(), str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NTFY: &str = r#"{"id":"h1","event":"message","priority":4,"title":"Disk","message":"disk full on /srv",
        "tags":["warning","disk",3],"extra":{"host":"nas"},"none":null,"ok":true}"#;
    const GOTIFY: &str = r#"{"id":7,"priority":"8","message":"Backup failed","title":"backup"}"#;
    const MASTODON: &str =
        r#"{"event":"update","payload":"{\"visibility\":\"public\",\"reblog\":null,\"replies\":2}"}"#;

    #[test]
    fn matches_table() {
        let rows: &[(&str, &str, &str, bool)] = &[
            // (rule, event type, data, expected)
            // event type and raw data
            ("type == \"keepalive\"", "keepalive", "", true),
            ("type == \"keepalive\"", "message", "", false),
            ("type == \"keepalive\" or type == \"open\"", "open", "", true),
            ("TYPE == \"open\" OR Type == \"keepalive\"", "keepalive", "", true),
            ("type != \"message\"", "message", "", false),
            ("type matches \"^(open|keepalive)$\"", "keepalive", "", true),
            ("type matches \"^(open|keepalive)$\"", "keepalive2", "", false),
            ("data contains \"ERROR\"", "m", "an ERROR here", true),
            ("data contains \"ERROR\"", "m", "an error here", false),
            ("data matches \"(?i)error\"", "m", "an error here", true),
            ("data == \"\"", "m", "", true),
            ("data == 4", "m", "4", true),
            ("feed == \"builds\"", "m", "", true),
            // numbers
            ("/priority >= 4", "m", NTFY, true),
            ("/priority > 4", "m", NTFY, false),
            ("/priority < 4", "m", NTFY, false),
            ("/priority <= 4", "m", NTFY, true),
            ("/priority == 4", "m", NTFY, true),
            ("/priority == 4.0", "m", NTFY, true),
            ("/priority != 4", "m", NTFY, false),
            ("/priority==4", "m", NTFY, true),
            ("/priority>=5", "m", NTFY, false),
            ("/priority > -1", "m", NTFY, true),
            ("/priority > 3.5e0", "m", NTFY, true),
            // numeric strings against numbers, both ways
            ("/priority >= 8", "m", GOTIFY, true),
            ("/priority == 8", "m", GOTIFY, true),
            ("/priority < 5", "m", GOTIFY, false),
            ("/priority == \"4\"", "m", NTFY, true),
            ("/priority >= \"3\"", "m", NTFY, true),
            ("/priority == \"8\"", "m", GOTIFY, true),
            ("/priority == \"08\"", "m", GOTIFY, false),
            ("/message > 3", "m", GOTIFY, false),
            ("/message != 3", "m", GOTIFY, true),
            // strings
            ("/title == \"Disk\"", "m", NTFY, true),
            ("/title == \"disk\"", "m", NTFY, false),
            ("/title < \"E\"", "m", NTFY, true),
            ("/title >= \"Disk\"", "m", NTFY, true),
            ("/message contains \"/srv\"", "m", NTFY, true),
            ("/message contains \"\\\"\"", "m", r#"{"message":"say \"hi\""}"#, true),
            ("/id contains 1", "m", NTFY, true),
            ("/message matches \"^disk\\s+full\"", "m", NTFY, true),
            ("/message matches \"^full\"", "m", NTFY, false),
            // other kinds
            ("/ok == true", "m", NTFY, true),
            ("/ok == false", "m", NTFY, false),
            ("/ok != false", "m", NTFY, true),
            ("/ok == \"true\"", "m", NTFY, false),
            ("/none == null", "m", NTFY, true),
            ("/title == null", "m", NTFY, false),
            ("/title != null", "m", NTFY, true),
            ("/ok matches \"^true$\"", "m", NTFY, true),
            ("/priority matches \"^4$\"", "m", NTFY, true),
            ("/none matches \"^$\"", "m", NTFY, true),
            ("/extra matches \"\\\"host\\\":\\\"nas\\\"\"", "m", NTFY, true),
            ("/extra == \"nas\"", "m", NTFY, false),
            ("/extra > 1", "m", NTFY, false),
            // contains on arrays and objects
            ("/tags contains \"disk\"", "m", NTFY, true),
            ("/tags contains \"dis\"", "m", NTFY, false),
            ("/tags contains 3", "m", NTFY, true),
            ("/tags contains \"3\"", "m", NTFY, true),
            ("/tags/0 == \"warning\"", "m", NTFY, true),
            ("/extra contains \"host\"", "m", NTFY, true),
            ("/extra contains \"nas\"", "m", NTFY, false),
            ("/priority contains 4", "m", NTFY, false),
            // missing: everything false but !=
            ("/missing == 1", "m", NTFY, false),
            ("/missing != 1", "m", NTFY, true),
            ("/missing == null", "m", NTFY, false),
            ("/missing != null", "m", NTFY, true),
            ("/missing < 1", "m", NTFY, false),
            ("/missing >= 1", "m", NTFY, false),
            ("/missing contains \"x\"", "m", NTFY, false),
            ("/missing matches \".*\"", "m", NTFY, false),
            ("not /missing == 1", "m", NTFY, true),
            ("/title == \"x\"", "m", "not json", false),
            ("/title != \"x\"", "m", "not json", true),
            // nested JSON in a string
            ("/payload#/visibility == \"public\"", "update", MASTODON, true),
            ("/payload#/replies > 1", "update", MASTODON, true),
            ("/payload#/reblog == null", "update", MASTODON, true),
            ("/payload#/missing != 1", "update", MASTODON, true),
            ("/payload# contains \"visibility\"", "update", MASTODON, true),
            ("/event#/x == 1", "update", MASTODON, false),
            // and / or / not / parentheses
            ("type == \"m\" and /priority >= 4", "m", NTFY, true),
            ("type == \"m\" and /priority >= 5", "m", NTFY, false),
            (
                "type == \"x\" or /priority >= 4 and /title == \"Disk\"",
                "m",
                NTFY,
                true,
            ),
            ("type == \"m\" or /priority >= 9 and /title == \"no\"", "m", NTFY, true),
            (
                "(type == \"m\" or /priority >= 9) and /title == \"no\"",
                "m",
                NTFY,
                false,
            ),
            ("not type == \"m\"", "m", NTFY, false),
            ("not not type == \"m\"", "m", NTFY, true),
            ("NOT (type == \"x\" or type == \"y\")", "m", NTFY, true),
            ("((/priority == 4))", "m", NTFY, true),
            ("/a~1b == 1 and /c~0d == 2", "m", r#"{"a/b":1,"c~d":2}"#, true),
        ];
        for (rule, event_type, data, expected) in rows {
            let parsed = match Rule::parse(rule) {
                Ok(parsed) => parsed,
                Err(e) => panic!("{e}"),
            };
            let subject = Subject::new("builds", event_type, data);
            assert_eq!(
                parsed.matches(&subject),
                *expected,
                "rule {rule:?}, type {event_type:?}, data {data}"
            );
        }
    }

    #[test]
    fn errors_table() {
        let rows: &[(&str, usize, &str)] = &[
            // (rule, byte offset, message fragment)
            ("", 0, "the rule is empty"),
            ("   ", 3, "the rule is empty"),
            (
                "/priority 4",
                10,
                "expected an operator after `/priority` (==, !=, <, <=, >, >=, contains, matches)",
            ),
            ("/priority", 9, "expected an operator after `/priority`"),
            ("type is \"x\"", 5, "expected an operator after `type`"),
            ("/priority = 4", 10, "use `==`"),
            (
                "/priority >= ",
                13,
                "expected a value after `>=`: a number, \"text\", true, false or null, not `the end`",
            ),
            ("/priority >= high", 13, "expected a value after `>=`"),
            ("/priority >= /other", 13, "expected a value after `>=`"),
            ("/p < true", 5, "`<` orders numbers and text; `true` has no order"),
            ("/p >= null", 6, "has no order"),
            (
                "/m matches \"(unclosed\"",
                11,
                "invalid regular expression: unclosed group",
            ),
            ("/m matches \"[z-a]\"", 11, "invalid regular expression"),
            (
                "/m matches 4",
                11,
                "`matches` takes a regular expression in double quotes",
            ),
            ("/m == \"open", 6, "this string is not closed"),
            ("/m == 'x'", 6, "double quotes"),
            ("/m == 0x10", 6, "`0x10` is not a number"),
            ("/m == 1e999", 6, "too large"),
            (
                "priority > 3",
                0,
                "unknown word `priority`: a field is a pointer starting with `/` (`/priority`)",
            ),
            (
                "type == \"a\" and",
                15,
                "expected a condition: a pointer such as `/priority`, `type`, `data`, `feed`, `not` or `(` after `and`",
            ),
            ("type == \"a\" or or type == \"b\"", 15, "after `or`, not `or`"),
            ("and type == \"a\"", 0, "expected a condition"),
            (
                "type == \"a\" type == \"b\"",
                12,
                "expected `and`, `or` or the end of the rule, not `type`",
            ),
            ("type == \"a\" && /p > 1", 12, "combine conditions with `and`"),
            ("type == \"a\" || /p > 1", 12, "combine conditions with `or`"),
            ("!(type == \"a\")", 0, "use `not`"),
            (
                "(type == \"a\"",
                12,
                "expected `)` to close the `(` at byte 0, not `the end`",
            ),
            ("(type == \"a\" /p > 1)", 13, "expected `)` to close the `(` at byte 0"),
            ("type == \"a\")", 11, "this `)` has no matching `(`"),
            ("()", 1, "expected a condition"),
            ("not", 3, "after `not`, not `the end`"),
            ("/p~2 == 1", 2, "`~` in a pointer must be followed by 0"),
            ("/payload#visibility == 1", 9, "after `#` comes a pointer"),
            ("type == \"a\" ; 1", 12, "unexpected `;`"),
        ];
        for (text, at, fragment) in rows {
            match Rule::parse(text) {
                Ok(_) => panic!("{text:?} parsed"),
                Err(e) => {
                    assert_eq!(e.at, *at, "offset for {text:?}: {e}");
                    assert!(e.message.contains(fragment), "message for {text:?}: {e}");
                }
            }
        }
    }

    #[test]
    fn error_display_quotes_the_rule_and_the_offset() {
        let e = Rule::parse("/priority 4").err().map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "`/priority 4`: expected an operator after `/priority` \
                 (==, !=, <, <=, >, >=, contains, matches) (at byte 10)"
            )
        );
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = format!("{}type == \"m\"{}", "(".repeat(10_000), ")".repeat(10_000));
        assert!(Rule::parse(&deep).is_err_and(|e| e.message.contains("nests deeper")));
        let nots = format!("{}type == \"m\"", "not ".repeat(10_000));
        assert!(Rule::parse(&nots).is_err_and(|e| e.message.contains("nests deeper")));
        let fine = format!(
            "{}type == \"m\"{}",
            "(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(Rule::parse(&fine).is_ok());
    }

    #[test]
    fn long_chains_of_and_and_or_are_fine() {
        let long = vec!["/p == 1"; 5_000].join(" or ");
        let rule = Rule::parse(&long).ok();
        assert!(rule.is_some_and(|rule| rule.matches(&Subject::new("f", "m", r#"{"p":1}"#))));
    }

    #[test]
    fn serde_and_display_use_the_source_text() {
        let rule = Rule::parse("type == \"open\"  OR /priority < 2").ok();
        let json = serde_json::to_string(&rule).ok();
        assert_eq!(json.as_deref(), Some(r#""type == \"open\"  OR /priority < 2""#));
        let back: Option<Rule> = json.and_then(|json| serde_json::from_str(&json).ok());
        assert_eq!(back, rule);
        assert_eq!(
            rule.map(|r| r.to_string()).as_deref(),
            Some("type == \"open\"  OR /priority < 2")
        );
        let bad = serde_json::from_str::<Rule>(r#""/p is 1""#)
            .err()
            .map(|e| e.to_string());
        assert!(
            bad.is_some_and(|e| e.contains("expected an operator after `/p`")),
            "a bad stored rule says why"
        );
    }

    #[test]
    fn one_subject_is_parsed_once_for_many_rules() {
        let subject = Subject::new("f", "m", NTFY);
        let rules = ["/priority >= 4", "/tags contains \"disk\"", "/title == \"Disk\""];
        for text in rules {
            assert!(Rule::parse(text).is_ok_and(|rule| rule.matches(&subject)), "{text}");
        }
        let first = subject.json().map(|v| v as *const Value);
        assert_eq!(first, subject.json().map(|v| v as *const Value));
    }
}
