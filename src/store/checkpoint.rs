//! Copying the write-ahead log back into the database file, on a thread of its own.
//!
//! In WAL mode a commit only appends pages to `tidings.db-wal`; a *checkpoint* later copies them into the
//! database file. By default SQLite has the committing connection do that copy inside its commit once the
//! log passes 1,000 pages. For the writer thread, which is what limits how fast a flood of events is
//! stored, that copy held it up by about a fifth (bench part 2: 190,000 events/s with it, 223,000 without).
//! So the writer turns automatic checkpoints off and, after a commit that leaves the log past SQLite's usual
//! threshold, wakes this thread, which copies the log on its own connection while the writer goes on.
//!
//! A copy made beside a writer that never pauses cannot let the log start over from its beginning (SQLite
//! restarts the log only when a write begins after everything in it was copied), so in a long flood the
//! log would grow with it. The writer therefore has the log copied to its end once it passes
//! [`LOG_LIMIT_BYTES`] (a `RESTART` checkpoint): by then this thread has copied nearly all of it, so the
//! writer waits only for the rest, and its next commit writes the log over from its beginning.
//!
//! That wait is the copy's tail and two disk syncs: about 35 ms each time, whatever the limit. With a 32 MiB
//! limit it came every 65,000 events of a flood and took a fifth of the writer's time (bench part 3: 390,000
//! WebSocket events/s against 440,000 with 256 MiB). So the limit is large, and during a flood the log file
//! keeps its size when it starts over: writing over blocks the file already has costs the writer less than
//! having the file system allocate them again after a truncation (about a tenth of its time in a flood).
//! What a flood leaves behind is cut back once the writer has nothing left to do ([`Checkpointer::idle`]).

use std::cell::Cell;
use std::ffi::c_int;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use rusqlite::Connection;
use rusqlite::hooks::Wal;

use super::{BUSY_TIMEOUT, StoreError, StoreResult, open_connection};

/// Past this size the writer empties the log after its commit.
pub(crate) const LOG_LIMIT_BYTES: i64 = 256 * 1024 * 1024;
/// Once the writer is idle, a log file larger than this fraction of the limit is emptied.
pub(crate) const KEPT_FRACTION: i64 = 8;
/// The log is copied once it holds this much: SQLite's own threshold (1,000 pages) at its default 4 KiB page
/// size, so a feed that sends an event now and then costs no more disk syncs than before, whatever the page size.
const COPY_AFTER_BYTES: i64 = 1000 * 4096;
/// How long emptying the log waits for readers still reading an older snapshot; it is tried again once the log
/// has grown by another quarter of the limit.
const EMPTY_PATIENCE: Duration = Duration::from_millis(50);

thread_local! {
    /// Pages in the log after the last commit on this thread (the writer's), from SQLite's WAL hook.
    static LOG_PAGES: Cell<i64> = const { Cell::new(0) };
}

fn note_log_pages(_: &Wal, pages: c_int) -> rusqlite::Result<()> {
    LOG_PAGES.set(i64::from(pages));
    Ok(())
}

/// The writer's side: wakes the checkpoint thread and empties a log that grew too long.
pub(crate) struct Checkpointer {
    wake: Option<SyncSender<()>>,
    /// The log limit in pages of this database.
    limit_pages: i64,
    /// [`COPY_AFTER_BYTES`] in pages of this database.
    copy_after_pages: i64,
    /// Empty the log once it holds more pages than this.
    empty_at: Cell<i64>,
    /// The log file, and the size past which an idle writer empties it.
    log_file: PathBuf,
    idle_limit_bytes: u64,
    /// Held by the checkpoint thread while it copies, so emptying the log waits exactly until the copy is done.
    copying: Arc<Mutex<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    /// Start the checkpoint thread for the database at `path`, turn automatic checkpoints off on the
    /// writer's connection `writer`, and have the log emptied past `limit_bytes`.
    pub(crate) fn start(writer: &Connection, path: &Path, limit_bytes: i64) -> StoreResult<Self> {
        let error = |e| StoreError::from_sqlite(path, e);
        writer.pragma_update(None, "wal_autocheckpoint", 0).map_err(error)?;
        // A log that starts over keeps its file as large as the limit: what is written over needs no new blocks.
        writer
            .pragma_update(None, "journal_size_limit", limit_bytes)
            .map_err(error)?;
        writer.wal_hook(Some(note_log_pages));
        let page_size: i64 = writer
            .query_row("PRAGMA page_size", [], |row| row.get(0))
            .map_err(error)?;
        let limit_pages = (limit_bytes / page_size.max(512)).max(1);
        let copy_after_pages = (COPY_AFTER_BYTES / page_size.max(512)).max(1);
        let conn = open_connection(path)?;
        // One pending wake is enough: a copy started after it covers every commit before it.
        let (wake, woken) = sync_channel(1);
        let copying = Arc::new(Mutex::new(()));
        let thread_copying = Arc::clone(&copying);
        let thread_path = path.to_path_buf();
        let thread = std::thread::Builder::new()
            .name("tidings-checkpoint".into())
            .spawn(move || copy_when_woken(&conn, &thread_path, &woken, &thread_copying))
            .map_err(|e| StoreError::Other {
                path: PathBuf::new(),
                detail: format!("cannot start the database checkpoint thread: {e}"),
            })?;
        Ok(Checkpointer {
            wake: Some(wake),
            limit_pages,
            copy_after_pages,
            empty_at: Cell::new(limit_pages),
            log_file: log_file_of(path),
            idle_limit_bytes: u64::try_from(limit_bytes / KEPT_FRACTION).unwrap_or(0),
            copying,
            thread: Some(thread),
        })
    }

