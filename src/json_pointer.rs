//! The value at a JSON pointer, read straight from an event's text without building the whole document.
//!
//! A feed with a cursor pointer (`--cursor-pointer /id`) takes every event's id from its JSON data, so a flood
//! reads one pointer per event. Building a `serde_json::Value` of each payload, every key and value of it, to
//! look at one field was a third of the feed thread's time (bench part 3). Here only the containers on the
//! pointer's path are entered; everything else is skipped unbuilt, and a string without escapes is borrowed.
//!
//! It finds what `serde_json::Value::pointer` finds: `~1` and `~0` are `/` and `~`, an array index is a
//! plain decimal without leading zeros, and a repeated key's last value wins. It is more lenient in the values
//! it skips: a number out of range, a lone surrogate escape or nesting deeper than serde_json's 128 levels
//! elsewhere in the payload does not hide the value at the pointer, where a full parse rejected the whole
//! payload.

use std::borrow::Cow;
use std::fmt;

use serde::Deserialize;
use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

/// A value found at a pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Found<'a> {
    /// A string, unescaped.
    Str(Cow<'a, str>),
    Null,
    /// Anything else, as compact JSON text (`42`, `true`, `{"a":1}`).
    Other(String),
}

impl<'a> Found<'a> {
    /// How the value reads as text: a string as is, null as nothing, anything else as JSON.
    pub fn into_text(self) -> Cow<'a, str> {
        match self {
            Found::Str(text) => text,
            Found::Null => Cow::Borrowed(""),
            Found::Other(json) => Cow::Owned(json),
        }
    }

    fn into_owned(self) -> Found<'static> {
        match self {
            Found::Str(text) => Found::Str(Cow::Owned(text.into_owned())),
            Found::Null => Found::Null,
            Found::Other(json) => Found::Other(json),
        }
    }
}

/// Split an RFC 6901 pointer (`/a/b~1c`, or "" for the whole document) into its unescaped reference tokens.
/// None when it is neither empty nor starts with `/`.
pub fn tokens(pointer: &str) -> Option<Vec<String>> {
    if pointer.is_empty() {
        return Some(Vec::new());
    }
    let rest = pointer.strip_prefix('/')?;
    Some(
        rest.split('/')
            .map(|token| token.replace("~1", "/").replace("~0", "~"))
            .collect(),
    )
}

/// The value at `tokens` in the JSON text `json`; None when `json` is not JSON or nothing is there.
pub fn find<'a>(json: &'a str, tokens: &[String]) -> Option<Found<'a>> {
    let mut reader = serde_json::Deserializer::from_str(json);
    let found = At(tokens).deserialize(&mut reader).ok()?;
    reader.end().ok()?;
    found
}

/// Like [`find`], following `#` steps: each step before the last must reach a string holding JSON, which the
/// next step reads (a `/payload#/id` pointer is `[["payload"], ["id"]]`).
pub fn find_through<'a>(json: &'a str, steps: &[Vec<String>]) -> Option<Found<'a>> {
    let (first, rest) = steps.split_first()?;
    let mut found = find(json, first)?;
    for step in rest {
        let Found::Str(inner) = found else {
            return None;
        };
        found = find(&inner, step)?.into_owned();
    }
    Some(found)
}

/// Reads one value, descending by the tokens; None inside when the path leads nowhere.
struct At<'t>(&'t [String]);

impl<'de> DeserializeSeed<'de> for At<'_> {
    type Value = Option<Found<'de>>;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<Self::Value, D::Error> {
        match self.0.split_first() {
            None => reader.deserialize_any(Leaf).map(Some),
            Some((token, rest)) => reader.deserialize_any(Step { token, rest }),
        }
    }
}

/// A container on the path: enter its member `token`, skip the others.
struct Step<'t> {
    token: &'t str,
    rest: &'t [String],
}

