//! What a feed is: the user's raw input ([`FeedSpec`]), the validated configuration the engine runs
//! ([`FeedConfig`], which cannot hold a bad URL or header), and the state a user sees ([`FeedState`]).
//!
//! The store persists [`FeedConfig`] as JSON; the supervisor reads it to connect; the CLI and the desktop
//! shell build a [`FeedSpec`] from what the user typed and call [`FeedSpec::validate`] through the engine.

use std::time::Duration;

use reqwest::Url;
use reqwest::header::{HeaderName, HeaderValue};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::quiet::PriorityScale;
use crate::rules::Rule;
use crate::template::{Pointer, Subject, Template};

/// No bytes (events or comments) for this long means the connection is dead: reconnect.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(90);
/// How often a WebSocket feed pings its server, so a dead connection shows itself.
pub const DEFAULT_PING_INTERVAL: Duration = Duration::from_secs(30);
/// Where a feed asks for its cursor: in the URL's query or in a message sent after connecting.
pub const CURSOR_PLACEHOLDER: &str = "{{cursor}}";

/// A feed as the user typed it: nothing here is checked yet.
#[derive(Debug, Clone, Default)]
pub struct FeedSpec {
    pub url: String,
    /// A short name used in notifications and on the command line; derived from the URL when absent.
    pub name: Option<String>,
    /// Request headers as `Name: value` lines.
    pub headers: Vec<String>,
    /// Reconnect when nothing arrives for this long (default [`DEFAULT_STALL_TIMEOUT`]).
    pub stall_timeout: Option<Duration>,
    /// WebSocket: messages sent after the connection opens, in order.
    pub send: Vec<SendStep>,
    /// Take each event's cursor (resume position) from its JSON data at this pointer, e.g. `/id`.
    pub cursor_pointer: Option<String>,
    /// WebSocket: ping this often (default [`DEFAULT_PING_INTERVAL`]).
    pub ping_interval: Option<Duration>,
    /// WebSocket: a server frame matching this regular expression fails the feed (a refused login, such as
    /// Home Assistant's `auth_invalid`): no retry until the user acts. Empty: none.
    pub fail_when: Option<String>,
    /// Templates over the event's JSON for what a notification shows (`{{/title}}`).
    pub title: Option<String>,
    pub body: Option<String>,
    pub link: Option<String>,
    pub priority: Option<String>,
    /// How a priority becomes urgency: `LOW_MAX,CRITICAL_MIN`, e.g. `2,5` for ntfy.
    pub priority_scale: Option<String>,
    /// Events matching any of these are not stored at all (keep-alives, `open` events).
    pub skip_when: Vec<String>,
    /// When given, only events matching one of these are notified (all are stored).
    pub notify_when: Vec<String>,
    /// At most this many notifications a minute; the rest fold into one summary.
    pub rate_limit: Option<u32>,
    /// A program and its arguments run for each new event that passes the rules.
    pub exec: Vec<String>,
    /// Headers whose values are secret besides the credential headers known by name (`--secret-header`).
    pub secret_headers: Vec<String>,
    /// When saving: keep secrets typed in plain text in the database, because no keyring is available
    /// (`--plaintext-secrets`). Not saved itself; see [`crate::secret`].
    pub plaintext_secrets: bool,
}

/// A message a WebSocket feed sends after connecting; `{{cursor}}` in it becomes the feed's cursor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendStep {
    /// Wait for a server frame matching this regular expression before sending (`auth_required`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    pub text: String,
}

/// Which protocol a feed speaks, chosen from the URL's scheme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FeedKind {
    /// Server-Sent Events over `http://` or `https://`.
    Sse,
    /// A WebSocket channel over `ws://` or `wss://`.
    #[serde(rename = "websocket")]
    WebSocket,
}

/// A validated feed configuration: the URL parses, the scheme is supported, every header is legal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeedConfig {
    pub name: String,
    pub kind: FeedKind,
    pub url: Url,
    pub headers: Vec<Header>,
    #[serde(with = "humantime_serde_secs")]
    pub stall_timeout: Duration,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub send: Vec<SendStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor_pointer: Option<String>,
    #[serde(default = "default_ping_interval", with = "humantime_serde_secs")]
    pub ping_interval: Duration,
    /// A regular expression: a server frame matching it fails the feed (checked when saved).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fail_when: Option<String>,
    #[serde(default, skip_serializing_if = "Mapping::is_empty")]
    pub mapping: Mapping,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub skip_when: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notify_when: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate_limit: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exec: Vec<String>,
    /// Headers marked secret by the user (`--secret-header`), besides those [`is_sensitive_header`] knows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub secret_headers: Vec<String>,
}

