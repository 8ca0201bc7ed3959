//! `tidings tail URL`: follow one feed without storing it, one JSON line per event on stdout.
//!
//! It runs the same supervisor as `tidings run` (same HTTP policy, same reconnects), with stdout as the
//! downstream. Problems go to stderr, so stdout stays pure JSON lines for a pipe.

use std::io::Write;
use std::process::ExitCode;

use clap::{ArgMatches, Args};
use serde::Serialize;
use tidings::Error;
use tidings::feed::{FeedSpec, FeedState};
use tidings::source::Dispatch;
use tidings::sse::connection::{Limits, http_client};
use tidings::supervisor::{self, Burst, Downstream, Follow, Outcome, now_ms};
use tokio_util::sync::CancellationToken;

use super::feed_args::ConnectArgs;

#[derive(Debug, Args)]
pub struct TailArgs {
    /// The feed's URL: http(s):// for Server-Sent Events, ws(s):// for WebSocket
    url: String,
    /// Resume after this event id (sent as Last-Event-ID)
    #[arg(long, value_name = "ID")]
    last_event_id: Option<String>,
    /// Exit after printing N events
    #[arg(short = 'n', value_name = "N")]
    count: Option<u64>,
    /// Exit when the connection ends instead of reconnecting (non-zero if it ended with an error)
    #[arg(long)]
    no_reconnect: bool,
    #[command(flatten)]
    connect: ConnectArgs,
}

/// One printed event.
#[derive(Serialize)]
struct Line<'a> {
    id: Option<&'a str>,
    #[serde(rename = "type")]
    event_type: &'a str,
    data: &'a str,
}

pub async fn tail(args: TailArgs, matches: Option<&ArgMatches>) -> Result<ExitCode, Error> {
    let mut spec = FeedSpec {
        url: args.url,
        name: Some("tail".into()),
        ..FeedSpec::default()
    };
    args.connect.apply(&mut spec, matches)?;
    let config = spec.validate()?;
    let client = http_client().map_err(|e| Error::Startup(format!("cannot set up HTTP: {e}")))?;
    let shutdown = CancellationToken::new();
    if args.count == Some(0) {
        return Ok(ExitCode::SUCCESS);
    }
    let on_signal = tokio::spawn({
        let shutdown = shutdown.clone();
        async move {
            super::stop_requested().await;
            shutdown.cancel();
        }
    });
    let mut stdout = Stdout {
        printed: 0,
        limit: args.count,
        done: shutdown.clone(),
    };
    let limits = Limits::default();
    let params = Follow {
        client: &client,
        config: &config,
        cursor: args.last_event_id.unwrap_or_default(),
        limits: &limits,
        reconnect: !args.no_reconnect,
        shutdown: &shutdown,
    };
    let outcome = supervisor::follow(params, &mut stdout).await;
    on_signal.abort();
    Ok(match outcome {
        Outcome::Cancelled | Outcome::Ended(None) => ExitCode::SUCCESS,
        Outcome::Stopped(reason) => {
            eprintln!("tidings: {reason}");
            ExitCode::SUCCESS
        }
        Outcome::Ended(Some(reason)) => {
            eprintln!("tidings: {reason} (not reconnecting: --no-reconnect)");
            ExitCode::FAILURE
        }
        Outcome::Failed(reason) => {
            eprintln!("tidings: {reason}");
            ExitCode::FAILURE
        }
    })
}

/// Prints events; cancels `done` once `limit` events are out or stdout is closed.
struct Stdout {
    printed: u64,
    limit: Option<u64>,
    done: CancellationToken,
}

impl Downstream for Stdout {
    async fn deliver(&mut self, burst: Burst) -> Result<String, String> {
        let mut out = std::io::stdout().lock();
        let mut write = || -> std::io::Result<()> {
            for item in &burst.items {
                let Dispatch::Event(event) = item else { continue };
                if self.limit.is_some_and(|limit| self.printed >= limit) {
                    break;
                }
                let line = Line {
                    id: (!event.id.is_empty()).then_some(event.id.as_str()),
                    event_type: &event.event_type,
                    data: &event.data,
                };
                serde_json::to_writer(&mut out, &line)?;
                out.write_all(b"\n")?;
                self.printed += 1;
            }
            out.flush()
        };
        match write() {
            Ok(()) => {}
            // The reader went away (`| head`): stop quietly, like any well-behaved filter.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => self.done.cancel(),
            Err(e) => return Err(format!("cannot write to stdout: {e}")),
        }
        if self.limit.is_some_and(|limit| self.printed >= limit) {
            self.done.cancel();
        }
        Ok(burst.cursor)
    }

    async fn state(&mut self, state: FeedState) {
        if let FeedState::Retrying { .. } = state {
            eprintln!("tidings: {}", state.describe(now_ms()));
        }
    }
}
