//! The SQLite store: one file, `tidings.db`, in the data directory, shared by the CLI and the desktop app.
//!
//! - [`schema`]: numbered migrations.
//! - [`feeds`]: feed configurations, pause and halt flags, cursors, reported states.
//! - [`events`]: storing a burst exactly once, querying, full-text search, read and notified marks.
//! - `counts`: each feed's event and unread counts, kept as events are stored and read.
//! - `runs`: where each feed's events lie (runs of consecutive seqs), for listing and removing a feed's.
//! - [`fts`]: the full-text index, written by the writer thread behind the events.
//! - `checkpoint`: copies the write-ahead log into the database on its own thread, off the writer's.
//! - [`writer`]: the one thread that writes events; it commits each burst with its cursor advance in
//!   one transaction, so a crash never leaves a cursor ahead of its events; idle, it extends the index.
//!
//! [`Store`] is a cheap-to-clone handle for everything but event writes. It holds one connection behind a
//! `std::sync::Mutex`: every call is short and synchronous, so the lock is never held across an `.await`
//! (async callers go through `spawn_blocking`). WAL mode lets the writer thread and readers work at once.

mod borrowed_insert;
mod burst;
mod checkpoint;
mod counts;
pub mod events;
pub mod feeds;
pub mod fts;
mod pacing;
mod runs;
pub mod schema;
pub mod writer;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OpenFlags};

/// The database file's name inside the data directory.
pub const DB_FILE: &str = "tidings.db";

/// How long a connection waits for another one's lock before it gives up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// What can go wrong with the database, said so a user knows what to do.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the database {path} is damaged or is not a Tidings database ({detail}); \
         move it aside and Tidings starts a new one, or restore it from a backup"
    )]
    Corrupt { path: PathBuf, detail: String },

    #[error(
        "the disk holding {path} is full; free some space. No event is lost: each feed resumes from its last saved event"
    )]
    DiskFull { path: PathBuf },

    #[error("the database {path} is read-only or not accessible ({detail}); check its permissions")]
    NotWritable { path: PathBuf, detail: String },

    #[error(
        "the database {path} was written by a newer Tidings (schema {found}, this one knows up to {known}); update Tidings, or restart it if it was updated while it ran"
    )]
    TooNew { path: PathBuf, found: u32, known: u32 },

    #[error("database error in {path}: {detail}")]
    Other { path: PathBuf, detail: String },

    #[error("the feed was removed while its events were being saved")]
    FeedGone,
}

impl StoreError {
    /// Turn a SQLite error into one that says what the user can do about it.
    pub fn from_sqlite(path: &Path, error: rusqlite::Error) -> StoreError {
        let path = path.to_path_buf();
        let detail = error.to_string();
        match error.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Corrupt { path, detail },
            Some(ErrorCode::DiskFull) => StoreError::DiskFull { path },
            Some(ErrorCode::ReadOnly | ErrorCode::PermissionDenied | ErrorCode::CannotOpen) => {
                StoreError::NotWritable { path, detail }
            }
            _ => StoreError::Other { path, detail },
        }
    }
}

/// Shorthand used by the store's modules.
pub type StoreResult<T> = Result<T, StoreError>;

/// A handle on the database for reads and feed management. Clone it freely.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    path: PathBuf,
    conn: Mutex<Connection>,
}

