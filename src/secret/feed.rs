//! Which values of a feed are secret, and moving them between its configuration and the keyring.
//!
//! Secrets are: the value of a credential header — its name says so (Authorization, Proxy-Authorization,
//! Cookie, X-Gotify-Key: anything naming auth, token, key, secret, password, session or cookie) or the user
//! marked it with `--secret-header` —, a parameter of the URL's query whose name says so (Gotify's
//! `?token=`, ntfy's `?auth=`, Mastodon's `?access_token=`), and, in a JSON message sent after connecting, a
//! string field whose name says so (Home Assistant's `access_token`). A query value is kept as written in the
//! URL (percent-escapes and all), so the URL the feed connects with is the one the user gave.
//!
//! [`seal`] runs when a feed is saved: each secret typed in plain text goes into the keyring and its
//! reference takes its place (with `--plaintext-secrets`, it stays as typed). [`resolve`] runs when a feed
//! connects and gives the engine a configuration with the real values, in memory only.

use reqwest::Url;
use serde_json::Value;

use super::{Keyring, KeyringError, reference_id, split_reference};
use crate::error::Error;
use crate::feed::{FeedConfig, Header, is_sensitive_header};
use crate::portable::SECRET;

/// Where a secret sits in a feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot {
    /// A request header's value.
    Header { name: String },
    /// A field of a JSON message sent after connecting (`step` counts from 0).
    Message { step: usize, field: String },
    /// A parameter of the URL's query.
    Query { name: String },
}

impl Slot {
    /// `the Authorization header`, `the access_token field of message 1`.
    pub fn describe(&self) -> String {
        match self {
            Slot::Header { name } => format!("the {name} header"),
            Slot::Message { step, field } => format!("the {field} field of message {}", step + 1),
            Slot::Query { name } => format!("the {name} parameter of the URL"),
        }
    }

    /// The command that enters this secret again.
    pub fn reenter(&self, config: &FeedConfig) -> String {
        let feed = &config.name;
        match self {
            Slot::Header { name } => {
                let others = config.headers.iter().any(|h| !h.name.eq_ignore_ascii_case(name));
                let keep = if others {
                    " (-H replaces the feed's headers: repeat the others, or write `Name: <secret>` to keep a saved one)"
                } else {
                    ""
                };
                format!("tidings feed edit {feed:?} -H '{name}: …'{keep}")
            }
            Slot::Message { .. } => format!("tidings feed edit {feed:?} --token TOKEN"),
            Slot::Query { name } => format!("tidings feed edit {feed:?} --url '…?{name}=…'"),
        }
    }
}

/// Whether a JSON field's name says it holds a credential.
pub fn is_secret_field(key: &str) -> bool {
    is_sensitive_header(key)
}

/// A secret header's value split into what stays readable (an Authorization scheme such as `Bearer `, or
/// "") and the secret itself.
fn header_secret(header: &Header) -> (&str, &str) {
    if let Some(split) = split_reference(&header.value) {
        return split;
    }
    let authorization = ["authorization", "proxy-authorization"]
        .iter()
        .any(|name| header.name.eq_ignore_ascii_case(name));
    match header.value.split_once(' ') {
        Some((scheme, credentials))
            if authorization && !scheme.is_empty() && scheme.bytes().all(|b| b.is_ascii_alphanumeric()) =>
        {
            header
                .value
                .split_at(scheme.len() + 1 + (credentials.len() - credentials.trim_start().len()))
        }
        _ => ("", &header.value),
    }
}

/// Every secret value of a feed, where it sits, as saved (plain text, a reference or the `<secret>` of an
/// import).
pub fn secret_values(config: &FeedConfig) -> Vec<(Slot, String)> {
    let mut values: Vec<(Slot, String)> = config
        .headers
        .iter()
        .filter(|header| config.is_secret_header(header))
        .map(|header| {
            let slot = Slot::Header {
                name: header.name.clone(),
            };
            (slot, header_secret(header).1.to_string())
        })
        .collect();
    for (step, message) in config.send.iter().enumerate() {
        rewrite_message(&message.text, &mut |field, value| {
            let slot = Slot::Message {
                step,
                field: field.to_string(),
            };
            values.push((slot, value.to_string()));
            None
        });
    }
    let mut url = config.url.clone();
    rewrite_query(&mut url, &mut |name, value| {
        let slot = Slot::Query { name: name.to_string() };
        values.push((slot, value.to_string()));
        None
    });
    values
}

