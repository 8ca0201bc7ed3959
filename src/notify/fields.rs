//! The few fields of a JSON event that its default presentation reads (`title`, `message`, `body`, `link`,
//! `url`, `click`), taken straight from the payload.
//!
//! Every event of a flood passes through here, so the other fields are skipped without being built into
//! values, and a string without escapes is borrowed rather than copied. It reads what a `serde_json::Map`
//! would: a field that is not a string counts as absent, and a repeated key's last value wins. It is more
//! lenient in the values it skips: a number out of range or a lone surrogate escape in a field it does not
//! read leaves the fields it reads usable, where a full parse rejected the whole payload.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// The string fields a default presentation may use; None where absent or not a string.
#[derive(Debug, Default, PartialEq)]
pub(super) struct KnownFields<'a> {
    pub title: Option<Cow<'a, str>>,
    pub message: Option<Cow<'a, str>>,
    pub body: Option<Cow<'a, str>>,
    pub link: Option<Cow<'a, str>>,
    pub url: Option<Cow<'a, str>>,
    pub click: Option<Cow<'a, str>>,
}

/// The known fields of `data` if it is one JSON object, None otherwise.
pub(super) fn known_fields(data: &str) -> Option<KnownFields<'_>> {
    if !data.trim_start().starts_with('{') {
        return None;
    }
    let mut json = serde_json::Deserializer::from_str(data);
    let fields = json.deserialize_map(FieldsVisitor).ok()?;
    json.end().ok()?;
    Some(fields)
}

struct FieldsVisitor;

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = KnownFields<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut fields = KnownFields::default();
        while let Some(Key(key)) = map.next_key()? {
            let slot = match key.as_ref() {
                "title" => &mut fields.title,
                "message" => &mut fields.message,
                "body" => &mut fields.body,
                "link" => &mut fields.link,
                "url" => &mut fields.url,
                "click" => &mut fields.click,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            *slot = map.next_value::<Text>()?.0;
        }
        Ok(fields)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_str(TextVisitor)
            .map(|text| Key(text.unwrap_or_default()))
    }
}

/// A value kept only if it is a string.
struct Text<'a>(Option<Cow<'a, str>>);

impl<'de> de::Deserialize<'de> for Text<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TextVisitor).map(Text)
    }
}

struct TextVisitor;

impl<'de> Visitor<'de> for TextVisitor {
    type Value = Option<Cow<'de, str>>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Borrowed(text)))
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(text.to_string())))
    }

    fn visit_string<E>(self, text: String) -> Result<Self::Value, E> {
        Ok(Some(Cow::Owned(text)))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(value: &str) -> Option<Cow<'_, str>> {
        Some(Cow::Borrowed(value))
    }

    #[test]
    fn strings_are_read_and_borrowed_other_values_and_fields_skipped() {
        let data = r#"{"n": 1, "title": "Build 7", "nested": {"title": "not this"}, "message": ["x"],
                      "body": "ok", "link": null, "url": 3.5, "click": "https://ci.example/7"}"#;
        let fields = known_fields(data).unwrap();
        assert_eq!(fields.title, text("Build 7"));
        assert!(matches!(fields.title, Some(Cow::Borrowed(_))));
        assert_eq!((fields.message, fields.body), (None, text("ok")));
        assert_eq!((fields.link, fields.url), (None, None));
        assert_eq!(fields.click, text("https://ci.example/7"));
    }

    #[test]
    fn escapes_are_decoded_and_a_repeated_key_keeps_its_last_value_as_a_json_map_does() {
        let fields = known_fields(r#"{"t\u0069tle": "a\nb", "body": "first", "body": 5}"#).unwrap();
        assert_eq!(fields.title.as_deref(), Some("a\nb"));
        assert_eq!(fields.body, None);
        let map: serde_json::Map<String, serde_json::Value> =
            serde_json::from_str(r#"{"body": "first", "body": 5}"#).unwrap();
        assert_eq!(map["body"], 5, "serde_json's map agrees");
    }

    #[test]
    fn a_value_out_of_range_in_a_skipped_field_leaves_the_others_readable() {
        let fields = known_fields(r#"{"title": "Deploy", "n": 1e999, "s": "\udead"}"#).unwrap();
        assert_eq!(fields.title, text("Deploy"));
    }

    #[test]
    fn anything_but_one_whole_object_has_no_fields() {
        for data in [
            "",
            "plain text",
            "[1]",
            r#""title""#,
            r#"{"title": "x"} trailing"#,
            r#"{"title": "x""#,
        ] {
            assert_eq!(known_fields(data), None, "{data}");
        }
    }
}
