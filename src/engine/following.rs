//! Following every feed of a data directory: one supervised task per feed, kept in line with the database.
//!
//! [`start`] takes the directory's lock, starts the event writer and the notifier, raises what a crash left
//! unnotified, and starts the reconciler: it runs one [`supervisor::follow`] task per feed that should be
//! followed, restarts a feed whose configuration changed, and stops one that was paused or removed —
//! whether the change came through this engine or from another process (checked every second).
//! [`Following::shutdown`] stops every task, waits for the last bursts to be committed, and lets go of
//! the lock.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::{Change, Engine, FEEDS_POLL, lock};
use crate::error::Error;
use crate::exec::Hooks;
use crate::feed::FeedConfig;
use crate::feed::FeedState;
use crate::notify::{self, Arrival, ClickHandler, desktop::Desktop, fold::FoldPolicy, text::present_mapped};
use crate::source::Dispatch;
use crate::sse::connection::{Limits, http_client};
use crate::store::events::{NewEvent, NotifyMark};
use crate::store::feeds::FeedRecord;
use crate::store::writer::{self, WriterHandle};
use crate::supervisor::{self, Burst, Downstream, Follow, now_ms};
use crate::template::Subject;

/// Events that arrive this soon after a connection opens may be a backlog: they are gathered for a
/// catch-up summary rather than raised one by one.
const CATCH_UP: Duration = Duration::from_secs(2);
/// A burst longer than this is handed to the writer in parts of this many events (see `deliver`).
const BURST_PART: usize = 4096;

/// How an engine follows its feeds.
#[derive(Debug, Clone)]
pub struct FollowOptions {
    /// Raise desktop notifications (off: store only).
    pub notifications: bool,
    pub fold: FoldPolicy,
    pub limits: Limits,
    /// Events left unnotified by a crash are raised after restart if they are at most this old.
    pub recent: Duration,
    /// Called when the user clicks a notification (the desktop app opens the link or the event).
    pub on_click: Option<ClickHandler>,
}

impl Default for FollowOptions {
    fn default() -> Self {
        FollowOptions {
            notifications: true,
            fold: FoldPolicy::default(),
            limits: Limits::default(),
            recent: Duration::from_secs(15 * 60),
            on_click: None,
        }
    }
}

/// A running follower. Call [`Following::shutdown`] to stop it cleanly.
pub struct Following {
    shutdown: CancellationToken,
    task: JoinHandle<()>,
}

impl Following {
    /// Stop following: every feed task ends, the last bursts are committed, the lock is released.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        if let Err(e) = self.task.await {
            tracing::error!("the follower task failed: {e}");
        }
    }
}

/// What every feed task shares.
struct Context {
    engine: Engine,
    client: reqwest::Client,
    writer: WriterHandle,
    notifier: Option<mpsc::Sender<Arrival>>,
    hooks: Hooks,
    limits: Limits,
    /// How many feeds the open-file limit leaves room for (`None`: no limit).
    feeds_that_fit: Option<u64>,
    /// A feed task that ends on its own sends its feed's id, so the reconciler looks again at once instead of
    /// checking every task each second.
    ended: mpsc::UnboundedSender<i64>,
}

