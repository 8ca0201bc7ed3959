//! Storing one burst of one feed exactly once, inside the writer's transaction.
//!
//! Exactly once: an event whose own block carried an id is keyed by that id for all time. An event without
//! one is keyed by a hash of its type and data, and counts as a repeat only of an identical event stored by an
//! *earlier connection* of the same feed within [`UNKEYED_REPLAY_WINDOW_MS`]: a server replaying after a
//! reconnect is caught, while the same message sent twice on one live connection is two events.
//!
//! Events keyed by an id go in [`ROWS_PER_INSERT`] to a statement: one statement keeps its place in the
//! tables and the unique index from row to row, where a statement per event starts each from the root (a
//! third of the writer's time in a flood, bench part 3). The unique index drops repeats; the seqs of what it
//! kept are read back only when it dropped some.

use std::sync::LazyLock;

use rusqlite::{Connection, params, params_from_iter};
use sha2::{Digest, Sha256};

use super::StoreError;
use super::borrowed_insert::{BorrowedInsert, Param};
use super::counts;
use super::events::{NewEvent, NotifyMark, StoredEvent, UNKEYED_REPLAY_WINDOW_MS};
use super::runs;
use crate::quiet::Urgency;

/// How many events keyed by an id one `INSERT` stores (11 parameters each).
const ROWS_PER_INSERT: usize = 16;

/// `OR IGNORE`: a repeated id is dropped by the unique index `events_by_id` (schema migration 5; hashed keys sort
/// below 'i', outside it). A statement that cannot abort also needs no statement journal, which SQLite would
/// otherwise keep for each statement of many rows: more writes than the rows themselves. Nothing else can
/// conflict: the seq is new, and no column declared NOT NULL is ever bound to NULL.
const INSERT: &str = "INSERT OR IGNORE INTO events(feed_id, event_id, dedup_key, type, data, title, body, link, \
                      received_ms, notify_state, urgency) VALUES";
const ROW_PARAMETERS: &str = "(?,?,?,?,?,?,?,?,?,?,?)";
const PARAMETERS_PER_ROW: usize = 11;

/// Store the events of one burst of one feed that are new, and move the feed's cursor, inside the
/// caller's transaction. `connected_ms` is when the connection that received them opened.
/// Returns the events actually stored (repeats are left out); their text moves into them, uncopied.
pub(crate) fn insert_burst(
    tx: &Connection,
    feed_id: i64,
    connected_ms: i64,
    events: Vec<NewEvent>,
    cursor: Option<&str>,
) -> rusqlite::Result<Result<Vec<StoredEvent>, StoreError>> {
    let feed: Option<String> = {
        let mut stmt = tx.prepare_cached("SELECT name FROM feeds WHERE id = ?1")?;
        let mut rows = stmt.query([feed_id])?;
        rows.next()?.map(|row| row.get(0)).transpose()?
    };
    let Some(feed) = feed else {
        return Ok(Err(StoreError::FeedGone));
    };
    let mut burst = Burst {
        tx,
        feed_id,
        feed,
        connected_ms,
        stored: Vec::with_capacity(events.len()),
        keyed: Vec::with_capacity(ROWS_PER_INSERT),
        keys: vec![String::with_capacity(80); ROWS_PER_INSERT],
        together: None,
    };
    for event in events {
        if is_keyed(&event) {
            burst.keyed.push(event);
            if burst.keyed.len() == ROWS_PER_INSERT {
                burst.insert_keyed_together()?;
            }
        } else {
            // In arrival order: the keyed events before it go first.
            burst.insert_keyed_one_by_one()?;
            burst.insert_one(event)?;
        }
    }
    burst.insert_keyed_one_by_one()?;
    let Burst { stored, .. } = burst;
    if let Some(first) = stored.first() {
        counts::add_stored(tx, feed_id, stored.len(), first.seq)?;
        runs::record(tx, feed_id, stored.iter().map(|event| event.seq))?;
    }
    if let Some(cursor) = cursor {
        tx.prepare_cached(
            "INSERT INTO cursors(feed_id, last_event_id) VALUES (?1, ?2)
             ON CONFLICT(feed_id) DO UPDATE SET last_event_id = excluded.last_event_id",
        )?
        .execute(params![feed_id, cursor])?;
    }
    Ok(Ok(stored))
}

