//! `tidings feed …`: add, list, remove, pause and resume feeds.

use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use tidings::feed::FeedSpec;
use tidings::store::feeds::FeedStatus;
use tidings::supervisor::now_ms;
use tidings::{Engine, Error};

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Add a feed; prints its name
    Add(AddArgs),
    /// List feeds: name, state, last event id, unread count, URL
    List {
        /// One JSON object per line instead of a table
        #[arg(long)]
        json: bool,
    },
    /// Remove a feed and its stored events
    Rm { name: String },
    /// Pause a feed: its connection closes, its history stays
    Pause { name: String },
    /// Resume a paused, stopped or failed feed
    Resume { name: String },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The feed's URL (http:// or https:// for Server-Sent Events)
    url: String,
    /// A short name for notifications and commands [default: host/last-path-segment]
    #[arg(long)]
    name: Option<String>,
    /// A request header, `Name: value` (repeatable), e.g. -H 'Authorization: Bearer …'
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    headers: Vec<String>,
    /// Reconnect when nothing arrives for this long, e.g. 90s, 5m [default: 90s]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    stall_timeout: Option<Duration>,
}

pub async fn feed(engine: &Engine, command: FeedCommand) -> Result<ExitCode, Error> {
    match command {
        FeedCommand::Add(args) => {
            let spec = FeedSpec {
                url: args.url,
                name: args.name,
                headers: args.headers,
                stall_timeout: args.stall_timeout,
                ..FeedSpec::default()
            };
            let record = engine.add_feed(spec).await?;
            println!("{}", record.config.name);
        }
        FeedCommand::List { json } => {
            let feeds = engine.feeds().await?;
            if json {
                for feed in &feeds {
                    println!("{}", serde_json::to_string(feed).unwrap_or_default());
                }
            } else {
                print_table(&feeds);
            }
        }
        FeedCommand::Rm { name } => engine.remove_feed(&name).await?,
        FeedCommand::Pause { name } => drop(engine.pause_feed(&name).await?),
        FeedCommand::Resume { name } => drop(engine.resume_feed(&name).await?),
    }
    Ok(ExitCode::SUCCESS)
}

fn print_table(feeds: &[FeedStatus]) {
    if feeds.is_empty() {
        eprintln!("no feeds yet: add one with `tidings feed add URL` (try `tidings demo` for a demo feed)");
        return;
    }
    let now = now_ms();
    let rows: Vec<[String; 5]> = feeds
        .iter()
        .map(|feed| {
            [
                feed.name.clone(),
                feed.state.describe(now),
                feed.last_event_id.clone().unwrap_or_else(|| "-".into()),
                feed.unread.to_string(),
                feed.url.clone(),
            ]
        })
        .collect();
    let header = ["NAME", "STATE", "LAST ID", "UNREAD", "URL"].map(String::from);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let cells: Vec<String> = row
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", cells.join("  ").trim_end());
    }
}