impl Store {
    /// Open (creating if needed) the database in `dir` and bring its schema up to date.
    pub fn open(dir: &Path) -> StoreResult<Store> {
        let path = dir.join(DB_FILE);
        let conn = open_connection(&path)?;
        Ok(Store {
            inner: Arc::new(Inner {
                path,
                conn: Mutex::new(conn),
            }),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Run `f` on the connection, mapping SQLite errors to [`StoreError`].
    pub(crate) fn with<T>(&self, f: impl FnOnce(&mut Connection) -> rusqlite::Result<T>) -> StoreResult<T> {
        let mut conn = self.lock();
        f(&mut conn).map_err(|e| StoreError::from_sqlite(&self.inner.path, e))
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock leaves the connection usable (SQLite rolls back an open
        // statement on its own), so a poisoned lock is taken over rather than propagated.
        self.inner.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The page size of a new database (an existing one keeps its own). Against SQLite's 4 KiB, a flood is
/// stored with a quarter of the pages to log, copy and split: 17% more events/s in bench part 3, with the
/// writer and the checkpoint thread both lighter. The price is paid by quiet feeds: one event alone, with
/// its index entries and its full-text indexing, writes about 225 KB to the log instead of 92 KB.
const PAGE_SIZE: i64 = 16 * 1024;

/// Open one connection with the settings every Tidings connection uses, migrating the schema.
pub(crate) fn open_connection(path: &Path) -> StoreResult<Connection> {
    let error = |e| StoreError::from_sqlite(path, e);
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_URI;
    let mut conn = Connection::open_with_flags(path, flags).map_err(error)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(error)?;
    conn.pragma_update(None, "page_size", PAGE_SIZE).map_err(error)?;
    // The first statement that reads the file is where a damaged or foreign file shows itself.
    conn.pragma_update(None, "journal_mode", "WAL").map_err(error)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(error)?;
    conn.pragma_update(None, "foreign_keys", true).map_err(error)?;
    let found = schema::migrate(&mut conn).map_err(error)?;
    if found > schema::CURRENT_VERSION {
        return Err(StoreError::TooNew {
            path: path.to_path_buf(),
            found,
            known: schema::CURRENT_VERSION,
        });
    }
    Ok(conn)
}

/// A store in a new temporary directory with one feed: for tests of what is stored.
#[cfg(test)]
pub(crate) fn new_store_with_one_feed() -> (tempfile::TempDir, Store, feeds::FeedRecord) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let feed = add_test_feed(&store, "events");
    (dir, store, feed)
}

/// A `message` event with `data`, keyed by `id` when it has one, received at 1 ms, owing no notification. For
/// tests of what is stored.
#[cfg(test)]
pub(crate) fn test_event(id: Option<&str>, data: &str) -> events::NewEvent {
    events::NewEvent {
        event_id: id.map(str::to_string),
        id_in_block: id.is_some(),
        event_type: "message".into(),
        data: data.into(),
        title: String::new(),
        body: String::new(),
        link: None,
        urgency: crate::quiet::Urgency::Normal,
        received_ms: 1,
        notify: false,
    }
}

/// Store one burst of feed `feed_id`: events with the ids `ids` and data `event <id>`, moving the feed's cursor to
/// `cursor`. For tests of what is stored.
#[cfg(test)]
pub(crate) fn store_test_burst(store: &Store, feed_id: i64, ids: impl IntoIterator<Item = u32>, cursor: Option<&str>) {
    let events = ids
        .into_iter()
        .map(|id| test_event(Some(&id.to_string()), &format!("event {id}")))
        .collect();
    store
        .with(|conn| burst::insert_burst(conn, feed_id, 0, events, cursor).map(|stored| stored.unwrap()))
        .unwrap();
}

/// Every row `sql` selects, each as its integer (or NULL) columns. For tests that read the tables directly.
#[cfg(test)]
pub(crate) fn query_rows(conn: &Connection, sql: &str) -> Vec<Vec<Option<i64>>> {
    let mut stmt = conn.prepare(sql).unwrap();
    let columns = stmt.column_count();
    stmt.query_map([], |row| (0..columns).map(|i| row.get(i)).collect())
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Add a feed named `name` (on 127.0.0.1, never followed): for tests of what is stored.
#[cfg(test)]
pub(crate) fn add_test_feed(store: &Store, name: &str) -> feeds::FeedRecord {
    let config = crate::feed::FeedSpec {
        url: "http://127.0.0.1/events".into(),
        name: Some(name.into()),
        ..crate::feed::FeedSpec::default()
    }
    .validate()
    .unwrap();
    store.add_feed(&config, 0).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_that_is_not_a_database_gets_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join(DB_FILE),
            b"this is not sqlite, just some text\n".repeat(200),
        )
        .unwrap();
        let message = Store::open(dir.path()).err().unwrap().to_string();
        assert!(message.contains("damaged or is not a Tidings database"), "{message}");
        assert!(message.contains(DB_FILE), "{message}");
        assert!(message.contains("move it aside"), "{message}");
    }

    #[test]
    fn a_database_from_a_newer_tidings_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join(DB_FILE)).unwrap();
        conn.pragma_update(None, "user_version", 99).unwrap();
        drop(conn);
        let message = Store::open(dir.path()).err().unwrap().to_string();
        assert!(message.contains("newer Tidings"), "{message}");
    }

    #[test]
    fn opening_twice_keeps_the_schema() {
        let dir = tempfile::tempdir().unwrap();
        Store::open(dir.path()).unwrap();
        let store = Store::open(dir.path()).unwrap();
        let version: u32 = store
            .with(|c| c.query_row("PRAGMA user_version", [], |r| r.get(0)))
            .unwrap();
        assert_eq!(version, schema::CURRENT_VERSION);
    }
}
