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
];

/// The schema version this build writes.
pub const CURRENT_VERSION: u32 = MIGRATIONS.len() as u32;

/// Bring the database up to [`CURRENT_VERSION`]. Returns the version found, which may be newer than
/// this build knows (the caller refuses to touch such a database).
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<u32> {
    let found: u32 = conn.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(found as usize) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", index as u32 + 1)?;
        tx.commit()?;
    }
    Ok(found)
}
