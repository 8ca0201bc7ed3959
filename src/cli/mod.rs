//! The command line: the arguments (clap) and one module per command group, each a thin layer over
//! [`tidings::Engine`].

mod events;
mod feed_args;
mod feeds;
mod run;
mod tail;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{ArgMatches, Parser, Subcommand};
use tidings::{Engine, Error};

const EXIT_CODES: &str = "\
Exit codes:
  0  success (for `tail`: the stream ended cleanly, or -n events were printed)
  1  failure; the message on stderr says what failed and what to do
  2  invalid arguments";

/// Follow Server-Sent Events feeds, store every event exactly once, and raise desktop notifications.
#[derive(Debug, Parser)]
#[command(name = "tidings", version, after_help = EXIT_CODES)]
pub struct Cli {
    /// Where feeds and events are kept [default: $XDG_DATA_HOME/tidings]
    #[arg(long, global = true, env = "TIDINGS_DATA_DIR", value_name = "DIR")]
    data_dir: Option<PathBuf>,

    /// Log more (-v: debug, -vv: trace); RUST_LOG also works
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process
enum Command {
    /// Follow one feed without storing it; print each event as a JSON line on stdout
    Tail(tail::TailArgs),
    /// Add, list, remove, pause and resume feeds
    #[command(subcommand)]
    Feed(feeds::FeedCommand),
    /// Follow every feed: store new events and raise notifications until Ctrl-C or SIGTERM
    Run(run::RunArgs),
    /// List or search stored events, newest first
    Events(events::EventsArgs),
    /// Serve a demo feed on 127.0.0.1 and print its URL (add it with `tidings feed add URL`)
    Demo(run::DemoArgs),
    /// Do not disturb: events are still stored, only critical ones are shown
    #[command(subcommand)]
    Dnd(Dnd),
}

#[derive(Debug, Subcommand)]
enum Dnd {
    /// Turn do not disturb on
    On,
    /// Turn do not disturb off
    Off,
    /// Print whether it is on, and the quiet hours
    Status,
    /// Quiet every day between two times, e.g. `dnd schedule 22:00-07:30`; `dnd schedule off` clears it
    Schedule {
        #[arg(value_name = "START-END|off")]
        hours: String,
    },
}

/// Logs go to stderr; `run` says more by default, since it is the long-lived one.
pub fn init_logging(cli: &Cli) {
    let default = match (cli.verbose, &cli.command) {
        (0, Command::Run(_) | Command::Demo(_)) => "tidings=info",
        (0, _) => "tidings=warn",
        (1, _) => "tidings=debug",
        _ => "tidings=trace",
    };
    tidings::logging::to_stderr(default, false);
}

/// Run the command; `Err` is printed by `main` as one line. `matches` gives the order of repeated options.
pub async fn run(cli: Cli, matches: &ArgMatches) -> Result<ExitCode, Error> {
    let data_dir = cli.data_dir;
    let engine = || -> Result<Engine, Error> {
        let dir = data_dir
            .clone()
            .or_else(tidings::engine::default_data_dir)
            .ok_or_else(|| {
                Error::Startup(
                    "cannot find a home directory for the data; pass --data-dir or set TIDINGS_DATA_DIR".into(),
                )
            })?;
        Engine::open(dir)
    };
    match cli.command {
        Command::Tail(args) => tail::tail(args, matches.subcommand_matches("tail")).await,
        Command::Feed(command) => {
            let sub = matches
                .subcommand_matches("feed")
                .and_then(|m| m.subcommand().map(|(_, m)| m));
            feeds::feed(&engine()?, command, sub).await
        }
        Command::Run(args) => run::run(&engine()?, args).await,
        Command::Events(args) => events::events(&engine()?, args).await,
        Command::Demo(args) => run::demo(args).await,
        Command::Dnd(command) => {
            let engine = engine()?;
            match command {
                Dnd::On => engine.set_do_not_disturb(true).await?,
                Dnd::Off => engine.set_do_not_disturb(false).await?,
                Dnd::Status => {
                    let on = engine.do_not_disturb().await?;
                    match engine.quiet_hours().await? {
                        Some(hours) => println!("{} (quiet hours {hours})", if on { "on" } else { "off" }),
                        None => println!("{}", if on { "on" } else { "off" }),
                    }
                }
                Dnd::Schedule { hours } if hours == "off" => engine.set_quiet_hours(None).await?,
                Dnd::Schedule { hours } => {
                    let hours = hours
                        .parse()
                        .map_err(|e: tidings::quiet::ParseError| Error::InvalidSetting {
                            setting: "quiet hours".into(),
                            reason: e.to_string(),
                        })?;
                    engine.set_quiet_hours(Some(hours)).await?;
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Resolve when the user asks the process to stop (Ctrl-C, SIGTERM).
pub async fn stop_requested() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
