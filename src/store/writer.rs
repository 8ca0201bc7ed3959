//! The one thread that writes events.
//!
//! Feed tasks hand it bursts over a bounded channel (a slow disk slows the feeds down instead of filling
//! memory). It takes whatever is queued, up to a limit, and commits it in ONE transaction: each burst's new
//! events together with that feed's cursor advance, so a crash can leave neither a cursor ahead of its events
//! nor events behind a stale cursor (which would replay them as duplicates). Each burst sits in a savepoint:
//! a burst that cannot be written (its feed was just removed) fails alone. When the commit fails (a full
//! disk), every burst in it is answered with the error and the feeds resume from their saved cursors.
//! With nothing queued for a moment, it extends the full-text index over the events stored since
//! ([`super::fts`], [`super::pacing`]).

use std::path::{Path, PathBuf};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rusqlite::{Connection, TransactionBehavior};
use tokio::sync::{mpsc, oneshot};

use super::burst::insert_burst;
use super::checkpoint::{Checkpointer, LOG_LIMIT_BYTES};
use super::events::{NewEvent, NotifyMark, StoredEvent, mark_notified};
use super::feeds::record_state;
use super::fts::{INDEX_BATCH, index_some};
use super::pacing::{INDEX_AT_LEAST_EVERY, IndexPacing, QUIET};
use super::{StoreError, StoreResult, open_connection, schema};
use crate::feed::FeedState;

/// Bursts waiting for the writer; past this, feed tasks wait.
const QUEUE: usize = 64;
/// The writer's page cache: negative means KiB (64 MiB, used only as far as a transaction needs it).
const WRITER_CACHE_KIB: i64 = -64 * 1024;
/// At most this many queued operations go into one transaction.
const OPS_PER_TRANSACTION: usize = 256;

/// What a feed's burst became: the events stored (repeats left out), or why nothing was.
pub type BurstResult = Result<Vec<StoredEvent>, StoreError>;

enum WriteOp {
    Burst {
        feed_id: i64,
        connected_ms: i64,
        events: Vec<NewEvent>,
        cursor: Option<String>,
        done: oneshot::Sender<BurstResult>,
    },
    MarkNotified {
        seqs: Vec<i64>,
        mark: NotifyMark,
    },
    State {
        feed_id: i64,
        state: FeedState,
        done: oneshot::Sender<()>,
    },
}

/// A cheap handle for sending work to the writer thread.
#[derive(Clone)]
pub struct WriterHandle {
    queue: mpsc::Sender<WriteOp>,
}

/// The writer thread itself; [`WriterThread::join`] waits until every handle is gone and the queue is written.
pub struct WriterThread {
    thread: JoinHandle<()>,
}

/// Open the writer's own connection to the database at `path` and start its thread.
pub fn spawn(path: &Path) -> StoreResult<(WriterHandle, WriterThread)> {
    spawn_with_log_limit(path, LOG_LIMIT_BYTES)
}

/// [`spawn`], restarting the write-ahead log past `log_limit_bytes` (see `checkpoint`).
fn spawn_with_log_limit(path: &Path, log_limit_bytes: i64) -> StoreResult<(WriterHandle, WriterThread)> {
    let conn = open_connection(path)?;
    // A large transaction touches many pages (events, four indexes, the full-text index): with the default
    // 2 MiB cache SQLite spills them into the WAL before the commit, writing most pages several times.
    conn.pragma_update(None, "cache_size", WRITER_CACHE_KIB)
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    // Every row this connection inserts names a feed it has just found in the same write transaction
    // (`insert_burst`, `record_state`), and it never deletes feeds (other connections do, with their
    // cascades): the foreign-key lookup per stored event would only repeat that check.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(|e| StoreError::from_sqlite(path, e))?;
    // The log is copied into the database on another thread, not inside this one's commits (`checkpoint`).
    let checkpointer = Checkpointer::start(&conn, path, log_limit_bytes)?;
    let (queue, inbox) = mpsc::channel(QUEUE);
    let cannot_start = |e: std::io::Error| StoreError::Other {
        path: PathBuf::new(),
        detail: format!("cannot start the database writer thread: {e}"),
    };
    // Only to wait for the queue with a time limit (see `next_op`).
    let clock = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .map_err(cannot_start)?;
    let path = path.to_path_buf();
    let thread = std::thread::Builder::new()
        .name("tidings-writer".into())
        .spawn(move || {
            let pacing = IndexPacing::new(QUIET, INDEX_AT_LEAST_EVERY, Instant::now());
            write_until_closed(conn, &path, Inbox { queue: inbox, clock }, &checkpointer, pacing)
        })
        .map_err(cannot_start)?;
    Ok((WriterHandle { queue }, WriterThread { thread }))
}

