//! Presets for services people follow, so adding one takes one line:
//! `tidings feed add --preset ntfy https://ntfy.sh/mytopic`.
//!
//! [`Preset::apply`] turns the address the user typed into the feed the service needs: the endpoint URL,
//! the auth header or handshake messages, how to resume, which frames are protocol noise, and how a
//! payload becomes a notification. It fills only what the user left unset: a `--name`, `--title`, header,
//! `--send` or `--cursor-pointer` given on the command line wins. The one exception is the preset's skip
//! rule, which joins the user's `--skip-when` rules rather than giving way to them: the frames it drops
//! (keep-alives, handshake results) are never content, and rules add up (any matching rule skips).
//!
//! | preset           | the user gives                    | the feed connects to                              |
//! |------------------|-----------------------------------|---------------------------------------------------|
//! | `ntfy`           | `https://ntfy.sh/mytopic`         | `https://ntfy.sh/mytopic/sse?since={{cursor}}`    |
//! | `gotify`         | `https://gotify.example`          | `wss://gotify.example/stream`                     |
//! | `home-assistant` | `http://homeassistant.local:8123` | `ws://homeassistant.local:8123/api/websocket`     |
//! | `mastodon`       | `https://mastodon.social`         | `wss://mastodon.social/api/v1/streaming?stream=…` |
//! | `generic`        | any feed URL                      | that URL, unchanged                               |
//!
//! (Mastodon's stream is `user:notification`.)
//!
//! What the services' protocols imply:
//! - ntfy's SSE stream carries no `id:` lines, so the feed resumes with `since=<last message id>` in the URL
//!   (an id ntfy does not know makes it replay its whole cache) and takes each event's id from `/id`.
//!   A `wss://` topic URL uses ntfy's WebSocket endpoint (`/ws`) the same way.
//! - Home Assistant answers a bad token with `auth_invalid` and a clean close (1000), which alone would be
//!   retried forever: the preset's `--fail-when` makes it fail the feed, saying what Home Assistant said.
//! - Gotify and Home Assistant cannot resume: what is sent while disconnected is not replayed. Home
//!   Assistant events are not deduplicated by `context.id`: one context covers every change a single action
//!   causes (turning off a group of lights), so it does not identify an event. Its `state_changed` stream
//!   carries every entity's every update: narrow it with `--notify-when`, e.g.
//!   `--notify-when '/event/data/entity_id matches "^binary_sensor\."'`.
//! - Mastodon statuses and bios are HTML; the `|text` filter shows them as text. An instance may serve
//!   streaming from a host of its own: [`Preset::apply_asking`] (used by `feed add`) asks the instance
//!   ([`crate::discover`]); without an answer, the instance's `/api/v1/streaming` redirects there, and the
//!   handshake follows (the token only to the instance's own origin). Subscription errors come in-band as
//!   `{"error": …}` frames; they are stored, not skipped, so a token without the `read:notifications` scope
//!   shows itself.

use std::fmt;
use std::str::FromStr;

use reqwest::Url;
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::feed::{CURSOR_PLACEHOLDER, FeedSpec, SendStep};
use crate::quiet::PriorityScale;

/// A service whose feed Tidings knows how to set up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Preset {
    /// An ntfy topic, over Server-Sent Events (or ntfy's WebSocket endpoint for a `ws(s)://` URL).
    Ntfy,
    /// A Gotify server's message stream (WebSocket), with a client token.
    Gotify,
    /// Home Assistant's state changes (WebSocket API), with a long-lived access token.
    HomeAssistant,
    /// A Mastodon account's notifications (streaming API over WebSocket), with an access token.
    Mastodon,
    /// Any feed: the URL and the other flags alone describe it.
    Generic,
}

const ALL: [Preset; 5] = [
    Preset::Ntfy,
    Preset::Gotify,
    Preset::HomeAssistant,
    Preset::Mastodon,
    Preset::Generic,
];

/// ntfy's control events: on SSE they carry an `event:` type, on its WebSocket only the `event` field.
const NTFY_SKIP: &str = r#"type == "keepalive" or type == "open" or /event == "keepalive" or /event == "open""#;
/// Home Assistant: keep events, and results that report a failure (a refused subscription).
const HOME_ASSISTANT_SKIP: &str = r#"/type != "event" and /success != false"#;
/// Mastodon: keep notifications, and the in-band errors a refused subscription sends.
const MASTODON_SKIP: &str = r#"/event != "notification" and not /error matches ".""#;
/// Home Assistant's handshake: it asks for auth, then accepts commands once it said `auth_ok`.
const HOME_ASSISTANT_AUTH_REQUIRED: &str = r#""type":\s*"auth_required""#;
const HOME_ASSISTANT_AUTH_OK: &str = r#""type":\s*"auth_ok""#;
/// Home Assistant refused the token; it closes cleanly (1000) next, which alone would be retried.
const HOME_ASSISTANT_AUTH_INVALID: &str = r#""type":\s*"auth_invalid""#;
const HOME_ASSISTANT_SUBSCRIBE: &str = r#"{"id":1,"type":"subscribe_events","event_type":"state_changed"}"#;