pub(super) async fn start(engine: Engine, options: FollowOptions) -> Result<Following, Error> {
    let dir = engine.data_dir().to_path_buf();
    let held = tokio::task::spawn_blocking(move || lock::acquire(&dir))
        .await
        .map_err(|e| Error::Internal(e.to_string()))??;
    let open_files = match crate::limits::raise_open_file_limit() {
        Ok(open_files) => Some(open_files),
        Err(e) => {
            tracing::warn!("cannot raise the open-file limit ({e}); feeds past the current limit cannot connect");
            None
        }
    };
    let store = engine.store().clone();
    store.clear_reported_states()?;
    engine.refresh_silence()?;
    let (writer, writer_thread) = writer::spawn(store.path())?;
    let client = http_client().map_err(|e| Error::Startup(format!("cannot set up HTTP: {e}")))?;

    let (notifier, notifier_task) = if options.notifications {
        let desktop = Desktop::start(options.on_click.clone())
            .map_err(|e| Error::Startup(format!("cannot start notifications: {e}")))?;
        let silence = engine.shared.silence.clone();
        let (sender, task) = notify::spawn(options.fold.clone(), desktop, writer.clone(), silence);
        let recent_ms = now_ms() - options.recent.as_millis() as i64;
        let left_over = store.take_unnotified(recent_ms)?;
        if !left_over.is_empty() {
            let _ = sender
                .send(Arrival {
                    events: left_over,
                    catch_up: true,
                    rate_limit: None,
                    drain_gap: None,
                })
                .await;
        }
        (Some(sender), Some(task))
    } else {
        let left_over = store.take_unnotified(i64::MAX)?;
        let seqs = left_over.iter().map(|e| e.seq).collect();
        writer.mark_notified(seqs, NotifyMark::Skipped).await;
        (None, None)
    };

    let shutdown = CancellationToken::new();
    let (ended, ended_feeds) = mpsc::unbounded_channel();
    let context = Arc::new(Context {
        engine,
        client,
        writer,
        notifier,
        hooks: Hooks::default(),
        limits: options.limits,
        feeds_that_fit: open_files.and_then(|o| o.feeds_that_fit()),
        ended,
    });
    let stop = shutdown.clone();
    let task = tokio::spawn(async move {
        reconcile_until(context.clone(), ended_feeds, stop).await;
        // Every feed task has ended: the writer and notifier get no more work.
        let Ok(context) = Arc::try_unwrap(context) else {
            tracing::error!("a feed task outlived the follower");
            return;
        };
        let store = context.engine.store().clone();
        drop(context);
        if let Some(task) = notifier_task {
            let _ = task.await;
        }
        let _ = tokio::task::spawn_blocking(move || {
            writer_thread.join();
            if let Err(e) = store.clear_reported_states() {
                tracing::warn!("{e}");
            }
            drop(held);
        })
        .await;
    });
    Ok(Following { shutdown, task })
}

/// A feed task and what it was started with.
struct Running {
    revision: i64,
    stop: CancellationToken,
    task: JoinHandle<()>,
}

/// Tells the reconciler that a feed task ended on its own (not stopped by the reconciler or the shutdown,
/// which wait for it themselves).
struct EndReport {
    id: i64,
    ended: mpsc::UnboundedSender<i64>,
    stopped: CancellationToken,
}

impl Drop for EndReport {
    fn drop(&mut self) {
        if !self.stopped.is_cancelled() {
            let _ = self.ended.send(self.id);
        }
    }
}

async fn reconcile_until(
    context: Arc<Context>,
    mut ended_feeds: mpsc::UnboundedReceiver<i64>,
    shutdown: CancellationToken,
) {
    let mut running: HashMap<i64, Running> = HashMap::new();
    let mut seen_revision = None;
    let mut ended = Vec::new();
    loop {
        let store = context.engine.store().clone();
        let revision = tokio::task::spawn_blocking(move || store.feeds_revision()).await;
        let revision = match revision {
            Ok(Ok(revision)) => Some(revision),
            Ok(Err(e)) => {
                tracing::warn!("cannot read the feeds: {e}");
                None
            }
            Err(_) => None,
        };
        let engine = context.engine.clone();
        if let Ok(Err(e)) = tokio::task::spawn_blocking(move || engine.refresh_silence()).await {
            tracing::warn!("cannot read the settings: {e}");
        }
        if revision.is_some() && (revision != seen_revision || !ended.is_empty()) {
            if revision != seen_revision && seen_revision.is_some() {
                let _ = context.engine.shared.changes.send(Change::FeedsChanged);
            }
            seen_revision = revision;
            reconcile(&context, &mut running, std::mem::take(&mut ended), &shutdown).await;
        }
        tokio::select! {
            _ = shutdown.cancelled() => break,
            _ = context.engine.shared.feeds_edited.notified() => {}
            Some(id) = ended_feeds.recv() => ended.push(id),
            _ = tokio::time::sleep(FEEDS_POLL) => {}
        }
    }
    for (_, feed) in running {
        feed.stop.cancel();
        let _ = feed.task.await;
    }
}

