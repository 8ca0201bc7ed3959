//! One HTTP connection to an event stream: the request, the response policy, and the read loop that feeds
//! [`super::parser`].
//!
//! Tidings is a long-lived subscriber, so it retries more than a browser would:
//!
//! | response | what happens |
//! |---|---|
//! | 200 with `text/event-stream` (parameters ignored) | live |
//! | 204 | the server ended the feed: [`Failure::Stopped`] |
//! | 301, 302, 303, 307, 308 | followed (at most 10); credentials are dropped when the origin changes |
//! | 408, 429, 5xx, network errors | [`Failure::Retry`], honouring `Retry-After` |
//! | 200 with another Content-Type, 401, 403, 404, 410, anything else | [`Failure::Fatal`] |
//!
//! Reading: no bytes at all (not even a comment) for the feed's stall timeout means a dead connection;
//! a line or event over the size limit ends the connection rather than growing memory.

use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use reqwest::header::{self, HeaderMap, HeaderName, HeaderValue};
use reqwest::{Client, Response, StatusCode, Url};

use super::parser::{DEFAULT_MAX_BYTES, Dispatch, Parser};
use crate::feed::FeedConfig;
use crate::source::Failure;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 10;
/// How long the server may take to answer with its headers.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// How long opening a TCP (and TLS) connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
/// How much to read, at most, into one burst before handing it on.
const BURST_BYTES: usize = 1024 * 1024;

/// Limits applied to every connection.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The longest line, and the largest event, kept in memory.
    pub max_event_bytes: usize,
    pub header_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_event_bytes: DEFAULT_MAX_BYTES,
            header_timeout: HEADER_TIMEOUT,
        }
    }
}

/// The HTTP client every feed shares: rustls, proxies from the environment, our own redirect handling.
pub fn http_client() -> Result<Client, reqwest::Error> {
    Client::builder()
        .user_agent(concat!("Tidings/", env!("CARGO_PKG_VERSION")))
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .tcp_keepalive(Duration::from_secs(60))
        .build()
}

/// A live event stream.
pub struct SseConnection {
    response: Response,
    parser: Parser,
    stall_timeout: Duration,
    /// Set when the stream ended (or broke) while a burst was being gathered: reported on the next call,
    /// after the burst's events are handed on.
    ended: Option<Result<(), Failure>>,
}

impl SseConnection {
    /// Send the request, follow redirects, and check that a live event stream answered.
    pub async fn open(client: &Client, config: &FeedConfig, cursor: &str, limits: &Limits) -> Result<Self, Failure> {
        let mut url = config.url_for(cursor);
        let mut headers = request_headers(config, cursor);
        for _ in 0..=MAX_REDIRECTS {
            let request = client.get(url.clone()).headers(headers.clone()).send();
            let response = match tokio::time::timeout(limits.header_timeout, request).await {
                Err(_) => {
                    return Err(Failure::retry(format!(
                        "the server did not answer within {} s",
                        limits.header_timeout.as_secs()
                    )));
                }
                Ok(Err(error)) => return Err(Failure::retry(network_error(&error))),
                Ok(Ok(response)) => response,
            };
            match classify(&response, SystemTime::now()) {
                Answer::Live => {
                    return Ok(SseConnection {
                        response,
                        parser: Parser::new()
                            .with_max_bytes(limits.max_event_bytes)
                            .with_last_event_id(cursor),
                        stall_timeout: config.stall_timeout,
                        ended: None,
                    });
                }
                Answer::Redirect => {
                    let next = redirect_target(&url, &response)?;
                    if !same_origin(&url, &next) {
                        let credentials: Vec<HeaderName> = headers
                            .keys()
                            .filter(|name| config.is_secret_header_name(name.as_str()))
                            .cloned()
                            .collect();
                        for name in credentials {
                            headers.remove(name);
                        }
                    }
                    url = next;
                }
                Answer::Failure(failure) => return Err(failure),
            }
        }
        Err(Failure::Fatal {
            message: format!("the server redirected more than {MAX_REDIRECTS} times; check the feed's URL"),
        })
    }

    /// The next burst of dispatched items; `Ok(None)` once the server closed the stream cleanly.
    pub async fn next(&mut self) -> Result<Option<Vec<Dispatch>>, Failure> {
        if let Some(ended) = self.ended.take() {
            return ended.map(|()| None);
        }
        let first = match tokio::time::timeout(self.stall_timeout, self.response.chunk()).await {
            Err(_) => {
                return Err(Failure::retry(format!(
                    "nothing arrived for {} s (not even a keep-alive); reconnecting",
                    self.stall_timeout.as_secs()
                )));
            }
            Ok(Err(error)) => return Err(Failure::retry(broken_stream(&error))),
            Ok(Ok(None)) => return Ok(None),
            Ok(Ok(Some(bytes))) => bytes,
        };
        let mut items = Vec::new();
        self.push(&first, &mut items)?;
        // Take whatever else is already buffered, without waiting, so a flood becomes few large bursts.
        let mut gathered = first.len();
        while gathered < BURST_BYTES {
            // `chunk()` only completes with data that was taken, so dropping it while pending loses nothing.
            match self.response.chunk().now_or_never() {
                None => break,
                Some(Ok(Some(bytes))) => {
                    gathered += bytes.len();
                    if let Err(failure) = self.push(&bytes, &mut items) {
                        self.ended = Some(Err(failure));
                        break;
                    }
                }
                Some(Ok(None)) => {
                    self.ended = Some(Ok(()));
                    break;
                }
                Some(Err(error)) => {
                    self.ended = Some(Err(Failure::retry(broken_stream(&error))));
                    break;
                }
            }
        }
        Ok(Some(items))
    }