impl Preset {
    /// Every preset, in the order `--help` lists them.
    pub fn all() -> &'static [Preset] {
        &ALL
    }

    /// The name `--preset` takes, e.g. `home-assistant`.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Ntfy => "ntfy",
            Preset::Gotify => "gotify",
            Preset::HomeAssistant => "home-assistant",
            Preset::Mastodon => "mastodon",
            Preset::Generic => "generic",
        }
    }

    /// One line for `--help`: which URL to give and what the token is.
    pub fn describe(self) -> &'static str {
        match self {
            Preset::Ntfy => {
                "an ntfy topic: give its URL (https://ntfy.sh/mytopic); --token is an access token (tk_…), \
                 only for protected topics"
            }
            Preset::Gotify => {
                "a Gotify server's messages: give its URL (https://gotify.example, with its path prefix if any); \
                 --token is a client token (Clients tab), required"
            }
            Preset::HomeAssistant => {
                "Home Assistant state changes: give the URL you open it at (http://homeassistant.local:8123); \
                 --token is a long-lived access token (your profile, Security tab), required"
            }
            Preset::Mastodon => {
                "Mastodon notifications: give the instance URL (https://mastodon.social), or its streaming \
                 server's if that has a host of its own; --token is an access token with read:notifications, \
                 required"
            }
            Preset::Generic => "any SSE or WebSocket feed, described by the other flags alone; takes no --token",
        }
    }

    /// An address this preset takes, for error messages.
    fn example(self) -> &'static str {
        match self {
            Preset::Ntfy => "https://ntfy.sh/mytopic",
            Preset::Gotify => "https://gotify.example",
            Preset::HomeAssistant => "http://homeassistant.local:8123",
            Preset::Mastodon => "https://mastodon.social",
            Preset::Generic => "https://example.com/events",
        }
    }

    /// Fill in what the service needs, keeping every field the user set (user flags win).
    /// `spec.url` is what the user typed: the service's base or topic URL (http(s) or ws(s)).
    /// `token` is the access token, where the service takes one.
    pub fn apply(self, spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
        let token = token.map(str::trim).filter(|token| !token.is_empty());
        match self {
            Preset::Ntfy => ntfy(spec, token),
            Preset::Gotify => gotify(spec, token),
            Preset::HomeAssistant => home_assistant(spec, token),
            Preset::Mastodon => mastodon(spec, token),
            Preset::Generic => match token {
                None => Ok(spec),
                Some(_) => Err(Error::InvalidSetting {
                    setting: "--token".into(),
                    reason: "the generic preset does not know where a token goes; send it as a header instead, \
                             e.g. -H 'Authorization: Bearer TOKEN'"
                        .into(),
                }),
            },
        }
    }

    /// [`Preset::apply`], after asking the service what only it knows: a Mastodon instance names its
    /// streaming server, which may have a host of its own ([`crate::discover`]). Used by `feed add`; an
    /// address that already names the stream (ws(s)://, or a `/api/v1/streaming` path) is not asked about.
    pub async fn apply_asking(self, mut spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
        let token = token.map(str::trim).filter(|token| !token.is_empty());
        if self == Preset::Mastodon {
            let given = service_url(self, &spec.url)?;
            let asks = matches!(given.scheme(), "http" | "https") && !given.path().contains("/api/v1/streaming");
            let streaming = match asks {
                true => crate::discover::mastodon_streaming(&given, token).await?,
                false => None,
            };
            // A streaming server of its own (another host or port): the feed goes there, named after the instance.
            if let Some(mut streaming) = streaming
                && (host(&streaming) != host(&given)
                    || streaming.port_or_known_default() != given.port_or_known_default())
            {
                spec.name.get_or_insert_with(|| short_name(self, host(&given)));
                streaming.set_query(given.query());
                spec.url = streaming.to_string();
            }
        }
        self.apply(spec, token)
    }

    /// The error for a missing token: what it is and the flag to add.
    fn token_needed(self, what: &str) -> Error {
        Error::InvalidSetting {
            setting: format!("--preset {self}"),
            reason: format!("it needs {what}: add --token TOKEN"),
        }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Preset {
    type Err = UnknownPreset;

    /// A preset's name (`ntfy`, `gotify`, `home-assistant`, `mastodon`, `generic`), in any case.
    fn from_str(text: &str) -> Result<Preset, UnknownPreset> {
        let wanted = text.trim().to_ascii_lowercase();
        let wanted = match wanted.as_str() {
            "homeassistant" | "home_assistant" => "home-assistant",
            other => other,
        };
        ALL.iter()
            .copied()
            .find(|preset| preset.name() == wanted)
            .ok_or_else(|| UnknownPreset(text.trim().to_string()))
    }
}

/// A name that is no preset; the message lists the names there are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownPreset(pub String);

impl fmt::Display for UnknownPreset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = ALL.map(Preset::name).join(", ");
        write!(f, "there is no preset `{}`; the presets are {names}", self.0)
    }
}

impl std::error::Error for UnknownPreset {}

impl From<UnknownPreset> for Error {
    fn from(unknown: UnknownPreset) -> Error {
        Error::InvalidSetting {
            setting: "--preset".into(),
            reason: unknown.to_string(),
        }
    }
}

/// Put a new access token where the feed carries its token (`feed edit --token`): a bearer
/// `Authorization` header, an `X-Gotify-Key` header, an `access_token` field of a message sent after
/// connecting (Home Assistant's auth), or an `access_token` in the URL's query.
pub fn replace_token(spec: &mut FeedSpec, token: &str) -> Result<(), Error> {
    let token = token.trim();
    if token.is_empty() {
        return Err(Error::InvalidSetting {
            setting: "--token".into(),
            reason: "it is empty; give the new token".into(),
        });
    }
    let mut replaced = false;
    for line in &mut spec.headers {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("authorization") && value.trim().to_ascii_lowercase().starts_with("bearer ") {
            *line = format!("{name}: Bearer {token}");
            replaced = true;
        } else if name.eq_ignore_ascii_case("x-gotify-key") {
            *line = format!("{name}: {token}");
            replaced = true;
        }
    }
    for step in &mut spec.send {
        let Ok(mut message) = serde_json::from_str::<serde_json::Value>(&step.text) else {
            continue;
        };
        if let Some(field) = message.get_mut("access_token").filter(|field| field.is_string()) {
            *field = token.into();
            step.text = message.to_string();
            replaced = true;
        }
    }
    if let Ok(mut url) = Url::parse(spec.url.trim())
        && has_query_param(&url, &["access_token"])
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if key == "access_token" {
                    token.to_string()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        spec.url = url.to_string();
        replaced = true;
    }
    if replaced {
        Ok(())
    } else {
        Err(Error::InvalidSetting {
            setting: "--token".into(),
            reason: "this feed carries no token Tidings knows where to put (a bearer Authorization or X-Gotify-Key \
                     header, an access_token in a --send message or in the URL); give the credential with -H or \
                     --send-after instead"
                .into(),
        })
    }
}

