//! One follower per data directory: `engine.lock`, held with an OS file lock while an engine follows feeds.
//!
//! Two followers would connect twice and notify twice. The lock dies with its process, so a crash never
//! leaves a stale lock behind. Other processes (the CLI listing feeds) test it to know whether the live
//! states in the database are current.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::Path;

use crate::error::Error;

const LOCK_FILE: &str = "engine.lock";

/// Held while this process follows the directory's feeds.
pub struct DirLock {
    _file: File,
}

/// Take the directory's follower lock, or say who has it.
pub fn acquire(dir: &Path) -> Result<DirLock, Error> {
    let file = open(dir)?;
    match file.try_lock() {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(TryLockError::WouldBlock) => Err(Error::AlreadyRunning { dir: dir.to_path_buf() }),
        Err(TryLockError::Error(source)) => Err(Error::DataDir {
            dir: dir.to_path_buf(),
            source,
        }),
    }
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
        drop(first);
        assert!(!is_held(dir.path()));
        acquire(dir.path()).unwrap();
    }
}
