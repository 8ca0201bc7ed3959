//! Standing by while another process follows the feeds, or following them here when none can.
//!
//! Only one process follows a data directory's feeds. Normally that is `tidings-tray`, started by
//! [`crate::background`] (or `tidings run`); the window shows everything without following: it reloads the UI
//! whenever the feeds as stored change (the other process writes their states, counts and events into the
//! shared database), within [`STANDBY_POLL`]. Should that process stop while the window is open (a crash, or
//! `tidings run` ended), the window starts `tidings-tray` again; only if that fails does it follow the feeds
//! itself, until it closes.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Runtime};
use tauri_plugin_opener::OpenerExt;
use tidings::notify::{ClickHandler, Clicked};
use tidings::{Change, Engine, FollowOptions, Following};
use tokio_util::sync::CancellationToken;

use crate::{background, changes, window};

/// How often a standing-by window looks for the other process's changes (and whether it still runs).
pub const STANDBY_POLL: Duration = Duration::from_secs(1);

/// Keep the feeds followed by `tidings-tray` while the window is open, and show what it does; the
/// [`Following`] if this process had to follow them itself, `None` once `stop` is cancelled.
pub async fn follow<R: Runtime>(app: AppHandle<R>, engine: Engine, stop: CancellationToken) -> Option<Following> {
    let mut standing_by = false;
    let mut seen = None;
    let mut do_not_disturb = None;
    loop {
        if stop.is_cancelled() {
            return None;
        }
        // Nothing follows the feeds (at start, or the process that did is gone): start tidings-tray, or else
        // follow them here until the window closes.
        if !engine.is_following() {
            let started = {
                let engine = engine.clone();
                tauri::async_runtime::spawn_blocking(move || background::ensure(&engine)).await
            };
            let failed = match started {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(e),
                Err(e) => Some(format!("cannot start the background process: {e}")),
            };
            if let Some(why) = failed
                && !stop.is_cancelled()
            {
                tracing::error!("{why}; following the feeds in the window until it closes");
                let options = FollowOptions {
                    on_click: Some(on_click(app.clone())),
                    ..FollowOptions::default()
                };
                match engine.follow(options).await {
                    Ok(following) => return Some(following),
                    // Another process took them meanwhile: show what it does.
                    Err(tidings::Error::AlreadyRunning { .. }) => {}
                    Err(e) => {
                        tracing::error!("cannot follow the feeds: {e}");
                        return None;
                    }
                }
            }
        }
        if !standing_by {
            tracing::info!("showing the feeds that another process follows");
            standing_by = true;
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
