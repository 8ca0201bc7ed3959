//! The WebSocket opening handshake: the upgrade request with the feed's headers, and what its answer means.
//!
//! Redirects (301, 302, 303, 307, 308) are followed as an SSE feed follows them — Mastodon answers
//! `/api/v1/streaming` with one to its streaming host — at most [`MAX_REDIRECTS`] times. Credentials
//! (headers such as `Authorization`) go only to the feed's own origin: when a redirect leaves it they are
//! dropped, and a refusal after that says so. A loop or too many redirects fail the feed.
//!
//! | answer | what happens |
//! |---|---|
//! | 101 | open |
//! | 3xx with a `Location` | followed |
//! | 401, 403 | failed: check the credentials (or point the feed at the redirect's target) |
//! | 404, 410, other refusals | failed: check the URL |
//! | 408, 429, 5xx, network errors, no answer in time | retried |

use std::collections::HashSet;

use reqwest::Url;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::{HeaderName, HeaderValue, header};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{self, http};

use super::{Socket, describe};
use crate::feed::{FeedConfig, is_sensitive_header};
use crate::source::Failure;
use crate::sse::connection::{Limits, MAX_REDIRECTS, same_origin};

/// Bytes read from the socket at a time. tungstenite's default (128 KiB) is zero-filled on the first read,
/// so every idle channel held 128 KiB; 8 KiB still takes dozens of typical events per read, and a larger
/// message grows the buffer to its size (up to the feed's limit) only while it arrives.
const READ_BUFFER: usize = 8 * 1024;

/// Open the feed's WebSocket, following redirects.
pub(super) async fn connect(config: &FeedConfig, cursor: &str, limits: &Limits) -> Result<Socket, Failure> {
    let mut url = config.url_for(cursor);
    let mut headers: Vec<(HeaderName, HeaderValue)> = config
        .headers
        .iter()
        // Validated when the feed was saved; a header that no longer parses is skipped rather than fatal.
        .filter_map(|h| {
            Some((
                HeaderName::from_bytes(h.name.as_bytes()).ok()?,
                HeaderValue::from_str(&h.value).ok()?,
            ))
        })
        .collect();
    // Where the credentials stopped: the origin a redirect left, and the one it went to.
    let mut dropped_at: Option<Url> = None;
    let mut visited = HashSet::from([url.clone()]);
    let settings = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .max_message_size(Some(limits.max_event_bytes))
        .max_frame_size(Some(limits.max_event_bytes));
    for _ in 0..=MAX_REDIRECTS {
        let mut request = url.as_str().into_client_request().map_err(|e| Failure::Fatal {
            message: format!("cannot make a WebSocket request for {}: {e}", shown(&url)),
        })?;
        for (name, value) in &headers {
            request.headers_mut().append(name.clone(), value.clone());
        }
        let connect = tokio_tungstenite::connect_async_with_config(request, Some(settings), true);
        let response = match tokio::time::timeout(limits.header_timeout, connect).await {
            Err(_) => {
                return Err(Failure::retry(format!(
                    "the server did not complete the WebSocket handshake within {} s",
                    limits.header_timeout.as_secs()
                )));
            }
            Ok(Ok((socket, _))) => return Ok(socket),
            Ok(Err(tungstenite::Error::Http(response))) if response.status().is_redirection() => response,
            Ok(Err(error)) => return Err(refusal(error, config, &url, dropped_at.is_some())),
        };
        let next = redirect_target(&url, &response)?;
        if !same_origin(&url, &next) {
            let before = headers.len();
            headers.retain(|(name, _)| !config.is_secret_header_name(name.as_str()));
            if headers.len() < before {
                dropped_at.get_or_insert_with(|| next.clone());
            }
        }
        if !visited.insert(next.clone()) {
            return Err(Failure::Fatal {
                message: format!(
                    "the server redirects in a loop (back to {}); check the feed's URL",
                    shown(&next)
                ),
            });
        }
        tracing::info!(feed = %config.name, "the WebSocket handshake is redirected to {}", shown(&next));
        url = next;
    }
    Err(Failure::Fatal {
        message: format!("the server redirected more than {MAX_REDIRECTS} times; check the feed's URL"),
    })
}