fn ntfy(mut spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
    let mut url = service_url(Preset::Ntfy, &spec.url)?;
    let endpoint = if matches!(url.scheme(), "ws" | "wss") {
        "ws"
    } else {
        "sse"
    };
    let base = set_endpoint(&mut url, endpoint, &["sse", "json", "raw", "ws"], true);
    let Some(topic) = base.rsplit('/').next().filter(|topic| !topic.is_empty()) else {
        return Err(Error::InvalidUrl {
            url: spec.url.trim().to_string(),
            reason: format!(
                "it names no topic; give the topic's URL, e.g. {}",
                Preset::Ntfy.example()
            ),
        });
    };
    if !has_query_param(&url, &["since", "si"]) {
        append_query(&mut url, &format!("since={CURSOR_PLACEHOLDER}"));
    }
    spec.name.get_or_insert_with(|| short_name(Preset::Ntfy, topic));
    spec.url = url.to_string();
    if let Some(token) = token {
        add_header(&mut spec.headers, "Authorization", &format!("Bearer {token}"));
    }
    spec.cursor_pointer.get_or_insert_with(|| "/id".into());
    add_rule(&mut spec.skip_when, NTFY_SKIP);
    fill(&mut spec.title, "{{/title ?? /topic}}");
    fill(&mut spec.body, "{{/message ?? /attachment/name}}");
    fill(&mut spec.link, "{{/click ?? /attachment/url}}");
    fill(&mut spec.priority, "{{/priority}}");
    fill(&mut spec.priority_scale, &PriorityScale::NTFY.to_string());
    Ok(spec)
}

