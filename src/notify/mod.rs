//! Desktop notifications for newly stored events.
//!
//! - [`text`]: an event's payload as safe, short text (title, body, link).
//! - [`fold`]: which notifications to raise, folding bursts into summaries.
//! - [`desktop`]: the thread that shows them through the OS.
//!
//! [`spawn`] starts the task that joins the three: it receives [`Arrival`]s from the feeds (only events
//! that were newly stored, never replayed duplicates), raises what [`fold::Folder`] decides, and records
//! in the store which events were notified, so events left unnotified by a crash are raised after restart.

pub mod desktop;
pub mod fold;
pub mod text;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::store::events::{NotifyMark, StoredEvent};
use crate::store::writer::WriterHandle;

/// One notification as the user sees it; `body` is plain text (escaped where it is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub feed_id: i64,
    pub summary: String,
    pub body: String,
    pub link: Option<String>,
    /// The events this notification tells of.
    pub seqs: Vec<i64>,
}

/// What a click on a notification is about: its events, and the link it carried, if any (http or https only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clicked {
    pub seqs: Vec<i64>,
    pub link: Option<String>,
}

/// Called on the notification thread when the user clicks a notification (where the service supports it).
#[derive(Clone)]
pub struct ClickHandler(pub Arc<dyn Fn(Clicked) + Send + Sync>);

impl std::fmt::Debug for ClickHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ClickHandler")
    }
}

/// Events that were just stored.
#[derive(Debug)]
pub struct Arrival {
    pub events: Vec<StoredEvent>,
    /// The first events of a connection (or left from before a restart): possibly a backlog.
    pub catch_up: bool,
}

/// Arrivals waiting for the notifier.
const QUEUE: usize = 1024;

/// Start the notifier; it ends when every sender is dropped, leaving events it did not raise yet
/// unnotified in the store (raised after the next start if still recent).
/// While `quiet` is set (do not disturb), nothing is shown: events are stored and marked as not notified.
pub fn spawn(
    policy: fold::FoldPolicy,
    desktop: desktop::Desktop,
    writer: WriterHandle,
    quiet: Arc<AtomicBool>,
) -> (mpsc::Sender<Arrival>, JoinHandle<()>) {
    let (sender, inbox) = mpsc::channel(QUEUE);
    let task = tokio::spawn(notify_until_closed(policy, desktop, writer, quiet, inbox));
    (sender, task)
}

async fn notify_until_closed(
    policy: fold::FoldPolicy,
    desktop: desktop::Desktop,
    writer: WriterHandle,
    quiet: Arc<AtomicBool>,
    mut inbox: mpsc::Receiver<Arrival>,
) {
    let mut folder = fold::Folder::new(policy);
    loop {
        let deadline = folder.next_deadline();
        let raised = tokio::select! {
            arrival = inbox.recv() => match arrival {
                Some(arrival) => folder.arrive(tokio::time::Instant::now(), arrival.events, arrival.catch_up),
                None => break,
            },
            _ = sleep_until(deadline), if deadline.is_some() => folder.due(tokio::time::Instant::now()),
        };
        if raised.is_empty() {
            continue;
        }
        let mut seqs = Vec::new();
        let quiet = quiet.load(Ordering::Relaxed);
        for notification in raised {
            seqs.extend_from_slice(&notification.seqs);
            if !quiet {
                desktop.show(notification);
            }
        }
        let mark = if quiet {
            NotifyMark::Skipped
        } else {
            NotifyMark::Notified
        };
        writer.mark_notified(seqs, mark).await;
        folder.forget_old(tokio::time::Instant::now());
    }
    drop(writer);
    // Let the queued notifications reach the service before the process goes.
    let _ = tokio::task::spawn_blocking(move || desktop.close()).await;
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
