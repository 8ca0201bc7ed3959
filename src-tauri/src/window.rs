//! The main window, built from `tauri.conf.json` when shown. It is this process's only window: closing it ends
//! the process (`crate::run_app`), while `tidings-tray` goes on following the feeds.

use std::sync::Mutex;

use tauri::{AppHandle, Emitter, Manager, Runtime, WebviewWindow, WebviewWindowBuilder};

/// The label of the main window, the only one the UI's capability names.
pub const MAIN: &str = "main";
/// Event to the UI: show the event with this `seq` (a notification without a link was clicked).
pub const FOCUS_EVENT: &str = "focus-event";

/// Show, unminimize and focus the main window, building it the first time.
pub fn show<R: Runtime>(app: &AppHandle<R>) -> tauri::Result<WebviewWindow<R>> {
    if let Some(window) = app.get_webview_window(MAIN) {
        window.unminimize()?;
        window.show()?;
        window.set_focus()?;
        return Ok(window);
    }
    let config = app
        .config()
        .app
        .windows
        .iter()
        .find(|window| window.label == MAIN)
        .ok_or_else(|| tauri::Error::WindowNotFound)?;
    let window = WebviewWindowBuilder::from_config(app, config)?.build()?;
    crate::webkit::tune(&window);
    Ok(window)
}

/// The event to show in a window that is still loading. Its UI takes it (`take_pending_focus`) once it listens
/// for `focus-event`: an event emitted before that, even after the page has loaded, would reach no one.
#[derive(Default)]
pub struct PendingFocus(Mutex<Option<i64>>);

impl PendingFocus {
    /// The event waiting to be shown, if any; it is shown once.
    pub fn take(&self) -> Option<i64> {
        lock(self).take()
    }
}

/// Show the main window on the event `seq`.
pub fn focus_event<R: Runtime>(app: &AppHandle<R>, seq: i64) {
    let existed = app.get_webview_window(MAIN).is_some();
    if !existed {
        *lock(&app.state::<PendingFocus>()) = Some(seq);
    }
    if let Err(e) = show(app) {
        tracing::warn!("cannot show the window: {e}");
        return;
    }
    if existed && let Err(e) = app.emit_to(MAIN, FOCUS_EVENT, seq) {
        tracing::warn!("cannot tell the window which event to show: {e}");
    }
}

// Never held across an await or a call into Tauri; a panic elsewhere cannot leave the Option inconsistent.
fn lock(pending: &PendingFocus) -> std::sync::MutexGuard<'_, Option<i64>> {
    pending.0.lock().unwrap_or_else(|e| e.into_inner())
}
