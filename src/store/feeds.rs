//! Feeds in the database: their configuration, the user's pause, the engine's halt (stopped or failed),
//! each feed's cursor, and the live state the running engine reports for other processes to show.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, Row, params};
use serde::Serialize;

use super::{Store, StoreResult};
use crate::error::Error;
use crate::feed::{FeedConfig, FeedKind, FeedState};

/// A feed as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FeedRecord {
    pub id: i64,
    pub config: FeedConfig,
    pub paused: bool,
    /// Set when the feed stopped or failed: the engine leaves it alone until the user acts.
    pub halted: Option<FeedState>,
    /// Bumped on every edit; a running feed whose revision changed reconnects with the new configuration.
    pub revision: i64,
}

impl FeedRecord {
    /// Whether an engine should be following this feed now.
    pub fn wants_following(&self) -> bool {
        !self.paused && self.halted.is_none()
    }
}

/// What a list of feeds shows a person.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct FeedStatus {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub kind: FeedKind,
    pub state: FeedState,
    pub last_event_id: Option<String>,
    pub unread: u64,
    pub events: u64,
    /// The request headers as `Name: value`, credential values shown as `<secret>` (an edit that sends
    /// `<secret>` back keeps the saved value).
    pub headers: Vec<String>,
    /// Notifications muted by the user (events are still stored).
    pub muted: bool,
    /// Notifications snoozed until then (Unix ms), if snoozed.
    pub snoozed_until_ms: Option<i64>,
}

/// The feeds muted, or snoozed until after ?1, with the time a snooze ends (NULL: muted until unmuted).
/// The first condition is the predicate of the partial index `feeds_silenced` (schema migration 6), so
/// the engine's once-a-second read of it does not scan every feed.
pub(crate) const SILENCED_FEEDS: &str = "SELECT id, CASE WHEN muted = 1 THEN NULL ELSE snoozed_until_ms END FROM feeds
     WHERE (muted = 1 OR snoozed_until_ms IS NOT NULL) AND (muted = 1 OR snoozed_until_ms > ?1)";

const FEED_COLUMNS: &str = "id, config, paused, halted, revision";

fn feed_from_row(row: &Row<'_>) -> rusqlite::Result<FeedRecord> {
    let config: String = row.get(1)?;
    let halted: Option<String> = row.get(3)?;
    Ok(FeedRecord {
        id: row.get(0)?,
        config: from_json(1, &config)?,
        paused: row.get(2)?,
        halted: halted.map(|text| from_json(3, &text)).transpose()?,
        revision: row.get(4)?,
    })
}

fn from_json<T: serde::de::DeserializeOwned>(column: usize, text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(column, rusqlite::types::Type::Text, Box::new(e)))
}

fn to_json<T: Serialize>(value: &T) -> String {
    // Our own plain data types always serialize.
    serde_json::to_string(value).unwrap_or_default()
}

/// Record the state a running engine reports; a stopped or failed state also halts the feed.
pub(crate) fn record_state(conn: &rusqlite::Connection, feed_id: i64, state: &FeedState) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO feed_states(feed_id, state) SELECT ?1, ?2 WHERE EXISTS (SELECT 1 FROM feeds WHERE id = ?1)
         ON CONFLICT(feed_id) DO UPDATE SET state = excluded.state",
    )?
    .execute(params![feed_id, to_json(state)])?;
    if state.is_halted() {
        conn.prepare_cached("UPDATE feeds SET halted = ?2 WHERE id = ?1")?
            .execute(params![feed_id, to_json(state)])?;
    }
    Ok(())
}

