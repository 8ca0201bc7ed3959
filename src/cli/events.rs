//! `tidings events`: list or search stored events, newest first.

use std::process::ExitCode;
use std::time::{Duration, UNIX_EPOCH};

use clap::Args;
use serde::Serialize;
use tidings::store::events::{EventQuery, StoredEvent};
use tidings::{Engine, Error};

#[derive(Debug, Args)]
pub struct EventsArgs {
    /// Only this feed's events
    #[arg(long, value_name = "NAME")]
    feed: Option<String>,
    /// Full-text search over title, body and data (every word must match)
    #[arg(long, value_name = "TEXT")]
    search: Option<String>,
    /// At most this many events
    #[arg(long, default_value_t = 50)]
    limit: usize,
    /// Only unread events
    #[arg(long)]
    unread: bool,
    /// One JSON object per line: {"feed","id","type","data","received_at","title","body","read"}
    #[arg(long)]
    json: bool,
}

/// One event as printed with --json.
#[derive(Serialize)]
struct Line<'a> {
    feed: &'a str,
    id: Option<&'a str>,
    #[serde(rename = "type")]
    event_type: &'a str,
    data: &'a str,
    received_at: String,
    title: &'a str,
    body: &'a str,
    read: bool,
}

pub async fn events(engine: &Engine, args: EventsArgs) -> Result<ExitCode, Error> {
    let query = EventQuery {
        feed: args.feed,
        search: args.search,
        before_seq: None,
        unread_only: args.unread,
        limit: args.limit.max(1),
    };
    let events = engine.events(query).await?;
    for event in &events {
        if args.json {
            println!("{}", serde_json::to_string(&line(event)).unwrap_or_default());
        } else {
            let when = received_at(event.received_ms);
            let when = when.get(..19).unwrap_or(&when).replace('T', " ");
            let body = event.body.replace('\n', " ");
            println!("{when}  {}  {}  {}", event.feed, event.title, body);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn line(event: &StoredEvent) -> Line<'_> {
    Line {
        feed: &event.feed,
        id: event.event_id.as_deref(),
        event_type: &event.event_type,
        data: &event.data,
        received_at: received_at(event.received_ms),
        title: &event.title,
        body: &event.body,
        read: event.read,
    }
}

/// RFC 3339 in UTC with milliseconds.
fn received_at(ms: i64) -> String {
    let at = UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64);
    humantime::format_rfc3339_millis(at).to_string()
}