/// What a feed's notifications show, as templates over the event (each falls back to the default when
/// it renders empty), and how its priority becomes urgency.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Mapping {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<Template>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Template>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<Template>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<Template>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_scale: Option<PriorityScale>,
}

impl Mapping {
    pub fn is_empty(&self) -> bool {
        *self == Mapping::default()
    }
}

impl FeedConfig {
    /// The spec this configuration came from, to edit it or to export it.
    pub fn to_spec(&self) -> FeedSpec {
        let text = |t: &Option<Template>| t.as_ref().map(|t| t.as_str().to_string());
        FeedSpec {
            url: self.url.to_string(),
            name: Some(self.name.clone()),
            headers: self
                .headers
                .iter()
                .map(|h| format!("{}: {}", h.name, h.value))
                .collect(),
            stall_timeout: Some(self.stall_timeout),
            send: self.send.clone(),
            cursor_pointer: self.cursor_pointer.clone(),
            ping_interval: Some(self.ping_interval),
            fail_when: self.fail_when.clone(),
            title: text(&self.mapping.title),
            body: text(&self.mapping.body),
            link: text(&self.mapping.link),
            priority: text(&self.mapping.priority),
            priority_scale: self.mapping.priority_scale.map(|scale| scale.to_string()),
            skip_when: self.skip_when.iter().map(|r| r.as_str().to_string()).collect(),
            notify_when: self.notify_when.iter().map(|r| r.as_str().to_string()).collect(),
            rate_limit: self.rate_limit,
            exec: self.exec.clone(),
            secret_headers: self.secret_headers.clone(),
            plaintext_secrets: false,
        }
    }

    /// Whether a header's value is secret: a credential by its name, marked by the user, or already kept
    /// in the keyring.
    pub fn is_secret_header(&self, header: &Header) -> bool {
        self.is_secret_header_name(&header.name) || crate::secret::split_reference(&header.value).is_some()
    }

    /// Whether a header of this name carries a credential: one [`is_sensitive_header`] knows or one the user
    /// marked with `--secret-header`. Such headers never follow a redirect to another origin.
    pub fn is_secret_header_name(&self, name: &str) -> bool {
        is_sensitive_header(name)
            || self
                .secret_headers
                .iter()
                .any(|marked| marked.eq_ignore_ascii_case(name))
    }

    /// Whether an event is dropped before storing (`--skip-when`).
    pub fn skips(&self, subject: &Subject<'_>) -> bool {
        self.skip_when.iter().any(|rule| rule.matches(subject))
    }

    /// Whether a stored event is worth a notification (`--notify-when`; all are without rules).
    pub fn wants_notification(&self, subject: &Subject<'_>) -> bool {
        self.notify_when.is_empty() || self.notify_when.iter().any(|rule| rule.matches(subject))
    }
}

fn default_ping_interval() -> Duration {
    DEFAULT_PING_INTERVAL
}

impl FeedConfig {
    /// The URL to connect to, with `{{cursor}}` in it replaced by the (percent-encoded) cursor.
    pub fn url_for(&self, cursor: &str) -> Url {
        let text = self.url.as_str();
        let encoded_placeholder = "%7B%7Bcursor%7D%7D";
        if !text.contains(CURSOR_PLACEHOLDER) && !text.contains(encoded_placeholder) {
            return self.url.clone();
        }
        let cursor: String = url::form_urlencoded::byte_serialize(cursor.as_bytes()).collect();
        let text = text
            .replace(CURSOR_PLACEHOLDER, &cursor)
            .replace(encoded_placeholder, &cursor);
        Url::parse(&text).unwrap_or_else(|_| self.url.clone())
    }

    /// The cursor of an event whose data is `data`, per `cursor_pointer` (None: no pointer, or not found).
    pub fn cursor_in(&self, data: &str) -> Option<String> {
        cursor_at(self.cursor_pointer.as_deref()?, data)
    }
}

/// The text or number at JSON `pointer` (`/id`, or `/payload#/id` inside JSON held in a string) in
/// `data`, as an event's cursor.
pub fn cursor_at(pointer: &str, data: &str) -> Option<String> {
    cursor_by(&Pointer::parse(pointer).ok()?, data)
}

