//! Each feed's event and unread counts, kept in `feed_counts` as events are stored and read (schema
//! migration 7), so counting never walks the events and storing one pays no unread-index entry.
//!
//! `unread_from` is at most the seq of the feed's oldest unread event, and NULL exactly when none is unread:
//! marking everything read and listing unread events start there instead of at the first event.

use std::collections::HashMap;

use rusqlite::{Connection, OptionalExtension, params};

use super::runs::RUN_EVENTS;

/// The lowest seq an unread event may have, across every feed (NULL: nothing is unread).
pub(crate) const UNREAD_FROM: &str = "(SELECT min(unread_from) FROM feed_counts)";

/// Count `stored` new unread events of a feed, the first of them at seq `first_seq`.
pub(crate) fn add_stored(conn: &Connection, feed_id: i64, stored: usize, first_seq: i64) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO feed_counts(feed_id, events, unread, unread_from) VALUES (?1, ?2, ?2, ?3)
         ON CONFLICT(feed_id) DO UPDATE SET events = events + excluded.events, unread = unread + excluded.unread,
                                            unread_from = coalesce(unread_from, excluded.unread_from)",
    )?
    .execute(params![feed_id, stored as i64, first_seq])?;
    Ok(())
}

/// Mark these events read and count them out of their feeds' unread; returns how many changed.
pub(crate) fn mark_read(conn: &Connection, seqs: &[i64]) -> rusqlite::Result<usize> {
    let mut read_per_feed: HashMap<i64, i64> = HashMap::new();
    {
        let mut mark =
            conn.prepare_cached("UPDATE events SET read = 1 WHERE seq = ?1 AND read = 0 RETURNING feed_id")?;
        for seq in seqs {
            if let Some(feed_id) = mark.query_row([seq], |row| row.get(0)).optional()? {
                *read_per_feed.entry(feed_id).or_default() += 1;
            }
        }
    }
    let mut count = conn.prepare_cached(
        "UPDATE feed_counts SET unread = unread - ?2, unread_from = CASE WHEN unread = ?2 THEN NULL ELSE unread_from END
         WHERE feed_id = ?1",
    )?;
    for (feed_id, read) in &read_per_feed {
        count.execute(params![feed_id, read])?;
    }
    Ok(read_per_feed.values().sum::<i64>() as usize)
}

/// Mark every event of one feed read, or of every feed; returns how many changed.
pub(crate) fn mark_all_read(conn: &Connection, feed_id: Option<i64>) -> rusqlite::Result<usize> {
    let changed = match feed_id {
        Some(feed_id) => {
            let from: Option<i64> = conn
                .query_row(
                    "SELECT unread_from FROM feed_counts WHERE feed_id = ?1",
                    [feed_id],
                    |row| row.get(0),
                )
                .optional()?
                .flatten();
            let Some(from) = from else { return Ok(0) };
            let changed = conn.execute(
                &format!(
                    "UPDATE events SET read = 1 WHERE seq IN (SELECT e.seq FROM {RUN_EVENTS}
                     WHERE r.feed_id = ?1 AND r.last_seq >= ?2 AND e.seq >= ?2 AND e.read = 0)"
                ),
                params![feed_id, from],
            )?;
            conn.execute(
                "UPDATE feed_counts SET unread = 0, unread_from = NULL WHERE feed_id = ?1",
                [feed_id],
            )?;
            changed
        }
        None => {
            let changed = conn.execute(
                &format!("UPDATE events SET read = 1 WHERE seq >= {UNREAD_FROM} AND read = 0"),
                [],
            )?;
            conn.execute(
                "UPDATE feed_counts SET unread = 0, unread_from = NULL WHERE unread_from IS NOT NULL",
                [],
            )?;
            changed
        }
    };
    Ok(changed)
}

/// Unread events across every feed.
pub(crate) fn unread_total(conn: &Connection) -> rusqlite::Result<u64> {
    conn.query_row("SELECT coalesce(sum(unread), 0) FROM feed_counts", [], |row| {
        row.get::<_, i64>(0)
    })
    .map(|n| n as u64)
}

