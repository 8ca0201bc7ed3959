//! Events in the database: what a stored event is, listing and searching them, read and notified marks.
//! Storing a burst exactly once is `burst`'s.

use rusqlite::{Connection, Row, params, params_from_iter};
use serde::Serialize;

use super::counts::{self, UNREAD_FROM};
use super::fts::{like_pattern, unindexed_match_sql};
use super::runs::RUN_EVENTS;
use super::{Store, StoreResult};
use crate::quiet::Urgency;

/// How far back an event without an id is compared with earlier connections' events: one day.
pub const UNKEYED_REPLAY_WINDOW_MS: i64 = 24 * 60 * 60 * 1000;

/// An event on its way into the store, already mapped to what a notification would show.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// The last event id at dispatch ("" or None when there is none).
    pub event_id: Option<String>,
    /// Whether the event's own block carried the id (so the id identifies this event).
    pub id_in_block: bool,
    pub event_type: String,
    pub data: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub urgency: Urgency,
    pub received_ms: i64,
    /// Whether it owes the user a notification (false: notifications off, or its feed's rules say no).
    pub notify: bool,
}

/// An event as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct StoredEvent {
    /// The store's own sequence number: unique, increasing with arrival.
    pub seq: i64,
    pub feed_id: i64,
    pub feed: String,
    /// The id the server gave (SSE last event id), if any.
    pub event_id: Option<String>,
    #[serde(rename = "type")]
    pub event_type: String,
    pub data: String,
    pub title: String,
    pub body: String,
    pub link: Option<String>,
    pub urgency: Urgency,
    pub received_ms: i64,
    pub read: bool,
}

/// Which events to list, newest first.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
pub struct EventQuery {
    /// Only this feed's events (by name).
    pub feed: Option<String>,
    /// Full-text search over title, body and data; every word must match (as a prefix).
    pub search: Option<String>,
    /// Only events older than this sequence number: the next page.
    pub before_seq: Option<i64>,
    pub unread_only: bool,
    /// At most this many (0 means the default, 50).
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub limit: usize,
}

/// Whether an event still owes the user a notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotifyMark {
    Notified = 1,
    /// Too old when the engine came back, or notifications were off.
    Skipped = 2,
}

const EVENT_COLUMNS: &str =
    "e.seq, e.feed_id, f.name, e.event_id, e.type, e.data, e.title, e.body, e.link, e.received_ms, e.read, e.urgency";

fn event_from_row(row: &Row<'_>) -> rusqlite::Result<StoredEvent> {
    Ok(StoredEvent {
        seq: row.get(0)?,
        feed_id: row.get(1)?,
        feed: row.get(2)?,
        event_id: row.get(3)?,
        event_type: row.get(4)?,
        data: row.get(5)?,
        title: row.get(6)?,
        body: row.get(7)?,
        link: row.get(8)?,
        received_ms: row.get(9)?,
        read: row.get(10)?,
        urgency: match row.get::<_, String>(11)?.as_str() {
            "low" => Urgency::Low,
            "critical" => Urgency::Critical,
            _ => Urgency::Normal,
        },
    })
}

/// Mark events as notified or skipped.
pub(crate) fn mark_notified(conn: &Connection, seqs: &[i64], mark: NotifyMark) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached("UPDATE events SET notify_state = ?2 WHERE seq = ?1")?;
    for seq in seqs {
        stmt.execute(params![seq, mark as i64])?;
    }
    Ok(())
}

/// Turn what a person typed into an FTS5 query: each word a quoted prefix, all required.
fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split_whitespace()
        .map(|word| format!("\"{}\"*", word.replace('"', "\"\"")))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// The query listing the events `query` asks for, newest first, with its arguments.
fn select_events(query: &EventQuery) -> (String, Vec<rusqlite::types::Value>) {
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    // One feed's events are found through its runs, walked from the newest (see `runs`).
    let (mut sql, order) = match &query.feed {
        Some(feed) => {
            args.push(feed.clone().into());
            (
                format!("SELECT {EVENT_COLUMNS} FROM {RUN_EVENTS} JOIN feeds f ON f.id = r.feed_id WHERE f.name = ?"),
                " ORDER BY r.last_seq DESC, e.seq DESC LIMIT ?",
            )
        }
        None => (
            format!("SELECT {EVENT_COLUMNS} FROM events e JOIN feeds f ON f.id = e.feed_id WHERE 1 = 1"),
            " ORDER BY e.seq DESC LIMIT ?",
        ),
    };
    if let Some(fts) = query.search.as_deref().and_then(fts_query) {
        // The index, and the events stored since it was last extended (see `fts`).
        let words: Vec<&str> = query.search.as_deref().unwrap_or("").split_whitespace().collect();
        sql.push_str(&format!(
            " AND (e.seq IN (SELECT rowid FROM events_fts WHERE events_fts MATCH ?) OR ({}))",
            unindexed_match_sql(words.len())
        ));
        args.push(fts.into());
        args.extend(words.iter().map(|word| like_pattern(word).into()));
    }
    if let Some(before) = query.before_seq {
        sql.push_str(" AND e.seq < ?");
        args.push(before.into());
        if query.feed.is_some() {
            sql.push_str(" AND r.first_seq < ?");
            args.push(before.into());
        }
    }
    if query.unread_only {
        // No unread event lies below the lowest `unread_from` (see `counts`).
        sql.push_str(&format!(" AND e.read = 0 AND e.seq >= {UNREAD_FROM}"));
        if query.feed.is_some() {
            sql.push_str(&format!(" AND r.last_seq >= {UNREAD_FROM}"));
        }
    }
    sql.push_str(order);
    let limit = if query.limit == 0 { 50 } else { query.limit };
    args.push((limit as i64).into());
    (sql, args)
}