/// The keyring references a feed holds.
pub fn references(config: &FeedConfig) -> Vec<String> {
    secret_values(config)
        .into_iter()
        .map(|(_, value)| value)
        .filter(|value| reference_id(value).is_some())
        .collect()
}

/// A configuration whose secrets are in the keyring, and the keyring items made for it (to delete if the
/// save fails after all).
#[derive(Debug)]
pub struct Sealed {
    pub config: FeedConfig,
    pub saved: Vec<String>,
}

/// Move the secrets `config` holds in plain text into the keyring. `old` is the feed's saved configuration
/// when it is edited: its references may be kept, and secrets it already held in plain text (saved before
/// the keyring, or with `--plaintext-secrets`) move into the keyring when one is available and otherwise
/// stay as they were. A secret typed anew needs the keyring, unless `plaintext` (the user's choice to keep
/// it as typed). Blocks on the keyring.
pub fn seal(
    mut config: FeedConfig,
    old: Option<&FeedConfig>,
    plaintext: bool,
    keyring: &Keyring,
) -> Result<Sealed, Error> {
    let owned = old.map(references).unwrap_or_default();
    let held: Vec<String> = old
        .map(|old| secret_values(old).into_iter().map(|(_, value)| value).collect())
        .unwrap_or_default();
    let mut pending = Vec::new();
    let mut typed_anew = Vec::new();
    for (slot, value) in secret_values(&config) {
        if reference_id(&value).is_some() {
            if !owned.contains(&value) {
                return Err(Error::InvalidSetting {
                    setting: slot.describe(),
                    reason: format!("`{value}` is not a keyring item of this feed; type the value itself"),
                });
            }
        } else if !value.is_empty() && value != SECRET {
            if !held.contains(&value) {
                typed_anew.push(slot.describe());
            }
            pending.push(slot);
        }
    }
    if pending.is_empty() || plaintext {
        return Ok(Sealed {
            config,
            saved: Vec::new(),
        });
    }
    let original = config.clone();
    let feed = config.name.clone();
    let mut saved = Vec::new();
    let mut failure: Option<String> = None;
    let mut save = |slot: Slot, value: &str, saved: &mut Vec<String>| -> Option<String> {
        if failure.is_some() {
            return None;
        }
        match keyring.save(&label(&slot, &feed), value) {
            Ok(reference) => {
                saved.push(reference.clone());
                Some(reference)
            }
            Err(KeyringError::Unavailable(why)) => {
                failure = Some(why);
                None
            }
            Err(KeyringError::Missing) => {
                failure = Some("the keyring did not keep the secret".into());
                None
            }
        }
    };
    let secret_headers: Vec<bool> = config.headers.iter().map(|h| config.is_secret_header(h)).collect();
    for (header, secret) in config.headers.iter_mut().zip(secret_headers) {
        let (scheme, value) = header_secret(header);
        if secret && reference_id(value).is_none() && !value.is_empty() && value != SECRET {
            let slot = Slot::Header {
                name: header.name.clone(),
            };
            if let Some(reference) = save(slot, value, &mut saved) {
                header.value = format!("{scheme}{reference}");
            }
        }
    }
    for (step, message) in config.send.iter_mut().enumerate() {
        let rewritten = rewrite_message(&message.text, &mut |field, value| {
            if reference_id(value).is_some() || value.is_empty() || value == SECRET {
                return None;
            }
            let slot = Slot::Message {
                step,
                field: field.to_string(),
            };
            save(slot, value, &mut saved)
        });
        if let Some(text) = rewritten {
            message.text = text;
        }
    }
    rewrite_query(&mut config.url, &mut |name, value| {
        if reference_id(value).is_some() || value.is_empty() || is_placeholder(value) {
            return None;
        }
        let slot = Slot::Query { name: name.to_string() };
        save(slot, value, &mut saved)
    });
    if let Some(why) = failure {
        for reference in &saved {
            let _ = keyring.delete(reference);
        }
        if typed_anew.is_empty() {
            tracing::info!(feed = %feed, "its secrets stay in plain text in the database: {why}");
            return Ok(Sealed {
                config: original,
                saved: Vec::new(),
            });
        }
        return Err(Error::NoKeyring {
            feed,
            secrets: typed_anew,
            why,
        });
    }
    Ok(Sealed { config, saved })
}

/// What a keyring UI (Seahorse, KeePassXC) shows for a secret.
fn label(slot: &Slot, feed: &str) -> String {
    format!("Tidings: {} of feed `{feed}`", slot.describe())
}

