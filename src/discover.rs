//! Asking a service where its stream is, once, when a feed is added with a preset.
//!
//! Mastodon may serve its streaming API from a host of its own (`streaming.mastodon.social`); its instance
//! API names it, as real clients read it: `GET /api/v2/instance` → `configuration.urls.streaming`, or on a
//! server older than Mastodon 4.0 (404) `GET /api/v1/instance` → `urls.streaming_api`. An answer without a
//! usable address leaves the feed on the instance itself, whose `/api/v1/streaming` then redirects (see
//! [`crate::websocket`]). An instance that cannot be reached is an error: the feed is not added.

use std::time::Duration;

use reqwest::{StatusCode, Url};
use serde_json::Value;

use crate::error::Error;
use crate::sse::connection::CONNECT_TIMEOUT;

/// How long the whole question may take.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(20);
/// An instance document is a few kB; more than this is not one.
const MAX_ANSWER_BYTES: usize = 1024 * 1024;

/// The streaming server a Mastodon instance names, as a WebSocket URL without a path
/// (`wss://streaming.mastodon.social`); `None` when it names none Tidings can use.
/// `instance` is the instance's http(s) address; `token` goes along as a bearer token, to the instance
/// only (instances in limited-federation mode answer only signed-in clients).
pub async fn mastodon_streaming(instance: &Url, token: Option<&str>) -> Result<Option<Url>, Error> {
    let client = reqwest::Client::builder()
        .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(ANSWER_TIMEOUT)
        // reqwest drops the Authorization header on a redirect to another host.
        .redirect(reqwest::redirect::Policy::limited(5))
        .build()
        .map_err(|e| Error::Startup(format!("cannot make an HTTP client: {e}")))?;
    let v2 = ask(&client, instance, "/api/v2/instance", token).await?;
    let found = match v2 {
        Some(document) => document.pointer("/configuration/urls/streaming").cloned(),
        None => ask(&client, instance, "/api/v1/instance", token)
            .await?
            .and_then(|document| document.pointer("/urls/streaming_api").cloned()),
    };
    let Some(Value::String(text)) = found else {
        tracing::warn!("the instance names no streaming server; using its own /api/v1/streaming");
        return Ok(None);
    };
    Ok(streaming_url(instance, &text))
}

/// The instance's JSON document at `path`; `None` when the instance has no such document (or answers
/// something else than JSON), an error when it cannot be reached at all.
async fn ask(
    client: &reqwest::Client,
    instance: &Url,
    path: &str,
    token: Option<&str>,
) -> Result<Option<Value>, Error> {
    let mut url = instance.clone();
    url.set_path(path);
    url.set_query(None);
    let mut request = client.get(url).header("Accept", "application/json");
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let origin = instance.origin().ascii_serialization();
    let unreachable = |why: String| Error::InvalidSetting {
        setting: "--preset mastodon".into(),
        reason: format!(
            "cannot reach the instance at {origin} to ask for its streaming server ({why}); check the address \
             and your connection, or give the streaming server's address instead (e.g. wss://streaming.example)"
        ),
    };
    let response = request.send().await.map_err(|e| unreachable(root_cause(&e)))?;
    match response.status() {
        StatusCode::OK => {}
        StatusCode::NOT_FOUND | StatusCode::GONE => return Ok(None),
        status => {
            tracing::warn!("{origin}{path} answered {status}");
            return Ok(None);
        }
    }
    let body = response.bytes().await.map_err(|e| unreachable(root_cause(&e)))?;
    if body.len() > MAX_ANSWER_BYTES {
        return Ok(None);
    }
    Ok(serde_json::from_slice(&body).ok())
}

/// The streaming address as a WebSocket URL, if it is one Tidings may send the token to: ws(s) or
/// http(s), with a host, and not plain `ws://` for an instance reached over https.
fn streaming_url(instance: &Url, text: &str) -> Option<Url> {
    let mut url = Url::parse(text.trim()).ok()?;
    let scheme = match url.scheme() {
        "wss" | "https" => "wss",
        "ws" | "http" if instance.scheme() == "http" => "ws",
        other => {
            tracing::warn!("the instance names a streaming server over `{other}:`, which Tidings does not use");
            return None;
        }
    };
    let _ = url.set_scheme(scheme);
    url.host_str().filter(|host| !host.is_empty())?;
    url.set_query(None);
    url.set_fragment(None);
    Some(url)
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_addresses_become_websocket_urls_and_never_downgrade() {
        let https = Url::parse("https://mastodon.social").unwrap();
        let http = Url::parse("http://127.0.0.1:3000").unwrap();
        let shown = |instance: &Url, text: &str| streaming_url(instance, text).map(|url| url.to_string());
        assert_eq!(
            shown(&https, "wss://streaming.mastodon.social").as_deref(),
            Some("wss://streaming.mastodon.social/")
        );
        assert_eq!(
            shown(&https, "https://streaming.example/?x=1").as_deref(),
            Some("wss://streaming.example/")
        );
        assert_eq!(shown(&https, "ws://streaming.example"), None, "no token over plain ws");
        assert_eq!(
            shown(&http, "ws://127.0.0.1:4000").as_deref(),
            Some("ws://127.0.0.1:4000/")
        );
        assert_eq!(shown(&https, "ftp://streaming.example"), None);
        assert_eq!(shown(&https, "not a url"), None);
    }
}