/// Start, restart and stop feed tasks so they match the database.
/// `ended`: the feeds whose task ended on its own since the last look (they are started again if still wanted).
async fn reconcile(
    context: &Arc<Context>,
    running: &mut HashMap<i64, Running>,
    ended: Vec<i64>,
    shutdown: &CancellationToken,
) {
    let store = context.engine.store().clone();
    let feeds = match tokio::task::spawn_blocking(move || store.feeds()).await {
        Ok(Ok(feeds)) => feeds,
        Ok(Err(e)) => return tracing::warn!("cannot read the feeds: {e}"),
        Err(_) => return,
    };
    let wanted: HashMap<i64, FeedRecord> = feeds
        .into_iter()
        .filter(FeedRecord::wants_following)
        .map(|feed| (feed.id, feed))
        .collect();
    if let Some(fit) = context.feeds_that_fit.filter(|fit| wanted.len() as u64 > *fit) {
        tracing::warn!(
            "{} feeds to follow, but the open-file limit leaves room for about {fit}; the rest will fail to \
             connect: {}",
            wanted.len(),
            crate::limits::HOW_TO_RAISE
        );
    }
    // A task that ended on its own is restarted only once it has said so (`ended`): the feeds above were then
    // read after it ended, so they show what it recorded last (a 204 halts the feed). One that is merely seen
    // finished now may have ended after that read, and waits for the next look.
    let stale: Vec<i64> = running
        .iter()
        .filter(|(id, feed)| ended.contains(id) || wanted.get(*id).is_none_or(|w| w.revision != feed.revision))
        .map(|(id, _)| *id)
        .collect();
    for id in stale {
        if let Some(feed) = running.remove(&id) {
            feed.stop.cancel();
            let _ = feed.task.await;
        }
    }
    for (id, record) in wanted {
        if running.contains_key(&id) {
            continue;
        }
        let store = context.engine.store().clone();
        let cursor = match tokio::task::spawn_blocking(move || store.cursor(id)).await {
            Ok(Ok(cursor)) => cursor.unwrap_or_default(),
            Ok(Err(e)) => {
                tracing::warn!("cannot read the cursor of `{}`: {e}", record.config.name);
                continue;
            }
            Err(_) => continue,
        };
        let stop = shutdown.child_token();
        let revision = record.revision;
        let context = context.clone();
        let stopped = stop.clone();
        // The feed's future is made inside the task, not moved into it: a moved-in future would be held
        // twice in the task's state (~14 KiB more per feed).
        let task = tokio::spawn(async move {
            // Says so when it drops, so a feed task that panicked is restarted too.
            let _report = EndReport {
                id,
                ended: context.ended.clone(),
                stopped: stopped.clone(),
            };
            follow_feed(context.clone(), record, cursor, stopped).await;
        });
        running.insert(id, Running { revision, stop, task });
    }
}

async fn follow_feed(context: Arc<Context>, record: FeedRecord, cursor: String, stop: CancellationToken) {
    let mut downstream = StoreDownstream {
        context: &context,
        feed_id: record.id,
        name: &record.config.name,
        config: &record.config,
        connection_ms: 0,
        catching_up: false,
    };
    // Secrets are read once here, not on each reconnect; a missing one fails the feed with what to do.
    let resolved = tokio::select! {
        _ = stop.cancelled() => return,
        resolved = context.engine.resolve_secrets(&record.config) => resolved,
    };
    let config = match resolved {
        Ok(config) => config,
        Err(reason) => return downstream.state(FeedState::Failed { reason }).await,
    };
    let params = Follow {
        client: &context.client,
        config: &config,
        cursor,
        limits: &context.limits,
        reconnect: true,
        shutdown: &stop,
    };
    let outcome = supervisor::follow(params, &mut downstream).await;
    tracing::debug!(feed = %record.config.name, ?outcome, "no longer following");
}

impl StoreDownstream<'_> {
    /// Whether a burst of `stored` new events may be a backlog: a connection is catching up in its first
    /// seconds ([`CATCH_UP`]) and after that for as long as every burst brings several events (each read found
    /// more waiting), so a long backlog is summarised once, not as "live" bursts once the window has passed.
    fn catching_up(&mut self, connected_ms: i64, received_ms: i64, stored: usize) -> bool {
        if connected_ms != self.connection_ms {
            self.connection_ms = connected_ms;
            self.catching_up = true;
        }
        let in_window = received_ms - connected_ms < CATCH_UP.as_millis() as i64;
        self.catching_up = self.catching_up && (in_window || stored > 1);
        self.catching_up
    }
}

/// A feed's downstream when following: the store, then the notifier and the change stream.
struct StoreDownstream<'a> {
    context: &'a Context,
    feed_id: i64,
    name: &'a str,
    config: &'a FeedConfig,
    /// The connection (by when it opened) the last burst came on, and whether it is still catching up.
    connection_ms: i64,
    catching_up: bool,
}