/// One burst on its way in: what is stored so far, and the keyed events waiting to fill a statement.
struct Burst<'c> {
    tx: &'c Connection,
    feed_id: i64,
    feed: String,
    connected_ms: i64,
    stored: Vec<StoredEvent>,
    keyed: Vec<NewEvent>,
    /// The keys of the waiting keyed events, in their order (reused from statement to statement).
    keys: Vec<String>,
    /// The statement storing [`ROWS_PER_INSERT`] keyed events, prepared once a burst has that many.
    together: Option<BorrowedInsert<'c>>,
}

impl Burst<'_> {
    /// Store the waiting keyed events with one statement.
    fn insert_keyed_together(&mut self) -> rusqlite::Result<()> {
        static SQL: LazyLock<String> =
            LazyLock::new(|| format!("{INSERT} {}", [ROW_PARAMETERS; ROWS_PER_INSERT].join(",")));
        let insert = match &mut self.together {
            Some(insert) => insert,
            together => together.insert(BorrowedInsert::prepare(self.tx, &SQL)?),
        };
        let mut params = [Param::Null; ROWS_PER_INSERT * PARAMETERS_PER_ROW];
        for ((event, key), row) in self
            .keyed
            .iter()
            .zip(&mut self.keys)
            .zip(params.chunks_exact_mut(PARAMETERS_PER_ROW))
        {
            dedup_key_into(event, key);
            row.copy_from_slice(&row_params(self.feed_id, event, key));
        }
        let inserted = insert.execute(&params)?;
        let last_seq = self.tx.last_insert_rowid();
        // A statement's rows take the seqs after the highest stored one, in order, and a dropped repeat
        // takes none: the kept ones hold the `inserted` seqs up to `last_seq`.
        let kept: Vec<Option<i64>> = if inserted == self.keyed.len() {
            (last_seq - inserted as i64 + 1..=last_seq).map(Some).collect()
        } else {
            self.seqs_of_kept(last_seq, inserted)?
        };
        for (event, seq) in self.keyed.drain(..).zip(kept) {
            if let Some(seq) = seq {
                self.stored.push(stored_event(seq, self.feed_id, &self.feed, event));
            }
        }
        Ok(())
    }

    /// For each waiting keyed event, the seq it was stored at, or None when it was a repeat; after a statement
    /// that kept `inserted` of them, the last at `last_seq`.
    fn seqs_of_kept(&self, last_seq: i64, inserted: usize) -> rusqlite::Result<Vec<Option<i64>>> {
        let mut rows = Vec::with_capacity(inserted);
        if inserted > 0 {
            let mut stmt = self
                .tx
                .prepare_cached("SELECT seq, dedup_key FROM events WHERE seq > ?1 ORDER BY seq")?;
            let mut found = stmt.query([last_seq - inserted as i64])?;
            while let Some(row) = found.next()? {
                rows.push((row.get::<_, i64>(0)?, row.get::<_, String>(1)?));
            }
        }
        // Kept rows are in the events' order, and a kept event is the first of the statement with its key:
        // a later one with that key, or any with a key stored before, is the repeat.
        let mut rows = rows.into_iter().peekable();
        let seqs = self.keys[..self.keyed.len()]
            .iter()
            .map(|key| rows.next_if(|(_, kept)| kept == key).map(|(seq, _)| seq))
            .collect();
        Ok(seqs)
    }

    /// Store the waiting keyed events one statement each (fewer than fill a statement).
    fn insert_keyed_one_by_one(&mut self) -> rusqlite::Result<()> {
        let waiting = std::mem::take(&mut self.keyed);
        for event in waiting {
            self.insert_one(event)?;
        }
        Ok(())
    }

    /// Store one event unless it repeats a stored one.
    fn insert_one(&mut self, event: NewEvent) -> rusqlite::Result<()> {
        // No keyed event is waiting when this runs, so the first of their keys' buffers is free.
        dedup_key_into(&event, &mut self.keys[0]);
        let key = self.keys[0].as_str();
        if !is_keyed(&event) {
            let since = event.received_ms - UNKEYED_REPLAY_WINDOW_MS;
            let mut seen = self.tx.prepare_cached(
                "SELECT 1 FROM events WHERE feed_id = ?1 AND dedup_key = ?2 AND dedup_key < 'i'
                 AND received_ms >= ?3 AND received_ms < ?4 LIMIT 1",
            )?;
            if seen.exists(params![self.feed_id, key, since, self.connected_ms])? {
                return Ok(());
            }
        }
        static SQL: LazyLock<String> = LazyLock::new(|| format!("{INSERT} {ROW_PARAMETERS}"));
        let mut insert = self.tx.prepare_cached(&SQL)?;
        if insert.execute(params_from_iter(row_params(self.feed_id, &event, key)))? == 1 {
            let seq = self.tx.last_insert_rowid();
            self.stored.push(stored_event(seq, self.feed_id, &self.feed, event));
        }
        Ok(())
    }
}

