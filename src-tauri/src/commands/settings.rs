//! Settings commands: do not disturb (kept by the engine, shared with the CLI), start at login (kept by the
//! OS through `tauri-plugin-autostart`), and opening a link in the OS browser.

use tauri::{AppHandle, Runtime, State};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_opener::OpenerExt;
use tidings::Engine;

use crate::CommandError;
use tidings::notify::web_link;

#[tauri::command]
pub async fn get_do_not_disturb(engine: State<'_, Engine>) -> Result<bool, CommandError> {
    Ok(engine.do_not_disturb().await?)
}

#[tauri::command]
pub async fn set_do_not_disturb(engine: State<'_, Engine>, on: bool) -> Result<(), CommandError> {
    Ok(engine.set_do_not_disturb(on).await?)
}

#[tauri::command]
pub fn get_autostart<R: Runtime>(app: AppHandle<R>) -> Result<bool, CommandError> {
    app.autolaunch().is_enabled().map_err(autostart_error)
}

#[tauri::command]
pub fn set_autostart<R: Runtime>(app: AppHandle<R>, on: bool) -> Result<(), CommandError> {
    let autostart = app.autolaunch();
    let result = if on { autostart.enable() } else { autostart.disable() };
    result.map_err(autostart_error)
}

fn autostart_error(error: tauri_plugin_autostart::Error) -> CommandError {
    CommandError::new("autostart", format!("cannot change starting at login: {error}"))
}

/// Open an http or https link in the OS browser; anything else is refused with `invalid_link`.
#[tauri::command]
pub fn open_link<R: Runtime>(app: AppHandle<R>, url: String) -> Result<(), CommandError> {
    let link = web_link(&url)
        .ok_or_else(|| CommandError::new("invalid_link", format!("only http and https links open, not `{url}`")))?;
    app.opener()
        .open_url(link.as_str(), None::<&str>)
        .map_err(|e| CommandError::new("open_link", format!("cannot open {link}: {e}")))
}