impl Downstream for StoreDownstream<'_> {
    async fn deliver(&mut self, burst: Burst) -> Result<String, String> {
        let notifications = self.context.notifier.is_some();
        // Skipped events are as if they never came: they are not stored and do not move the cursor
        // (a keep-alive's id may be one the server cannot resume after).
        let mut kept_cursor = burst.previous_cursor.clone();
        let write_started = std::time::Instant::now();
        // A long burst goes to the writer in parts, each queued as soon as it is mapped, so the writer
        // stores one part while the next is mapped. Each part carries its own cursor; when one fails, the
        // feed resumes from the last burst kept and the parts already stored are recognised as repeats.
        let mut parts = Vec::new();
        let mut events = Vec::with_capacity(burst.items.len().min(BURST_PART));
        let mut queued_cursor = burst.previous_cursor.clone();
        for item in burst.items {
            if events.len() >= BURST_PART {
                let part = std::mem::replace(&mut events, Vec::with_capacity(BURST_PART));
                queued_cursor.clone_from(&kept_cursor);
                let writer = &self.context.writer;
                parts.push(
                    writer
                        .queue_burst(self.feed_id, burst.connected_ms, part, Some(queued_cursor.clone()))
                        .await,
                );
            }
            let event = match item {
                Dispatch::Event(event) => event,
                Dispatch::IdOnly(id) => {
                    kept_cursor = id;
                    continue;
                }
            };
            let subject = Subject::new(self.name, &event.event_type, &event.data);
            if self.config.skips(&subject) {
                continue;
            }
            let shown = present_mapped(&self.config.mapping, &subject);
            let notify = notifications && self.config.wants_notification(&subject);
            drop(subject);
            kept_cursor.clone_from(&event.id);
            events.push(NewEvent {
                event_id: (!event.id.is_empty()).then_some(event.id),
                id_in_block: event.id_in_block,
                event_type: event.event_type,
                data: event.data,
                title: shown.title,
                body: shown.body,
                link: shown.link,
                urgency: shown.urgency,
                received_ms: burst.received_ms,
                notify,
            });
        }
        let cursor_moved = kept_cursor != queued_cursor;
        if events.is_empty() && !cursor_moved && parts.is_empty() {
            return Ok(kept_cursor);
        }
        if !events.is_empty() || cursor_moved {
            let cursor = cursor_moved.then(|| kept_cursor.clone());
            let writer = &self.context.writer;
            parts.push(
                writer
                    .queue_burst(self.feed_id, burst.connected_ms, events, cursor)
                    .await,
            );
        }
        let mut answers = Vec::with_capacity(parts.len());
        for part in parts {
            answers.push(part.await.map_err(|e| e.to_string())?);
        }
        let stored = if answers.len() == 1 {
            answers.pop().unwrap_or_default()
        } else {
            let mut stored = Vec::with_capacity(answers.iter().map(Vec::len).sum());
            for mut answer in answers {
                stored.append(&mut answer);
            }
            stored
        };
        if stored.is_empty() {
            return Ok(kept_cursor);
        }
        // With nothing to notify or run, the events only go to whoever watches the change stream (the
        // list of those passing the rules, a copy of each, is not built).
        if self.context.notifier.is_some() || !self.config.exec.is_empty() {
            let passing: Vec<_> = stored
                .iter()
                .filter(|e| {
                    self.config
                        .wants_notification(&Subject::new(self.name, &e.event_type, &e.data))
                })
                .cloned()
                .collect();
            for event in &passing {
                self.context.hooks.run(&self.config.exec, event);
            }
            if let Some(notifier) = self.context.notifier.as_ref().filter(|_| !passing.is_empty()) {
                let catch_up = self.catching_up(burst.connected_ms, burst.received_ms, stored.len());
                let arrival = Arrival {
                    events: passing,
                    catch_up,
                    rate_limit: self.config.rate_limit,
                    drain_gap: (catch_up && stored.len() > 1).then(|| write_started.elapsed()),
                };
                if notifier.try_send(arrival).is_err() {
                    tracing::warn!(feed = %self.name, "notifications are falling behind; some were skipped");
                }
            }
        }
        let _ = self
            .context
            .engine
            .shared
            .changes
            .send(Change::EventsStored { events: stored });
        Ok(kept_cursor)
    }

    async fn state(&mut self, state: FeedState) {
        self.context.writer.record_state(self.feed_id, state.clone()).await;
        let _ = self.context.engine.shared.changes.send(Change::FeedState {
            feed_id: self.feed_id,
            feed: self.name.to_string(),
            state,
        });
    }
}
