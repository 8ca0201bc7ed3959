//! The demo feed: the first-run button starts the core's [`DemoServer`] on loopback and adds it as feed
//! `demo`; after a restart, a `demo` feed on 127.0.0.1 gets its server back on the same port.
//!
//! This is glue the core could own (the CLI's `scripts/run` does the same dance by hand).

use tauri::{State, Url};
use tidings::demo::{DemoOptions, DemoServer};
use tidings::store::feeds::FeedStatus;
use tidings::{Engine, FeedSpec};

use crate::CommandError;
use crate::commands::feeds::status;

const NAME: &str = "demo";
/// The demo's usual port; any free one when it is taken.
const PORT: u16 = 47480;

/// The demo server this app runs, if any.
#[derive(Default)]
pub struct Demo(tokio::sync::Mutex<Option<DemoServer>>);

impl Demo {
    /// Make sure the server runs, on `port` (or, if `elsewhere`, any free port when that one is taken).
    async fn ensure(&self, port: u16, elsewhere: bool) -> std::io::Result<String> {
        let mut running = self.0.lock().await;
        if let Some(server) = running.as_ref() {
            return Ok(server.url());
        }
        let server = match DemoServer::start(port, DemoOptions::default()).await {
            Err(e) if elsewhere && port != 0 => {
                tracing::warn!("{e}; serving the demo feed on another port");
                DemoServer::start(0, DemoOptions::default()).await?
            }
            started => started?,
        };
        Ok(running.insert(server).url())
    }

    pub async fn shutdown(&self) {
        if let Some(server) = self.0.lock().await.take() {
            server.shutdown().await;
        }
    }
}

/// Start the demo server and add the `demo` feed; if it exists, make sure its server runs.
#[tauri::command]
pub async fn add_demo_feed(engine: State<'_, Engine>, demo: State<'_, Demo>) -> Result<FeedStatus, CommandError> {
    if let Some(feed) = restart(&engine, &demo).await? {
        return Ok(feed);
    }
    let url = demo.ensure(PORT, true).await.map_err(demo_error)?;
    let spec = FeedSpec {
        url,
        name: Some(NAME.into()),
        ..FeedSpec::default()
    };
    let record = engine.add_feed(spec).await?;
    status(&engine, record.id).await
}

/// If a `demo` feed exists and points at 127.0.0.1, serve it there again. When that port is taken, something
/// else serves it (`tidings demo`, as `scripts/run --cli` starts it) and the feed is left alone.
pub async fn restart(engine: &Engine, demo: &Demo) -> Result<Option<FeedStatus>, CommandError> {
    let Some(feed) = engine.feeds().await?.into_iter().find(|feed| feed.name == NAME) else {
        return Ok(None);
    };
    let port = Url::parse(&feed.url)
        .ok()
        .filter(|url| url.host_str() == Some("127.0.0.1"))
        .and_then(|url| url.port());
    if let Some(port) = port
        && let Err(e) = demo.ensure(port, false).await
    {
        tracing::info!("not serving the demo feed: {e}");
    }
    Ok(Some(feed))
}

fn demo_error(error: std::io::Error) -> CommandError {
    CommandError::new("demo", format!("cannot start the demo feed: {error}"))
}