/// The values of `event`'s row, in the order of [`ROW_PARAMETERS`].
fn row_params<'a>(feed_id: i64, event: &'a NewEvent, key: &'a str) -> [Param<'a>; PARAMETERS_PER_ROW] {
    let event_id = event.event_id.as_deref().filter(|id| !id.is_empty());
    let notify_state = if event.notify { 0 } else { NotifyMark::Skipped as i64 };
    [
        Param::Int(feed_id),
        Param::from(event_id),
        Param::Text(key),
        Param::Text(&event.event_type),
        Param::Text(&event.data),
        Param::Text(&event.title),
        Param::Text(&event.body),
        Param::from(event.link.as_deref()),
        Param::Int(event.received_ms),
        Param::Int(notify_state),
        Param::Text(urgency_text(event.urgency)),
    ]
}

fn stored_event(seq: i64, feed_id: i64, feed: &str, event: NewEvent) -> StoredEvent {
    StoredEvent {
        seq,
        feed_id,
        feed: feed.to_string(),
        event_id: event.event_id.filter(|id| !id.is_empty()),
        event_type: event.event_type,
        data: event.data,
        title: event.title,
        body: event.body,
        link: event.link,
        urgency: event.urgency,
        received_ms: event.received_ms,
        read: false,
    }
}

/// Whether the event is keyed by its own id (else by a hash of its type and data).
fn is_keyed(event: &NewEvent) -> bool {
    event.id_in_block && event.event_id.as_deref().is_some_and(|id| !id.is_empty())
}

/// The key that makes an event unique within its feed, written into `key` (reused across a burst).
///
/// An id written as a plain decimal number (`7`, `1000000`; not `007`) is keyed `in:` + its digit count in two
/// digits + the digits, so such keys sort as the numbers do and a feed's growing ids are appended at the end
/// of the unique index, where in text order `1000000` would go between `100000` and `100001` (bench part 3).
/// Every other id is keyed `id:` + the id. The two forms never meet: `007` and `7` stay two events.
fn dedup_key_into(event: &NewEvent, key: &mut String) {
    key.clear();
    match &event.event_id {
        Some(id) if is_keyed(event) => match in_number_order(id) {
            Some(width) => {
                key.push_str("in:");
                key.push(char::from(b'0' + width / 10));
                key.push(char::from(b'0' + width % 10));
                key.push_str(id);
            }
            None => {
                key.push_str("id:");
                key.push_str(id);
            }
        },
        _ => {
            let mut hash = Sha256::new();
            hash.update(event.event_type.as_bytes());
            hash.update([0]);
            hash.update(event.data.as_bytes());
            let digest = hash.finalize();
            const HEX: &[u8; 16] = b"0123456789abcdef";
            key.push_str("h:");
            for byte in digest {
                key.push(HEX[usize::from(byte >> 4)] as char);
                key.push(HEX[usize::from(byte & 0x0f)] as char);
            }
        }
    }
}

#[cfg(test)]
fn dedup_key(event: &NewEvent) -> String {
    let mut key = String::new();
    dedup_key_into(event, &mut key);
    key
}

/// The digit count of an id written as a plain decimal number of at most 99 digits, without leading zeros
/// (what [`dedup_key_into`] keys in number order); None for any other id.
fn in_number_order(id: &str) -> Option<u8> {
    let plain = id.bytes().all(|byte| byte.is_ascii_digit()) && (id == "0" || !id.starts_with('0'));
    u8::try_from(id.len())
        .ok()
        .filter(|&width| plain && (1..=99).contains(&width))
}

