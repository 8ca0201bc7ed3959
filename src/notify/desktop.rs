//! Showing notifications through the OS: `notify-rust` (the freedesktop notification service over D-Bus on
//! Linux, the native centres elsewhere).
//!
//! Showing is a blocking call, so it runs on a thread of its own behind a bounded queue: a slow or absent
//! notification service never holds up a feed. Without a service (a headless box), it says so once in the
//! log and keeps going; events are stored either way.
//!
//! On Linux and the BSDs, notifications nobody waits to be clicked go over one session-bus connection kept
//! open ([`SessionBus`]): `notify-rust` opens a new connection (a socket, an authentication, an executor
//! thread) for every notification, which was most of the write-to-notification latency's tail. Clickable
//! ones still go through `notify-rust`, whose handle waits for the click on that connection.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::thread::JoinHandle;

use super::text::{clean, escape_markup};
use super::{ClickHandler, Notification};

/// Notifications waiting to be shown; past this, new ones are dropped with a warning.
const QUEUE: usize = 256;
/// Notifications whose click is awaited at once (each holds a thread until it is clicked or closed).
const CLICKABLE: usize = 16;

/// The thread that talks to the notification service.
pub struct Desktop {
    queue: mpsc::SyncSender<Notification>,
    thread: JoinHandle<()>,
}

impl Desktop {
    /// Start the notification thread; `on_click` is called when the user clicks a notification.
    pub fn start(on_click: Option<ClickHandler>) -> std::io::Result<Desktop> {
        let (queue, inbox) = mpsc::sync_channel(QUEUE);
        let thread = std::thread::Builder::new()
            .name("tidings-notify".into())
            .spawn(move || show_until_closed(inbox, on_click))?;
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

fn show_until_closed(inbox: mpsc::Receiver<Notification>, on_click: Option<ClickHandler>) {
    let mut failing = false;
    let watching = Arc::new(AtomicUsize::new(0));
    #[cfg(all(unix, not(target_os = "macos")))]
    let mut bus = SessionBus::default();
    for notification in inbox {
        let clickable = on_click
            .clone()
            .filter(|_| watching.load(Ordering::Relaxed) < CLICKABLE);
        #[cfg(all(unix, not(target_os = "macos")))]
        let shown = match clickable {
            None => bus.show(&notification).map_err(|e| e.to_string()),
            Some(_) => show(notification, clickable, &watching).map_err(|e| e.to_string()),
        };
        #[cfg(not(all(unix, not(target_os = "macos"))))]
        let shown = show(notification, clickable, &watching).map_err(|e| e.to_string());
        match shown {
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

fn show(
    notification: Notification,
    on_click: Option<ClickHandler>,
    watching: &Arc<AtomicUsize>,
) -> Result<(), notify_rust::error::Error> {
    let (summary, body) = shown_text(&notification);
    let mut shown = notify_rust::Notification::new();
    shown.appname("Tidings").summary(&summary).body(&body);
    #[cfg(all(unix, not(target_os = "macos")))]
    shown.urgency(match notification.urgency {
        crate::quiet::Urgency::Low => notify_rust::Urgency::Low,
        crate::quiet::Urgency::Normal => notify_rust::Urgency::Normal,
        crate::quiet::Urgency::Critical => notify_rust::Urgency::Critical,
    });
    #[cfg(all(unix, not(target_os = "macos")))]
    if let Some(on_click) = on_click {
        shown.action("default", "Open");
        let handle = shown.show()?;
        let clicked = super::Clicked {
            seqs: notification.seqs,
            link: notification.link.filter(|link| super::text::is_web_link(link)),
        };
        watching.fetch_add(1, Ordering::Relaxed);
        let watching = watching.clone();
        let spawned = std::thread::Builder::new().name("tidings-click".into()).spawn(move || {
            handle.wait_for_action(|action| {
                if action == "default" {
                    (on_click.0)(clicked);
                }
            });
            watching.fetch_sub(1, Ordering::Relaxed);
        });
        if spawned.is_err() {
            tracing::warn!("cannot wait for a click on a notification");
        }
        return Ok(());
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    drop((on_click, watching));
    shown.show().map(drop)
}

/// The summary and body as the notification service gets them, whichever way they are sent: control and bidi
/// characters stripped, and the body escaped, since the service may read it as markup (event text stays text).
fn shown_text(notification: &Notification) -> (String, String) {
    (clean(&notification.summary, false), escape_markup(&notification.body))
}

/// One connection to the session bus, opened on first use and again after it broke.
#[cfg(all(unix, not(target_os = "macos")))]
#[derive(Default)]
struct SessionBus {
    connection: Option<zbus::Connection>,
}

#[cfg(all(unix, not(target_os = "macos")))]
impl SessionBus {
    /// `org.freedesktop.Notifications.Notify`, as `notify-rust` sends it, over the kept connection.
    fn show(&mut self, notification: &Notification) -> zbus::Result<()> {
        let connection = match self.connection.take() {
            Some(connection) => connection,
            None => zbus::block_on(zbus::Connection::session())?,
        };
        let urgency: u8 = match notification.urgency {
            crate::quiet::Urgency::Low => 0,
            crate::quiet::Urgency::Normal => 1,
            crate::quiet::Urgency::Critical => 2,
        };
        let (summary, body) = shown_text(notification);
        let hints = std::collections::HashMap::from([("urgency", zbus::Variant::U8(urgency))]);
        let actions: &[&str] = &[];
        zbus::block_on(connection.call_method(
            Some("org.freedesktop.Notifications"),
            "/org/freedesktop/Notifications",
            Some("org.freedesktop.Notifications"),
            "Notify",
            &("Tidings", 0u32, "", summary, body, actions, hints, -1i32),
        ))?;
        // Kept only after a call went through: a broken connection is opened again next time.
        self.connection = Some(connection);
        Ok(())
    }
}