impl WriterHandle {
    /// Store a burst of one feed and move its cursor to `cursor` (None leaves it), in one transaction.
    pub async fn write_burst(
        &self,
        feed_id: i64,
        connected_ms: i64,
        events: Vec<NewEvent>,
        cursor: Option<String>,
    ) -> BurstResult {
        self.queue_burst(feed_id, connected_ms, events, cursor).await.await
    }

    /// Queue a burst as [`Self::write_burst`] does, returning once it is queued: the returned future gives
    /// its result once it is committed. Parts of one burst queued in order are written in order, so a feed
    /// task can prepare the next part while the writer stores this one.
    pub async fn queue_burst(
        &self,
        feed_id: i64,
        connected_ms: i64,
        events: Vec<NewEvent>,
        cursor: Option<String>,
    ) -> impl Future<Output = BurstResult> + use<> {
        let (done, answer) = oneshot::channel();
        let op = WriteOp::Burst {
            feed_id,
            connected_ms,
            events,
            cursor,
            done,
        };
        // When the writer is gone the operation, and with it `done`, is dropped: the answer says so.
        let _ = self.queue.send(op).await;
        async move { answer.await.unwrap_or_else(|_| Err(writer_gone())) }
    }

    /// Record that events were notified (or will not be); best effort.
    pub async fn mark_notified(&self, seqs: Vec<i64>, mark: NotifyMark) {
        if !seqs.is_empty() {
            // The writer only goes away at shutdown; the marks then wait for the next start.
            let _ = self.queue.send(WriteOp::MarkNotified { seqs, mark }).await;
        }
    }
}

impl WriterHandle {
    /// Record a feed's state for other processes; a stopped or failed state also halts the feed, so no
    /// engine reconnects it until the user acts. Returns once it is committed.
    pub async fn record_state(&self, feed_id: i64, state: FeedState) {
        let (done, committed) = oneshot::channel();
        if self.queue.send(WriteOp::State { feed_id, state, done }).await.is_ok() {
            let _ = committed.await;
        }
    }
}

impl WriterThread {
    /// Wait for the writer to finish what is queued. Call after every [`WriterHandle`] is dropped.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::error!("the database writer thread panicked");
        }
    }
}

fn writer_gone() -> StoreError {
    StoreError::Other {
        path: PathBuf::new(),
        detail: "the database writer has stopped".into(),
    }
}

/// The writer's end of the queue.
struct Inbox {
    queue: mpsc::Receiver<WriteOp>,
    /// A runtime of the writer thread's own, with nothing on it but the timer of [`Inbox::next_op`].
    clock: tokio::runtime::Runtime,
}

/// What the queue gave.
enum Next {
    Op(WriteOp),
    /// Nothing came within the time allowed.
    Nothing,
    /// Every handle is gone and the queue is empty.
    Closed,
}

impl Inbox {
    /// The next operation, waiting for it at most `wait` (`None`: as long as it takes).
    fn next_op(&mut self, wait: Option<Duration>) -> Next {
        match self.queue.try_recv() {
            Ok(op) => return Next::Op(op),
            Err(mpsc::error::TryRecvError::Disconnected) => return Next::Closed,
            Err(mpsc::error::TryRecvError::Empty) => {}
        }
        let received = match wait {
            None => self.queue.blocking_recv(),
            Some(wait) if wait.is_zero() => return Next::Nothing,
            Some(wait) => {
                let queue = &mut self.queue;
                // The timer is made inside `block_on`: it belongs to the clock's runtime.
                let waited = self
                    .clock
                    .block_on(async move { tokio::time::timeout(wait, queue.recv()).await });
                let Ok(received) = waited else {
                    return Next::Nothing;
                };
                received
            }
        };
        received.map_or(Next::Closed, Next::Op)
    }
}