fn urgency_text(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Low => "low",
        Urgency::Normal => "normal",
        Urgency::Critical => "critical",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, new_store_with_one_feed, store_test_burst, test_event as event};

    /// Store `events` as one burst; returns (seq, data) of what it says it stored.
    fn store_burst(store: &Store, feed_id: i64, events: Vec<NewEvent>) -> Vec<(i64, String)> {
        store
            .with(|conn| insert_burst(conn, feed_id, 0, events, None).map(|stored| stored.unwrap()))
            .unwrap()
            .into_iter()
            .map(|event| (event.seq, event.data))
            .collect()
    }

    /// (seq, data) of every stored event, oldest first.
    fn stored_rows(store: &Store) -> Vec<(i64, String)> {
        store
            .with(|conn| {
                conn.prepare("SELECT seq, data FROM events ORDER BY seq")?
                    .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?
                    .collect()
            })
            .unwrap()
    }

    #[test]
    fn only_an_id_from_the_events_own_block_keys_it() {
        let mut event = NewEvent {
            event_id: Some("7".into()),
            id_in_block: true,
            event_type: "message".into(),
            data: "x".into(),
            title: String::new(),
            body: String::new(),
            link: None,
            urgency: Urgency::Normal,
            received_ms: 0,
            notify: true,
        };
        assert_eq!(dedup_key(&event), "in:017");
        event.id_in_block = false;
        assert!(dedup_key(&event).starts_with("h:"));
        let other_type = NewEvent {
            event_type: "build".into(),
            ..event.clone()
        };
        assert_ne!(dedup_key(&event), dedup_key(&other_type));
    }

    #[test]
    fn numeric_ids_key_in_number_order_and_never_meet_other_ids() {
        let key = |id: &str| dedup_key(&event(Some(id), "x"));
        let numbers = "0 7 9 10 99 100000 100001 1000000 18446744073709551616";
        let keys: Vec<String> = numbers.split(' ').map(key).collect();
        assert!(keys.is_sorted(), "{keys:?}");
        assert!(keys.iter().all(|key| key.starts_with("in:")), "{keys:?}");
        let others = "007 00 -1 1.5 1e3 +7 ７ in:017 _7".split(' ');
        for other in others.chain([" 7", &"9".repeat(100)]) {
            assert_eq!(key(other), format!("id:{other}"));
        }
        assert_ne!(key("007"), key("7"));
    }

    #[test]
    fn a_burst_keeps_each_id_once_and_reports_where_each_kept_event_went() {
        let (_dir, store, feed) = new_store_with_one_feed();
        // Ids 3, 5 and 30 are stored already; the burst repeats them, repeats 12 within itself (the second
        // copy is the repeat), and has an event without an id in the middle: more than one statement's worth.
        store_test_burst(&store, feed.id, [3, 5, 30], None);
        let mut burst: Vec<NewEvent> = (1..=40)
            .map(|n| event(Some(&n.to_string()), &format!("new {n}")))
            .collect();
        burst.insert(14, event(Some("12"), "repeat of 12"));
        burst.insert(20, event(None, "no id"));
        let reported = store_burst(&store, feed.id, burst);

        let kept: Vec<String> = reported.iter().map(|(_, data)| data.clone()).collect();
        let mut expected: Vec<String> = (1..=40)
            .filter(|n| ![3, 5, 30].contains(n))
            .map(|n| format!("new {n}"))
            .collect();
        let at = expected.iter().position(|data| data == "new 20").unwrap();
        expected.insert(at, "no id".into());
        assert_eq!(kept, expected);
        // What the burst reports is what the table holds, seq for seq.
        assert_eq!(stored_rows(&store)[3..], reported[..]);
    }

    #[test]
    fn a_burst_of_nothing_but_repeats_stores_nothing() {
        let (_dir, store, feed) = new_store_with_one_feed();
        store_test_burst(&store, feed.id, 1..=40, None);
        let before = stored_rows(&store);
        let again = (1..=40).map(|n| event(Some(&n.to_string()), "again")).collect();
        assert!(store_burst(&store, feed.id, again).is_empty());
        assert_eq!(stored_rows(&store), before);
    }
}
