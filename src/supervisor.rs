//! Following one feed for as long as it should be followed: connect, read, hand bursts on, reconnect.
//!
//! [`follow`] is the state machine behind every [`FeedState`] a user sees. It owns the resume cursor and
//! advances it only after its [`Downstream`] has safely taken a burst, so after any failure (a dropped
//! connection, a full disk) the next connection resumes from the last event that was really kept. Failures
//! are judged by the source ([`Failure`]); here they become waiting ([`backoff`]), stopping or giving up.
//! The same loop serves `tidings run` (downstream: the store) and `tidings tail` (downstream: stdout).

use std::future::Future;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio_util::sync::CancellationToken;

use crate::backoff;
use crate::feed::{FeedConfig, FeedState};
use crate::source::{Connection, Dispatch, Failure};
use crate::sse::connection::Limits;

/// A connection that stayed up this long counts as healthy even if it carried no event.
const HEALTHY_AFTER: Duration = Duration::from_secs(60);
/// While a burst is being kept, read at most about this many items ahead (the next burst's size bound).
const READ_AHEAD_ITEMS: usize = 50_000;

/// Items that arrived together on one connection, with the cursor after them.
#[derive(Debug, Clone)]
pub struct Burst {
    pub items: Vec<Dispatch>,
    /// The last event id after these items: where to resume once they are kept.
    pub cursor: String,
    /// The cursor before these items.
    pub previous_cursor: String,
    /// When the connection opened and when these arrived (Unix ms).
    pub connected_ms: i64,
    pub received_ms: i64,
}

/// Where a feed's bursts and state changes go.
pub trait Downstream: Send {
    /// Keep a burst. Return only when it is safe (stored, printed), with the cursor to resume from — the
    /// burst's own, or an earlier one when the downstream dropped its last events (skip rules). An error
    /// makes the supervisor drop the connection and resume from the last burst that was kept.
    fn deliver(&mut self, burst: Burst) -> impl Future<Output = Result<String, String>> + Send;
    /// The feed's state changed.
    fn state(&mut self, state: FeedState) -> impl Future<Output = ()> + Send;
}

/// How following a feed ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The shutdown token was cancelled.
    Cancelled,
    /// The server ended the feed (HTTP 204).
    Stopped(String),
    /// Retrying cannot help; the user must act.
    Failed(String),
    /// `reconnect` was off and the stream ended: cleanly (`None`) or with an error.
    Ended(Option<String>),
}

/// What a `follow` needs besides its downstream.
pub struct Follow<'a> {
    pub client: &'a reqwest::Client,
    pub config: &'a FeedConfig,
    /// Resume after this event id ("" for none).
    pub cursor: String,
    pub limits: &'a Limits,
    /// Off for `tail --no-reconnect`: the first ending ends the follow.
    pub reconnect: bool,
    pub shutdown: &'a CancellationToken,
}

/// Unix time in milliseconds, for timestamps a person sees and that are stored.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// Follow one feed until it stops, fails, or `shutdown` is cancelled.
pub async fn follow(mut params: Follow<'_>, downstream: &mut impl Downstream) -> Outcome {
    let mut attempt: u32 = 0;
    let mut reconnection_time: Option<Duration> = None;
    loop {
        downstream.state(FeedState::Connecting { attempt }).await;
        let opened = tokio::select! {
            _ = params.shutdown.cancelled() => return Outcome::Cancelled,
            opened = Connection::open(params.client, params.config, &params.cursor, params.limits) => opened,
        };
        let failure = match opened {
            Err(failure) => failure,
            Ok(mut connection) => {
                let session = read_until_end(&mut params, &mut connection, downstream).await;
                reconnection_time = connection.reconnection_time().or(reconnection_time);
                if session.healthy {
                    attempt = 0;
                }
                match session.end {
                    None => return Outcome::Cancelled,
                    Some(Ok(())) if !params.reconnect => return Outcome::Ended(None),
                    Some(Ok(())) => Failure::retry("the server closed the stream"),
                    Some(Err(failure)) => failure,
                }
            }
        };
        match failure {
            Failure::Stopped { message } => {
                downstream
                    .state(FeedState::Stopped {
                        reason: message.clone(),
                    })
                    .await;
                return Outcome::Stopped(message);
            }
            Failure::Fatal { message } => {
                downstream
                    .state(FeedState::Failed {
                        reason: message.clone(),
                    })
                    .await;
                return Outcome::Failed(message);
            }
            Failure::Retry { message, .. } if !params.reconnect => return Outcome::Ended(Some(message)),
            Failure::Retry { message, retry_after } => {
                attempt = attempt.saturating_add(1);
                let delay = backoff::delay(attempt, reconnection_time, retry_after, fastrand::f64());
                tracing::info!(feed = %params.config.name, attempt, ?delay, "{message}");
                downstream
                    .state(FeedState::Retrying {
                        attempt,
                        next_try_ms: now_ms() + delay.as_millis() as i64,
                        last_error: message,
                    })
                    .await;
                tokio::select! {
                    _ = params.shutdown.cancelled() => return Outcome::Cancelled,
                    _ = tokio::time::sleep(delay) => {}
                }
            }
        }
    }
}

