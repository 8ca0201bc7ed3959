//! Forwarding the engine's [`Change`] stream to the UI, batched: whatever happens within [`BATCH`] of a first
//! change goes out as one `changes` event (a burst of 500 events is one UI update, not 500).

use std::time::Duration;

use tauri::{AppHandle, Emitter, Manager, Runtime};
use tidings::Change;
use tokio::sync::broadcast::Receiver;
use tokio::sync::broadcast::error::RecvError;
use tokio::time::{Instant, timeout_at};

use crate::window::MAIN;

/// How long a batch gathers changes after its first one.
pub const BATCH: Duration = Duration::from_millis(100);
/// The event the UI listens to: a `Change[]`.
pub const CHANGES: &str = "changes";

/// Forward every batch of changes until the engine's stream ends.
pub async fn forward<R: Runtime>(app: AppHandle<R>, mut changes: Receiver<Change>) {
    while let Some(batch) = next_batch(&mut changes).await {
        publish(&app, &batch);
    }
}

/// Wait for a change, then gather what follows within [`BATCH`]; `None` once the stream has ended. A
/// receiver that fell behind lost changes: the batch is then just `FeedsChanged`, so the UI reloads.
pub async fn next_batch(changes: &mut Receiver<Change>) -> Option<Vec<Change>> {
    let mut batch = Vec::new();
    let mut lagged = false;
    match changes.recv().await {
        Ok(change) => batch.push(change),
        Err(RecvError::Lagged(_)) => lagged = true,
        Err(RecvError::Closed) => return None,
    }
    let deadline = Instant::now() + BATCH;
    while let Ok(received) = timeout_at(deadline, changes.recv()).await {
        match received {
            Ok(change) => batch.push(change),
            Err(RecvError::Lagged(_)) => lagged = true,
            Err(RecvError::Closed) => break,
        }
    }
    Some(if lagged { vec![Change::FeedsChanged] } else { batch })
}

/// Send a batch to the main window, if it is open.
pub fn publish<R: Runtime>(app: &AppHandle<R>, batch: &[Change]) {
    if app.get_webview_window(MAIN).is_some()
        && let Err(e) = app.emit_to(MAIN, CHANGES, batch)
    {
        tracing::warn!("cannot send changes to the window: {e}");
    }
}

#[cfg(test)]
mod tests {
    use tokio::sync::broadcast;

    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_burst_is_one_batch() {
        let (sender, mut receiver) = broadcast::channel(16);
        sender.send(Change::FeedsChanged).unwrap();
        sender.send(Change::EventsRead).unwrap();
        let late = tokio::spawn(async move {
            tokio::time::sleep(BATCH / 2).await;
            sender.send(Change::DoNotDisturb { on: true }).unwrap();
            tokio::time::sleep(BATCH).await;
            sender.send(Change::EventsRead).unwrap();
            sender
        });
        let first = next_batch(&mut receiver).await.unwrap();
        assert_eq!(
            first,
            [
                Change::FeedsChanged,
                Change::EventsRead,
                Change::DoNotDisturb { on: true }
            ]
        );
        let second = next_batch(&mut receiver).await.unwrap();
        assert_eq!(second, [Change::EventsRead]);
        drop(late.await.unwrap());
        assert_eq!(next_batch(&mut receiver).await, None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_receiver_that_fell_behind_reloads() {
        let (sender, mut receiver) = broadcast::channel(2);
        for _ in 0..5 {
            sender.send(Change::EventsRead).unwrap();
        }
        assert_eq!(next_batch(&mut receiver).await.unwrap(), [Change::FeedsChanged]);
        drop(sender);
        assert_eq!(next_batch(&mut receiver).await, None);
    }
}