/// Label the keyring items of `config` with its name (after a rename). Blocks on the keyring.
pub fn relabel(config: &FeedConfig, keyring: &Keyring) -> Result<(), String> {
    for (slot, value) in secret_values(config) {
        if reference_id(&value).is_some() {
            keyring
                .relabel(&value, &label(&slot, &config.name))
                .map_err(|e| match e {
                    KeyringError::Unavailable(why) => why,
                    KeyringError::Missing => format!("the keyring no longer holds {}", slot.describe()),
                })?;
        }
    }
    Ok(())
}

/// `config` with the real values of its secrets, to connect with; never saved. The error says which secret
/// is missing and how to enter it again. Blocks on the keyring (unless every secret was read before).
pub fn resolve(config: &FeedConfig, keyring: &Keyring) -> Result<FeedConfig, String> {
    let explain = |slot: Slot, error: KeyringError| match error {
        KeyringError::Missing => format!(
            "the keyring no longer holds {} of this feed (deleted, or the keyring was reset); enter it again: {}",
            slot.describe(),
            slot.reenter(config)
        ),
        KeyringError::Unavailable(why) => format!(
            "cannot read {} from the keyring: {why}; start or unlock the keyring (GNOME Keyring, KeePassXC), \
             then resume the feed: tidings feed resume {:?}",
            slot.describe(),
            config.name
        ),
    };
    let mut resolved = config.clone();
    for header in &mut resolved.headers {
        if let Some((scheme, reference)) = split_reference(&header.value) {
            let slot = Slot::Header {
                name: header.name.clone(),
            };
            let secret = keyring.read(reference).map_err(|e| explain(slot, e))?;
            header.value = format!("{scheme}{secret}");
        }
    }
    for (step, message) in resolved.send.iter_mut().enumerate() {
        let mut failure = None;
        let rewritten = rewrite_message(&message.text, &mut |field, value| {
            let slot = Slot::Message {
                step,
                field: field.to_string(),
            };
            if failure.is_some() {
                return None;
            }
            if value == SECRET {
                failure = Some(format!(
                    "{} is still the {SECRET} placeholder of an import; put the token in: {}",
                    slot.describe(),
                    slot.reenter(config)
                ));
                return None;
            }
            reference_id(value)?;
            match keyring.read(value) {
                Ok(secret) => Some(secret),
                Err(e) => {
                    failure = Some(explain(slot, e));
                    None
                }
            }
        });
        if let Some(why) = failure {
            return Err(why);
        }
        if let Some(text) = rewritten {
            message.text = text;
        }
    }
    let mut failure = None;
    rewrite_query(&mut resolved.url, &mut |name, value| {
        if failure.is_some() {
            return None;
        }
        reference_id(value)?;
        match keyring.read(value) {
            Ok(secret) => Some(secret),
            Err(e) => {
                failure = Some(explain(Slot::Query { name: name.to_string() }, e));
                None
            }
        }
    });
    match failure {
        Some(why) => Err(why),
        None => Ok(resolved),
    }
}

/// Call `change` on each secret parameter of `url`'s query (its name decoded, its value as written); where it
/// returns a new value (as written), the parameter gets it. The rest of the query stays as written.
fn rewrite_query(url: &mut Url, change: &mut dyn FnMut(&str, &str) -> Option<String>) {
    let Some(query) = url.query() else {
        return;
    };
    let mut changed = false;
    let pairs: Vec<String> = query
        .split('&')
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decoded: String = url::form_urlencoded::parse(name.as_bytes())
                .map(|(part, _)| part.into_owned())
                .collect();
            if !is_secret_field(&decoded) {
                return pair.to_string();
            }
            match change(&decoded, value) {
                Some(new) => {
                    changed = true;
                    format!("{name}={new}")
                }
                None => pair.to_string(),
            }
        })
        .collect();
    if changed {
        url.set_query(Some(&pairs.join("&")));
    }
}

/// Whether a query value as written is the placeholder an export leaves.
fn is_placeholder(value: &str) -> bool {
    value == SECRET || value.eq_ignore_ascii_case("%3Csecret%3E")
}

/// Call `change` on each secret string field of the JSON message `text` (field name, value); where it returns
/// a new value, the field gets it. Returns the new text — as written, but for the changed values, when that
/// is still the same JSON — or `None` when `text` is no JSON object or nothing changed.
fn rewrite_message(text: &str, change: &mut dyn FnMut(&str, &str) -> Option<String>) -> Option<String> {
    let mut json: Value = serde_json::from_str(text).ok()?;
    let mut replacements: Vec<(String, String)> = Vec::new();
    for_each_secret_field(&mut json, &mut |field, value| {
        if let Some(new) = change(field, value) {
            replacements.push((encode(value), encode(&new)));
            *value = new;
        }
    });
    if replacements.is_empty() {
        return None;
    }
    let mut kept = text.to_string();
    for (old, new) in &replacements {
        kept = kept.replace(old, new);
    }
    match serde_json::from_str::<Value>(&kept) {
        Ok(same) if same == json => Some(kept),
        _ => Some(json.to_string()),
    }
}