impl<'de> Visitor<'de> for Step<'_> {
    type Value = Option<Found<'de>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut found = None;
        while let Some(is_token) = map.next_key_seed(KeyIs(self.token))? {
            if is_token {
                // A repeated key's last value wins, as in a parsed map.
                found = map.next_value_seed(At(self.rest))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }

    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<Self::Value, S::Error> {
        let index = array_index(self.token);
        let mut found = None;
        let mut at = 0;
        loop {
            if Some(at) == index {
                match seq.next_element_seed(At(self.rest))? {
                    Some(value) => found = value,
                    None => break,
                }
            } else if seq.next_element::<IgnoredAny>()?.is_none() {
                break;
            }
            at += 1;
        }
        Ok(found)
    }

    // A scalar has no members: the path leads nowhere.
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// An array index as `serde_json::Value::pointer` reads one: decimal digits, no sign, no leading zero.
fn array_index(token: &str) -> Option<usize> {
    if token.starts_with('+') || (token.starts_with('0') && token.len() != 1) {
        return None;
    }
    token.parse().ok()
}

/// Whether an object's key is `.0`, compared without copying it when it has no escapes.
struct KeyIs<'t>(&'t str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, reader: D) -> Result<bool, D::Error> {
        reader.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// The value the pointer reaches, whatever it is.
struct Leaf;

impl<'de> Visitor<'de> for Leaf {
    type Value = Found<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Found<'de>, E> {
        Ok(Found::Str(Cow::Borrowed(text)))
    }
    fn visit_str<E: de::Error>(self, text: &str) -> Result<Found<'de>, E> {
        Ok(Found::Str(Cow::Owned(text.to_string())))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Found<'de>, E> {
        Ok(Found::Null)
    }
    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Found<'de>, E> {
        Ok(Found::Other(value.to_string()))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Found<'de>, E> {
        Ok(Found::Other(value.to_string()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Found<'de>, E> {
        Ok(Found::Other(value.to_string()))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Found<'de>, E> {
        // Written as serde_json writes a parsed number.
        Ok(Found::Other(Value::from(value).to_string()))
    }
    fn visit_seq<S: SeqAccess<'de>>(self, seq: S) -> Result<Found<'de>, S::Error> {
        Ok(Found::Other(
            Value::deserialize(SeqAccessDeserializer::new(seq))?.to_string(),
        ))
    }
    fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Found<'de>, M::Error> {
        Ok(Found::Other(
            Value::deserialize(MapAccessDeserializer::new(map))?.to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `serde_json::Value::pointer` finds, read as text the same way; None where it finds nothing.
    fn by_parsing(json: &str, pointer: &str) -> Option<String> {
        let value: Value = serde_json::from_str(json).ok()?;
        Some(match value.pointer(pointer)? {
            Value::String(text) => text.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        })
    }

    #[test]
    fn finds_what_a_parsed_document_finds() {
        let documents = [
            r#"{"id":"a1","n":42,"f":1.5,"e":1e3,"neg":-7,"big":18446744073709551615,"t":true,"z":null}"#,
            r#"{"a":{"b":[10,{"c":"deep"},[1,2]]},"a/b":"slash","m~n":"tilde","":"empty key"}"#,
            r#"{"id":"first","id":"last"}"#,
            r#"{"esc":"line\nbreak \"quoted\" \u00e9","obj":{"x":[1,{"y":null}]},"arr":[]}"#,
            r#"[{"id":1},{"id":2}]"#,
            r#"  {"id" : "spaced"}  "#,
            r#""just a string""#,
            "7",
            r#"{"id":"x"} trailing"#,
            r#"{"id":"x""#,
            "not json",
            "",
        ];
        let pointers = [
            "",
            "/id",
            "/n",
            "/f",
            "/e",
            "/neg",
            "/big",
            "/t",
            "/z",
            "/a",
            "/a/b",
            "/a/b/0",
            "/a/b/1/c",
            "/a/b/2",
            "/a/b/01",
            "/a/b/+1",
            "/a/b/9",
            "/a~1b",
            "/m~0n",
            "/",
            "/esc",
            "/obj",
            "/obj/x/1/y",
            "/arr",
            "/arr/0",
            "/0",
            "/1/id",
            "/id/x",
            "/missing",
        ];
        for json in documents {
            for pointer in pointers {
                let found = find(json, &tokens(pointer).unwrap()).map(|found| found.into_text().into_owned());
                assert_eq!(found, by_parsing(json, pointer), "{pointer} in {json}");
            }
        }
    }

    #[test]
    fn a_string_without_escapes_is_borrowed() {
        let json = r#"{"id":"plain","esc":"a\"b"}"#;
        assert!(matches!(
            find(json, &tokens("/id").unwrap()),
            Some(Found::Str(Cow::Borrowed("plain")))
        ));
        assert_eq!(
            find(json, &tokens("/esc").unwrap()),
            Some(Found::Str(Cow::Owned("a\"b".into())))
        );
    }

    #[test]
    fn steps_after_a_hash_read_json_held_in_a_string() {
        let json = r#"{"payload":"{\"id\":\"inner\",\"n\":3}","plain":5}"#;
        let steps = |pointers: &[&str]| -> Vec<Vec<String>> { pointers.iter().map(|p| tokens(p).unwrap()).collect() };
        let text = |found: Option<Found<'_>>| found.map(|found| found.into_text().into_owned());
        assert_eq!(
            text(find_through(json, &steps(&["/payload", "/id"]))),
            Some("inner".into())
        );
        assert_eq!(text(find_through(json, &steps(&["/payload", "/n"]))), Some("3".into()));
        assert_eq!(
            text(find_through(json, &steps(&["/payload", ""]))),
            Some(r#"{"id":"inner","n":3}"#.into())
        );
        // Only a string can hold JSON to read further.
        assert_eq!(text(find_through(json, &steps(&["/plain", "/id"]))), None);
    }
}