/// The text or number `pointer` reaches in `data`, as an event's cursor (see [`cursor_at`]).
pub fn cursor_by(pointer: &Pointer, data: &str) -> Option<String> {
    let text = pointer.text_in(data)?;
    (!text.is_empty()).then(|| text.into_owned())
}

/// One request header, kept as text so the configuration stays readable in the database.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub name: String,
    pub value: String,
}

impl Header {
    /// Parse `Name: value`, rejecting what HTTP would reject.
    pub fn parse(line: &str) -> Result<Header, Error> {
        let bad = |why: &str| Error::InvalidHeader {
            header: redact_header_line(line),
            reason: why.to_string(),
        };
        let (name, value) = line.split_once(':').ok_or_else(|| bad("expected `Name: value`"))?;
        let name = name.trim();
        let value = value.trim();
        HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad("the name is not a valid header name"))?;
        HeaderValue::from_str(value).map_err(|_| bad("the value holds characters a header cannot carry"))?;
        Ok(Header {
            name: name.to_string(),
            value: value.to_string(),
        })
    }

    /// Whether this header carries a credential that must not leave the feed's origin or reach a log.
    pub fn is_sensitive(&self) -> bool {
        is_sensitive_header(&self.name)
    }
}

/// Header names whose values are credentials: never logged, dropped on a redirect to another origin.
pub fn is_sensitive_header(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["auth", "cookie", "token", "secret", "key", "password", "session"]
        .iter()
        .any(|word| name.contains(word))
}

fn redact_header_line(line: &str) -> String {
    match line.split_once(':') {
        Some((name, _)) if is_sensitive_header(name.trim()) => format!("{}: <hidden>", name.trim()),
        _ => line.to_string(),
    }
}

