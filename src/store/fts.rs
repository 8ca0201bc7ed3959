//! The full-text index, written behind the events.
//!
//! Storing a burst writes only the events table; the writer thread indexes stored events for search
//! (FTS5 `events_fts`) in small batches whenever it has nothing else to do, and records how far the index
//! reaches in `meta.fts_indexed_seq`. A burst of millions of events is thus stored at the speed of the
//! events table and indexed right after. Search never misses an event for it: events past the index are
//! matched directly ([`unindexed_match_sql`]), so a just-stored event is found at once.
//!
//! Deleting an event removes it from the index only if it was indexed (the delete trigger checks
//! `fts_indexed_seq`); both happen in write transactions, which SQLite runs one at a time.

use rusqlite::{Connection, params};

/// How many events one indexing transaction takes: small, so a burst arriving waits at most a few ms.
pub(crate) const INDEX_BATCH: i64 = 128;

/// Index up to `limit` stored events that are not yet indexed, inside the caller's transaction.
/// Returns how many were indexed (0: the index is complete).
pub(crate) fn index_some(conn: &Connection, limit: i64) -> rusqlite::Result<usize> {
    let from: i64 = conn
        .prepare_cached("SELECT value FROM meta WHERE key = 'fts_indexed_seq'")?
        .query_row([], |row| row.get(0))?;
    let upto: Option<i64> = conn
        .prepare_cached("SELECT max(seq) FROM (SELECT seq FROM events WHERE seq > ?1 ORDER BY seq LIMIT ?2)")?
        .query_row(params![from, limit], |row| row.get(0))?;
    let Some(upto) = upto else {
        return Ok(0);
    };
    let indexed = conn
        .prepare_cached(
            "INSERT INTO events_fts(rowid, title, body, data)
             SELECT seq, title, body, data FROM events WHERE seq > ?1 AND seq <= ?2",
        )?
        .execute(params![from, upto])?;
    conn.prepare_cached("UPDATE meta SET value = ?1 WHERE key = 'fts_indexed_seq'")?
        .execute([upto])?;
    Ok(indexed.max(1))
}

/// SQL matching events the index does not reach yet against the search words (one `?` per word, bound
/// with [`like_pattern`]): each word must occur in the title, body or data, ignoring ASCII case.
/// Slightly looser than the index (a word may match inside another), for the few events not yet indexed.
pub(crate) fn unindexed_match_sql(words: usize) -> String {
    let mut sql = String::from("e.seq > (SELECT value FROM meta WHERE key = 'fts_indexed_seq')");
    for _ in 0..words {
        sql.push_str(" AND (e.title || ' ' || e.body || ' ' || e.data) LIKE ? ESCAPE '\\'");
    }
    sql
}

/// A LIKE pattern finding `word` anywhere, with LIKE's own characters taken literally.
pub(crate) fn like_pattern(word: &str) -> String {
    let mut pattern = String::with_capacity(word.len() + 2);
    pattern.push('%');
    for c in word.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::burst::insert_burst;
    use crate::store::events::{EventQuery, NewEvent};
    use crate::store::{Store, new_store_with_one_feed, test_event};

    fn event(id: &str, data: &str) -> NewEvent {
        NewEvent {
            title: format!("event {id}"),
            body: data.into(),
            ..test_event(Some(id), data)
        }
    }

    fn found(store: &Store, words: &str) -> Vec<Option<String>> {
        let query = EventQuery {
            search: Some(words.into()),
            ..EventQuery::default()
        };
        store.events(&query).unwrap().into_iter().map(|e| e.event_id).collect()
    }

    #[test]
    fn a_just_stored_event_is_found_before_and_after_it_is_indexed() {
        let (_dir, store, feed) = new_store_with_one_feed();
        let feed_id = feed.id;
        let burst = vec![
            event("1", "Disk full on db1"),
            event("2", "all good"),
            event("3", "100% done"),
        ];
        store
            .with(|conn| insert_burst(conn, feed_id, 0, burst, Some("3")).map(|r| r.unwrap()))
            .unwrap();

        // Not indexed yet: found by the direct match, case aside, every word required.
        assert_eq!(found(&store, "disk DB1"), [Some("1".to_string())]);
        assert_eq!(found(&store, "disk good"), Vec::<Option<String>>::new());
        assert_eq!(found(&store, "100%"), [Some("3".to_string())]);
        assert_eq!(found(&store, "10_"), Vec::<Option<String>>::new());

        // Indexed in two batches: found once, through the index.
        assert_eq!(store.with(|conn| index_some(conn, 2)).unwrap(), 2);
        assert_eq!(store.with(|conn| index_some(conn, 2)).unwrap(), 1);
        assert_eq!(store.with(|conn| index_some(conn, 2)).unwrap(), 0);
        assert_eq!(found(&store, "disk DB1"), [Some("1".to_string())]);
        assert_eq!(found(&store, "goo"), [Some("2".to_string())]);

        // Removing the feed takes its events out of the index too.
        store.remove_feed(&feed.config.name).unwrap();
        let left: i64 = store
            .with(|conn| {
                conn.query_row(
                    "SELECT count(*) FROM events_fts WHERE events_fts MATCH 'disk'",
                    [],
                    |r| r.get(0),
                )
            })
            .unwrap();
        assert_eq!(left, 0);
    }

    #[test]
    fn like_patterns_take_wildcards_literally() {
        assert_eq!(like_pattern("disk"), "%disk%");
        assert_eq!(like_pattern("50%_a\\b"), "%50\\%\\_a\\\\b%");
    }

    #[test]
    fn events_stored_where_a_removed_feeds_newest_events_were_are_still_found_and_indexed() {
        let (_dir, store, kept) = new_store_with_one_feed();
        let removed = crate::store::add_test_feed(&store, "removed");
        let store_burst = |feed_id: i64, id: &str, data: &str| {
            store
                .with(|conn| insert_burst(conn, feed_id, 0, vec![event(id, data)], None).map(|r| r.unwrap()))
                .unwrap()[0]
                .seq
        };
        store_burst(kept.id, "1", "first deploy");
        let newest = store_burst(removed.id, "1", "other feed");
        while store.with(|conn| index_some(conn, INDEX_BATCH)).unwrap() > 0 {}
        store.remove_feed(&removed.config.name).unwrap();

        // SQLite gives the removed feed's seq out again.
        assert_eq!(store_burst(kept.id, "2", "second deploy"), newest);
        assert_eq!(
            found(&store, "second"),
            [Some("2".to_string())],
            "found before it is indexed"
        );
        while store.with(|conn| index_some(conn, INDEX_BATCH)).unwrap() > 0 {}
        assert_eq!(
            found(&store, "second"),
            [Some("2".to_string())],
            "found through the index"
        );
        assert_eq!(found(&store, "deploy").len(), 2);

        store.remove_feed(&kept.config.name).unwrap();
        store
            .with(|conn| conn.execute("INSERT INTO events_fts(events_fts) VALUES ('integrity-check')", []))
            .expect("the index still matches the events");
    }
}