fn for_each_secret_field(value: &mut Value, visit: &mut dyn FnMut(&str, &mut String)) {
    match value {
        Value::Object(map) => {
            for (key, inner) in map.iter_mut() {
                match inner {
                    Value::String(text) if is_secret_field(key) => visit(key, text),
                    other => for_each_secret_field(other, visit),
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                for_each_secret_field(item, visit);
            }
        }
        _ => {}
    }
}

/// A string as a JSON string literal.
fn encode(text: &str) -> String {
    Value::String(text.to_string()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::{FeedSpec, SendStep};

    fn home_assistant(token: &str) -> FeedConfig {
        FeedSpec {
            url: "ws://ha.local:8123/api/websocket".into(),
            name: Some("home".into()),
            headers: vec!["X-Trace: 1".into(), "Authorization: Bearer abc".into()],
            send: vec![SendStep {
                after: Some("auth_required".into()),
                text: format!(r#"{{"type":"auth", "access_token":"{token}"}}"#),
            }],
            ..FeedSpec::default()
        }
        .validate()
        .unwrap()
    }

    #[test]
    fn credential_headers_and_token_fields_are_the_secrets() {
        let values = secret_values(&home_assistant("t0k"));
        assert_eq!(
            values,
            [
                (
                    Slot::Header {
                        name: "Authorization".into()
                    },
                    "abc".to_string()
                ),
                (
                    Slot::Message {
                        step: 0,
                        field: "access_token".into()
                    },
                    "t0k".to_string()
                ),
            ]
        );
    }

    #[test]
    fn a_token_in_the_query_is_a_secret_kept_as_written() {
        let config = FeedSpec {
            url: "wss://gotify.local/stream?after={{cursor}}&token=Ab%2Bc%3D%3D&client=7".into(),
            ..FeedSpec::default()
        }
        .validate()
        .unwrap();
        let slot = Slot::Query { name: "token".into() };
        assert_eq!(secret_values(&config), [(slot.clone(), "Ab%2Bc%3D%3D".to_string())]);
        assert_eq!(slot.describe(), "the token parameter of the URL");

        // Only the secret's value changes; the rest of the URL stays as written, placeholder included.
        let mut url = config.url.clone();
        rewrite_query(&mut url, &mut |name, value| {
            assert_eq!((name, value), ("token", "Ab%2Bc%3D%3D"));
            Some("keyring:x".into())
        });
        assert_eq!(url.query(), Some("after={{cursor}}&token=keyring:x&client=7"));
        rewrite_query(&mut url, &mut |_, _| Some("Ab%2Bc%3D%3D".into()));
        assert_eq!(url, config.url);
    }

    #[test]
    fn a_rewritten_message_keeps_its_text_as_written() {
        let text = r#"{"type":"auth", "access_token":"t0k"}"#;
        let rewritten = rewrite_message(text, &mut |_, _| Some("keyring:x".into())).unwrap();
        assert_eq!(rewritten, r#"{"type":"auth", "access_token":"keyring:x"}"#);
        assert_eq!(rewrite_message("AUTH t0k", &mut |_, _| Some("x".into())), None);
    }

    #[test]
    fn with_plaintext_chosen_secrets_stay_as_typed_without_a_keyring() {
        let config = home_assistant("t0k");
        let sealed = seal(config.clone(), None, true, &Keyring::new()).unwrap();
        assert_eq!(sealed.config, config);
        assert!(sealed.saved.is_empty());
    }

    #[test]
    fn a_reference_the_feed_does_not_own_is_refused() {
        let config = home_assistant("keyring:0123456789abcdef0123456789abcdef");
        let err = seal(config, None, false, &Keyring::new()).unwrap_err().to_string();
        assert!(err.contains("not a keyring item of this feed"), "{err}");
    }

    #[test]
    fn an_imported_placeholder_asks_for_the_token() {
        let config = home_assistant(SECRET);
        let mut plain = config.clone();
        plain.headers.retain(|h| h.name != "Authorization");
        let err = resolve(&plain, &Keyring::new()).unwrap_err();
        assert!(err.contains("tidings feed edit \"home\" --token TOKEN"), "{err}");
    }
}
