//! Trying a feed before saving it: connect, collect its first events, and say what went wrong if anything.
//!
//! The desktop app's "Test" button uses this so a user sees what they will get (and what the notifications
//! will say) before adding a feed. Nothing is stored.

use std::time::Duration;

use serde::Serialize;

use crate::error::Error;
use crate::feed::FeedSpec;
use crate::notify::text::present;
use crate::source::{Connection, Dispatch};
use crate::sse::connection::{Limits, http_client};

/// What a trial connection showed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct Probe {
    /// Whether the server answered as a live feed.
    pub live: bool,
    /// The first events, as stored and notified.
    pub events: Vec<ProbeEvent>,
    /// Why the connection failed or ended, if it did.
    pub error: Option<String>,
}

/// One event seen during a trial connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct ProbeEvent {
    pub id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: String,
    pub title: String,
    pub body: String,
}

/// Connect to `spec`'s feed and collect up to `max_events` events, for at most `within`.
/// Only an invalid spec is an `Err`; a failing feed is a [`Probe`] with its `error`.
pub async fn probe(spec: &FeedSpec, max_events: usize, within: Duration) -> Result<Probe, Error> {
    let config = spec.validate()?;
    let client = http_client().map_err(|e| Error::Startup(format!("cannot set up HTTP: {e}")))?;
    let limits = Limits {
        header_timeout: within,
        ..Limits::default()
    };
    let mut probe = Probe {
        live: false,
        events: Vec::new(),
        error: None,
    };
    let deadline = tokio::time::Instant::now() + within;
    let mut connection = match Connection::open(&client, &config, "", &limits).await {
        Ok(connection) => connection,
        Err(failure) => {
            probe.error = Some(failure.message().to_string());
            return Ok(probe);
        }
    };
    probe.live = true;
    while probe.events.len() < max_events {
        let next = match tokio::time::timeout_at(deadline, connection.next()).await {
            Err(_) => break,
            Ok(next) => next,
        };
        match next {
            Ok(Some(items)) => {
                for item in items {
                    let Dispatch::Event(event) = item else { continue };
                    if probe.events.len() == max_events {
                        break;
                    }
                    let shown = present(&config.name, &event.event_type, &event.data);
                    probe.events.push(ProbeEvent {
                        id: (!event.id.is_empty()).then_some(event.id),
                        event_type: event.event_type,
                        data: event.data,
                        title: shown.title,
                        body: shown.body,
                    });
                }
            }
            Ok(None) => {
                probe.error = Some("the server closed the stream".into());
                break;
            }
            Err(failure) => {
                probe.error = Some(failure.message().to_string());
                break;
            }
        }
    }
    Ok(probe)
}
