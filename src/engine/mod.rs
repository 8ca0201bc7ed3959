//! [`Engine`]: the one handle the CLI, the desktop app and the tests use.
//!
//! It manages feeds and reads events through the [`Store`], and [`Engine::follow`] starts following every
//! feed ([`following`]). Its [`Change`] stream tells a face what happened (events stored, a feed's state
//! changed) so it can refresh. Several processes may open the same data directory; only one follows feeds at
//! a time ([`lock`]), and it picks up feeds added or edited by the others within a second or two.

mod following;
mod lock;

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::{Notify, broadcast};

pub use following::{FollowOptions, Following};

use crate::error::Error;
use crate::feed::{FeedConfig, FeedSpec, FeedState};
use crate::notify::Silence;
use crate::probe::Probe;
use crate::quiet::QuietHours;
use crate::secret::{Keyring, KeyringError, feed as secrets};
use crate::store::Store;
use crate::store::events::{EventQuery, StoredEvent};
use crate::store::feeds::{FeedRecord, FeedStatus};
use crate::supervisor::now_ms;

/// Changes buffered for slow subscribers; one that falls further behind sees `Lagged` and reloads.
const CHANGES: usize = 1024;

/// Something that happened, for a face to show.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "change", rename_all = "snake_case")]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub enum Change {
    /// New events were stored (never replays).
    EventsStored { events: Vec<StoredEvent> },
    /// A feed's state changed.
    FeedState {
        feed_id: i64,
        feed: String,
        state: FeedState,
    },
    /// Feeds were added, edited, paused, resumed or removed.
    FeedsChanged,
    /// Events were marked read.
    EventsRead,
    /// Do not disturb was turned on or off.
    DoNotDisturb { on: bool },
}

/// The handle on one data directory: its feeds, its events, and (once following) its live connections.
#[derive(Clone)]
pub struct Engine {
    shared: Arc<Shared>,
}

struct Shared {
    dir: PathBuf,
    store: Store,
    changes: broadcast::Sender<Change>,
    /// Wakes the follower to look at the feeds again right away (after an edit through this engine).
    feeds_edited: Notify,
    /// What holds notifications back now; mirrors the settings and the feeds' mute and snooze, which
    /// another process may change (re-read every second while following).
    silence: Arc<RwLock<Silence>>,
    /// Where feed secrets live; what was read stays in memory while the engine runs.
    keyring: Arc<Keyring>,
}

const DO_NOT_DISTURB: &str = "do_not_disturb";
const QUIET_HOURS: &str = "quiet_hours";

/// Where Tidings keeps its data unless told otherwise: `$XDG_DATA_HOME/tidings` on Linux.
pub fn default_data_dir() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "tidings").map(|dirs| dirs.data_dir().to_path_buf())
}

/// The data directory of the desktop app's processes: `TIDINGS_DATA_DIR` when set, else [`default_data_dir`].
pub fn data_dir_from_env() -> Result<PathBuf, String> {
    match std::env::var_os("TIDINGS_DATA_DIR") {
        Some(dir) if !dir.is_empty() => Ok(dir.into()),
        _ => default_data_dir()
            .ok_or_else(|| "cannot find a home directory for the data; set TIDINGS_DATA_DIR".to_string()),
    }
}