/// Whether to read the next burst while the current one is being kept: not after the end, nor once
/// shutdown was asked for (what was read is still kept), nor past [`READ_AHEAD_ITEMS`].
fn reading_ahead(
    ended: &Option<Option<Result<(), Failure>>>,
    ahead: &[Dispatch],
    shutdown: &CancellationToken,
) -> bool {
    ended.is_none() && ahead.len() < READ_AHEAD_ITEMS && !shutdown.is_cancelled()
}

/// How one live connection went.
struct Session {
    /// `None`: cancelled. `Some(Ok)`: the server closed cleanly. `Some(Err)`: it broke.
    end: Option<Result<(), Failure>>,
    /// It carried events or stayed up long enough: the backoff starts over.
    healthy: bool,
}

async fn read_until_end(
    params: &mut Follow<'_>,
    connection: &mut Connection,
    downstream: &mut impl Downstream,
) -> Session {
    let connected_ms = now_ms();
    let opened_at = tokio::time::Instant::now();
    downstream.state(FeedState::Live { since_ms: connected_ms }).await;
    let mut delivered = false;
    // Items read while the previous burst was being kept: they make up the next burst, so the bursts grow
    // as large as the downstream is slow and the connection is never left unread while a commit runs.
    let mut ahead: Vec<Dispatch> = Vec::new();
    let mut ended: Option<Option<Result<(), Failure>>> = None;
    let end = loop {
        if ahead.is_empty() {
            if let Some(end) = ended.take() {
                break end;
            }
            let next = tokio::select! {
                biased;
                _ = params.shutdown.cancelled() => break None,
                next = connection.next() => next,
            };
            match next {
                Ok(Some(items)) => ahead = items,
                Ok(None) => break Some(Ok(())),
                Err(failure) => break Some(Err(failure)),
            }
            if ahead.is_empty() {
                continue;
            }
        }
        let items = std::mem::take(&mut ahead);
        let cursor = items
            .iter()
            .rev()
            .map(|item| match item {
                Dispatch::Event(event) => event.id.as_str(),
                Dispatch::IdOnly(id) => id.as_str(),
            })
            .next()
            .unwrap_or(&params.cursor)
            .to_string();
        let burst = Burst {
            items,
            previous_cursor: params.cursor.clone(),
            cursor,
            connected_ms,
            received_ms: now_ms(),
        };
        // Delivery is not interrupted by shutdown: a burst that was read is kept before stopping. Meanwhile
        // the connection is read ahead (reading is cancel-safe: an unfinished read loses nothing).
        let delivery = downstream.deliver(burst);
        tokio::pin!(delivery);
        let kept = loop {
            tokio::select! {
                biased;
                kept = &mut delivery => break kept,
                next = connection.next(), if reading_ahead(&ended, &ahead, params.shutdown) => match next {
                    Ok(Some(items)) if ahead.is_empty() => ahead = items,
                    Ok(Some(mut items)) => ahead.append(&mut items),
                    Ok(None) => ended = Some(Some(Ok(()))),
                    Err(failure) => ended = Some(Some(Err(failure))),
                },
            }
        };
        match kept {
            Ok(kept) => params.cursor = kept,
            Err(message) => break Some(Err(Failure::retry(message))),
        }
        delivered = true;
        if params.shutdown.is_cancelled() && ahead.is_empty() {
            break None;
        }
    };
    Session {
        end,
        healthy: delivered || opened_at.elapsed() >= HEALTHY_AFTER,
    }
}
