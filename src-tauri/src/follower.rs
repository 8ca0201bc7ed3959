//! Standing by while another process follows the feeds, or following them here when none does.
//!
//! Only one process follows a data directory's feeds. Normally that is `tidings-tray`, started by
//! [`crate::background`] (or `tidings run`); the window shows everything without following: it reloads the UI
//! whenever the feeds as stored change (the other process writes their states, counts and events into the
//! shared database), within [`STANDBY_POLL`]. Should that process stop without closing the window (a crash),
//! the window takes over until it closes.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use tidings::notify::{ClickHandler, Clicked};
use tidings::{Change, Engine, FollowOptions, Following};
use tokio_util::sync::CancellationToken;

use crate::{changes, window};

/// How often a standing-by window looks for the other process's changes (and whether it still runs).
pub const STANDBY_POLL: Duration = Duration::from_secs(1);

/// Follow the feeds as soon as this process may; `None` if it never did before `stop`.
pub async fn follow<R: Runtime>(app: AppHandle<R>, engine: Engine, stop: CancellationToken) -> Option<Following> {
    let mut standing_by = false;
    let mut seen = None;
    let mut do_not_disturb = None;
    loop {
        let options = FollowOptions {
            on_click: Some(on_click(app.clone())),
            ..FollowOptions::default()
        };
        // Tried only when nothing holds the follower lock: taking it waits out a probe for up to a second.
        let attempt = if engine.is_following() {
            Err(tidings::Error::AlreadyRunning {
                dir: engine.data_dir().to_path_buf(),
            })
        } else {
            engine.follow(options).await
        };
        match attempt {
            Ok(following) => {
                if standing_by {
                    tracing::warn!("the process that followed the feeds is gone: following them in the window");
                }
                return Some(following);
            }
            Err(tidings::Error::AlreadyRunning { .. }) if !standing_by => {
                tracing::info!("showing the feeds that another process follows");
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
                    changes::publish(&app, &[Change::FeedsChanged]);
                }
                seen = Some(feeds);
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot read the feeds: {e}"),
        }
        // Do not disturb, toggled in the tray menu: the window's switch follows.
        if let Ok(on) = engine.do_not_disturb().await {
            if do_not_disturb.is_some_and(|was| was != on) {
                changes::publish(&app, &[Change::DoNotDisturb { on }]);
            }
            do_not_disturb = Some(on);
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
        match clicked.link.as_deref().and_then(tidings::notify::web_link) {
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