fn write_until_closed(
    mut conn: Connection,
    path: &Path,
    mut inbox: Inbox,
    checkpointer: &Checkpointer,
    mut pacing: IndexPacing,
) {
    let mut ops = Vec::with_capacity(OPS_PER_TRANSACTION);
    // Stored events may lie past the full-text index (left by the last run, or by the bursts since).
    let mut index_behind = true;
    loop {
        // With the index behind, wait for more to write only as long as the pacing says; else until it comes.
        let wait = index_behind.then(|| pacing.wait_before_indexing(Instant::now()));
        let first = match inbox.next_op(wait) {
            Next::Op(op) => op,
            Next::Closed => break,
            Next::Nothing => {
                index_behind = extend_index(&mut conn, path);
                pacing.indexed(Instant::now());
                checkpointer.committed(&conn, path);
                if !index_behind {
                    checkpointer.idle(&conn, path);
                }
                continue;
            }
        };
        ops.push(first);
        while ops.len() < OPS_PER_TRANSACTION {
            match inbox.queue.try_recv() {
                Ok(op) => ops.push(op),
                Err(_) => break,
            }
        }
        index_behind |= ops.iter().any(|op| matches!(op, WriteOp::Burst { .. }));
        let answers = write_transaction(&mut conn, path, ops.drain(..));
        pacing.wrote(Instant::now());
        checkpointer.committed(&conn, path);
        for (done, result) in answers {
            // A feed task that gave up waiting (shutdown) no longer needs its answer.
            let _ = done.send(result);
        }
    }
}

/// Index one small batch of stored events for search; returns whether more may be waiting.
fn extend_index(conn: &mut Connection, path: &Path) -> bool {
    let indexed = conn
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .and_then(|tx| {
            let indexed = index_some(&tx, INDEX_BATCH)?;
            tx.commit()?;
            Ok(indexed)
        });
    match indexed {
        Ok(indexed) => indexed > 0,
        Err(e) => {
            // Search still finds what is not indexed; the next burst tries again.
            tracing::warn!(
                "could not index events for search: {}",
                StoreError::from_sqlite(path, e)
            );
            false
        }
    }
}