impl FeedSpec {
    /// Check everything the user typed, once, and produce a configuration that cannot be invalid.
    pub fn validate(&self) -> Result<FeedConfig, Error> {
        let url = parse_feed_url(&self.url)?;
        let kind = match url.scheme() {
            "http" | "https" => FeedKind::Sse,
            "ws" | "wss" => FeedKind::WebSocket,
            other => {
                return Err(Error::InvalidUrl {
                    url: self.url.clone(),
                    reason: format!(
                        "the scheme `{other}` is not supported; use http:// or https:// for an event stream, \
                         ws:// or wss:// for a WebSocket"
                    ),
                });
            }
        };
        if kind == FeedKind::Sse && !self.send.is_empty() {
            return Err(Error::InvalidSetting {
                setting: "--send".into(),
                reason: "messages can only be sent on a WebSocket (ws:// or wss://) feed".into(),
            });
        }
        for step in &self.send {
            if let Some(after) = &step.after {
                regex::Regex::new(after).map_err(|e| Error::InvalidSetting {
                    setting: format!("--send-after `{after}`"),
                    reason: format!("not a valid regular expression: {e}"),
                })?;
            }
        }
        let fail_when = self.fail_when.clone().filter(|pattern| !pattern.is_empty());
        if let Some(pattern) = &fail_when {
            if kind == FeedKind::Sse {
                return Err(Error::InvalidSetting {
                    setting: "--fail-when".into(),
                    reason: "it watches the frames of a WebSocket (ws:// or wss://) feed; on an event stream, \
                             use --skip-when or --notify-when"
                        .into(),
                });
            }
            regex::Regex::new(pattern).map_err(|e| Error::InvalidSetting {
                setting: format!("--fail-when `{pattern}`"),
                reason: format!("not a valid regular expression: {e}"),
            })?;
        }
        if let Some(pointer) = self.cursor_pointer.as_deref().filter(|p| !p.is_empty()) {
            Pointer::parse(pointer).map_err(|e| Error::InvalidSetting {
                setting: "--cursor-pointer".into(),
                reason: format!("{e}; a JSON pointer starts with `/`, e.g. /id"),
            })?;
        }
        let template = |flag: &str, text: &Option<String>| -> Result<Option<Template>, Error> {
            text.as_deref()
                .filter(|t| !t.is_empty())
                .map(|t| {
                    Template::parse(t).map_err(|e| Error::InvalidSetting {
                        setting: flag.into(),
                        reason: e.to_string(),
                    })
                })
                .transpose()
        };
        let mapping = Mapping {
            title: template("--title", &self.title)?,
            body: template("--body", &self.body)?,
            link: template("--link", &self.link)?,
            priority: template("--priority", &self.priority)?,
            priority_scale: self
                .priority_scale
                .as_deref()
                .map(|scale| {
                    scale.parse::<PriorityScale>().map_err(|e| Error::InvalidSetting {
                        setting: "--priority-scale".into(),
                        reason: e.to_string(),
                    })
                })
                .transpose()?,
        };
        let rules = |flag: &str, texts: &[String]| -> Result<Vec<Rule>, Error> {
            texts
                .iter()
                .map(|text| {
                    Rule::parse(text).map_err(|e| Error::InvalidSetting {
                        setting: flag.into(),
                        reason: e.to_string(),
                    })
                })
                .collect()
        };
        let skip_when = rules("--skip-when", &self.skip_when)?;
        let notify_when = rules("--notify-when", &self.notify_when)?;
        if self.rate_limit == Some(0) {
            return Err(Error::InvalidSetting {
                setting: "--rate-limit".into(),
                reason: "it must be at least 1 notification a minute (mute the feed to have none)".into(),
            });
        }
        if self.exec.first().is_some_and(|program| program.trim().is_empty()) {
            return Err(Error::InvalidSetting {
                setting: "--exec".into(),
                reason: "it needs a program to run".into(),
            });
        }
        let ping_interval = self.ping_interval.unwrap_or(DEFAULT_PING_INTERVAL);
        if ping_interval < Duration::from_secs(1) {
            return Err(Error::InvalidSetting {
                setting: "ping interval".into(),
                reason: "it must be at least 1 second".into(),
            });
        }
        let name = match &self.name {
            Some(name) => validate_name(name)?,
            None => name_from_url(&url),
        };
        let headers = self
            .headers
            .iter()
            .map(|line| Header::parse(line))
            .collect::<Result<Vec<_>, _>>()?;
        let mut secret_headers: Vec<String> = Vec::new();
        for name in &self.secret_headers {
            let name = name.trim();
            HeaderName::from_bytes(name.as_bytes()).map_err(|_| Error::InvalidSetting {
                setting: format!("--secret-header `{name}`"),
                reason: "it is not a valid header name; give the name alone, e.g. --secret-header X-Api-Token".into(),
            })?;
            if !secret_headers.iter().any(|known| known.eq_ignore_ascii_case(name)) {
                secret_headers.push(name.to_string());
            }
        }
        let stall_timeout = self.stall_timeout.unwrap_or(DEFAULT_STALL_TIMEOUT);
        if stall_timeout < Duration::from_secs(1) {
            return Err(Error::InvalidSetting {
                setting: "stall timeout".into(),
                reason: "it must be at least 1 second".into(),
            });
        }
        Ok(FeedConfig {
            name,
            kind,
            url,
            headers,
            stall_timeout,
            send: self.send.clone(),
            cursor_pointer: self.cursor_pointer.clone().filter(|p| !p.is_empty()),
            ping_interval,
            fail_when,
            mapping,
            skip_when,
            notify_when,
            rate_limit: self.rate_limit,
            exec: self.exec.clone(),
            secret_headers,
        })
    }
}

fn parse_feed_url(text: &str) -> Result<Url, Error> {
    let text = text.trim();
    let url = Url::parse(text).map_err(|e| Error::InvalidUrl {
        url: text.to_string(),
        reason: match e {
            url::ParseError::RelativeUrlWithoutBase => {
                "it has no scheme; write the whole URL, e.g. https://example.com/events".to_string()
            }
            other => other.to_string(),
        },
    })?;
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::InvalidUrl {
            url: text.to_string(),
            reason: "it names no host".into(),
        });
    }
    Ok(url)
}

/// Names are used on the command line: keep them short, printable and free of surrounding space.
pub fn validate_name(name: &str) -> Result<String, Error> {
    let name = name.trim();
    let reason = if name.is_empty() {
        Some("it is empty")
    } else if name.chars().count() > 64 {
        Some("it is longer than 64 characters")
    } else if name.chars().any(char::is_control) {
        Some("it contains control characters")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(Error::InvalidName {
            name: name.to_string(),
            reason: reason.to_string(),
        }),
        None => Ok(name.to_string()),
    }
}

/// A readable default name: the host plus the last path segment (`ntfy.sh/alerts`).
fn name_from_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or("feed");
    let last = url
        .path_segments()
        .and_then(|mut segments| segments.rfind(|s| !s.is_empty()))
        .unwrap_or("");
    let name = if last.is_empty() {
        host.to_string()
    } else {
        format!("{host}/{last}")
    };
    name.chars().take(64).collect()
}

