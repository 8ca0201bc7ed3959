//! One follower per data directory: `engine.lock`, held with an OS file lock while an engine follows feeds.
//!
//! Two followers would connect twice and notify twice. The lock dies with its process, so a crash never
//! leaves a stale lock behind. Other processes (the CLI listing feeds) test it to know whether the live
//! states in the database are current. The holder writes its process id into the file, so the others can
//! tell which process follows ([`holder`]).

use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use crate::error::Error;

const LOCK_FILE: &str = "engine.lock";

/// Held while this process follows the directory's feeds.
pub struct DirLock {
    _file: File,
}

/// How long a starting follower waits out [`is_held`] probes: they hold the lock shared for a moment, a
/// follower holds it for good. Without the wait, a `feed list` at the wrong instant turned `tidings run` away
/// as "already following".
const PROBE_PATIENCE: Duration = Duration::from_secs(1);

/// Take the directory's follower lock, or say who has it. Blocks up to [`PROBE_PATIENCE`] when it is taken.
pub fn acquire(dir: &Path) -> Result<DirLock, Error> {
    let file = open(dir)?;
    let give_up = Instant::now() + PROBE_PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(DirLock { _file: with_pid(file) }),
            Err(TryLockError::WouldBlock) if Instant::now() < give_up => std::thread::sleep(Duration::from_millis(10)),
            Err(TryLockError::WouldBlock) => return Err(Error::AlreadyRunning { dir: dir.to_path_buf() }),
            Err(TryLockError::Error(source)) => {
                return Err(Error::DataDir {
                    dir: dir.to_path_buf(),
                    source,
                });
            }
        }
    }
}

/// Write this process's id into the lock file it now holds; best effort, the lock itself is what counts.
fn with_pid(mut file: File) -> File {
    let written = file.set_len(0).and_then(|()| write!(file, "{}", std::process::id()));
    if let Err(e) = written {
        tracing::debug!("cannot write the process id into the follower lock: {e}");
    }
    file
}

/// The process id of the follower holding the lock, if one does.
pub fn holder(dir: &Path) -> Option<u32> {
    if !is_held(dir) {
        return None;
    }
    std::fs::read_to_string(dir.join(LOCK_FILE)).ok()?.trim().parse().ok()
}

/// Whether some process holds the lock now.
pub fn is_held(dir: &Path) -> bool {
    match open(dir) {
        Ok(file) => matches!(file.try_lock_shared(), Err(TryLockError::WouldBlock)),
        Err(_) => false,
    }
}

fn open(dir: &Path) -> Result<File, Error> {
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join(LOCK_FILE))
        .map_err(|source| Error::DataDir {
            dir: dir.to_path_buf(),
            source,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_follower_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!is_held(dir.path()));
        let first = acquire(dir.path()).unwrap();
        assert!(is_held(dir.path()));
        let refused = acquire(dir.path()).err().unwrap();
        assert!(refused.to_string().contains("already following"), "{refused}");
        assert_eq!(holder(dir.path()), Some(std::process::id()));
        drop(first);
        assert!(!is_held(dir.path()));
        assert_eq!(holder(dir.path()), None);
        acquire(dir.path()).unwrap();
    }

    #[test]
    fn a_probe_of_the_lock_does_not_turn_a_starting_follower_away() {
        let dir = tempfile::tempdir().unwrap();
        // What `is_held` takes for a moment, held here while the follower starts.
        let probe = open(dir.path()).unwrap();
        probe.lock_shared().unwrap();
        let path = dir.path().to_path_buf();
        let follower = std::thread::spawn(move || acquire(&path).map(drop));
        std::thread::sleep(Duration::from_millis(50));
        drop(probe);
        follower.join().unwrap().expect("the follower waits out the probe");
    }
}
