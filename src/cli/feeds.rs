//! `tidings feed …`: add, edit, list, remove, pause, resume, mute, snooze, export and import feeds.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{ArgMatches, Args, Subcommand};
use tidings::feed::FeedSpec;
use tidings::preset::Preset;
use tidings::store::feeds::FeedStatus;
use tidings::supervisor::now_ms;
use tidings::{Engine, Error};

use super::feed_args::{ConnectArgs, NotifyArgs, SecretArgs};

#[derive(Debug, Subcommand)]
pub enum FeedCommand {
    /// Add a feed; prints its name
    Add(AddArgs),
    /// Change a feed: only the options given change (a list option replaces the whole list)
    Edit(EditArgs),
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
    /// Mute a feed's notifications (its events are still stored)
    Mute { name: String },
    /// Unmute a feed (also ends a snooze)
    Unmute { name: String },
    /// Hold a feed's notifications back for a while, e.g. `feed snooze builds 2h`
    Snooze {
        name: String,
        #[arg(value_parser = humantime::parse_duration)]
        duration: Duration,
    },
    /// Print every feed as JSON, secrets replaced by <secret>, to share a setup
    Export {
        /// Write to this file instead of stdout
        #[arg(long, short)]
        output: Option<PathBuf>,
    },
    /// Add the feeds of an export file (feeds whose name exists are left alone)
    Import { file: PathBuf },
}

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The feed's URL: http(s):// for Server-Sent Events, ws(s):// for WebSocket; with --preset, the service's
    url: String,
    /// A short name for notifications and commands [default: from the URL]
    #[arg(long)]
    name: Option<String>,
    /// Fill in what a service needs: ntfy, gotify, home-assistant, mastodon or generic
    #[arg(long, value_name = "NAME")]
    preset: Option<Preset>,
    /// The service's access token, for --preset
    #[arg(long, value_name = "TOKEN", env = "TIDINGS_TOKEN", hide_env_values = true)]
    token: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    secrets: SecretArgs,
}

#[derive(Debug, Args)]
pub struct EditArgs {
    /// The feed to change
    feed: String,
    /// A new URL
    #[arg(long)]
    url: Option<String>,
    /// A new name
    #[arg(long)]
    name: Option<String>,
    /// A new access token, put where the feed carries its token (a preset's Authorization or
    /// X-Gotify-Key header, Home Assistant's auth message, an access_token in the URL)
    #[arg(long, value_name = "TOKEN")]
    token: Option<String>,
    #[command(flatten)]
    connect: ConnectArgs,
    #[command(flatten)]
    notify: NotifyArgs,
    #[command(flatten)]
    secrets: SecretArgs,
}

pub async fn feed(engine: &Engine, command: FeedCommand, matches: Option<&ArgMatches>) -> Result<ExitCode, Error> {
    match command {
        FeedCommand::Add(args) => {
            let mut spec = FeedSpec {
                url: args.url,
                name: args.name,
                ..FeedSpec::default()
            };
            args.connect.apply(&mut spec, matches)?;
            args.notify.apply(&mut spec);
            args.secrets.apply(&mut spec);
            if let Some(preset) = args.preset {
                spec = preset.apply_asking(spec, args.token.as_deref()).await?;
            }
            let record = engine.add_feed(spec).await?;
            println!("{}", record.config.name);
        }
        FeedCommand::Edit(args) => {
            let record = engine.store().feed(&args.feed)?;
            let mut spec = record.config.to_spec();
            if let Some(url) = args.url {
                spec.url = url;
            }
            if let Some(name) = args.name {
                spec.name = Some(name);
            }
            args.connect.apply(&mut spec, matches)?;
            args.notify.apply(&mut spec);
            args.secrets.apply(&mut spec);
            if let Some(token) = &args.token {
                tidings::preset::replace_token(&mut spec, token)?;
            }
            engine.edit_feed(&args.feed, spec).await?;
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
        FeedCommand::Mute { name } => engine.mute_feed(&name, true).await?,
        FeedCommand::Unmute { name } => engine.mute_feed(&name, false).await?,
        FeedCommand::Snooze { name, duration } => {
            let until = now_ms() + duration.as_millis() as i64;
            engine.snooze_feed(&name, until).await?;
        }
        FeedCommand::Export { output } => {
            let text = engine.export_feeds().await?;
            match output {
                Some(path) => std::fs::write(&path, text + "\n").map_err(|e| Error::InvalidSetting {
                    setting: format!("--output {}", path.display()),
                    reason: format!("cannot write it: {e}"),
                })?,
                None => println!("{text}"),
            }
        }
        FeedCommand::Import { file } => {
            let text = std::fs::read_to_string(&file).map_err(|e| Error::InvalidSetting {
                setting: format!("import file {}", file.display()),
                reason: format!("cannot read it: {e}"),
            })?;
            let (added, notes) = engine.import_feeds(&text).await?;
            for name in added {
                println!("{name}");
            }
            for note in notes {
                eprintln!("tidings: {note}");
            }
        }
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
            let mut state = feed.state.describe(now);
            if feed.muted {
                state.push_str(" (muted)");
            } else if feed.snoozed_until_ms.is_some_and(|until| until > now) {
                state.push_str(" (snoozed)");
            }
            [
                feed.name.clone(),
                state,
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