/// Write `ops` in one transaction and return the answers owed to each burst.
fn write_transaction(
    conn: &mut Connection,
    path: &Path,
    ops: impl Iterator<Item = WriteOp>,
) -> Vec<(oneshot::Sender<BurstResult>, BurstResult)> {
    let mut answers = Vec::new();
    let mut pending = Vec::new();
    let mut states = Vec::new();
    let outcome = (|| -> rusqlite::Result<()> {
        let mut tx = conn.transaction()?;
        // A newer Tidings may have migrated the database since this one opened it (an update while it ran):
        // its schema may keep what this build does not know to keep, so nothing is written. The feeds keep
        // their saved cursors, and the newer Tidings resumes them.
        let found: u32 = tx.query_row("PRAGMA user_version", [], |row| row.get(0))?;
        if found > schema::CURRENT_VERSION {
            let too_new = || StoreError::TooNew {
                path: path.to_path_buf(),
                found,
                known: schema::CURRENT_VERSION,
            };
            answer_unwritten(ops, too_new, &mut answers, &mut states);
            return Ok(());
        }
        let mut ops = ops;
        while let Some(op) = ops.next() {
            match op {
                WriteOp::Burst {
                    feed_id,
                    connected_ms,
                    events,
                    cursor,
                    done,
                } => {
                    let savepoint = tx.savepoint()?;
                    match insert_burst(&savepoint, feed_id, connected_ms, events, cursor.as_deref()) {
                        Ok(Ok(stored)) => {
                            savepoint.commit()?;
                            pending.push((done, stored));
                        }
                        Ok(Err(refused)) => answers.push((done, Err(refused))),
                        Err(e) => {
                            let error = StoreError::from_sqlite(path, e);
                            // A full disk, an I/O error or no memory in the middle of an insert makes SQLite
                            // roll the whole transaction back: the bursts before this one are gone too, and
                            // what follows must not be written, and committed, outside it.
                            if savepoint.is_autocommit() {
                                tracing::warn!("could not save events: {error}");
                                let lost = pending.drain(..).map(|(done, _)| done).chain([done]);
                                answers.extend(lost.map(|done| (done, Err(clone_error(&error, path)))));
                                answer_unwritten(&mut ops, || clone_error(&error, path), &mut answers, &mut states);
                                return Ok(());
                            }
                            answers.push((done, Err(error)));
                        }
                    }
                }
                WriteOp::State { feed_id, state, done } => {
                    let savepoint = tx.savepoint()?;
                    match record_state(&savepoint, feed_id, &state) {
                        Ok(()) => savepoint.commit()?,
                        Err(e) => tracing::warn!("could not record a feed's state: {e}"),
                    }
                    states.push(done);
                }
                WriteOp::MarkNotified { seqs, mark } => {
                    let savepoint = tx.savepoint()?;
                    match mark_notified(&savepoint, &seqs, mark) {
                        Ok(()) => savepoint.commit()?,
                        Err(e) => tracing::warn!("could not record notified events: {e}"),
                    }
                }
            }
        }
        tx.commit()
    })();
    for done in states {
        let _ = done.send(());
    }
    match outcome {
        Ok(()) => answers.extend(pending.into_iter().map(|(done, stored)| (done, Ok(stored)))),
        Err(e) => {
            let error = StoreError::from_sqlite(path, e);
            tracing::warn!("could not save events: {error}");
            for (done, _) in pending {
                answers.push((done, Err(clone_error(&error, path))));
            }
        }
    }
    answers
}

/// Answer every burst in `ops` with `error()`, writing none of them.
fn answer_unwritten(
    ops: impl Iterator<Item = WriteOp>,
    error: impl Fn() -> StoreError,
    answers: &mut Vec<(oneshot::Sender<BurstResult>, BurstResult)>,
    states: &mut Vec<oneshot::Sender<()>>,
) {
    for op in ops {
        match op {
            WriteOp::Burst { done, .. } => answers.push((done, Err(error()))),
            WriteOp::State { done, .. } => states.push(done),
            WriteOp::MarkNotified { .. } => {}
        }
    }
}

