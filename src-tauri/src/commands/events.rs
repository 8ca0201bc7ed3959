//! Event commands: the event list, its detail pane, and the event the window was opened to show.

use tauri::State;
use tidings::Engine;
use tidings::store::events::{EventQuery, StoredEvent};

use crate::CommandError;
use crate::window::PendingFocus;

#[tauri::command]
pub async fn list_events(engine: State<'_, Engine>, query: EventQuery) -> Result<Vec<StoredEvent>, CommandError> {
    Ok(engine.events(query).await?)
}

#[tauri::command]
pub async fn get_event(engine: State<'_, Engine>, seq: i64) -> Result<Option<StoredEvent>, CommandError> {
    Ok(engine.event(seq).await?)
}

#[tauri::command]
pub async fn mark_read(engine: State<'_, Engine>, seqs: Vec<i64>) -> Result<usize, CommandError> {
    Ok(engine.mark_read(seqs).await?)
}

#[tauri::command]
pub async fn mark_all_read(engine: State<'_, Engine>, feed: Option<String>) -> Result<usize, CommandError> {
    Ok(engine.mark_all_read(feed).await?)
}

/// The event a clicked notification asked this window to show before its UI listened, taken once; from then
/// on clicks come as `focus-event`.
#[tauri::command]
pub fn take_pending_focus(pending: State<'_, PendingFocus>) -> Option<i64> {
    pending.take()
}
