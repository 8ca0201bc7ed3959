//! One connection to a feed, whatever protocol it speaks.
//!
//! [`Connection`] opens a feed from its [`FeedConfig`] and a resume cursor, then yields bursts of
//! [`Dispatch`]es until the stream ends or fails. How a failure is handled (retry, give up, stop) is decided
//! here as a [`Failure`]; the supervisor only acts on it. Two kinds: Server-Sent Events
//! ([`crate::sse::connection`]) and WebSocket channels ([`crate::websocket`]). A feed that names a cursor
//! pointer gets each event's id (its cursor, and its key for storing it once) from the event's JSON data.

use std::time::Duration;

use crate::feed::{FeedConfig, FeedKind, cursor_by};
use crate::sse::connection::{Limits, SseConnection};
use crate::template::Pointer;
use crate::websocket::WsConnection;

pub use crate::sse::parser::{Dispatch, Event};

/// Why a connection could not be opened, or ended badly — and so what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Worth another try after a delay; `retry_after` is the server's own request, if it made one.
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Trying again cannot help (wrong URL, no access, not an event stream): wait for the user.
    Fatal { message: String },
    /// The server ended the feed on purpose (SSE: HTTP 204).
    Stopped { message: String },
}

impl Failure {
    /// A failure worth retrying, with no request from the server about when.
    pub fn retry(message: impl Into<String>) -> Failure {
        Failure::Retry {
            message: message.into(),
            retry_after: None,
        }
    }

    /// What a person reads about it.
    pub fn message(&self) -> &str {
        match self {
            Failure::Retry { message, .. } | Failure::Fatal { message } | Failure::Stopped { message } => message,
        }
    }
}

/// An open connection to a feed.
pub struct Connection {
    kind: Kind,
    /// Where each event's cursor comes from when the feed names a JSON pointer (`--cursor-pointer /id`).
    cursor_pointer: Option<Pointer>,
}

/// Boxed: the two connections differ a lot in size, and there is one per feed.
enum Kind {
    Sse(Box<SseConnection>),
    WebSocket(Box<WsConnection>),
}

impl Connection {
    /// Connect to `config`'s feed, resuming after `cursor` (the last event id seen; "" for none).
    pub async fn open(
        client: &reqwest::Client,
        config: &FeedConfig,
        cursor: &str,
        limits: &Limits,
    ) -> Result<Connection, Failure> {
        let kind = match config.kind {
            FeedKind::Sse => Kind::Sse(Box::new(SseConnection::open(client, config, cursor, limits).await?)),
            FeedKind::WebSocket => Kind::WebSocket(Box::new(WsConnection::open(config, cursor, limits).await?)),
        };
        Ok(Connection {
            kind,
            // Checked when the feed was added: a pointer that does not parse is no pointer.
            cursor_pointer: config
                .cursor_pointer
                .as_deref()
                .and_then(|text| Pointer::parse(text).ok()),
        })
    }

    /// The next burst: every item that arrived in what could be read at once (may be empty when only
    /// comments or keep-alives came). `Ok(None)` when the server closed the stream cleanly.
    pub async fn next(&mut self) -> Result<Option<Vec<Dispatch>>, Failure> {
        let mut items = match &mut self.kind {
            Kind::Sse(sse) => sse.next().await?,
            Kind::WebSocket(ws) => ws.next().await?,
        };
        if let (Some(pointer), Some(items)) = (&self.cursor_pointer, items.as_mut()) {
            for item in items.iter_mut() {
                if let Dispatch::Event(event) = item
                    && let Some(cursor) = cursor_by(pointer, &event.data)
                {
                    event.id = cursor;
                    event.id_in_block = true;
                }
            }
        }
        Ok(items)
    }

    /// The server's requested reconnection delay (SSE `retry:`), if it sent one.
    pub fn reconnection_time(&self) -> Option<Duration> {
        match &self.kind {
            Kind::Sse(sse) => sse.reconnection_time(),
            Kind::WebSocket(_) => None,
        }
    }
}