/// StoreError holds no clonable source, so rebuild it from what it says.
fn clone_error(error: &StoreError, path: &Path) -> StoreError {
    match error {
        StoreError::DiskFull { .. } => StoreError::DiskFull {
            path: path.to_path_buf(),
        },
        other => StoreError::Other {
            path: path.to_path_buf(),
            detail: other.to_string(),
        },
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use super::*;
    use crate::quiet::Urgency;
    use crate::store::checkpoint::KEPT_FRACTION;
    use crate::store::{DB_FILE, Store, new_store_with_one_feed};

    /// `count` events with ids from `first`, each carrying about a kilobyte of data.
    fn events(first: usize, count: usize) -> Vec<NewEvent> {
        (first..first + count)
            .map(|n| NewEvent {
                event_id: Some(n.to_string()),
                id_in_block: true,
                event_type: "message".into(),
                data: format!("{n}:{}", "x".repeat(1000)),
                title: format!("event {n}"),
                body: String::new(),
                link: None,
                urgency: Urgency::Normal,
                received_ms: 0,
                notify: false,
            })
            .collect()
    }

    /// A store with one feed, and a writer on it restarting its log past `log_limit_bytes`.
    fn writer_on_new_store(log_limit_bytes: i64) -> (tempfile::TempDir, Store, i64, WriterHandle, WriterThread) {
        let (dir, store, feed) = new_store_with_one_feed();
        let feed_id = feed.id;
        let (writer, thread) = spawn_with_log_limit(store.path(), log_limit_bytes).unwrap();
        (dir, store, feed_id, writer, thread)
    }

    fn file_len(path: &Path) -> u64 {
        std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
    }

    /// Wait until the database file `db` has grown to `len` bytes: the log was copied into it.
    async fn wait_until_copied(db: &Path, len: u64) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while file_len(db) < len {
            assert!(
                Instant::now() < deadline,
                "the database file stayed at {} bytes; the log was not copied into it",
                file_len(db)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    fn stored(store: &Store) -> i64 {
        store
            .with(|conn| conn.query_row("SELECT count(*) FROM events", [], |row| row.get(0)))
            .unwrap()
    }

    #[tokio::test]
    async fn a_long_flood_keeps_the_write_ahead_log_near_its_limit() {
        let (dir, store, feed_id, writer, thread) = writer_on_new_store(1024 * 1024);
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        // About 24 MB of events: a log that only grew would end far above the limit.
        let mut largest = 0;
        for burst in 0..120 {
            let written = writer
                .write_burst(
                    feed_id,
                    0,
                    events(burst * 200, 200),
                    Some((burst * 200 + 199).to_string()),
                )
                .await
                .unwrap();
            assert_eq!(written.len(), 200);
            largest = largest.max(file_len(&wal));
        }
        assert!(
            largest < 8 * 1024 * 1024,
            "the write-ahead log grew to {largest} bytes against a 1 MiB limit"
        );
        drop(writer);
        thread.join();
        assert_eq!(stored(&store), 24_000);
    }

    #[tokio::test]
    async fn a_log_a_flood_left_large_is_emptied_once_the_writer_is_idle() {
        let limit = 16 * 1024 * 1024;
        let (dir, store, feed_id, writer, thread) = writer_on_new_store(limit);
        let wal = dir.path().join(format!("{DB_FILE}-wal"));
        // About six megabytes of events: under the limit, so the flood itself never empties the log.
        writer
            .write_burst(feed_id, 0, events(0, 5000), Some("4999".into()))
            .await
            .unwrap();
        let flooded = file_len(&wal);
        let kept = (limit / KEPT_FRACTION) as u64;
        assert!(flooded > kept, "the flood left a log of only {flooded} bytes");
        // Nothing more comes: once the writer has indexed the events for search, it empties the log.
        let deadline = Instant::now() + Duration::from_secs(30);
        while file_len(&wal) > kept {
            assert!(
                Instant::now() < deadline,
                "the log stayed at {} bytes after the flood; an idle writer keeps it under {kept}",
                file_len(&wal)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        assert_eq!(stored(&store), 5000, "no event was lost with the log");
        let more = writer.write_burst(feed_id, 0, events(5000, 1), Some("5000".into()));
        assert_eq!(more.await.unwrap().len(), 1);
        drop(writer);
        thread.join();
    }

    #[tokio::test]
    async fn the_log_is_copied_into_the_database_while_the_writer_goes_on() {
        let (dir, store, feed_id, writer, thread) = writer_on_new_store(LOG_LIMIT_BYTES);
        let db = dir.path().join(DB_FILE);
        let before = file_len(&db);
        writer
            .write_burst(feed_id, 0, events(0, 5000), Some("4999".into()))
            .await
            .unwrap();
        // Six megabytes of events: past the size at which the log is copied, under the limit at which the
        // writer empties it. The writer never copies; the checkpoint thread does, while the writer's
        // connection stays open.
        wait_until_copied(&db, before + 5_000_000).await;
        assert_eq!(stored(&store), 5000);
        drop(writer);
        thread.join();
    }

    #[tokio::test]
    async fn a_database_made_with_4_kib_pages_keeps_them_and_its_log_is_copied_as_before() {
        let dir = tempfile::tempdir().unwrap();
        // What an earlier Tidings (or SQLite's default) made: a file of 4 KiB pages.
        let earlier = rusqlite::Connection::open(dir.path().join(DB_FILE)).unwrap();
        earlier
            .execute_batch("PRAGMA page_size = 4096; CREATE TABLE t(x); DROP TABLE t;")
            .unwrap();
        drop(earlier);
        let store = Store::open(dir.path()).unwrap();
        let feed = crate::store::add_test_feed(&store, "events");
        let (writer, thread) = spawn(store.path()).unwrap();
        let db = dir.path().join(DB_FILE);
        let before = file_len(&db);
        writer
            .write_burst(feed.id, 0, events(0, 5000), Some("4999".into()))
            .await
            .unwrap();
        // Six megabytes: past the 4 MB after which the log is copied, in pages of either size.
        wait_until_copied(&db, before + 5_000_000).await;
        let page_size = |store: &Store| -> i64 {
            store
                .with(|conn| conn.query_row("PRAGMA page_size", [], |row| row.get(0)))
                .unwrap()
        };
        assert_eq!(page_size(&store), 4096);
        assert_eq!(stored(&store), 5000);
        drop(writer);
        thread.join();
        let (_new_dir, new_store, _) = new_store_with_one_feed();
        assert_eq!(page_size(&new_store), 16 * 1024, "a new database has 16 KiB pages");
    }

    #[test]
    fn when_a_full_disk_undoes_a_transaction_every_burst_in_it_is_told_and_none_is_kept() {
        let (_dir, store, feed) = new_store_with_one_feed();
        let mut conn = open_connection(store.path()).unwrap();
        conn.pragma_update(None, "foreign_keys", false).unwrap();
        // Room for the small bursts, not for the large one: SQLite answers SQLITE_FULL as a full disk would.
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |row| row.get(0)).unwrap();
        conn.pragma_update(None, "max_page_count", pages + 40).unwrap();
        let mut answers = Vec::new();
        let mut ops = Vec::new();
        for (first, count) in [(0, 3), (100, 400), (1000, 3)] {
            let (done, answer) = oneshot::channel();
            ops.push(WriteOp::Burst {
                feed_id: feed.id,
                connected_ms: 0,
                events: events(first, count),
                cursor: Some((first + count - 1).to_string()),
                done,
            });
            answers.push((first, count, answer));
        }
        for (done, result) in write_transaction(&mut conn, store.path(), ops.into_iter()) {
            let _ = done.send(result);
        }

        for (first, count, mut answer) in answers {
            let kept: i64 = store
                .with(|conn| {
                    conn.query_row(
                        "SELECT count(*) FROM events WHERE CAST(event_id AS INTEGER) BETWEEN ?1 AND ?2",
                        [first as i64, (first + count - 1) as i64],
                        |row| row.get(0),
                    )
                })
                .unwrap();
            match answer.try_recv().expect("every burst is answered") {
                Ok(stored) => assert_eq!(kept, stored.len() as i64, "burst {first} is stored as answered"),
                Err(error) => {
                    assert_eq!(kept, 0, "burst {first} was answered with an error but is stored");
                    assert!(matches!(error, StoreError::DiskFull { .. }), "burst {first}: {error}");
                }
            }
        }
    }

    #[tokio::test]
    async fn a_database_migrated_by_a_newer_tidings_meanwhile_is_left_alone_and_the_cursor_kept() {
        let (_dir, store, feed_id, writer, thread) = writer_on_new_store(LOG_LIMIT_BYTES);
        writer
            .write_burst(feed_id, 0, events(0, 2), Some("1".into()))
            .await
            .unwrap();
        // What a newer Tidings's migration leaves while this one keeps running.
        let newer = schema::CURRENT_VERSION + 1;
        store
            .with(|conn| conn.pragma_update(None, "user_version", newer))
            .unwrap();

        let refused = writer
            .write_burst(feed_id, 0, events(2, 2), Some("3".into()))
            .await
            .unwrap_err()
            .to_string();
        assert!(refused.contains("newer Tidings"), "{refused}");
        assert!(refused.contains("restart it"), "{refused}");
        assert_eq!(stored(&store), 2, "nothing was written");
        assert_eq!(
            store.cursor(feed_id).unwrap().as_deref(),
            Some("1"),
            "the feed resumes from its cursor"
        );
        drop(writer);
        thread.join();
    }
}
