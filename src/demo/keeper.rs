//! Keeping the demo feed served: the first-run button starts a [`DemoServer`] on loopback and adds it as feed
//! `demo`; whichever process follows the feeds later (after a restart, or once the window that added it has
//! closed) serves a `demo` feed on 127.0.0.1 again on the same port.

use tokio::sync::Mutex;
use url::Url;

use super::{DemoOptions, DemoServer};
use crate::store::feeds::FeedStatus;
use crate::{Engine, Error};

/// The demo feed's name.
pub const DEMO_FEED: &str = "demo";
/// The demo's usual port; any free one when it is taken.
pub const DEMO_PORT: u16 = 47480;

/// The demo server this process runs, if any.
#[derive(Default)]
pub struct DemoKeeper(Mutex<Option<DemoServer>>);

impl DemoKeeper {
    /// Make sure the server runs, on `port` (or, if `elsewhere`, any free port when that one is taken); its URL.
    pub async fn serve(&self, port: u16, elsewhere: bool) -> std::io::Result<String> {
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

    /// If a `demo` feed exists and points at 127.0.0.1, serve it there again. When that port is taken,
    /// something else serves it (`tidings demo`, or the window that added it) and the feed is left alone.
    pub async fn restart(&self, engine: &Engine) -> Result<Option<FeedStatus>, Error> {
        let Some(feed) = engine.feeds().await?.into_iter().find(|feed| feed.name == DEMO_FEED) else {
            return Ok(None);
        };
        let port = Url::parse(&feed.url)
            .ok()
            .filter(|url| url.host_str() == Some("127.0.0.1"))
            .and_then(|url| url.port());
        if let Some(port) = port
            && let Err(e) = self.serve(port, false).await
        {
            tracing::info!("not serving the demo feed: {e}");
        }
        Ok(Some(feed))
    }

    /// Stop the server, if this process runs one.
    pub async fn shutdown(&self) {
        if let Some(server) = self.0.lock().await.take() {
            server.shutdown().await;
        }
    }
}