/// Delete the feed `name`, its events, and every row that names it, in one transaction; false if no such feed.
/// Each table with a `feed_id` is listed here (the test `removing_a_feed_leaves_no_row_naming_it` checks).
fn remove_feed_and_what_names_it(conn: &mut rusqlite::Connection, name: &str) -> rusqlite::Result<bool> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let Some(feed_id) = tx
        .query_row("SELECT id FROM feeds WHERE name = ?1", [name], |row| {
            row.get::<_, i64>(0)
        })
        .optional()?
    else {
        return Ok(false);
    };
    super::runs::delete_events(&tx, feed_id)?;
    for table in ["cursors", "feed_states", "feed_counts"] {
        tx.execute(&format!("DELETE FROM {table} WHERE feed_id = ?1"), [feed_id])?;
    }
    tx.execute("DELETE FROM feeds WHERE id = ?1", [feed_id])?;
    // When the removed feed held the newest events, their seqs are given out again: the full-text index must
    // not count them as indexed, or the events stored there would never be indexed (nor found by search).
    tx.execute(
        "UPDATE meta SET value = min(value, (SELECT coalesce(max(seq), 0) FROM events)) WHERE key = 'fts_indexed_seq'",
        [],
    )?;
    tx.commit()?;
    Ok(true)
}

impl Store {
    /// Add a feed; its name must be new.
    pub fn add_feed(&self, config: &FeedConfig, now_ms: i64) -> Result<FeedRecord, Error> {
        let inserted = self.with(|conn| {
            conn.execute(
                "INSERT INTO feeds(name, config, created_ms) VALUES (?1, ?2, ?3) ON CONFLICT(name) DO NOTHING",
                params![config.name, to_json(config), now_ms],
            )
        })?;
        if inserted == 0 {
            return Err(Error::FeedExists(config.name.clone()));
        }
        self.feed(&config.name)
    }

    /// The feed with this name.
    pub fn feed(&self, name: &str) -> Result<FeedRecord, Error> {
        self.with(|conn| {
            conn.query_row(
                &format!("SELECT {FEED_COLUMNS} FROM feeds WHERE name = ?1"),
                [name],
                feed_from_row,
            )
            .optional()
        })?
        .ok_or_else(|| Error::FeedNotFound(name.to_string()))
    }