impl Store {
    /// Events matching `query`, newest first.
    pub fn events(&self, query: &EventQuery) -> StoreResult<Vec<StoredEvent>> {
        let (sql, args) = select_events(query);
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&sql)?;
            stmt.query_map(params_from_iter(args), event_from_row)?.collect()
        })
    }

    /// One event by its sequence number.
    pub fn event(&self, seq: i64) -> StoreResult<Option<StoredEvent>> {
        self.with(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN feeds f ON f.id = e.feed_id WHERE e.seq = ?1"
            ))?;
            let mut rows = stmt.query([seq])?;
            rows.next()?.map(event_from_row).transpose()
        })
    }

    /// Mark these events read; returns how many changed.
    pub fn mark_read(&self, seqs: &[i64]) -> StoreResult<usize> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let changed = counts::mark_read(&tx, seqs)?;
            tx.commit()?;
            Ok(changed)
        })
    }

    /// Mark every event read, or every event of one feed; returns how many changed.
    pub fn mark_all_read(&self, feed_id: Option<i64>) -> StoreResult<usize> {
        self.with(|conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let changed = counts::mark_all_read(&tx, feed_id)?;
            tx.commit()?;
            Ok(changed)
        })
    }

    /// Events stored but never notified (the process died first). Those received since `recent_ms`
    /// are returned oldest first to be notified now; older ones are marked skipped.
    pub fn take_unnotified(&self, recent_ms: i64) -> StoreResult<Vec<StoredEvent>> {
        self.with(|conn| {
            conn.execute(
                "UPDATE events SET notify_state = ?2 WHERE notify_state = 0 AND received_ms < ?1",
                params![recent_ms, NotifyMark::Skipped as i64],
            )?;
            let mut stmt = conn.prepare(&format!(
                "SELECT {EVENT_COLUMNS} FROM events e JOIN feeds f ON f.id = e.feed_id
                 WHERE e.notify_state = 0 ORDER BY e.seq"
            ))?;
            stmt.query_map([], event_from_row)?.collect()
        })
    }

    /// Mark events notified or skipped.
    pub fn mark_notified(&self, seqs: &[i64], mark: NotifyMark) -> StoreResult<()> {
        self.with(|conn| {
            let tx = conn.transaction()?;
            mark_notified(&tx, seqs, mark)?;
            tx.commit()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::new_store_with_one_feed;

    #[test]
    fn search_words_become_quoted_prefixes() {
        assert_eq!(fts_query("deploy web").as_deref(), Some("\"deploy\"* \"web\"*"));
        assert_eq!(
            fts_query("say \"hi\" OR").as_deref(),
            Some("\"say\"* \"\"\"hi\"\"\"* \"OR\"*")
        );
        assert_eq!(fts_query("   "), None);
    }

    /// How SQLite runs the listing `query` asks for.
    fn plan(store: &Store, query: EventQuery) -> String {
        let (sql, args) = select_events(&query);
        store
            .with(|conn| {
                conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?
                    .query_map(params_from_iter(args), |row| row.get::<_, String>(3))?
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap()
            .join("\n")
    }

    #[test]
    fn listings_walk_the_feeds_runs_and_the_unread_range_without_sorting_or_scanning() {
        let (_dir, store, feed) = new_store_with_one_feed();
        let one_feed = |unread_only, before_seq| EventQuery {
            feed: Some(feed.config.name.clone()),
            unread_only,
            before_seq,
            ..EventQuery::default()
        };
        for query in [one_feed(false, None), one_feed(true, Some(10))] {
            let plan = plan(&store, query);
            assert!(plan.contains("SEARCH r USING PRIMARY KEY (feed_id=?"), "{plan}");
            assert!(
                plan.contains("SEARCH e USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"),
                "{plan}"
            );
            assert!(!plan.contains("TEMP B-TREE"), "{plan}");
        }
        let unread = EventQuery {
            unread_only: true,
            ..EventQuery::default()
        };
        let plan = plan(&store, unread);
        assert!(plan.contains("SEARCH e USING INTEGER PRIMARY KEY (rowid>?)"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