#[cfg(test)]
mod tests {
    use crate::store::events::EventQuery;
    use crate::store::{Store, add_test_feed, new_store_with_one_feed, store_test_burst};

    fn seqs(store: &Store, sql: &str, feed: &str) -> Vec<i64> {
        store
            .with(|conn| {
                conn.prepare(sql)?
                    .query_map([feed], |row| row.get(0))?
                    .collect::<Result<_, _>>()
            })
            .unwrap()
    }

    fn listed(store: &Store, feed: Option<&str>, unread_only: bool) -> Vec<i64> {
        let query = EventQuery {
            feed: feed.map(String::from),
            unread_only,
            limit: 100_000,
            ..EventQuery::default()
        };
        store.events(&query).unwrap().iter().map(|event| event.seq).collect()
    }

    /// What every count and listing says, beside what the events themselves say.
    fn check_against_the_events(store: &Store, names: &[&str]) {
        let mut unread_everywhere = 0;
        for status in store.feed_statuses(false).unwrap() {
            let name = status.name.as_str();
            let all = seqs(
                store,
                "SELECT e.seq FROM events e JOIN feeds f ON f.id = e.feed_id WHERE f.name = ?1 ORDER BY e.seq DESC",
                name,
            );
            let unread = seqs(
                store,
                "SELECT e.seq FROM events e JOIN feeds f ON f.id = e.feed_id WHERE f.name = ?1 AND e.read = 0
                 ORDER BY e.seq DESC",
                name,
            );
            assert_eq!(status.events, all.len() as u64, "{name}: events");
            assert_eq!(status.unread, unread.len() as u64, "{name}: unread");
            assert_eq!(listed(store, Some(name), false), all, "{name}: listing");
            assert_eq!(listed(store, Some(name), true), unread, "{name}: unread listing");
            unread_everywhere += unread.len();
        }
        assert_eq!(store.unread_count().unwrap(), unread_everywhere as u64);
        let every_unread = seqs(
            store,
            "SELECT seq FROM events WHERE read = 0 AND ?1 = ?1 ORDER BY seq DESC",
            "",
        );
        assert_eq!(listed(store, None, true), every_unread);
        assert_eq!(store.feed_statuses(false).unwrap().len(), names.len());
    }

    #[test]
    fn counts_and_listings_agree_with_the_events_through_storing_reading_and_removing() {
        let (_dir, store, first) = new_store_with_one_feed();
        let feeds = [first, add_test_feed(&store, "second"), add_test_feed(&store, "third")];
        let mut names: Vec<&str> = feeds.iter().map(|feed| feed.config.name.as_str()).collect();
        let mut rng = fastrand::Rng::with_seed(7);
        for step in 0..200 {
            let feed = &feeds[rng.usize(..names.len())];
            match rng.u8(..10) {
                // Bursts, some repeating ids already stored (left out, so not counted).
                0..=5 => {
                    let ids: Vec<u32> = (0..rng.usize(1..20)).map(|_| rng.u32(..400)).collect();
                    store_test_burst(&store, feed.id, ids, None);
                }
                6..=7 => {
                    let stored = listed(&store, None, false);
                    let some: Vec<i64> = stored.iter().copied().filter(|_| rng.u8(..4) == 0).collect();
                    let unread_before = store.unread_count().unwrap();
                    let changed = store.mark_read(&some).unwrap();
                    assert_eq!(store.unread_count().unwrap(), unread_before - changed as u64);
                }
                8 => {
                    store.mark_all_read(Some(feed.id)).unwrap();
                }
                _ if step % 3 == 0 => {
                    store.mark_all_read(None).unwrap();
                    assert_eq!(store.unread_count().unwrap(), 0);
                }
                _ => {}
            }
            check_against_the_events(&store, &names);
        }
        store.remove_feed(names[1]).unwrap();
        names.remove(1);
        check_against_the_events(&store, &names);
        store_test_burst(&store, feeds[0].id, [1000, 1001], None);
        check_against_the_events(&store, &names);
    }
}
