//! Where each feed's events lie: runs of consecutive seqs in `event_runs` (schema migration 7).
//!
//! The writer records one run per burst, or lengthens the feed's last run when nothing was stored between.
//! Listing a feed's events newest first, marking them read and removing them walk the feed's runs backwards
//! instead of an index entry per event, which the writer would pay for on every event it stores.
//!
//! A run holds only its feed's events: its seqs were stored one after another by that feed. New seqs are
//! always above every stored one, so a feed's runs never overlap and their order is the events' order.

use rusqlite::{Connection, params};

/// The events `e` of the runs `r`: the caller adds `r.feed_id = ?` (and may bound `r.last_seq`).
pub(crate) const RUN_EVENTS: &str =
    "event_runs r JOIN events e ON e.seq BETWEEN r.first_seq AND r.last_seq AND e.feed_id = r.feed_id";

/// Record where a burst's events were stored (`seqs` in increasing order), inside the writer's transaction.
pub(crate) fn record(conn: &Connection, feed_id: i64, seqs: impl IntoIterator<Item = i64>) -> rusqlite::Result<()> {
    let mut seqs = seqs.into_iter();
    let Some(first) = seqs.next() else {
        return Ok(());
    };
    let (mut start, mut end) = (first, first);
    for seq in seqs {
        if seq != end + 1 {
            add(conn, feed_id, start, end)?;
            start = seq;
        }
        end = seq;
    }
    add(conn, feed_id, start, end)
}

/// Add the run `first..=last`, lengthening the feed's run that ends just before it if there is one.
fn add(conn: &Connection, feed_id: i64, first: i64, last: i64) -> rusqlite::Result<()> {
    let lengthened = conn
        .prepare_cached("UPDATE event_runs SET last_seq = ?3 WHERE feed_id = ?1 AND last_seq = ?2")?
        .execute(params![feed_id, first - 1, last])?;
    if lengthened == 0 {
        conn.prepare_cached("INSERT INTO event_runs(feed_id, first_seq, last_seq) VALUES (?1, ?2, ?3)")?
            .execute(params![feed_id, first, last])?;
    }
    Ok(())
}

/// Delete a feed's events through its runs, then the runs; returns how many events went.
pub(crate) fn delete_events(conn: &Connection, feed_id: i64) -> rusqlite::Result<usize> {
    let deleted = conn.execute(
        &format!("DELETE FROM events WHERE seq IN (SELECT e.seq FROM {RUN_EVENTS} WHERE r.feed_id = ?1)"),
        [feed_id],
    )?;
    conn.execute("DELETE FROM event_runs WHERE feed_id = ?1", [feed_id])?;
    Ok(deleted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::query_rows;

    #[test]
    fn a_feed_storing_on_after_itself_keeps_one_run_and_is_split_by_others_and_by_gaps() {
        let mut conn = Connection::open_in_memory().unwrap();
        crate::store::schema::migrate(&mut conn).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds(id, name, config, created_ms) VALUES (1, 'a', '{}', 0), (2, 'b', '{}', 0)",
        )
        .unwrap();
        record(&conn, 1, [1, 2, 3]).unwrap();
        record(&conn, 1, [4, 5]).unwrap();
        record(&conn, 2, [6]).unwrap();
        record(&conn, 1, [7, 8, 10]).unwrap();
        record(&conn, 1, []).unwrap();
        let runs = query_rows(
            &conn,
            "SELECT feed_id, first_seq, last_seq FROM event_runs ORDER BY feed_id, last_seq",
        );
        let runs: Vec<Vec<i64>> = runs
            .into_iter()
            .map(|run| run.into_iter().flatten().collect())
            .collect();
        assert_eq!(runs, [[1, 1, 5], [1, 7, 8], [1, 10, 10], [2, 6, 6]]);
    }
}
