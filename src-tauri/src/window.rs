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

/// The event to show in a window whose UI is not listening yet. Its UI takes it (`take_pending_focus`) once it
/// listens for `focus-event`: an event emitted before that, even after the page has loaded, would reach no one.
/// So until then every click is kept here (the latest wins), also when the window already exists.
#[derive(Default)]
pub struct PendingFocus(Mutex<Pending>);

#[derive(Default)]
struct Pending {
    seq: Option<i64>,
    /// The UI has taken what was pending, so it hears `focus-event` from now on.
    listening: bool,
}

impl PendingFocus {
    /// The event waiting to be shown, if any; it is shown once. Called by the UI once it listens.
    pub fn take(&self) -> Option<i64> {
        let mut pending = lock(self);
        pending.listening = true;
        pending.seq.take()
    }

    /// Keep `seq` for the UI to take, unless it already listens: then false, and it is to be emitted.
    fn keep_unless_listening(&self, seq: i64) -> bool {
        let mut pending = lock(self);
        if !pending.listening {
            pending.seq = Some(seq);
        }
        !pending.listening
    }
}

/// Show the main window on the event `seq`.
pub fn focus_event<R: Runtime>(app: &AppHandle<R>, seq: i64) {
    let kept = app.state::<PendingFocus>().keep_unless_listening(seq);
    if let Err(e) = show(app) {
        tracing::warn!("cannot show the window: {e}");
        return;
    }
    if !kept && let Err(e) = app.emit_to(MAIN, FOCUS_EVENT, seq) {
        tracing::warn!("cannot tell the window which event to show: {e}");
    }
}

// Never held across an await or a call into Tauri; a panic elsewhere cannot leave it inconsistent.
fn lock(pending: &PendingFocus) -> std::sync::MutexGuard<'_, Pending> {
    pending.0.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clicks_before_the_ui_listens_are_kept_for_it_and_the_latest_wins() {
        let pending = PendingFocus::default();
        // Two clicks while the window is still loading: the second one's event is the one to show.
        assert!(pending.keep_unless_listening(7));
        assert!(pending.keep_unless_listening(9));
        assert_eq!(pending.take(), Some(9));
        assert_eq!(pending.take(), None, "shown once");
    }

    #[test]
    fn once_the_ui_listens_clicks_are_emitted_not_kept() {
        let pending = PendingFocus::default();
        assert_eq!(pending.take(), None);
        assert!(!pending.keep_unless_listening(7));
        assert_eq!(pending.take(), None);
    }
}
