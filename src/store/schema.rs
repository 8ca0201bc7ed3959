//! The database schema as numbered migrations, applied in order at open and recorded in `user_version`.
//!
//! A migration is never edited once released: add a new one instead.

use rusqlite::Connection;

/// Each entry moves the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: feeds, their cursors and live states, events with full-text search.
    r#"
    CREATE TABLE feeds (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        config      TEXT NOT NULL,            -- FeedConfig as JSON
        paused      INTEGER NOT NULL DEFAULT 0,
        halted      TEXT,                     -- FeedState (stopped/failed) as JSON: waits for the user
        revision    INTEGER NOT NULL DEFAULT 1, -- bumped on every edit, so running engines reconnect
        created_ms  INTEGER NOT NULL
    );

    -- The last event id each feed dispatched: sent as Last-Event-ID when (re)connecting.
    CREATE TABLE cursors (
        feed_id       INTEGER PRIMARY KEY REFERENCES feeds(id) ON DELETE CASCADE,
        last_event_id TEXT NOT NULL
    );

    -- What the running engine last reported for each feed (for other processes: CLI, desktop app).
    CREATE TABLE feed_states (
        feed_id INTEGER PRIMARY KEY REFERENCES feeds(id) ON DELETE CASCADE,
        state   TEXT NOT NULL
    );

    CREATE TABLE events (
        seq          INTEGER PRIMARY KEY,
        feed_id      INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        event_id     TEXT,                    -- the last event id at dispatch; NULL when none
        dedup_key    TEXT NOT NULL,           -- 'id:<id>' or 'h:<hash of type and data>'
        type         TEXT NOT NULL,
        data         TEXT NOT NULL,
        title        TEXT NOT NULL,
        body         TEXT NOT NULL,
        link         TEXT,
        received_ms  INTEGER NOT NULL,
        read         INTEGER NOT NULL DEFAULT 0,
        notify_state INTEGER NOT NULL DEFAULT 0 -- 0 pending, 1 notified, 2 not to be notified
    );
    CREATE INDEX events_by_key ON events(feed_id, dedup_key, received_ms);
    CREATE INDEX events_by_feed ON events(feed_id, seq);
    CREATE INDEX events_unread ON events(feed_id) WHERE read = 0;
    CREATE INDEX events_pending ON events(seq) WHERE notify_state = 0;

    CREATE VIRTUAL TABLE events_fts USING fts5(
        title, body, data,
        content = 'events', content_rowid = 'seq',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER events_fts_insert AFTER INSERT ON events BEGIN
        INSERT INTO events_fts(rowid, title, body, data) VALUES (new.seq, new.title, new.body, new.data);
    END;
    CREATE TRIGGER events_fts_delete AFTER DELETE ON events BEGIN
        INSERT INTO events_fts(events_fts, rowid, title, body, data)
        VALUES ('delete', old.seq, old.title, old.body, old.data);
    END;

    -- Bumped whenever a feed is added, edited, paused or removed, so a running engine
    -- notices changes made by another process (the CLI while the app runs) with one cheap query.
    CREATE TABLE meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
    INSERT INTO meta(key, value) VALUES ('feeds_revision', 0);
    CREATE TRIGGER feeds_changed_insert AFTER INSERT ON feeds BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'feeds_revision';
    END;
    CREATE TRIGGER feeds_changed_update AFTER UPDATE ON feeds BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'feeds_revision';
    END;
    CREATE TRIGGER feeds_changed_delete AFTER DELETE ON feeds BEGIN
        UPDATE meta SET value = value + 1 WHERE key = 'feeds_revision';
    END;
    "#,
    // 2: settings shared by every face (do not disturb…).
    r#"
    CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    "#,
    // 3: an event's urgency (from the feed's priority mapping); muting and snoozing a feed's notifications.
    r#"
    ALTER TABLE events ADD COLUMN urgency TEXT NOT NULL DEFAULT 'normal';
    ALTER TABLE feeds ADD COLUMN muted INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE feeds ADD COLUMN snoozed_until_ms INTEGER;
    "#,
    // 4: the full-text index is written behind the events (store::fts), so a burst is stored at the
    // speed of the events table; `fts_indexed_seq` says how far the index reaches (search covers the rest).
    r#"
    DROP TRIGGER events_fts_insert;
    DROP TRIGGER events_fts_delete;
    INSERT INTO meta(key, value) VALUES ('fts_indexed_seq', (SELECT coalesce(max(seq), 0) FROM events));
    CREATE TRIGGER events_fts_delete AFTER DELETE ON events
    WHEN old.seq <= (SELECT value FROM meta WHERE key = 'fts_indexed_seq') BEGIN
        INSERT INTO events_fts(events_fts, rowid, title, body, data)
        VALUES ('delete', old.seq, old.title, old.body, old.data);
    END;
    "#,
    // 5: an event keyed by its id is kept unique by the index itself (the writer inserts with OR IGNORE,
    // store::burst, instead of looking each key up first); events keyed by a hash keep their time-window index.
    // Keyed keys ('id:…') sort above 'i', hashed ones ('h:…') below. Should a database ever hold the same id
    // twice, the later copies are kept under a key no event can repeat, so the unique index can be built.
    r#"
    UPDATE events SET dedup_key = 'h:kept-duplicate:' || seq
    WHERE dedup_key > 'i'
      AND seq NOT IN (SELECT min(seq) FROM events WHERE dedup_key > 'i' GROUP BY feed_id, dedup_key);
    DROP INDEX events_by_key;
    CREATE UNIQUE INDEX events_by_id ON events(feed_id, dedup_key) WHERE dedup_key > 'i';
    CREATE INDEX events_by_hash ON events(feed_id, dedup_key, received_ms) WHERE dedup_key < 'i';
    "#,
    // 6: the feeds ever muted or snoozed, so the follower's once-a-second look at what is silenced reads
    // those few rows instead of every feed's row (idle CPU at 10,000 feeds, bench part 5).
    r#"
    CREATE INDEX feeds_silenced ON feeds(muted, snoozed_until_ms) WHERE muted = 1 OR snoozed_until_ms IS NOT NULL;
    "#,
    // 7: each stored event cost two more index entries, `events_by_feed` and `events_unread` (a fifth of the
    // writer's time in a flood, bench part 2). What they served is now kept per burst: each feed's counts
    // (store::counts) and the runs of consecutive seqs its events occupy (store::runs).
    r#"
    CREATE TABLE feed_counts (
        feed_id     INTEGER PRIMARY KEY REFERENCES feeds(id) ON DELETE CASCADE,
        events      INTEGER NOT NULL,
        unread      INTEGER NOT NULL,
        unread_from INTEGER               -- no unread event of the feed has a lower seq; NULL when none is unread
    );
    INSERT INTO feed_counts(feed_id, events, unread, unread_from)
    SELECT feed_id, count(*), sum(read = 0), min(CASE WHEN read = 0 THEN seq END) FROM events
    WHERE feed_id IN (SELECT id FROM feeds) GROUP BY feed_id;

    CREATE TABLE event_runs (
        feed_id   INTEGER NOT NULL REFERENCES feeds(id) ON DELETE CASCADE,
        first_seq INTEGER NOT NULL,
        last_seq  INTEGER NOT NULL,       -- every event of the feed lies in one of its runs
        PRIMARY KEY (feed_id, last_seq)
    ) WITHOUT ROWID;
    INSERT INTO event_runs(feed_id, first_seq, last_seq)
    SELECT feed_id, min(seq), max(seq)
    FROM (SELECT feed_id, seq, seq - row_number() OVER (PARTITION BY feed_id ORDER BY seq) AS run FROM events
          WHERE feed_id IN (SELECT id FROM feeds))
    GROUP BY feed_id, run;

    DROP INDEX events_by_feed;
    DROP INDEX events_unread;
    "#,
    // 8: an id written as a plain decimal number is keyed in number order, 'in:' + its digit count in two digits
    // + the digits (store::burst), so a feed's growing ids are appended to the end of `events_by_id` instead of
    // landing all over it once they grow a digit. Other ids keep 'id:' + the id; both sort above 'i'.
    r#"
    UPDATE events SET dedup_key = 'in:' || printf('%02d', length(dedup_key) - 3) || substr(dedup_key, 4)
    WHERE dedup_key GLOB 'id:[0-9]*' AND substr(dedup_key, 4) NOT GLOB '*[^0-9]*'
      AND (dedup_key = 'id:0' OR dedup_key NOT GLOB 'id:0*') AND length(dedup_key) <= 3 + 99;
    "#,
];

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Bring the database up to [`CURRENT_VERSION`]. Returns the version found, which may be newer than
/// this build knows (the caller refuses to touch such a database).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    migrate_up_to(conn, CURRENT_VERSION)
}