    /// Every feed, in the order they were added.
    pub fn feeds(&self) -> StoreResult<Vec<FeedRecord>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(&format!("SELECT {FEED_COLUMNS} FROM feeds ORDER BY id"))?;
            stmt.query_map([], feed_from_row)?.collect()
        })
    }

    /// Replace a feed's configuration (a rename included). Clears a halt: an edit is the user acting.
    pub fn update_feed(&self, id: i64, config: &FeedConfig) -> Result<FeedRecord, Error> {
        let result = self.with(|conn| {
            conn.execute(
                "UPDATE feeds SET name = ?2, config = ?3, halted = NULL, revision = revision + 1 WHERE id = ?1",
                params![id, config.name, to_json(config)],
            )
        });
        match result {
            Ok(_) => self.feed(&config.name),
            Err(super::StoreError::Other { detail, .. }) if detail.contains("UNIQUE") => {
                Err(Error::FeedExists(config.name.clone()))
            }
            Err(other) => Err(other.into()),
        }
    }

    /// Remove a feed with its events and cursor.
    pub fn remove_feed(&self, name: &str) -> Result<(), Error> {
        let removed = self.with(|conn| {
            // The events table has no index by feed, so the foreign key's cascade would read every event
            // to find the feed's; its runs find them instead, and the foreign keys stay off meanwhile.
            conn.pragma_update(None, "foreign_keys", false)?;
            let removed = remove_feed_and_what_names_it(conn, name);
            conn.pragma_update(None, "foreign_keys", true)?;
            removed
        })?;
        if !removed {
            return Err(Error::FeedNotFound(name.to_string()));
        }
        Ok(())
    }

    /// Pause or resume. Resuming also clears a halt, so a stopped or failed feed is tried again.
    pub fn set_paused(&self, name: &str, paused: bool) -> Result<FeedRecord, Error> {
        let sql = if paused {
            "UPDATE feeds SET paused = 1 WHERE name = ?1"
        } else {
            "UPDATE feeds SET paused = 0, halted = NULL, revision = revision + 1 WHERE name = ?1"
        };
        let changed = self.with(|conn| conn.execute(sql, [name]))?;
        if changed == 0 {
            return Err(Error::FeedNotFound(name.to_string()));
        }
        self.feed(name)
    }

    /// Pause or resume every feed; returns how many changed.
    pub fn set_all_paused(&self, paused: bool) -> StoreResult<usize> {
        let sql = if paused {
            "UPDATE feeds SET paused = 1 WHERE paused = 0"
        } else {
            "UPDATE feeds SET paused = 0, halted = NULL, revision = revision + 1 WHERE paused = 1 OR halted IS NOT NULL"
        };
        self.with(|conn| conn.execute(sql, []))
    }

    /// Mute or unmute a feed's notifications (its events are still stored).
    pub fn set_muted(&self, name: &str, muted: bool) -> Result<(), Error> {
        let changed = self.with(|conn| {
            conn.execute(
                "UPDATE feeds SET muted = ?2, snoozed_until_ms = NULL WHERE name = ?1",
                params![name, muted],
            )
        })?;
        if changed == 0 {
            return Err(Error::FeedNotFound(name.to_string()));
        }
        Ok(())
    }

    /// Hold a feed's notifications back until `until_ms` (Unix ms).
    pub fn set_snoozed(&self, name: &str, until_ms: i64) -> Result<(), Error> {
        let changed = self.with(|conn| {
            conn.execute(
                "UPDATE feeds SET snoozed_until_ms = ?2 WHERE name = ?1",
                params![name, until_ms],
            )
        })?;
        if changed == 0 {
            return Err(Error::FeedNotFound(name.to_string()));
        }
        Ok(())
    }

    /// Feeds whose notifications are held back: muted ones (None) and snoozed ones (until when).
    pub fn muted_feeds(&self, now_ms: i64) -> StoreResult<HashMap<i64, Option<i64>>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(SILENCED_FEEDS)?;
            stmt.query_map([now_ms], |row| Ok((row.get(0)?, row.get(1)?)))?
                .collect()
        })
    }

    /// Unread events across every feed.
    pub fn unread_count(&self) -> StoreResult<u64> {
        self.with(|conn| super::counts::unread_total(conn))
    }

    /// A setting's value, if set.
    pub fn setting(&self, key: &str) -> StoreResult<Option<String>> {
        self.with(|conn| {
            conn.query_row("SELECT value FROM settings WHERE key = ?1", [key], |row| row.get(0))
                .optional()
        })
    }

    /// Set a setting.
    pub fn set_setting(&self, key: &str, value: &str) -> StoreResult<()> {
        self.with(|conn| {
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?1, ?2) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                params![key, value],
            )
            .map(drop)
        })
    }

    /// Forget every reported state (the engine starts or stops: nothing is connecting or live).
    pub fn clear_reported_states(&self) -> StoreResult<()> {
        self.with(|conn| conn.execute("DELETE FROM feed_states", []).map(drop))
    }

    /// The last event id saved for a feed; Last-Event-ID on the next connection.
    pub fn cursor(&self, feed_id: i64) -> StoreResult<Option<String>> {
        self.with(|conn| {
            conn.query_row(
                "SELECT last_event_id FROM cursors WHERE feed_id = ?1",
                [feed_id],
                |row| row.get(0),
            )
            .optional()
        })
    }

    /// A number that changes whenever any feed is added, edited, paused, resumed, halted or removed.
    pub fn feeds_revision(&self) -> StoreResult<i64> {
        self.with(|conn| {
            conn.query_row("SELECT value FROM meta WHERE key = 'feeds_revision'", [], |row| {
                row.get(0)
            })
        })
    }

    /// Every feed with what a person wants to know about it. `engine_running` says whether the live
    /// states reported in the database are current (an engine holds the data directory) or stale.
    pub fn feed_statuses(&self, engine_running: bool) -> StoreResult<Vec<FeedStatus>> {
        self.with(|conn| {
            let mut stmt = conn.prepare(
                "SELECT f.id, f.config, f.paused, f.halted, f.revision, c.last_event_id, s.state,
                        coalesce(k.unread, 0), coalesce(k.events, 0), f.muted, f.snoozed_until_ms
                 FROM feeds f
                 LEFT JOIN feed_counts k ON k.feed_id = f.id
                 LEFT JOIN cursors c ON c.feed_id = f.id
                 LEFT JOIN feed_states s ON s.feed_id = f.id
                 ORDER BY f.id",
            )?;
            stmt.query_map([], |row| {
                let record = feed_from_row(row)?;
                let reported: Option<String> = row.get(6)?;
                let reported: Option<FeedState> = reported.map(|text| from_json(6, &text)).transpose()?;
                let state = if record.paused {
                    FeedState::Paused
                } else if let Some(halted) = record.halted.clone() {
                    halted
                } else if engine_running {
                    reported.unwrap_or(FeedState::Connecting { attempt: 0 })
                } else {
                    FeedState::Idle
                };
                let last_event_id: Option<String> = row.get(5)?;
                let headers = record
                    .config
                    .headers
                    .iter()
                    .map(|h| {
                        let value = if record.config.is_secret_header(h) {
                            crate::portable::SECRET
                        } else {
                            h.value.as_str()
                        };
                        format!("{}: {value}", h.name)
                    })
                    .collect();
                Ok(FeedStatus {
                    headers,
                    id: record.id,
                    name: record.config.name,
                    url: record.config.url.to_string(),
                    kind: record.config.kind,
                    state,
                    last_event_id: last_event_id.filter(|id| !id.is_empty()),
                    unread: row.get::<_, i64>(7)? as u64,
                    events: row.get::<_, i64>(8)? as u64,
                    muted: row.get(9)?,
                    snoozed_until_ms: row.get(10)?,
                })
            })?
            .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::store::{Store, add_test_feed, new_store_with_one_feed, store_test_burst};

    fn count(store: &Store, sql: &str) -> i64 {
        store.with(|conn| conn.query_row(sql, [], |row| row.get(0))).unwrap()
    }

    #[test]
    fn removing_a_feed_leaves_no_row_naming_it_and_keeps_the_others() {
        let (_dir, store, gone) = new_store_with_one_feed();
        let kept = add_test_feed(&store, "kept");
        store_test_burst(&store, gone.id, 0..5, Some("4"));
        store_test_burst(&store, kept.id, 0..3, Some("2"));
        store_test_burst(&store, gone.id, 5..9, Some("8"));
        store
            .with(|conn| super::record_state(conn, gone.id, &crate::feed::FeedState::Live { since_ms: 1 }))
            .unwrap();

        store.remove_feed(&gone.config.name).unwrap();

        let tables: Vec<String> = store
            .with(|conn| {
                conn.prepare(
                    "SELECT m.name FROM sqlite_master m JOIN pragma_table_info(m.name) c
                     WHERE m.type = 'table' AND c.name = 'feed_id'",
                )?
                .query_map([], |row| row.get(0))?
                .collect()
            })
            .unwrap();
        assert!(tables.len() >= 5, "{tables:?}");
        for table in tables {
            let naming = count(
                &store,
                &format!("SELECT count(*) FROM {table} WHERE feed_id = {}", gone.id),
            );
            assert_eq!(naming, 0, "{table} still names the removed feed");
        }
        assert_eq!(count(&store, "SELECT count(*) FROM feeds"), 1);
        let kept_status = &store.feed_statuses(false).unwrap()[0];
        assert_eq!((kept_status.events, kept_status.unread), (3, 3));
        assert_eq!(count(&store, "SELECT count(*) FROM events"), 3);
        assert_eq!(
            count(&store, "PRAGMA foreign_keys"),
            1,
            "foreign keys are checked again"
        );

        let message = store.remove_feed(&gone.config.name).unwrap_err().to_string();
        assert!(message.contains(&gone.config.name), "{message}");
        assert_eq!(count(&store, "PRAGMA foreign_keys"), 1);
    }
}
