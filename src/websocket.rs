//! One WebSocket channel: the handshake, the messages a feed sends after connecting, liveness, and how close
//! codes are judged.
//!
//! - Handshake ([`handshake`]): the feed's headers go on the upgrade request; redirects are followed with
//!   the SSE rules; 401, 403 and 404 fail the feed, other refusals and network errors are retried.
//! - After connecting, the feed's [`SendStep`]s go out in order; a step with `after` first waits for a server
//!   frame matching its regular expression (Home Assistant sends `auth_required` before it takes `auth`).
//!   `{{cursor}}` in a message becomes the feed's cursor. Frames that arrive before the last step are
//!   handshake, not events.
//! - Every message after that is an event: text as is, binary as base64 (type `binary`).
//! - A text frame matching the feed's `--fail-when` (a refused login, e.g. Home Assistant's `auth_invalid`),
//!   during the handshake or after it, fails the feed with what the server said.
//! - Liveness: a ping every `ping_interval` (counted again from each ping the server sends: answering it
//!   already proves the channel works); no frame at all (a pong included) for the stall timeout means a
//!   dead connection. Pongs to the server's pings are flushed at once.
//! - Close codes: 1000 and 1001 end the stream cleanly (reconnect); 1006, 1011, 1012, 1013 and 1014 are
//!   retried; policy closes (1008, 4000–4999) and the rest fail the feed with the code and reason.

mod handshake;

use std::time::Duration;

use base64::Engine as _;
use futures_util::{FutureExt, SinkExt, StreamExt};
use regex::Regex;
use tokio::net::TcpStream;
use tokio::time::{Instant, MissedTickBehavior};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::feed::{CURSOR_PLACEHOLDER, FeedConfig};
use crate::notify::text::{clean, shorten};
use crate::source::{Dispatch, Event, Failure};
use crate::sse::connection::Limits;

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How much of a server's frame a `--fail-when` failure quotes.
const QUOTED_CHARS: usize = 200;

/// An open WebSocket channel.
pub struct WsConnection {
    socket: Socket,
    stall_timeout: Duration,
    ping: tokio::time::Interval,
    /// When the last frame of any kind arrived: silence is measured from here, not from the last ping.
    last_frame: Instant,
    /// A text frame matching this fails the feed (`--fail-when`).
    fail_when: Option<Regex>,
    /// The feed's name, for what to do when it fails.
    name: String,
    /// How the stream ended, when that was read together with events still to be handed on.
    ended: Option<Result<(), Failure>>,
    /// A ping came in the middle of a burst: its pong goes out before the next read.
    pong_owed: bool,
}

/// At most this many messages already received go into one burst.
const BURST_MESSAGES: usize = 8192;

/// What one read result means for the burst being gathered.
enum Taken {
    More,
    /// A ping arrived: its pong must go out now.
    Flush,
    End(Result<(), Failure>),
}

impl WsConnection {
    /// Connect, then send the feed's messages (waiting where a step asks to).
    pub async fn open(config: &FeedConfig, cursor: &str, limits: &Limits) -> Result<Self, Failure> {
        let fail_when = config
            .fail_when
            .as_deref()
            .map(Regex::new)
            .transpose()
            .map_err(|e| Failure::Fatal {
                message: format!("invalid --fail-when pattern: {e}; change it with `tidings feed edit`"),
            })?;
        let socket = handshake::connect(config, cursor, limits).await?;
        let mut ping = tokio::time::interval_at(Instant::now() + config.ping_interval, config.ping_interval);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut connection = WsConnection {
            socket,
            stall_timeout: config.stall_timeout,
            ping,
            last_frame: Instant::now(),
            ended: None,
            pong_owed: false,
            fail_when,
            name: config.name.clone(),
        };
        connection.send_steps(config, cursor, limits.header_timeout).await?;
        Ok(connection)
    }

    async fn send_steps(&mut self, config: &FeedConfig, cursor: &str, wait: Duration) -> Result<(), Failure> {
        for step in &config.send {
            if let Some(pattern) = &step.after {
                let pattern = Regex::new(pattern).map_err(|e| Failure::Fatal {
                    message: format!("invalid --send-after pattern: {e}"),
                })?;
                self.wait_for(&pattern, wait).await?;
            }
            let text = step.text.replace(CURSOR_PLACEHOLDER, cursor);
            self.socket
                .send(Message::text(text))
                .await
                .map_err(|e| Failure::retry(format!("cannot send to the WebSocket: {}", describe(&e))))?;
        }
        Ok(())
    }

    /// Read handshake frames until one matches `pattern`.
    async fn wait_for(&mut self, pattern: &Regex, wait: Duration) -> Result<(), Failure> {
        let deadline = Instant::now() + wait;
        loop {
            let frame = tokio::time::timeout_at(deadline, self.socket.next())
                .await
                .map_err(|_| {
                    Failure::retry(format!(
                        "the server sent nothing matching `{pattern}` within {} s",
                        wait.as_secs()
                    ))
                })?;
            match frame {
                Some(Ok(Message::Text(text))) if self.refuses(&text) => return Err(self.refused(&text)),
                Some(Ok(Message::Text(text))) if pattern.is_match(&text) => return Ok(()),
                Some(Ok(Message::Close(frame))) => return Err(closed(frame)),
                Some(Ok(Message::Ping(_))) => self.flush().await?,
                Some(Ok(other)) => tracing::debug!("handshake frame ignored: {} bytes", other.len()),
                Some(Err(error)) => return Err(read_failure(error)),
                None => return Err(Failure::retry("the server closed the WebSocket during the handshake")),
            }
        }
    }