/// A feed's state as the user sees it. Exactly one holds at a time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum FeedState {
    /// No engine is following feeds right now (no `tidings run`, no desktop app).
    Idle,
    /// Opening a connection; `attempt` counts failures since the feed was last live (0 on the first try).
    Connecting { attempt: u32 },
    /// Connected and receiving.
    Live { since_ms: i64 },
    /// The last attempt failed; the next one starts at `next_try_ms` (Unix time, milliseconds).
    Retrying {
        attempt: u32,
        next_try_ms: i64,
        last_error: String,
    },
    /// The server ended the feed (HTTP 204); it is not retried until the user resumes it.
    Stopped { reason: String },
    /// Retrying would not help (404, 401, wrong Content-Type…); waits until the user edits or resumes it.
    Failed { reason: String },
    /// Paused by the user.
    Paused,
}

impl FeedState {
    /// The state's one-word name, as shown in lists and accepted by scripts.
    pub fn label(&self) -> &'static str {
        match self {
            FeedState::Idle => "idle",
            FeedState::Connecting { .. } => "connecting",
            FeedState::Live { .. } => "live",
            FeedState::Retrying { .. } => "retrying",
            FeedState::Stopped { .. } => "stopped",
            FeedState::Failed { .. } => "failed",
            FeedState::Paused => "paused",
        }
    }

    /// One line for a person: `retrying in 8 s (attempt 3): connection refused`.
    pub fn describe(&self, now_ms: i64) -> String {
        match self {
            FeedState::Idle => "idle (not followed: run `tidings run` or open the app)".into(),
            FeedState::Connecting { attempt: 0 } => "connecting".into(),
            FeedState::Connecting { attempt } => format!("connecting (attempt {})", attempt + 1),
            FeedState::Live { .. } => "live".into(),
            FeedState::Retrying {
                attempt,
                next_try_ms,
                last_error,
            } => {
                let secs = ((next_try_ms - now_ms).max(0) + 999) / 1000;
                format!("retrying in {secs} s (attempt {attempt}): {last_error}")
            }
            FeedState::Stopped { reason } => format!("stopped: {reason}"),
            FeedState::Failed { reason } => format!("failed: {reason}"),
            FeedState::Paused => "paused".into(),
        }
    }

    /// Stopped and failed feeds wait for the user; the engine does not reconnect them.
    pub fn is_halted(&self) -> bool {
        matches!(self, FeedState::Stopped { .. } | FeedState::Failed { .. })
    }
}

/// Durations are stored as whole seconds so the JSON stays readable and stable.
mod humantime_serde_secs {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(value.as_secs())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Duration, D::Error> {
        u64::deserialize(deserializer).map(Duration::from_secs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(url: &str) -> FeedSpec {
        FeedSpec {
            url: url.into(),
            ..FeedSpec::default()
        }
    }

    #[test]
    fn names_come_from_host_and_last_segment() {
        let config = spec("https://ntfy.sh/alerts/sse").validate().unwrap();
        assert_eq!(config.name, "ntfy.sh/sse");
        assert_eq!(spec("http://localhost:8080/").validate().unwrap().name, "localhost");
    }

    #[test]
    fn bad_urls_say_what_is_wrong() {
        let err = spec("example.com/events").validate().unwrap_err().to_string();
        assert!(err.contains("no scheme"), "{err}");
        let err = spec("ftp://example.com/x").validate().unwrap_err().to_string();
        assert!(err.contains("ws:// or wss://"), "{err}");
        assert!(err.contains("`ftp` is not supported"), "{err}");
    }

    #[test]
    fn headers_are_checked_and_secrets_are_hidden_in_errors() {
        let mut s = spec("https://example.com/e");
        s.headers = vec!["Authorization: Bearer abc\u{7}".into()];
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("<hidden>") && !err.contains("abc"), "{err}");
        s.headers = vec!["no colon here".into()];
        assert!(s.validate().unwrap_err().to_string().contains("Name: value"));
        s.headers = vec!["X-Trace:  42 ".into()];
        let config = s.validate().unwrap();
        assert_eq!(config.headers[0].value, "42");
    }

    #[test]
    fn the_cursor_goes_into_the_url_where_the_feed_asks_for_it() {
        let config = spec("https://ntfy.example/alerts/sse?since={{cursor}}")
            .validate()
            .unwrap();
        assert_eq!(
            config.url_for("abc 1").as_str(),
            "https://ntfy.example/alerts/sse?since=abc+1"
        );
        let plain = spec("https://example.com/events").validate().unwrap();
        assert_eq!(plain.url_for("7").as_str(), "https://example.com/events");
    }