    /// The server's latest `retry:` value.
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.parser.retry().map(Duration::from_millis)
    }

    fn push(&mut self, bytes: &[u8], items: &mut Vec<Dispatch>) -> Result<(), Failure> {
        self.parser
            .push(bytes, items)
            .map_err(|error| Failure::retry(error.to_string()))
    }
}

fn request_headers(config: &FeedConfig, cursor: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(header::ACCEPT, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    for h in &config.headers {
        // Validated when the feed was saved; a header that no longer parses is skipped rather than fatal.
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(h.name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            headers.append(name, value);
        }
    }
    if !cursor.is_empty() {
        match HeaderValue::from_str(cursor) {
            Ok(value) => {
                headers.insert(HeaderName::from_static("last-event-id"), value);
            }
            Err(_) => tracing::warn!(
                feed = %config.name,
                "the last event id holds characters HTTP cannot carry; resuming without Last-Event-ID"
            ),
        }
    }
    headers
}

/// What a response means for the feed.
enum Answer {
    Live,
    Redirect,
    Failure(Failure),
}

fn classify(response: &Response, now: SystemTime) -> Answer {
    let status = response.status();
    let code = status.as_u16();
    let said = describe_status(status);
    match code {
        200 => match content_type(response) {
            Some(essence) if essence == "text/event-stream" => Answer::Live,
            Some(other) => Answer::Failure(Failure::Fatal {
                message: format!(
                    "the server answered {other}, not an event stream (text/event-stream); check that the URL is the stream's, not a web page"
                ),
            }),
            None => Answer::Failure(Failure::Fatal {
                message: "the server answered without a Content-Type, not as an event stream (text/event-stream); check the URL".into(),
            }),
        },
        204 => Answer::Failure(Failure::Stopped {
            message: format!("the server ended the feed ({said}) and asks clients not to reconnect"),
        }),
        301 | 302 | 303 | 307 | 308 => Answer::Redirect,
        408 | 429 | 500..=599 => Answer::Failure(Failure::Retry {
            message: format!("the server answered {said}"),
            retry_after: response
                .headers()
                .get(header::RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_retry_after(value, now)),
        }),
        401 | 403 => Answer::Failure(Failure::Fatal {
            message: format!("the server refused access ({said}); check the feed's credentials (its -H headers)"),
        }),
        404 | 410 => Answer::Failure(Failure::Fatal {
            message: format!("the server has no feed at this URL ({said}); check the URL"),
        }),
        _ => Answer::Failure(Failure::Fatal {
            message: format!("the server answered {said}, which is not an event stream"),
        }),
    }
}

fn describe_status(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("HTTP {} {reason}", status.as_u16()),
        None => format!("HTTP {}", status.as_u16()),
    }
}

/// The media type without parameters, lowercased: `text/event-stream; charset=utf-8` → `text/event-stream`.
fn content_type(response: &Response) -> Option<String> {
    let value = response.headers().get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = value.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    (!essence.is_empty()).then_some(essence)
}

/// `Retry-After` is either whole seconds or an HTTP date.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = httpdate::parse_http_date(value).ok()?;
    Some(at.duration_since(now).unwrap_or(Duration::ZERO))
}

fn redirect_target(from: &Url, response: &Response) -> Result<Url, Failure> {
    let location = response
        .headers()
        .get(header::LOCATION)
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| Failure::Fatal {
            message: format!(
                "the server redirected ({}) without saying where to; check the URL",
                describe_status(response.status())
            ),
        })?;
    let next = from.join(location).map_err(|e| Failure::Fatal {
        message: format!("the server redirected to an invalid address ({e})"),
    })?;
    match next.scheme() {
        "http" | "https" => Ok(next),
        other => Err(Failure::Fatal {
            message: format!("the server redirected to a `{other}:` address, which is not an event stream"),
        }),
    }
}

/// Same scheme, host and port: where a feed's credentials may follow a redirect (WebSocket feeds too).
pub(crate) fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host_str() == b.host_str() && a.port_or_known_default() == b.port_or_known_default()
}

/// The innermost cause of a network error, without the URL (it may carry a token in its query).
fn network_error(error: &reqwest::Error) -> String {
    if let Some(explained) = crate::limits::explain_if_out_of_files(error) {
        return explained;
    }
    let root = root_cause(error);
    if error.is_connect() {
        format!("cannot connect: {root}")
    } else if error.is_timeout() {
        "the connection timed out".to_string()
    } else {
        root
    }
}

fn broken_stream(error: &reqwest::Error) -> String {
    format!("the connection broke: {}", root_cause(error))
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    let text = cause.to_string();
    if text.is_empty() { "unknown error".into() } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_takes_seconds_or_a_date() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(parse_retry_after("120", now), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:07 GMT", now),
            Some(Duration::from_secs(30))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
    }

    #[test]
    fn origins_differ_by_scheme_host_or_port() {
        let url = |s: &str| Url::parse(s).unwrap();
        assert!(same_origin(
            &url("https://a.example/x"),
            &url("https://a.example:443/y")
        ));
        assert!(!same_origin(
            &url("http://a.example:8080/"),
            &url("https://a.example:8080/")
        ));
        assert!(!same_origin(&url("https://a.example/"), &url("https://b.example/")));
        assert!(!same_origin(&url("http://a.example:1/"), &url("http://a.example:2/")));
    }
}