    /// The writer committed on this thread: empty the log if it grew past the limit, else have it copied.
    pub(crate) fn committed(&self, writer: &Connection, path: &Path) {
        let pages = LOG_PAGES.get();
        if pages > self.empty_at.get() && self.empty_log(writer, path, "RESTART") {
            LOG_PAGES.set(0);
            self.empty_at.set(self.limit_pages);
            return;
        }
        if pages > self.empty_at.get() {
            self.empty_at.set(pages + self.limit_pages / 4);
        }
        if pages < self.copy_after_pages {
            return;
        }
        if let Some(wake) = &self.wake {
            match wake.try_send(()) {
                Ok(()) | Err(TrySendError::Full(())) => {}
                Err(TrySendError::Disconnected(())) => tracing::warn!("the database checkpoint thread has stopped"),
            }
        }
    }

    /// The writer has nothing left to do: a log file a flood left larger than an eighth of the limit is
    /// emptied and cut to nothing (tried again the next time, if a reader still needs it).
    pub(crate) fn idle(&self, writer: &Connection, path: &Path) {
        let size = std::fs::metadata(&self.log_file).map_or(0, |file| file.len());
        if size > self.idle_limit_bytes {
            self.empty_log(writer, path, "TRUNCATE");
        }
    }

    /// Copy what is left of the log so that it starts over (`mode`: `RESTART`, or `TRUNCATE` to also cut the
    /// file to nothing); false when a reader still needs it.
    fn empty_log(&self, writer: &Connection, path: &Path, mode: &str) -> bool {
        let _copied = self.copying.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let emptied = writer
            .busy_timeout(EMPTY_PATIENCE)
            .and_then(|()| checkpoint(writer, mode))
            .and_then(|(busy, _, _)| writer.busy_timeout(BUSY_TIMEOUT).map(|()| !busy));
        match emptied {
            Ok(emptied) => emptied,
            Err(e) => {
                let _ = writer.busy_timeout(BUSY_TIMEOUT);
                tracing::warn!(
                    "could not copy the write-ahead log into the database: {}",
                    StoreError::from_sqlite(path, e)
                );
                false
            }
        }
    }
}

impl Drop for Checkpointer {
    /// Stop the checkpoint thread once it has finished its copy.
    fn drop(&mut self) {
        self.wake = None;
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the database checkpoint thread panicked");
        }
    }
}

/// The write-ahead log file of the database at `path`.
fn log_file_of(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

/// `PRAGMA wal_checkpoint(mode)`: whether it was kept from finishing, the pages in the log, the pages copied.
fn checkpoint(conn: &Connection, mode: &str) -> rusqlite::Result<(bool, i64, i64)> {
    conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |row| {
        Ok((row.get::<_, i64>(0)? != 0, row.get(1)?, row.get(2)?))
    })
}

fn copy_when_woken(conn: &Connection, path: &Path, woken: &Receiver<()>, copying: &Mutex<()>) {
    let mut warned = false;
    while woken.recv().is_ok() {
        let copied = {
            let _copying = copying.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            checkpoint(conn, "PASSIVE")
        };
        match copied {
            Ok(_) => warned = false,
            // A full disk, say: the log keeps the events, and the next commit tries again.
            Err(e) if !warned => {
                warned = true;
                tracing::warn!(
                    "could not copy the write-ahead log into the database: {}",
                    StoreError::from_sqlite(path, e)
                );
            }
            Err(_) => {}
        }
    }
}