/// Apply the migrations after the database's version up to version `target`.
fn migrate_up_to(conn: &mut Connection, target: u32) -> rusqlite::Result<u32> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().take(target as usize).skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::burst::insert_burst;
    use crate::store::events::NewEvent;
    use crate::store::{query_rows, test_event};

    fn event(id: Option<&str>, data: &str) -> NewEvent {
        NewEvent {
            received_ms: 1_000,
            ..test_event(id, data)
        }
    }

    /// The first column of every row `sql` returns, as text.
    fn texts(conn: &Connection, sql: &str) -> Vec<String> {
        let mut stmt = conn.prepare(sql).unwrap();
        stmt.query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    }

    fn stored(conn: &Connection, events: Vec<NewEvent>) -> usize {
        insert_burst(conn, 1, 500, events, None).unwrap().unwrap().len()
    }

    #[test]
    fn a_version_4_database_keeps_its_events_and_still_drops_repeats_after_migration_5() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_up_to(&mut conn, 4).unwrap();
        conn.execute_batch(
            "INSERT INTO feeds(id, name, config, created_ms) VALUES (1, 'ci', '{}', 0);
             INSERT INTO events(feed_id, event_id, dedup_key, type, data, title, body, received_ms)
             VALUES (1, '7', 'id:7', 'message', 'seven', '', '', 100),
                    (1, '7', 'id:7', 'message', 'seven again', '', '', 100),
                    (1, NULL, 'h:abc', 'message', 'no id', '', '', 100);",
        )
        .unwrap();

        assert_eq!(migrate(&mut conn).unwrap(), 4);

        let data = texts(&conn, "SELECT data FROM events ORDER BY seq");
        assert_eq!(data, ["seven", "seven again", "no id"], "no event was lost");
        // The id already stored is a repeat; a new id is stored once, even when it comes twice in a burst.
        assert_eq!(stored(&conn, vec![event(Some("7"), "seven")]), 0);
        assert_eq!(
            stored(&conn, vec![event(Some("8"), "eight"), event(Some("8"), "eight")]),
            1
        );
        assert_eq!(stored(&conn, vec![event(Some("8"), "eight")]), 0);
        // An event without an id repeats only one stored by an earlier connection (received before 500).
        assert_eq!(stored(&conn, vec![event(None, "x"), event(None, "x")]), 2);
    }

    #[test]
    fn a_version_6_database_gets_its_counts_and_runs_from_its_events_in_migration_7() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_up_to(&mut conn, 6).unwrap();
        // Two feeds' events interleaved, some read; feed 3 has none.
        conn.execute_batch(
            "INSERT INTO feeds(id, name, config, created_ms) VALUES (1, 'a', '{}', 0), (2, 'b', '{}', 0), (3, 'c', '{}', 0);
             INSERT INTO events(seq, feed_id, dedup_key, type, data, title, body, received_ms, read)
             VALUES (1, 1, 'id:1', 'message', '', '', '', 0, 1), (2, 1, 'id:2', 'message', '', '', '', 0, 0),
                    (3, 1, 'id:3', 'message', '', '', '', 0, 0), (4, 2, 'id:1', 'message', '', '', '', 0, 1),
                    (5, 1, 'id:4', 'message', '', '', '', 0, 1), (6, 1, 'id:5', 'message', '', '', '', 0, 0),
                    (7, 2, 'id:2', 'message', '', '', '', 0, 1);",
        )
        .unwrap();

        assert_eq!(migrate(&mut conn).unwrap(), 6);

        let some = |values: &[i64]| values.iter().map(|v| Some(*v)).collect::<Vec<_>>();
        assert_eq!(
            query_rows(
                &conn,
                "SELECT feed_id, events, unread, unread_from FROM feed_counts ORDER BY feed_id"
            ),
            [some(&[1, 5, 3, 2]), vec![Some(2), Some(2), Some(0), None]]
        );
        assert_eq!(
            query_rows(
                &conn,
                "SELECT feed_id, first_seq, last_seq FROM event_runs ORDER BY feed_id, last_seq"
            ),
            [some(&[1, 1, 3]), some(&[1, 5, 6]), some(&[2, 4, 4]), some(&[2, 7, 7])]
        );
        let indexes = query_rows(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE name IN ('events_by_feed', 'events_unread')",
        );
        assert_eq!(indexes, [some(&[0])], "the indexes they replace are gone");
    }

    #[test]
    fn a_version_7_database_keeps_its_numeric_ids_unique_under_their_new_keys_after_migration_8() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate_up_to(&mut conn, 7).unwrap();
        let long = "9".repeat(100);
        conn.execute_batch(&format!(
            "INSERT INTO feeds(id, name, config, created_ms) VALUES (1, 'ci', '{{}}', 0);
             INSERT INTO events(feed_id, event_id, dedup_key, type, data, title, body, received_ms)
             VALUES (1, '7', 'id:7', 'message', 'seven', '', '', 100),
                    (1, '100000', 'id:100000', 'message', 'a lakh', '', '', 100),
                    (1, '0', 'id:0', 'message', 'zero', '', '', 100),
                    (1, '007', 'id:007', 'message', 'bond', '', '', 100),
                    (1, 'abc', 'id:abc', 'message', 'letters', '', '', 100),
                    (1, '{long}', 'id:{long}', 'message', 'long', '', '', 100);"
        ))
        .unwrap();

        assert_eq!(migrate(&mut conn).unwrap(), 7);

        let keys = texts(&conn, "SELECT dedup_key FROM events ORDER BY seq");
        let expected = [
            "in:017",
            "in:06100000",
            "in:010",
            "id:007",
            "id:abc",
            &format!("id:{long}"),
        ];
        assert_eq!(keys, expected);
        // Every stored id is still a repeat, however it is keyed now; new ids are stored.
        for id in ["7", "100000", "0", "007", "abc", &long] {
            assert_eq!(stored(&conn, vec![event(Some(id), "again")]), 0, "{id} came back");
        }
        assert_eq!(
            stored(&conn, vec![event(Some("07"), "new"), event(Some("1000000"), "new")]),
            2
        );
    }

    #[test]
    fn the_dedup_lookups_use_the_keyed_and_hashed_indexes() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let plan: String = conn
            .prepare(
                "EXPLAIN QUERY PLAN SELECT 1 FROM events WHERE feed_id = 1 AND dedup_key = 'h:x' AND dedup_key < 'i'
                 AND received_ms >= 0 AND received_ms < 9 LIMIT 1",
            )
            .unwrap()
            .query_map([], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("\n");
        assert!(plan.contains("events_by_hash"), "{plan}");
    }

    #[test]
    fn the_silenced_feeds_are_read_from_their_index_not_every_feed() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        let plan: String = conn
            .prepare(&format!("EXPLAIN QUERY PLAN {}", crate::store::feeds::SILENCED_FEEDS))
            .unwrap()
            .query_map([0], |row| row.get::<_, String>(3))
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap()
            .join("\n");
        assert!(plan.contains("feeds_silenced"), "{plan}");
    }
}