    #[test]
    fn the_cursor_pointer_reads_strings_and_numbers() {
        let mut s = spec("wss://example.com/ws");
        s.cursor_pointer = Some("/id".into());
        let config = s.validate().unwrap();
        assert_eq!(config.cursor_in(r#"{"id":"x1"}"#).as_deref(), Some("x1"));
        assert_eq!(config.cursor_in(r#"{"id":42}"#).as_deref(), Some("42"));
        assert_eq!(config.cursor_in(r#"{"other":1}"#), None);
        assert_eq!(config.cursor_in("not json"), None);
        s.cursor_pointer = Some("id".into());
        assert!(s.validate().unwrap_err().to_string().contains("starts with `/`"));
        s.cursor_pointer = Some("/payload#/id".into());
        let nested = s.validate().unwrap();
        assert_eq!(
            nested.cursor_in(r#"{"payload":"{\"id\":\"109\"}"}"#).as_deref(),
            Some("109")
        );
    }

    #[test]
    fn messages_are_only_sent_on_websockets_and_waits_must_be_valid_regexes() {
        let mut s = spec("https://example.com/events");
        s.send = vec![SendStep {
            after: None,
            text: "hi".into(),
        }];
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("only be sent on a WebSocket")
        );
        let mut s = spec("ws://example.com/ws");
        s.send = vec![SendStep {
            after: Some("(".into()),
            text: "hi".into(),
        }];
        assert!(
            s.validate()
                .unwrap_err()
                .to_string()
                .contains("not a valid regular expression")
        );
    }

    #[test]
    fn fail_when_is_a_valid_regex_on_a_websocket_feed() {
        let mut s = spec("wss://example.com/ws");
        s.fail_when = Some("auth_(invalid".into());
        let err = s.validate().unwrap_err().to_string();
        assert!(
            err.contains("--fail-when") && err.contains("not a valid regular expression"),
            "{err}"
        );
        s.fail_when = Some(String::new());
        assert_eq!(s.validate().unwrap().fail_when, None, "empty clears it");
        let mut s = spec("https://example.com/events");
        s.fail_when = Some("denied".into());
        let err = s.validate().unwrap_err().to_string();
        assert!(err.contains("WebSocket") && err.contains("--skip-when"), "{err}");
    }

    #[test]
    fn mistakes_in_templates_and_rules_are_refused_with_the_flag_named() {
        let mut s = spec("https://example.com/e");
        s.title = Some("{{/title".into());
        let err = s.validate().unwrap_err().to_string();
        assert!(err.starts_with("invalid --title:"), "{err}");
        let mut s = spec("https://example.com/e");
        s.skip_when = vec!["/priority >".into()];
        let err = s.validate().unwrap_err().to_string();
        assert!(err.starts_with("invalid --skip-when:"), "{err}");
        let mut s = spec("https://example.com/e");
        s.skip_when = vec![r#"type == "keepalive""#.into()];
        s.notify_when = vec!["/priority >= 4".into()];
        let config = s.validate().unwrap();
        assert!(config.skips(&Subject::new("f", "keepalive", "")));
        assert!(!config.wants_notification(&Subject::new("f", "message", r#"{"priority":3}"#)));
        assert!(config.wants_notification(&Subject::new("f", "message", r#"{"priority":"5"}"#)));
    }

    #[test]
    fn a_config_round_trips_through_its_spec() {
        let mut s = spec("wss://example.com/ws?since={{cursor}}");
        s.headers = vec!["X-Key: k".into()];
        s.send = vec![SendStep {
            after: Some("ready".into()),
            text: "go {{cursor}}".into(),
        }];
        s.title = Some("{{/title ?? type}}".into());
        s.priority_scale = Some("3,8".into());
        s.skip_when = vec![r#"type == "ping""#.into()];
        s.rate_limit = Some(4);
        s.exec = vec!["notify-send".into(), "hi".into()];
        s.fail_when = Some("auth_invalid".into());
        let config = s.validate().unwrap();
        assert_eq!(config.to_spec().validate().unwrap(), config);
        assert_eq!(config.fail_when.as_deref(), Some("auth_invalid"));
    }

    #[test]
    fn retrying_says_when_and_why() {
        let state = FeedState::Retrying {
            attempt: 3,
            next_try_ms: 10_000,
            last_error: "connection refused".into(),
        };
        assert_eq!(state.describe(2_001), "retrying in 8 s (attempt 3): connection refused");
    }
}
