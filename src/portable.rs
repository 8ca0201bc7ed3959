//! Sharing a setup: feeds exported to JSON without their secrets, and imported back.
//!
//! A secret — a credential header's value, a token in the URL's query, a `token`/`password`/`secret`
//! field of a JSON message sent after connecting — is replaced by [`SECRET`] on export. On import, a
//! header still holding the placeholder is left out and the user is told how to add it back.

use serde_json::Value;

use crate::error::Error;
use crate::feed::{FeedConfig, FeedSpec, is_sensitive_header};

/// What stands in for a secret in an export.
pub const SECRET: &str = "<secret>";

/// The feeds as pretty JSON, secrets replaced.
pub fn export(configs: &[FeedConfig]) -> String {
    let redacted: Vec<FeedConfig> = configs.iter().map(redact).collect();
    serde_json::to_string_pretty(&redacted).unwrap_or_else(|_| "[]".into())
}

fn redact(config: &FeedConfig) -> FeedConfig {
    let mut config = config.clone();
    let secret: Vec<bool> = config.headers.iter().map(|h| config.is_secret_header(h)).collect();
    for (header, secret) in config.headers.iter_mut().zip(secret) {
        if secret {
            header.value = SECRET.into();
        }
    }
    let sensitive_pairs: Vec<(String, String)> = config
        .url
        .query_pairs()
        .map(|(key, value)| {
            let value = if is_sensitive_header(&key) {
                SECRET.to_string()
            } else {
                value.into_owned()
            };
            (key.into_owned(), value)
        })
        .collect();
    if config.url.query().is_some() {
        config.url.query_pairs_mut().clear().extend_pairs(sensitive_pairs);
    }
    for step in &mut config.send {
        if let Ok(mut json) = serde_json::from_str::<Value>(&step.text)
            && redact_json(&mut json)
        {
            step.text = json.to_string();
        }
    }
    config
}

/// Replace the values of secret-looking keys; true when something was replaced.
fn redact_json(value: &mut Value) -> bool {
    match value {
        Value::Object(map) => {
            let mut changed = false;
            for (key, inner) in map.iter_mut() {
                if is_sensitive_header(key) || key.contains("password") {
                    *inner = Value::String(SECRET.into());
                    changed = true;
                } else {
                    changed |= redact_json(inner);
                }
            }
            changed
        }
        Value::Array(items) => {
            // Every item is redacted: no short-circuit.
            let mut changed = false;
            for item in items {
                changed |= redact_json(item);
            }
            changed
        }
        _ => false,
    }
}

/// Feeds read from an export, with what the user must still do.
#[derive(Debug)]
pub struct Imported {
    pub specs: Vec<FeedSpec>,
    /// One line each: a secret to add back.
    pub warnings: Vec<String>,
}

/// Read an export. Every feed is validated as if typed by hand.
pub fn import(text: &str) -> Result<Imported, Error> {
    let configs: Vec<FeedConfig> = serde_json::from_str(text).map_err(|e| Error::InvalidSetting {
        setting: "import file".into(),
        reason: format!("it is not a Tidings export ({e}); make one with `tidings feed export`"),
    })?;
    let mut imported = Imported {
        specs: Vec::new(),
        warnings: Vec::new(),
    };
    for config in configs {
        let mut spec = config.to_spec();
        let name = config.name.clone();
        spec.headers.retain(|line| {
            let keep = !line.ends_with(SECRET);
            if !keep {
                let header = line.split(':').next().unwrap_or(line);
                imported.warnings.push(format!(
                    "`{name}` needs its {header} header back: tidings feed edit {name:?} -H '{header}: …'"
                ));
            }
            keep
        });
        if spec.url.contains(&url_encoded(SECRET)) || spec.send.iter().any(|step| step.text.contains(SECRET)) {
            imported.warnings.push(format!(
                "`{name}` has a {SECRET} placeholder in its URL or messages: put the real token back with \
                 tidings feed edit {name:?} --token TOKEN"
            ));
        }
        spec.validate()?;
        imported.specs.push(spec);
    }
    Ok(imported)
}

fn url_encoded(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::SendStep;

    #[test]
    fn secrets_never_leave_and_are_asked_back_on_import() {
        let config = FeedSpec {
            url: "wss://ha.example/api/websocket?access_token=abc&x=1".into(),
            name: Some("home".into()),
            headers: vec!["Authorization: Bearer abc".into(), "X-Trace: 1".into()],
            send: vec![SendStep {
                after: Some("auth_required".into()),
                text: r#"{"type":"auth","access_token":"abc"}"#.into(),
            }],
            ..FeedSpec::default()
        }
        .validate()
        .unwrap();
        let text = export(&[config]);
        assert!(!text.contains("abc"), "{text}");
        assert!(text.contains("X-Trace"), "{text}");
        let imported = import(&text).unwrap();
        assert_eq!(imported.specs[0].headers, ["X-Trace: 1"]);
        assert!(
            imported
                .warnings
                .iter()
                .any(|w| w.contains("Authorization header back")),
            "{:?}",
            imported.warnings
        );
        assert!(
            imported.warnings.iter().any(|w| w.contains("placeholder")),
            "{:?}",
            imported.warnings
        );
    }

    #[test]
    fn a_file_that_is_not_an_export_says_so() {
        let err = import("{\"feeds\": 3}").unwrap_err().to_string();
        assert!(err.contains("not a Tidings export"), "{err}");
    }
}
