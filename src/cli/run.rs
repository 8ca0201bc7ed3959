//! `tidings run` (follow every feed until asked to stop) and `tidings demo` (serve the demo feed).

use std::process::ExitCode;

use clap::Args;
use tidings::demo::{DemoOptions, DemoServer};
use tidings::notify::fold::FoldPolicy;
use tidings::{Engine, Error, FollowOptions};

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Store events without raising desktop notifications
    #[arg(long)]
    no_notify: bool,
    /// This many events of one feed at once (or within 10 s) become one summary notification
    #[arg(long, value_name = "N", default_value_t = FoldPolicy::default().threshold)]
    burst_threshold: usize,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The port on 127.0.0.1 [default: any free port]
    #[arg(long, default_value_t = 0)]
    port: u16,
}

pub async fn run(engine: &Engine, args: RunArgs) -> Result<ExitCode, Error> {
    let options = FollowOptions {
        notifications: !args.no_notify,
        fold: FoldPolicy {
            threshold: args.burst_threshold.max(1),
            ..FoldPolicy::default()
        },
        ..FollowOptions::default()
    };
    let following = engine.follow(options).await?;
    let feeds = engine.feeds().await?;
    if feeds.is_empty() {
        tracing::info!("no feeds yet: add one with `tidings feed add URL`; they are picked up while this runs");
    }
    tracing::info!(
        "following {} feed(s) in {}; Ctrl-C to stop",
        feeds.len(),
        engine.data_dir().display()
    );
    super::stop_requested().await;
    tracing::info!("stopping");
    following.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn demo(args: DemoArgs) -> Result<ExitCode, Error> {
    let server = DemoServer::start(args.port, DemoOptions::default())
        .await
        .map_err(|e| Error::Startup(e.to_string()))?;
    println!("{}", server.url());
    eprintln!(
        "serving the demo feed; follow it with `tidings feed add {}` and `tidings run`. Ctrl-C to stop",
        server.url()
    );
    super::stop_requested().await;
    server.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