fn gotify(mut spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
    let mut url = service_url(Preset::Gotify, &spec.url)?;
    to_websocket(&mut url);
    set_endpoint(&mut url, "stream", &["stream"], false);
    let authorized = has_header(&spec.headers, "X-Gotify-Key")
        || has_header(&spec.headers, "Authorization")
        || has_query_param(&url, &["token"]);
    if !authorized {
        let token = token.ok_or_else(|| {
            Preset::Gotify.token_needed("a client token (create one under Clients in Gotify's web UI)")
        })?;
        spec.headers.push(format!("X-Gotify-Key: {token}"));
    }
    spec.name.get_or_insert_with(|| short_name(Preset::Gotify, host(&url)));
    spec.url = url.to_string();
    spec.cursor_pointer.get_or_insert_with(|| "/id".into());
    fill(&mut spec.title, r#"{{/title ?? "Gotify"}}"#);
    fill(&mut spec.body, "{{/message}}");
    fill(&mut spec.link, "{{/extras/client::notification/click/url}}");
    fill(&mut spec.priority, "{{/priority}}");
    fill(&mut spec.priority_scale, &PriorityScale::GOTIFY.to_string());
    Ok(spec)
}

fn home_assistant(mut spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
    let mut url = service_url(Preset::HomeAssistant, &spec.url)?;
    to_websocket(&mut url);
    set_endpoint(&mut url, "api/websocket", &["api/websocket"], false);
    if spec.send.is_empty() {
        let token = token.ok_or_else(|| {
            Preset::HomeAssistant
                .token_needed("a long-lived access token (create one in your Home Assistant profile, Security tab)")
        })?;
        let token = serde_json::to_string(token).map_err(|e| Error::Internal(e.to_string()))?;
        spec.send = vec![
            SendStep {
                after: Some(HOME_ASSISTANT_AUTH_REQUIRED.into()),
                text: format!(r#"{{"type":"auth","access_token":{token}}}"#),
            },
            SendStep {
                after: Some(HOME_ASSISTANT_AUTH_OK.into()),
                text: HOME_ASSISTANT_SUBSCRIBE.into(),
            },
        ];
    }
    spec.name
        .get_or_insert_with(|| short_name(Preset::HomeAssistant, host(&url)));
    spec.url = url.to_string();
    fill(&mut spec.fail_when, HOME_ASSISTANT_AUTH_INVALID);
    add_rule(&mut spec.skip_when, HOME_ASSISTANT_SKIP);
    fill(
        &mut spec.title,
        "{{/event/data/new_state/attributes/friendly_name ?? /event/data/entity_id ?? /event/event_type}}",
    );
    fill(&mut spec.body, "{{/event/data/new_state/state ?? /error/message}}");
    Ok(spec)
}

fn mastodon(mut spec: FeedSpec, token: Option<&str>) -> Result<FeedSpec, Error> {
    let mut url = service_url(Preset::Mastodon, &spec.url)?;
    to_websocket(&mut url);
    let known = [
        "api/v1/streaming/user/notification",
        "api/v1/streaming/user",
        "api/v1/streaming",
    ];
    set_endpoint(&mut url, "api/v1/streaming", &known, false);
    if !has_query_param(&url, &["stream"]) {
        append_query(&mut url, "stream=user:notification");
    }
    let authorized = has_header(&spec.headers, "Authorization") || has_query_param(&url, &["access_token"]);
    if !authorized {
        let token = token.ok_or_else(|| {
            Preset::Mastodon.token_needed(
                "an access token with the read:notifications scope (Preferences, Development, New application)",
            )
        })?;
        spec.headers.push(format!("Authorization: Bearer {token}"));
    }
    let instance = host(&url);
    let instance = instance.strip_prefix("streaming.").unwrap_or(instance);
    spec.name.get_or_insert_with(|| short_name(Preset::Mastodon, instance));
    spec.url = url.to_string();
    spec.cursor_pointer.get_or_insert_with(|| "/payload#/id".into());
    add_rule(&mut spec.skip_when, MASTODON_SKIP);
    fill(
        &mut spec.title,
        r#"{{/payload#/account/display_name ?? /payload#/account/acct ?? "Mastodon"}} ({{/payload#/type ?? "error"}})"#,
    );
    fill(
        &mut spec.body,
        "{{/payload#/status/content ?? /payload#/account/note ?? /payload#/type ?? /error | text}}",
    );
    fill(&mut spec.link, "{{/payload#/status/url ?? /payload#/account/url}}");
    Ok(spec)
}

/// The service's address as typed, checked enough to build on: a whole http(s) or ws(s) URL with a host.
fn service_url(preset: Preset, text: &str) -> Result<Url, Error> {
    let text = text.trim();
    let bad = |reason: String| Error::InvalidUrl {
        url: text.to_string(),
        reason,
    };
    if !text.contains("://") {
        return Err(bad(format!(
            "it has no scheme; write the whole URL, e.g. {}",
            preset.example()
        )));
    }
    let url = Url::parse(text).map_err(|e| bad(e.to_string()))?;
    if !matches!(url.scheme(), "http" | "https" | "ws" | "wss") {
        return Err(bad(format!(
            "the scheme `{}` is not supported; {preset} takes an http(s):// or ws(s):// URL, e.g. {}",
            url.scheme(),
            preset.example()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it names no host".into()));
    }
    Ok(url)
}

/// `http` becomes `ws` and `https` becomes `wss`; a ws(s) URL stays as it is.
fn to_websocket(url: &mut Url) {
    let scheme = match url.scheme() {
        "http" => "ws",
        "https" => "wss",
        _ => return,
    };
    // Switching between special schemes always succeeds.
    let _ = url.set_scheme(scheme);
}

/// Put `endpoint` at the end of `url`'s path. A path already ending in one of the `known` endpoints has it
/// replaced; any other path is kept as a prefix (a service behind `/gotify/`). With `topic_first`, a known
/// endpoint is only replaced when something comes before it (an ntfy topic may be called `json`).
/// Returns the path before the endpoint, without a trailing `/`.
fn set_endpoint(url: &mut Url, endpoint: &str, known: &[&str], topic_first: bool) -> String {
    let path = url.path().trim_end_matches('/').to_string();
    let stripped = known.iter().find_map(|known| {
        let base = path.strip_suffix(known)?.strip_suffix('/')?;
        (!topic_first || !base.is_empty()).then(|| base.to_string())
    });
    let base = stripped.unwrap_or(path);
    url.set_path(&format!("{base}/{endpoint}"));
    base
}

fn has_query_param(url: &Url, names: &[&str]) -> bool {
    url.query_pairs().any(|(name, _)| names.contains(&name.as_ref()))
}

/// Append `pair` to the query as written, so `{{cursor}}` stays readable.
fn append_query(url: &mut Url, pair: &str) {
    let query = match url.query() {
        Some(query) if !query.is_empty() => format!("{query}&{pair}"),
        _ => pair.to_string(),
    };
    url.set_query(Some(&query));
}

fn host(url: &Url) -> &str {
    url.host_str().unwrap_or("server")
}

fn has_header(headers: &[String], name: &str) -> bool {
    headers.iter().any(|line| {
        line.split_once(':')
            .is_some_and(|(given, _)| given.trim().eq_ignore_ascii_case(name))
    })
}

/// Add a header unless the user gave one of that name.
fn add_header(headers: &mut Vec<String>, name: &str, value: &str) {
    if !has_header(headers, name) {
        headers.push(format!("{name}: {value}"));
    }
}

/// Add a skip rule unless it is there already (a feed edited and given its preset again).
fn add_rule(rules: &mut Vec<String>, rule: &str) {
    if !rules.iter().any(|given| given.trim() == rule) {
        rules.push(rule.to_string());
    }
}

fn fill(field: &mut Option<String>, value: &str) {
    field.get_or_insert_with(|| value.to_string());
}

/// `service/detail`, within the 64 characters a name may have.
fn short_name(preset: Preset, detail: &str) -> String {
    format!("{preset}/{detail}").chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feed::FeedConfig;
    use crate::notify::text::{Presented, present_mapped};
    use crate::quiet::Urgency;
    use crate::template::Subject;

    fn spec(url: &str) -> FeedSpec {
        FeedSpec {
            url: url.into(),
            ..FeedSpec::default()
        }
    }

    fn applied(preset: Preset, url: &str, token: Option<&str>) -> FeedSpec {
        match preset.apply(spec(url), token) {
            Ok(spec) => spec,
            Err(e) => panic!("{preset} {url}: {e}"),
        }
    }

    fn config(spec: &FeedSpec) -> FeedConfig {
        match spec.validate() {
            Ok(config) => config,
            Err(e) => panic!("{}: {e}", spec.url),
        }
    }

    fn show(config: &FeedConfig, event_type: &str, data: &str) -> Presented {
        present_mapped(&config.mapping, &Subject::new(&config.name, event_type, data))
    }

    fn skips(config: &FeedConfig, event_type: &str, data: &str) -> bool {
        config.skips(&Subject::new(&config.name, event_type, data))
    }

    fn error(preset: Preset, url: &str, token: Option<&str>) -> String {
        match preset.apply(spec(url), token) {
            Ok(spec) => panic!("{preset} {url} was accepted: {spec:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn names_parse_and_round_trip() {
        for &preset in Preset::all() {
            assert_eq!(preset.name().parse::<Preset>().ok(), Some(preset));
            assert_eq!(preset.to_string(), preset.name());
            let json = serde_json::to_string(&preset).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", preset.name()));
            assert!(!preset.describe().is_empty());
        }
        assert_eq!(" NTFY ".parse::<Preset>().ok(), Some(Preset::Ntfy));
        assert_eq!("homeassistant".parse::<Preset>().ok(), Some(Preset::HomeAssistant));
        let e = "matrix"
            .parse::<Preset>()
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            e.contains("`matrix`") && e.contains("ntfy, gotify, home-assistant, mastodon, generic"),
            "{e}"
        );
    }

    #[test]
    fn ntfy_urls_become_the_sse_endpoint_resuming_with_since() {
        let rows = [
            (
                "https://ntfy.sh/mytopic",
                "https://ntfy.sh/mytopic/sse?since={{cursor}}",
            ),
            (
                "https://ntfy.sh/mytopic/",
                "https://ntfy.sh/mytopic/sse?since={{cursor}}",
            ),
            (
                "https://ntfy.sh/mytopic/sse",
                "https://ntfy.sh/mytopic/sse?since={{cursor}}",
            ),
            (
                "https://ntfy.sh/mytopic/json?priority=4,5",
                "https://ntfy.sh/mytopic/sse?priority=4,5&since={{cursor}}",
            ),
            ("https://ntfy.sh/a,b/raw", "https://ntfy.sh/a,b/sse?since={{cursor}}"),
            (
                "https://ntfy.sh/mytopic/sse?since=all",
                "https://ntfy.sh/mytopic/sse?since=all",
            ),
            (
                "http://box:8080/ntfy/alerts",
                "http://box:8080/ntfy/alerts/sse?since={{cursor}}",
            ),
            ("https://ntfy.sh/json", "https://ntfy.sh/json/sse?since={{cursor}}"),
            ("wss://ntfy.sh/mytopic", "wss://ntfy.sh/mytopic/ws?since={{cursor}}"),
            ("wss://ntfy.sh/mytopic/ws", "wss://ntfy.sh/mytopic/ws?since={{cursor}}"),
        ];
        for (given, expected) in rows {
            assert_eq!(applied(Preset::Ntfy, given, None).url, expected, "{given}");
        }
        let config = config(&applied(Preset::Ntfy, "https://ntfy.sh/mytopic", None));
        assert_eq!(config.url_for("").as_str(), "https://ntfy.sh/mytopic/sse?since=");
        assert_eq!(
            config.url_for("sPs71M8A2T01").as_str(),
            "https://ntfy.sh/mytopic/sse?since=sPs71M8A2T01"
        );
        let e = error(Preset::Ntfy, "https://ntfy.sh/", None);
        assert!(
            e.contains("names no topic") && e.contains("https://ntfy.sh/mytopic"),
            "{e}"
        );
    }

    #[test]
    fn ntfy_fills_resume_rules_mapping_and_auth() {
        let spec = applied(Preset::Ntfy, "https://ntfy.sh/mytopic", Some(" tk_abc "));
        assert_eq!(spec.name.as_deref(), Some("ntfy/mytopic"));
        assert_eq!(spec.headers, ["Authorization: Bearer tk_abc"]);
        assert_eq!(spec.cursor_pointer.as_deref(), Some("/id"));
        assert_eq!(spec.skip_when, [NTFY_SKIP]);
        assert_eq!(spec.title.as_deref(), Some("{{/title ?? /topic}}"));
        assert_eq!(spec.body.as_deref(), Some("{{/message ?? /attachment/name}}"));
        assert_eq!(spec.link.as_deref(), Some("{{/click ?? /attachment/url}}"));
        assert_eq!(spec.priority.as_deref(), Some("{{/priority}}"));
        assert_eq!(spec.priority_scale.as_deref(), Some("2,5"));
        assert!(spec.send.is_empty());
        assert!(applied(Preset::Ntfy, "https://ntfy.sh/open", None).headers.is_empty());

        let config = config(&spec);
        assert!(skips(&config, "open", r#"{"id":"o","event":"open","topic":"mytopic"}"#));
        assert!(skips(&config, "keepalive", r#"{"id":"k","event":"keepalive"}"#));
        assert!(
            skips(&config, "message", r#"{"id":"k","event":"keepalive"}"#),
            "WebSocket frames"
        );
        let message = r#"{"id":"m1","time":1,"event":"message","topic":"mytopic","title":"Backup",
            "message":"done","priority":5,"click":"https://backup.example/1"}"#;
        assert!(!skips(&config, "message", message));
        assert_eq!(config.cursor_in(message).as_deref(), Some("m1"));
        let shown = show(&config, "message", message);
        assert_eq!((shown.title.as_str(), shown.body.as_str()), ("Backup", "done"));
        assert_eq!(shown.link.as_deref(), Some("https://backup.example/1"));
        assert_eq!(shown.urgency, Urgency::Critical);
        let plain = show(
            &config,
            "message",
            r#"{"id":"m2","topic":"mytopic","message":"hi","priority":2}"#,
        );
        assert_eq!((plain.title.as_str(), plain.urgency), ("mytopic", Urgency::Low));
    }

    #[test]
    fn gotify_streams_over_websocket_with_the_client_token() {
        let rows = [
            ("https://gotify.example", "wss://gotify.example/stream"),
            ("http://gotify.example:8080/", "ws://gotify.example:8080/stream"),
            ("https://example.com/gotify", "wss://example.com/gotify/stream"),
            ("wss://gotify.example/stream", "wss://gotify.example/stream"),
        ];
        for (given, expected) in rows {
            assert_eq!(applied(Preset::Gotify, given, Some("C1")).url, expected, "{given}");
        }
        let spec = applied(Preset::Gotify, "https://gotify.example", Some("CtOkEn"));
        assert_eq!(spec.name.as_deref(), Some("gotify/gotify.example"));
        assert_eq!(spec.headers, ["X-Gotify-Key: CtOkEn"]);
        assert_eq!(spec.cursor_pointer.as_deref(), Some("/id"));
        assert_eq!(spec.title.as_deref(), Some(r#"{{/title ?? "Gotify"}}"#));
        assert_eq!(spec.body.as_deref(), Some("{{/message}}"));
        assert_eq!(spec.link.as_deref(), Some("{{/extras/client::notification/click/url}}"));
        assert_eq!(spec.priority.as_deref(), Some("{{/priority}}"));
        assert_eq!(spec.priority_scale.as_deref(), Some("3,8"));
        assert!(spec.skip_when.is_empty());

        let config = config(&spec);
        let message = r#"{"id":7,"appid":1,"message":"disk full","title":"","priority":8,
            "extras":{"client::notification":{"click":{"url":"https://grafana.example/d/1"}}},
            "date":"2026-01-01T00:00:00Z"}"#;
        let shown = show(&config, "message", message);
        assert_eq!((shown.title.as_str(), shown.body.as_str()), ("Gotify", "disk full"));
        assert_eq!(shown.link.as_deref(), Some("https://grafana.example/d/1"));
        assert_eq!(shown.urgency, Urgency::Critical);
        assert_eq!(config.cursor_in(message).as_deref(), Some("7"));
        let quiet = show(&config, "message", r#"{"id":8,"title":"t","message":"m","priority":0}"#);
        assert_eq!(quiet.urgency, Urgency::Low);
    }

    #[test]
    fn home_assistant_authenticates_then_subscribes_to_state_changes() {
        let rows = [
            (
                "http://homeassistant.local:8123",
                "ws://homeassistant.local:8123/api/websocket",
            ),
            ("https://ha.example/", "wss://ha.example/api/websocket"),
            (
                "ws://homeassistant.local:8123/api/websocket",
                "ws://homeassistant.local:8123/api/websocket",
            ),
        ];
        for (given, expected) in rows {
            assert_eq!(
                applied(Preset::HomeAssistant, given, Some("t")).url,
                expected,
                "{given}"
            );
        }
        let spec = applied(
            Preset::HomeAssistant,
            "http://homeassistant.local:8123",
            Some(r#"ey"J\w"#),
        );
        assert_eq!(spec.name.as_deref(), Some("home-assistant/homeassistant.local"));
        assert!(spec.headers.is_empty());
        assert_eq!(
            spec.send,
            [
                SendStep {
                    after: Some(HOME_ASSISTANT_AUTH_REQUIRED.into()),
                    text: r#"{"type":"auth","access_token":"ey\"J\\w"}"#.into(),
                },
                SendStep {
                    after: Some(HOME_ASSISTANT_AUTH_OK.into()),
                    text: r#"{"id":1,"type":"subscribe_events","event_type":"state_changed"}"#.into(),
                },
            ]
        );
        let auth: serde_json::Value = serde_json::from_str(&spec.send[0].text).unwrap_or_default();
        assert_eq!(auth["access_token"], r#"ey"J\w"#);
        assert_eq!(spec.cursor_pointer, None, "one context id covers many state changes");
        let refused = regex::Regex::new(spec.fail_when.as_deref().unwrap_or("^$")).ok();
        assert!(refused.is_some_and(|r| r.is_match(r#"{"type":"auth_invalid","message":"Invalid access token"}"#)));

        let config = config(&spec);
        let waits: Vec<regex::Regex> = spec
            .send
            .iter()
            .filter_map(|step| regex::Regex::new(step.after.as_deref()?).ok())
            .collect();
        assert!(waits[0].is_match(r#"{"type":"auth_required","ha_version":"2026.11.0"}"#));
        assert!(waits[1].is_match(r#"{"type":"auth_ok","ha_version":"2026.11.0"}"#));
        assert!(!waits[1].is_match(r#"{"type":"auth_invalid","message":"Invalid access token or password"}"#));
        assert!(skips(
            &config,
            "message",
            r#"{"id":1,"type":"result","success":true,"result":null}"#
        ));
        let refused =
            r#"{"id":1,"type":"result","success":false,"error":{"code":"unauthorized","message":"Unauthorized"}}"#;
        assert!(!skips(&config, "message", refused));
        assert_eq!(show(&config, "message", refused).body, "Unauthorized");
        let event = r#"{"id":1,"type":"event","event":{"event_type":"state_changed","data":{"entity_id":"light.kitchen",
            "new_state":{"state":"on","attributes":{"friendly_name":"Kitchen light"}}},"context":{"id":"01H"}}}"#;
        assert!(!skips(&config, "message", event));
        let shown = show(&config, "message", event);
        assert_eq!((shown.title.as_str(), shown.body.as_str()), ("Kitchen light", "on"));
        let unnamed = r#"{"type":"event","event":{"event_type":"state_changed","data":{"entity_id":"sun.sun",
            "new_state":{"state":"below_horizon","attributes":{}}}}}"#;
        assert_eq!(show(&config, "message", unnamed).title, "sun.sun");
    }

    #[test]
    fn mastodon_streams_notifications_decoding_the_payload() {
        let rows = [
            (
                "https://mastodon.social",
                "wss://mastodon.social/api/v1/streaming?stream=user:notification",
            ),
            (
                "wss://streaming.mastodon.social/api/v1/streaming",
                "wss://streaming.mastodon.social/api/v1/streaming?stream=user:notification",
            ),
            (
                "https://m.example/api/v1/streaming/user/notification",
                "wss://m.example/api/v1/streaming?stream=user:notification",
            ),
            (
                "https://m.example/api/v1/streaming?stream=user",
                "wss://m.example/api/v1/streaming?stream=user",
            ),
        ];
        for (given, expected) in rows {
            assert_eq!(applied(Preset::Mastodon, given, Some("t")).url, expected, "{given}");
        }
        let streaming = applied(Preset::Mastodon, "wss://streaming.mastodon.social", Some("t"));
        assert_eq!(streaming.name.as_deref(), Some("mastodon/mastodon.social"));
        let spec = applied(Preset::Mastodon, "https://mastodon.social", Some("tok"));
        assert_eq!(spec.name.as_deref(), Some("mastodon/mastodon.social"));
        assert_eq!(spec.headers, ["Authorization: Bearer tok"]);
        assert_eq!(spec.cursor_pointer.as_deref(), Some("/payload#/id"));
        assert_eq!(spec.skip_when, [MASTODON_SKIP]);

        let config = config(&spec);
        let notification = serde_json::json!({
            "id": "4242", "type": "mention", "created_at": "2026-11-02T10:00:00.000Z",
            "account": {"id": "1", "acct": "ann@example.social", "display_name": "Ann",
                "url": "https://example.social/@ann"},
            "status": {"id": "9", "content": "<p>Hello</p>", "url": "https://example.social/@ann/9"},
        });
        let frame = serde_json::json!({"stream": ["user:notification"], "event": "notification",
            "payload": notification.to_string()})
        .to_string();
        assert!(!skips(&config, "message", &frame));
        assert_eq!(config.cursor_in(&frame).as_deref(), Some("4242"));
        let shown = show(&config, "message", &frame);
        assert_eq!(shown.title, "Ann (mention)");
        assert_eq!(shown.body, "Hello", "HTML is read as text");
        assert_eq!(shown.link.as_deref(), Some("https://example.social/@ann/9"));
        assert!(skips(
            &config,
            "message",
            r#"{"stream":["user"],"event":"delete","payload":"123"}"#
        ));
        assert!(skips(
            &config,
            "message",
            r#"{"stream":["user"],"event":"filters_changed"}"#
        ));
        let refused = r#"{"error":"Error: Access token does not cover required scopes"}"#;
        assert!(!skips(&config, "message", refused), "errors show themselves");
        let shown = show(&config, "message", refused);
        assert_eq!(shown.title, "Mastodon (error)");
        assert_eq!(shown.body, "Error: Access token does not cover required scopes");
    }

    #[test]
    fn a_new_token_goes_where_the_feed_carries_its_token() {
        let mut ha = applied(Preset::HomeAssistant, "http://ha.local:8123", Some("old"));
        replace_token(&mut ha, "new\"one").unwrap();
        let auth: serde_json::Value = serde_json::from_str(&ha.send[0].text).unwrap_or_default();
        assert_eq!(
            (&auth["type"], &auth["access_token"]),
            (&"auth".into(), &"new\"one".into())
        );
        assert_eq!(ha.send[1].text, HOME_ASSISTANT_SUBSCRIBE, "other messages stay");
        let mut gotify = applied(Preset::Gotify, "https://gotify.example", Some("old"));
        replace_token(&mut gotify, "new").unwrap();
        assert_eq!(gotify.headers, ["X-Gotify-Key: new"]);
        let mut mastodon = applied(Preset::Mastodon, "https://m.example", Some("old"));
        mastodon.headers.push("X-Trace: 1".into());
        replace_token(&mut mastodon, " new ").unwrap();
        assert_eq!(mastodon.headers, ["Authorization: Bearer new", "X-Trace: 1"]);
        let mut query = spec("wss://m.example/api/v1/streaming?stream=user&access_token=old");
        replace_token(&mut query, "new").unwrap();
        assert_eq!(
            query.url,
            "wss://m.example/api/v1/streaming?stream=user&access_token=new"
        );
        let mut basic = spec("https://ntfy.sh/t/sse");
        basic.headers = vec!["Authorization: Basic dTpw".into()];
        let e = replace_token(&mut basic, "new").unwrap_err().to_string();
        assert!(e.contains("-H") && e.contains("no token"), "{e}");
        assert_eq!(basic.headers, ["Authorization: Basic dTpw"], "unchanged");
    }

    #[test]
    fn a_missing_token_says_which_flag_to_add() {
        for (preset, url) in [
            (Preset::Gotify, "https://gotify.example"),
            (Preset::HomeAssistant, "http://homeassistant.local:8123"),
            (Preset::Mastodon, "https://mastodon.social"),
        ] {
            for token in [None, Some("  ")] {
                let e = error(preset, url, token);
                assert!(
                    e.contains(&format!("--preset {preset}")) && e.contains("add --token TOKEN"),
                    "{e}"
                );
            }
        }
        // Credentials the user gave another way are enough.
        let mut given = spec("https://gotify.example");
        given.headers = vec!["x-gotify-key: mine".into()];
        let gotify = Preset::Gotify.apply(given, None).map(|s| s.headers);
        assert_eq!(gotify.ok().as_deref(), Some(&["x-gotify-key: mine".to_string()][..]));
        assert!(
            Preset::Mastodon
                .apply(spec("https://m.example/?access_token=x"), None)
                .is_ok()
        );
        let mut given = spec("http://homeassistant.local:8123");
        given.send = vec![SendStep {
            after: Some("auth_required".into()),
            text: "mine".into(),
        }];
        let ha = Preset::HomeAssistant.apply(given, None).map(|s| s.send);
        assert_eq!(ha.ok().map(|send| send.len()), Some(1));
        assert!(
            Preset::Ntfy.apply(spec("https://ntfy.sh/public"), None).is_ok(),
            "public topics"
        );
    }

    #[test]
    fn fields_the_user_set_win() {
        let user = FeedSpec {
            url: "https://ntfy.sh/mytopic".into(),
            name: Some("alerts".into()),
            headers: vec!["authorization: Basic dTpw".into(), "X-Trace: 1".into()],
            cursor_pointer: Some("/time".into()),
            title: Some("{{/topic}}".into()),
            body: Some(String::new()),
            link: Some("{{/actions/0/url}}".into()),
            priority: Some("\"high\"".into()),
            priority_scale: Some("1,4".into()),
            skip_when: vec!["/priority < 3".into()],
            notify_when: vec!["/priority >= 4".into()],
            rate_limit: Some(3),
            ..FeedSpec::default()
        };
        let spec = Preset::Ntfy.apply(user.clone(), Some("tk_ignored")).unwrap_or_default();
        assert_eq!(spec.name, user.name);
        assert_eq!(
            spec.headers, user.headers,
            "the user's Authorization header wins over --token"
        );
        assert_eq!(spec.cursor_pointer, user.cursor_pointer);
        assert_eq!(
            (&spec.title, &spec.body, &spec.link),
            (&user.title, &user.body, &user.link)
        );
        assert_eq!(
            (&spec.priority, &spec.priority_scale),
            (&user.priority, &user.priority_scale)
        );
        assert_eq!(spec.notify_when, user.notify_when);
        assert_eq!(spec.rate_limit, Some(3));
        assert_eq!(
            spec.skip_when,
            ["/priority < 3", NTFY_SKIP],
            "protocol noise is skipped too"
        );
        let again = Preset::Ntfy.apply(spec.clone(), None).unwrap_or_default();
        assert_eq!(again.skip_when, spec.skip_when, "applying twice adds nothing");
        assert_eq!(again.url, spec.url);

        let mut mastodon = spec_with_title("https://mastodon.social", "{{/payload#/type}}");
        mastodon.headers = vec!["Authorization: Bearer own".into()];
        let mastodon = Preset::Mastodon.apply(mastodon, Some("other")).unwrap_or_default();
        assert_eq!(mastodon.title.as_deref(), Some("{{/payload#/type}}"));
        assert_eq!(mastodon.headers, ["Authorization: Bearer own"]);
        let gotify = Preset::Gotify
            .apply(spec_with_title("https://gotify.example", "{{/appid}}"), Some("t"))
            .unwrap_or_default();
        assert_eq!(gotify.title.as_deref(), Some("{{/appid}}"));
    }

    fn spec_with_title(url: &str, title: &str) -> FeedSpec {
        FeedSpec {
            title: Some(title.into()),
            ..spec(url)
        }
    }

    #[test]
    fn every_preset_gives_a_feed_that_validates() {
        for (preset, url) in [
            (Preset::Ntfy, "https://ntfy.sh/mytopic"),
            (Preset::Gotify, "https://gotify.example"),
            (Preset::HomeAssistant, "http://homeassistant.local:8123"),
            (Preset::Mastodon, "https://mastodon.social"),
            (Preset::Generic, "https://example.com/events"),
        ] {
            let config = config(&applied(preset, url, (preset != Preset::Generic).then_some("tok")));
            assert!(
                config.name.starts_with(preset.name()) || preset == Preset::Generic,
                "{}",
                config.name
            );
        }
        let long = format!("https://{}.example", "h".repeat(80));
        let name = applied(Preset::Gotify, &long, Some("t")).name.unwrap_or_default();
        assert_eq!(name.chars().count(), 64);
    }

    #[test]
    fn generic_changes_nothing_and_takes_no_token() {
        let mut given = spec("wss://example.com/ws");
        given.send = vec![SendStep {
            after: None,
            text: "hi".into(),
        }];
        let same = Preset::Generic.apply(given.clone(), None).unwrap_or_default();
        assert_eq!((same.url, same.send, same.name), (given.url, given.send, given.name));
        let e = error(Preset::Generic, "wss://example.com/ws", Some("tok"));
        assert!(
            e.contains("--token") && e.contains("-H 'Authorization: Bearer TOKEN'"),
            "{e}"
        );
    }

    #[test]
    fn bad_addresses_say_what_to_give() {
        let e = error(Preset::HomeAssistant, "homeassistant.local:8123", Some("t"));
        assert!(
            e.contains("no scheme") && e.contains("http://homeassistant.local:8123"),
            "{e}"
        );
        let e = error(Preset::Gotify, "ftp://gotify.example", Some("t"));
        assert!(e.contains("`ftp` is not supported"), "{e}");
        let e = error(Preset::Mastodon, "https://", Some("t"));
        assert!(e.starts_with("invalid feed URL"), "{e}");
    }
}