impl Engine {
    /// Open the data directory (created if missing) and its database.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Engine, Error> {
        let dir = dir.into();
        std::fs::create_dir_all(&dir).map_err(|source| Error::DataDir {
            dir: dir.clone(),
            source,
        })?;
        let store = Store::open(&dir)?;
        Ok(Engine {
            shared: Arc::new(Shared {
                dir,
                store,
                changes: broadcast::channel(CHANGES).0,
                feeds_edited: Notify::new(),
                silence: Arc::new(RwLock::new(Silence::default())),
                keyring: Arc::new(Keyring::new()),
            }),
        })
    }

    /// The data directory.
    pub fn data_dir(&self) -> &Path {
        &self.shared.dir
    }

    /// The store, for faces that need a query the engine does not offer yet.
    pub fn store(&self) -> &Store {
        &self.shared.store
    }

    /// Subscribe to changes from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.shared.changes.subscribe()
    }

    /// Whether some process (this one included) is following this directory's feeds.
    pub fn is_following(&self) -> bool {
        lock::is_held(&self.shared.dir)
    }

    /// The process id of the process following this directory's feeds, if one does.
    pub fn follower_pid(&self) -> Option<u32> {
        lock::holder(&self.shared.dir)
    }

    /// Add a feed. It is followed at once if an engine is following. Its secrets go into the keyring
    /// (see [`crate::secret`]); with no keyring, this fails unless `spec.plaintext_secrets` is set.
    pub async fn add_feed(&self, spec: FeedSpec) -> Result<FeedRecord, Error> {
        let plaintext = spec.plaintext_secrets;
        let config = spec.validate()?;
        let name = config.name.clone();
        let taken = self.blocking(move |store| Ok(store.feed(&name).is_ok())).await?;
        if taken {
            return Err(Error::FeedExists(config.name));
        }
        let sealed = self.seal(config, None, plaintext).await?;
        let config = sealed.config;
        let result = self.edit(move |store| store.add_feed(&config, now_ms())).await;
        if result.is_err() {
            self.forget_secrets(sealed.saved).await;
        }
        result
    }

    /// Replace a feed's configuration; a live feed reconnects with it. A header whose value is
    /// `<secret>` (as feed statuses show credentials) keeps the value saved for that header. Secrets typed
    /// anew go into the keyring, replaced ones leave it, and a renamed feed's keyring items are relabelled.
    pub async fn edit_feed(&self, name: &str, mut spec: FeedSpec) -> Result<FeedRecord, Error> {
        let plaintext = spec.plaintext_secrets;
        let lookup = name.to_string();
        let record = self.blocking(move |store| store.feed(&lookup)).await?;
        keep_saved_headers(&record.config, &mut spec.headers)?;
        let config = spec.validate()?;
        let sealed = self.seal(config, Some(record.config.clone()), plaintext).await?;
        let (config, saved) = (sealed.config, sealed.saved);
        let id = record.id;
        let result = self.edit(move |store| store.update_feed(id, &config)).await;
        let updated = match result {
            Ok(updated) => updated,
            Err(error) => {
                self.forget_secrets(saved).await;
                return Err(error);
            }
        };
        let kept = secrets::references(&updated.config);
        let dropped = secrets::references(&record.config)
            .into_iter()
            .filter(|reference| !kept.contains(reference))
            .collect();
        self.forget_secrets(dropped).await;
        if updated.config.name != record.config.name && !kept.is_empty() {
            let keyring = self.shared.keyring.clone();
            let config = updated.config.clone();
            let relabelled = tokio::task::spawn_blocking(move || secrets::relabel(&config, &keyring)).await;
            if let Ok(Err(why)) = relabelled {
                tracing::warn!(feed = %updated.config.name, "cannot relabel its keyring items: {why}");
            }
        }
        Ok(updated)
    }

    /// Remove a feed with its events, and its secrets from the keyring.
    pub async fn remove_feed(&self, name: &str) -> Result<(), Error> {
        let lookup = name.to_string();
        let record = self.blocking(move |store| store.feed(&lookup)).await?;
        let name = name.to_string();
        self.edit(move |store| store.remove_feed(&name)).await?;
        self.forget_secrets(secrets::references(&record.config)).await;
        Ok(())
    }

    /// Move the secrets of `config` into the keyring (blocking work: the keyring may ask to be unlocked).
    async fn seal(
        &self,
        config: FeedConfig,
        old: Option<FeedConfig>,
        plaintext: bool,
    ) -> Result<secrets::Sealed, Error> {
        let keyring = self.shared.keyring.clone();
        tokio::task::spawn_blocking(move || secrets::seal(config, old.as_ref(), plaintext, &keyring))
            .await
            .unwrap_or_else(|e| Err(Error::Internal(format!("a keyring task failed: {e}"))))
    }

    /// Delete keyring items no feed refers to any more; one that cannot be deleted is reported in the log.
    async fn forget_secrets(&self, references: Vec<String>) {
        if references.is_empty() {
            return;
        }
        let keyring = self.shared.keyring.clone();
        let _ = tokio::task::spawn_blocking(move || {
            for reference in references {
                if let Err(KeyringError::Unavailable(why)) = keyring.delete(&reference) {
                    tracing::warn!(
                        "the keyring item `{reference}` (service `tidings`) stays behind: {why}; delete it with \
                         your keyring's app (Seahorse, KeePassXC)"
                    );
                }
            }
        })
        .await;
    }

    /// `config` with its secrets' real values, read from the keyring once per engine and then from memory;
    /// the error says which secret to enter again.
    pub(crate) async fn resolve_secrets(&self, config: &FeedConfig) -> Result<FeedConfig, String> {
        let keyring = self.shared.keyring.clone();
        let config = config.clone();
        tokio::task::spawn_blocking(move || secrets::resolve(&config, &keyring))
            .await
            .unwrap_or_else(|e| Err(format!("a keyring task failed: {e}")))
    }

    /// Pause a feed: its connection closes, its history stays.
    pub async fn pause_feed(&self, name: &str) -> Result<FeedRecord, Error> {
        let name = name.to_string();
        self.edit(move |store| store.set_paused(&name, true)).await
    }

    /// Resume a paused, stopped or failed feed.
    pub async fn resume_feed(&self, name: &str) -> Result<FeedRecord, Error> {
        let name = name.to_string();
        self.edit(move |store| store.set_paused(&name, false)).await
    }

    /// Every feed with its state, last event id and unread count.
    pub async fn feeds(&self) -> Result<Vec<FeedStatus>, Error> {
        let following = self.is_following();
        self.blocking(move |store| Ok(store.feed_statuses(following)?)).await
    }

    /// Events, newest first; see [`EventQuery`].
    pub async fn events(&self, query: EventQuery) -> Result<Vec<StoredEvent>, Error> {
        if let Some(feed) = &query.feed {
            let feed = feed.clone();
            self.blocking(move |store| store.feed(&feed).map(drop)).await?;
        }
        self.blocking(move |store| Ok(store.events(&query)?)).await
    }

    /// Mark events read.
    pub async fn mark_read(&self, seqs: Vec<i64>) -> Result<usize, Error> {
        let changed = self.blocking(move |store| Ok(store.mark_read(&seqs)?)).await?;
        let _ = self.shared.changes.send(Change::EventsRead);
        Ok(changed)
    }

    /// Mark every event read, or every event of one feed.
    pub async fn mark_all_read(&self, feed: Option<String>) -> Result<usize, Error> {
        let changed = self
            .blocking(move |store| {
                let feed_id = feed.map(|name| store.feed(&name).map(|record| record.id)).transpose()?;
                Ok(store.mark_all_read(feed_id)?)
            })
            .await?;
        let _ = self.shared.changes.send(Change::EventsRead);
        Ok(changed)
    }

    /// Every feed as JSON, secrets replaced (see [`crate::portable`]).
    pub async fn export_feeds(&self) -> Result<String, Error> {
        self.blocking(|store| {
            let configs: Vec<_> = store.feeds()?.into_iter().map(|record| record.config).collect();
            Ok(crate::portable::export(&configs))
        })
        .await
    }

    /// Add the feeds of an export. Feeds whose name exists are left alone. Returns the names added and
    /// what the user still has to do (secrets to add back, names that existed).
    pub async fn import_feeds(&self, text: &str) -> Result<(Vec<String>, Vec<String>), Error> {
        let imported = crate::portable::import(text)?;
        let mut added = Vec::new();
        let mut notes = imported.warnings;
        for spec in imported.specs {
            let name = spec.name.clone().unwrap_or_default();
            match self.add_feed(spec).await {
                Ok(record) => added.push(record.config.name),
                Err(Error::FeedExists(_)) => notes.push(format!("`{name}` exists already; left as it is")),
                Err(other) => return Err(other),
            }
        }
        Ok((added, notes))
    }

    /// Pause every feed.
    pub async fn pause_all(&self) -> Result<usize, Error> {
        self.edit(|store| Ok(store.set_all_paused(true)?)).await
    }

    /// Resume every paused, stopped or failed feed.
    pub async fn resume_all(&self) -> Result<usize, Error> {
        self.edit(|store| Ok(store.set_all_paused(false)?)).await
    }

    /// Unread events across every feed.
    pub async fn unread_count(&self) -> Result<u64, Error> {
        self.blocking(|store| Ok(store.unread_count()?)).await
    }

    /// One event by its sequence number.
    pub async fn event(&self, seq: i64) -> Result<Option<StoredEvent>, Error> {
        self.blocking(move |store| Ok(store.event(seq)?)).await
    }

    /// Connect to a feed without saving it and show its first events (the "Test" button).
    pub async fn test_feed(&self, spec: FeedSpec) -> Result<Probe, Error> {
        crate::probe::probe(&spec, 5, Duration::from_secs(5)).await
    }

    /// Turn do not disturb on or off: events are still stored, but only critical ones are shown.
    pub async fn set_do_not_disturb(&self, on: bool) -> Result<(), Error> {
        let value = if on { "on" } else { "off" };
        self.blocking(move |store| Ok(store.set_setting(DO_NOT_DISTURB, value)?))
            .await?;
        self.refresh_silence_async().await
    }

    /// Whether do not disturb is on.
    pub async fn do_not_disturb(&self) -> Result<bool, Error> {
        self.blocking(|store| Ok(store.setting(DO_NOT_DISTURB)?.as_deref() == Some("on")))
            .await
    }

    /// Set (or clear) the daily quiet hours, during which only critical events are shown.
    pub async fn set_quiet_hours(&self, hours: Option<QuietHours>) -> Result<(), Error> {
        let value = hours.map(|h| h.to_string()).unwrap_or_default();
        self.blocking(move |store| Ok(store.set_setting(QUIET_HOURS, &value)?))
            .await?;
        self.refresh_silence_async().await
    }

    /// The daily quiet hours, if set.
    pub async fn quiet_hours(&self) -> Result<Option<QuietHours>, Error> {
        self.blocking(|store| Ok(store.setting(QUIET_HOURS)?.and_then(|text| text.parse().ok())))
            .await
    }

    /// Mute or unmute a feed's notifications; its events are still stored.
    pub async fn mute_feed(&self, name: &str, muted: bool) -> Result<(), Error> {
        let name = name.to_string();
        self.edit(move |store| store.set_muted(&name, muted)).await?;
        self.refresh_silence_async().await
    }

    /// Hold a feed's notifications back until `until_ms` (Unix ms).
    pub async fn snooze_feed(&self, name: &str, until_ms: i64) -> Result<(), Error> {
        let name = name.to_string();
        self.edit(move |store| store.set_snoozed(&name, until_ms)).await?;
        self.refresh_silence_async().await
    }

    async fn refresh_silence_async(&self) -> Result<(), Error> {
        let engine = self.clone();
        tokio::task::spawn_blocking(move || engine.refresh_silence())
            .await
            .unwrap_or_else(|e| Err(Error::Internal(e.to_string())))
    }

    /// Read what holds notifications back from the database (another process may have changed it).
    pub(crate) fn refresh_silence(&self) -> Result<(), Error> {
        let store = &self.shared.store;
        let forced = store.setting(DO_NOT_DISTURB)?.as_deref() == Some("on");
        let quiet_hours = store.setting(QUIET_HOURS)?.and_then(|text| text.parse().ok());
        let fresh = Silence {
            do_not_disturb: crate::quiet::DoNotDisturb { quiet_hours, forced },
            muted: store.muted_feeds(now_ms())?,
        };
        let mut silence = self
            .shared
            .silence
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let was_forced = silence.do_not_disturb.forced;
        *silence = fresh;
        drop(silence);
        if was_forced != forced {
            let _ = self.shared.changes.send(Change::DoNotDisturb { on: forced });
        }
        Ok(())
    }

    /// Start following every feed that is not paused, stopped or failed. Fails when another process
    /// already follows this directory.
    pub async fn follow(&self, options: FollowOptions) -> Result<Following, Error> {
        following::start(self.clone(), options).await
    }

    async fn edit<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let result = self.blocking(f).await?;
        self.shared.feeds_edited.notify_one();
        let _ = self.shared.changes.send(Change::FeedsChanged);
        Ok(result)
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Store) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let store = self.shared.store.clone();
        tokio::task::spawn_blocking(move || f(&store))
            .await
            .unwrap_or_else(|e| Err(Error::Internal(format!("a database task failed: {e}"))))
    }
}

/// In an edit, a header whose value is `<secret>` (as feed statuses show credentials) keeps its saved value.
fn keep_saved_headers(saved: &FeedConfig, headers: &mut [String]) -> Result<(), Error> {
    for line in headers {
        let Some((header, value)) = line.split_once(':') else {
            continue;
        };
        if value.trim() != crate::portable::SECRET {
            continue;
        }
        let kept = saved
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(header.trim()));
        match kept {
            Some(kept) => *line = format!("{}: {}", kept.name, kept.value),
            None => {
                return Err(Error::InvalidHeader {
                    header: line.clone(),
                    reason: "there is no saved value to keep; type the value".into(),
                });
            }
        }
    }
    Ok(())
}

/// How often a following engine looks for feeds edited by another process.
pub(crate) const FEEDS_POLL: Duration = Duration::from_secs(1);
