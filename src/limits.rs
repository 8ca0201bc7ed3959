//! The open-file limit: every feed holds a socket, so thousands of feeds need thousands of descriptors,
//! while most systems start a process with a soft limit of 1024.
//!
//! [`raise_open_file_limit`] lifts the soft limit to the hard one (allowed without privileges) when following
//! starts. When descriptors still run out, [`explain_if_out_of_files`] turns the bare `Too many open files`
//! into what happened and how to raise the limit.

use std::error::Error as StdError;

/// Descriptors kept for the database, the notification service and the log, besides one per feed.
pub const RESERVED_FILES: u64 = 64;

/// The open-file limits after [`raise_open_file_limit`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenFiles {
    /// What this process may open now (`None`: unlimited).
    pub soft: Option<u64>,
    /// What it could be raised to without privileges.
    pub hard: Option<u64>,
}

impl OpenFiles {
    /// How many feeds fit next to [`RESERVED_FILES`] (`None`: no limit).
    pub fn feeds_that_fit(&self) -> Option<u64> {
        self.soft.map(|soft| soft.saturating_sub(RESERVED_FILES))
    }
}

/// Raise this process's soft open-file limit to its hard limit; returns the limits in force.
#[cfg(unix)]
pub fn raise_open_file_limit() -> std::io::Result<OpenFiles> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current != limit.maximum {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: limit.maximum,
                maximum: limit.maximum,
            },
        )?;
    }
    let limit = getrlimit(Resource::Nofile);
    Ok(OpenFiles {
        soft: limit.current,
        hard: limit.maximum,
    })
}

/// No such limit to raise on this platform.
#[cfg(not(unix))]
pub fn raise_open_file_limit() -> std::io::Result<OpenFiles> {
    Ok(OpenFiles { soft: None, hard: None })
}

/// The limit in force now, for messages.
pub fn current_open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    return rustix::process::getrlimit(rustix::process::Resource::Nofile).current;
    #[cfg(not(unix))]
    None
}

/// What to tell the user when this error (or one of its causes) is "too many open files"; `None` otherwise.
pub fn explain_if_out_of_files(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut cause = Some(error);
    while let Some(current) = cause {
        if let Some(io) = current.downcast_ref::<std::io::Error>()
            && is_out_of_files(io)
        {
            return Some(out_of_files_message());
        }
        cause = current.source();
    }
    None
}

/// Whether an I/O error means the process or the system ran out of file descriptors.
pub fn is_out_of_files(error: &std::io::Error) -> bool {
    // EMFILE (24): this process's limit; ENFILE (23): the system's.
    matches!(error.raw_os_error(), Some(23 | 24))
}

/// What happened and how to fix it.
pub fn out_of_files_message() -> String {
    let limit = current_open_file_limit().map_or_else(|| "the limit".to_string(), |n| format!("the limit of {n}"));
    format!(
        "cannot open a connection: too many open files ({limit} is reached, one is needed per feed); {HOW_TO_RAISE}"
    )
}

/// How a user gets more descriptors.
pub const HOW_TO_RAISE: &str = "raise the hard limit (`ulimit -Hn` in the shell that starts Tidings, \
     `LimitNOFILE=` in a systemd unit, or `nofile` in /etc/security/limits.conf), or follow fewer feeds";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_files_is_recognised_through_the_causes() {
        #[derive(Debug)]
        struct Wrapper(std::io::Error);
        impl std::fmt::Display for Wrapper {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("connect failed")
            }
        }
        impl StdError for Wrapper {
            fn source(&self) -> Option<&(dyn StdError + 'static)> {
                Some(&self.0)
            }
        }
        let out = Wrapper(std::io::Error::from_raw_os_error(24));
        let message = explain_if_out_of_files(&out).expect("EMFILE is recognised");
        assert!(message.contains("too many open files"), "{message}");
        assert!(message.contains("ulimit -Hn"), "{message}");
        let refused = Wrapper(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert_eq!(explain_if_out_of_files(&refused), None);
    }
}