    /// The next event(s): every message already received, up to [`BURST_MESSAGES`]; `Ok(None)` when the
    /// server closed cleanly (1000, 1001). Cancel-safe: dropped while waiting, it has taken nothing.
    pub async fn next(&mut self) -> Result<Option<Vec<Dispatch>>, Failure> {
        if let Some(ended) = self.ended.take() {
            return ended.map(|()| None);
        }
        if self.pong_owed {
            self.flush().await?;
            self.pong_owed = false;
        }
        let mut items = Vec::new();
        loop {
            let silent_until = self.last_frame + self.stall_timeout;
            let frame = tokio::select! {
                frame = self.socket.next() => Ok(frame),
                _ = tokio::time::sleep_until(silent_until) => Err(()),
                _ = self.ping.tick() => {
                    self.socket
                        .send(Message::Ping(Default::default()))
                        .await
                        .map_err(|e| Failure::retry(format!("cannot ping the server: {}", describe(&e))))?;
                    continue;
                }
            };
            let frame = frame.map_err(|()| {
                Failure::retry(format!(
                    "no frame and no pong for {} s; reconnecting",
                    self.stall_timeout.as_secs()
                ))
            })?;
            self.last_frame = Instant::now();
            match self.take(frame, &mut items) {
                Taken::More => {}
                Taken::Flush => self.flush().await?,
                Taken::End(end) => return end.map(|()| None),
            }
            if !items.is_empty() {
                break;
            }
        }
        // Whatever else is already here goes into the same burst (the end, if it came, waits for the next call).
        // It is read without waiting: its frames came as good as when `last_frame` was set above.
        while items.len() < BURST_MESSAGES {
            let Some(frame) = self.socket.next().now_or_never() else {
                break;
            };
            match self.take(frame, &mut items) {
                Taken::More => {}
                Taken::Flush => {
                    // Not awaited here: dropping this future while it waits would lose `items`.
                    self.pong_owed = true;
                    break;
                }
                Taken::End(end) => {
                    self.ended = Some(end);
                    break;
                }
            }
        }
        Ok(Some(items))
    }

    /// Take one read result: an event goes into `items`.
    fn take(&mut self, frame: Option<Result<Message, tungstenite::Error>>, items: &mut Vec<Dispatch>) -> Taken {
        let message = match frame {
            None => return Taken::End(Err(Failure::retry("the connection ended without a close frame (1006)"))),
            Some(Err(error)) => return Taken::End(Err(read_failure(error))),
            Some(Ok(message)) => message,
        };
        match message {
            Message::Text(text) if self.refuses(&text) => return Taken::End(Err(self.refused(&text))),
            Message::Text(text) => items.push(event("message", text.as_str().to_string())),
            Message::Binary(bytes) => {
                items.push(event(
                    "binary",
                    base64::engine::general_purpose::STANDARD.encode(&bytes),
                ));
            }
            Message::Ping(_) => {
                // The server checks the channel itself: once we answer, it is known to work both ways, so
                // our own ping waits a full interval (thousands of idle channels ping half as often).
                self.ping.reset();
                return Taken::Flush;
            }
            Message::Pong(_) | Message::Frame(_) => {}
            Message::Close(frame) => {
                return Taken::End(match frame.as_ref().map(|f| u16::from(f.code)) {
                    None | Some(1000 | 1001) => Ok(()),
                    Some(_) => Err(closed(frame)),
                });
            }
        }
        Taken::More
    }

    /// Whether a text frame matches the feed's `--fail-when`.
    fn refuses(&self, text: &str) -> bool {
        self.fail_when.as_ref().is_some_and(|pattern| pattern.is_match(text))
    }

    /// The feed fails with what the server said (untrusted: cleaned and cut short) and what to do.
    fn refused(&self, text: &str) -> Failure {
        let said = shorten(clean(text, false).trim(), QUOTED_CHARS);
        let name = &self.name;
        Failure::Fatal {
            message: format!(
                "the server said `{said}`, which matches the feed's --fail-when, so it is not retried; \
                 fix what the server refuses and the feed starts again, e.g. a new token: \
                 `tidings feed edit {name:?} --token NEW_TOKEN`"
            ),
        }
    }

    /// Send queued control frames (the pong to a ping) now, even when idle.
    async fn flush(&mut self) -> Result<(), Failure> {
        self.socket
            .flush()
            .await
            .map_err(|e| Failure::retry(format!("cannot answer the server's ping: {}", describe(&e))))
    }
}

/// A message becomes an event; its id (cursor) is filled in by the caller from the feed's cursor pointer.
fn event(event_type: &str, data: String) -> Dispatch {
    Dispatch::Event(Event {
        id: String::new(),
        id_in_block: false,
        event_type: event_type.to_string(),
        data,
    })
}

fn read_failure(error: tungstenite::Error) -> Failure {
    match error {
        tungstenite::Error::Capacity(capacity) => Failure::retry(format!(
            "a message larger than Tidings keeps in memory arrived ({capacity})"
        )),
        other => Failure::retry(format!("the connection broke: {}", describe(&other))),
    }
}

/// How a close frame with a code other than 1000/1001 is judged.
fn closed(frame: Option<CloseFrame>) -> Failure {
    let Some(frame) = frame else {
        return Failure::retry("the server closed the WebSocket without a code");
    };
    let code = u16::from(frame.code);
    let reason = if frame.reason.is_empty() {
        String::new()
    } else {
        format!(": {}", frame.reason.as_str())
    };
    let message = format!("the server closed the WebSocket ({code}{reason})");
    match code {
        1000 | 1001 | 1006 | 1011 | 1012 | 1013 | 1014 => Failure::retry(message),
        _ => Failure::Fatal { message },
    }
}

/// The innermost cause of an error, without the URL (its query may hold a token).
fn describe(error: &tungstenite::Error) -> String {
    let mut cause: &dyn std::error::Error = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
