//! Showing notifications through the OS: `notify-rust` (the freedesktop notification service over D-Bus on
//! Linux, the native centres elsewhere).
//!
//! Showing is a blocking call, so it runs on a thread of its own behind a bounded queue: a slow or absent
//! notification service never holds up a feed. Without a service (a headless box), it says so once in the
//! log and keeps going; events are stored either way.

use std::sync::mpsc;
use std::thread::JoinHandle;

use super::Notification;
use super::text::{clean, escape_markup};

/// Notifications waiting to be shown; past this, new ones are dropped with a warning.
const QUEUE: usize = 256;

/// The thread that talks to the notification service.
pub struct Desktop {
    queue: mpsc::SyncSender<Notification>,
    thread: JoinHandle<()>,
}

impl Desktop {
    /// Start the notification thread.
    pub fn start() -> std::io::Result<Desktop> {
        let (queue, inbox) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("tidings-notify".into())
            .spawn(move || show_until_closed(inbox))?;
        Ok(Desktop { queue, thread })
    }

    /// Queue a notification; false when the queue is full (the service is stuck).
    pub fn show(&self, notification: Notification) -> bool {
        match self.queue.try_send(notification) {
            Ok(()) => true,
            Err(_) => {
                tracing::warn!("the notification service is not keeping up; a notification was dropped");
                false
            }
        }
    }

    /// Show what is queued, then stop.
    pub fn close(self) {
        drop(self.queue);
        if self.thread.join().is_err() {
            tracing::error!("the notification thread panicked");
        }
    }
}

fn show_until_closed(inbox: mpsc::Receiver<Notification>) {
    let mut failing = false;
    for notification in inbox {
        match show(&notification) {
            Ok(()) if failing => {
                tracing::info!("desktop notifications work again");
                failing = false;
            }
            Ok(()) => {}
            Err(error) if !failing => {
                tracing::warn!(
                    "cannot show desktop notifications ({error}); events are still stored: see `tidings events`"
                );
                failing = true;
            }
            Err(_) => {}
        }
    }
}

fn show(notification: &Notification) -> Result<(), notify_rust::error::Error> {
    let mut shown = notify_rust::Notification::new();
    shown
        .appname("Tidings")
        .summary(&clean(&notification.summary, false))
        // The body may be read as markup by the service: event text must stay text.
        .body(&escape_markup(&notification.body));
    shown.show().map(drop)
}
