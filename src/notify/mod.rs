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
mod fields;
pub mod fold;
mod link;
pub mod text;

pub use link::web_link;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::quiet::{DoNotDisturb, Urgency};
use crate::store::events::{NotifyMark, StoredEvent};
use crate::store::writer::WriterHandle;

/// One notification as the user sees it; `body` is plain text (escaped where it is shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notification {
    pub feed_id: i64,
    pub summary: String,
    pub body: String,
    pub link: Option<String>,
    pub urgency: Urgency,
    /// The events this notification tells of.
    pub seqs: Vec<i64>,
}

/// What holds notifications back: do not disturb and quiet hours for all feeds, muting and snoozing per feed.
/// Events are stored either way; only showing them is held back. Critical events break through do not
/// disturb and quiet hours, never a feed the user muted or snoozed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Silence {
    pub do_not_disturb: DoNotDisturb,
    /// Muted feeds (by id), and snoozed ones with the end of their snooze (Unix ms).
    pub muted: HashMap<i64, Option<i64>>,
}

impl Silence {
    /// Whether `notification` is held back at `now_ms`, `minute_of_day` being the local time.
    pub fn holds_back(&self, notification: &Notification, now_ms: i64, minute_of_day: u16) -> bool {
        let feed_quiet = match self.muted.get(&notification.feed_id) {
            Some(None) => true,
            Some(Some(until)) => now_ms < *until,
            None => false,
        };
        feed_quiet || self.do_not_disturb.silences(minute_of_day, notification.urgency)
    }
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
    /// The feed's own limit of notifications a minute, if it has one.
    pub rate_limit: Option<u32>,
    /// While a connection drains a backlog: how long these events took to store (the next burst is
    /// expected within about as long, so the catch-up is summarised once).
    pub drain_gap: Option<std::time::Duration>,
}

/// Arrivals waiting for the notifier.
const QUEUE: usize = 1024;

/// Start the notifier; it ends when every sender is dropped, leaving events it did not raise yet
/// unnotified in the store (raised after the next start if still recent).
/// What `silence` holds back is not shown: those events are stored and marked as not notified.
pub fn spawn(
    policy: fold::FoldPolicy,
    desktop: desktop::Desktop,
    writer: WriterHandle,
    silence: Arc<RwLock<Silence>>,
) -> (mpsc::Sender<Arrival>, JoinHandle<()>) {
    let (sender, inbox) = mpsc::channel(QUEUE);
    let task = tokio::spawn(notify_until_closed(policy, desktop, writer, silence, inbox));
    (sender, task)
}

async fn notify_until_closed(
    policy: fold::FoldPolicy,
    desktop: desktop::Desktop,
    writer: WriterHandle,
    silence: Arc<RwLock<Silence>>,
    mut inbox: mpsc::Receiver<Arrival>,
) {
    let mut folder = fold::Folder::new(policy);
    loop {
        let deadline = folder.next_deadline();
        let raised = tokio::select! {
            arrival = inbox.recv() => match arrival {
                Some(arrival) => {
                    let now = tokio::time::Instant::now();
                    folder.arrive(now, arrival.events, arrival.catch_up, arrival.rate_limit, arrival.drain_gap)
                }
                None => break,
            },
            _ = sleep_until(deadline), if deadline.is_some() => folder.due(tokio::time::Instant::now()),
        };
        if raised.is_empty() {
            continue;
        }
        let (mut shown, mut held) = (Vec::new(), Vec::new());
        let now_ms = crate::supervisor::now_ms();
        let minute = local_minute_of_day();
        {
            // Never held across an await: the block ends before the writes below.
            let silence = silence.read().unwrap_or_else(|poisoned| poisoned.into_inner());
            for notification in raised {
                if silence.holds_back(&notification, now_ms, minute) {
                    held.extend_from_slice(&notification.seqs);
                } else {
                    shown.extend_from_slice(&notification.seqs);
                    desktop.show(notification);
                }
            }
        }
        writer.mark_notified(shown, NotifyMark::Notified).await;
        writer.mark_notified(held, NotifyMark::Skipped).await;
        folder.forget_old(tokio::time::Instant::now());
    }
    drop(writer);
    // Let the queued notifications reach the service before the process goes.
    let _ = tokio::task::spawn_blocking(move || desktop.close()).await;
}

/// The local time as minutes since midnight, for quiet hours.
pub fn local_minute_of_day() -> u16 {
    use chrono::Timelike;
    let now = chrono::Local::now();
    (now.hour() * 60 + now.minute()) as u16
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