/// Where a redirect points, as a WebSocket URL (`https` becomes `wss`).
fn redirect_target(from: &Url, response: &http::Response<Option<Vec<u8>>>) -> Result<Url, Failure> {
    let said = said(response.status());
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| Failure::Fatal {
            message: format!("the server redirected ({said}) without saying where to; check the URL"),
        })?;
    let mut next = from.join(location).map_err(|e| Failure::Fatal {
        message: format!("the server redirected ({said}) to an invalid address ({e}); check the URL"),
    })?;
    let scheme = match next.scheme() {
        "http" | "ws" => "ws",
        "https" | "wss" => "wss",
        other => {
            return Err(Failure::Fatal {
                message: format!("the server redirected ({said}) to a `{other}:` address, which is not a WebSocket"),
            });
        }
    };
    // Switching between special schemes always succeeds.
    let _ = next.set_scheme(scheme);
    Ok(next)
}

/// A refused handshake or a network error, judged. `dropped` tells that a redirect left the feed's origin
/// and its credentials with it.
fn refusal(error: tungstenite::Error, config: &FeedConfig, url: &Url, dropped: bool) -> Failure {
    let tungstenite::Error::Http(response) = error else {
        return match crate::limits::explain_if_out_of_files(&error) {
            Some(explained) => Failure::retry(explained),
            None => Failure::retry(format!("cannot connect: {}", describe(&error))),
        };
    };
    let said = said(response.status());
    match response.status().as_u16() {
        401 | 403 if dropped => Failure::Fatal {
            message: format!(
                "the server refused the WebSocket ({said}) at {}, where a redirect led; the feed's credentials \
                 are only sent to its own origin, so point the feed there: `tidings feed edit {:?} --url {}`",
                shown(url),
                config.name,
                shown(url)
            ),
        },
        401 | 403 => Failure::Fatal {
            message: format!(
                "the server refused the WebSocket ({said}); check the feed's credentials (its -H headers)"
            ),
        },
        404 | 410 => Failure::Fatal {
            message: format!("the server has no WebSocket at this URL ({said}); check the URL"),
        },
        408 | 429 | 500..=599 => Failure::retry(format!("the server refused the WebSocket ({said})")),
        _ => Failure::Fatal {
            message: format!("the server answered {said} instead of opening a WebSocket; check the URL"),
        },
    }
}

fn said(status: http::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// A URL as shown to a person or a log: credential-like query values (`access_token=…`) hidden.
fn shown(url: &Url) -> String {
    let mut url = url.clone();
    if url.query_pairs().any(|(key, _)| is_sensitive_header(&key)) {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(key, value)| {
                let value = if is_sensitive_header(&key) {
                    "…".into()
                } else {
                    value.into_owned()
                };
                (key.into_owned(), value)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let _ = url.set_password(None);
    url.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shown_urls_hide_tokens() {
        let url = Url::parse("wss://u:pw@m.example/api/v1/streaming?stream=user&access_token=abc").unwrap();
        let text = shown(&url);
        assert!(!text.contains("abc") && !text.contains("pw"), "{text}");
        assert!(text.contains("stream=user"), "{text}");
    }

    #[test]
    fn redirects_become_websocket_urls() {
        let from = Url::parse("wss://m.example/api/v1/streaming?stream=user").unwrap();
        let answer = |location: &str| {
            let response = http::Response::builder()
                .status(301)
                .header(header::LOCATION, location)
                .body(None)
                .unwrap();
            redirect_target(&from, &response).map(|url| url.to_string())
        };
        assert_eq!(
            answer("https://streaming.m.example/api/v1/streaming?stream=user").unwrap(),
            "wss://streaming.m.example/api/v1/streaming?stream=user"
        );
        assert_eq!(answer("/other").unwrap(), "wss://m.example/other");
        assert_eq!(answer("http://plain.example/x").unwrap(), "ws://plain.example/x");
        let ftp = answer("ftp://m.example/").unwrap_err();
        assert!(ftp.message().contains("not a WebSocket"), "{ftp:?}");
    }
}
