//! Following the feeds in this process, or standing by while another one does.
//!
//! Only one process follows a data directory's feeds (`tidings run` or this app). If another already does,
//! the app still shows everything, without following: until that process stops (then the app takes over,
//! within [`STANDBY_POLL`]) it reloads the UI whenever the feeds as stored change — the other process writes
//! their states, counts and events into the shared database.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use tidings::notify::{ClickHandler, Clicked};
use tidings::{Change, Engine, FollowOptions, Following};
use tokio_util::sync::CancellationToken;

use crate::{changes, links, window};

/// How often a standing-by app tries to take over and looks for the other process's changes.
pub const STANDBY_POLL: Duration = Duration::from_secs(2);

/// Follow the feeds as soon as this process may; `None` if it never did before `stop`.
pub async fn follow<R: Runtime>(app: AppHandle<R>, engine: Engine, stop: CancellationToken) -> Option<Following> {
    let mut standing_by = false;
    let mut seen = None;
    loop {
        let options = FollowOptions {
            on_click: Some(on_click(app.clone())),
            ..FollowOptions::default()
        };
        match engine.follow(options).await {
            Ok(following) => {
                if standing_by {
                    tracing::info!("the other process stopped: following the feeds now");
                }
                return Some(following);
            }
            Err(e @ tidings::Error::AlreadyRunning { .. }) if !standing_by => {
                tracing::warn!("showing the feeds without following them until the other process stops: {e}");
                standing_by = true;
            }
            Err(tidings::Error::AlreadyRunning { .. }) => {}
            Err(e) => {
                tracing::error!("cannot follow the feeds: {e}");
                return None;
            }
        }
        match engine.feeds().await {
            Ok(feeds) if seen.as_ref() != Some(&feeds) => {
                if seen.is_some() {
                    changes::publish(&app, &engine, &[Change::FeedsChanged]).await;
                }
                seen = Some(feeds);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the feeds: {e}"),
        }
        tokio::select! {
            _ = stop.cancelled() => return None,
            _ = tokio::time::sleep(STANDBY_POLL) => {}
        }
    }
}

/// A click on a notification opens its web link, or else shows its (newest) event in the window.
fn on_click<R: Runtime>(app: AppHandle<R>) -> ClickHandler {
    ClickHandler(Arc::new(move |clicked: Clicked| {
        match clicked.link.as_deref().and_then(links::web_link) {
            Some(link) => {
                if let Err(e) = app.opener().open_url(link.as_str(), None::<&str>) {
                    tracing::warn!("cannot open {link}: {e}");
                }
            }
            None => {
                if let Some(&seq) = clicked.seqs.iter().max() {
                    window::focus_event(&app, seq);
                }
            }
        }
    }))
}
