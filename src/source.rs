//! One connection to a feed, whatever protocol it speaks.
//!
//! [`Connection`] opens a feed from its [`FeedConfig`] and a resume cursor, then yields bursts of
//! [`Dispatch`]es until the stream ends or fails. How a failure is handled (retry, give up, stop) is decided
//! here as a [`Failure`]; the supervisor only acts on it. Server-Sent Events is the one kind today; a
//! WebSocket source becomes a second variant of [`Connection`].

use std::time::Duration;

use crate::feed::{FeedConfig, FeedKind};
use crate::sse::connection::{Limits, SseConnection};

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
pub enum Connection {
    Sse(SseConnection),
}

impl Connection {
    /// Connect to `config`'s feed, resuming after `cursor` (the last event id seen; "" for none).
    pub async fn open(
        client: &reqwest::Client,
        config: &FeedConfig,
        cursor: &str,
        limits: &Limits,
    ) -> Result<Connection, Failure> {
        match config.kind {
            FeedKind::Sse => SseConnection::open(client, config, cursor, limits)
                .await
                .map(Connection::Sse),
        }
    }

    /// The next burst: every item that arrived in what could be read at once (may be empty when only
    /// comments or keep-alives came). `Ok(None)` when the server closed the stream cleanly.
    pub async fn next(&mut self) -> Result<Option<Vec<Dispatch>>, Failure> {
        match self {
            Connection::Sse(sse) => sse.next().await,
        }
    }

    /// The server's requested reconnection delay (SSE `retry:`), if it sent one.
    pub fn reconnection_time(&self) -> Option<Duration> {
        match self {
            Connection::Sse(sse) => sse.reconnection_time(),
        }
    }
}
