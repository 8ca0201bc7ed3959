//! The errors the engine returns to its faces (CLI, desktop shell, tests).
//!
//! Each message says what failed and what to do next, in lowercase like the rest of the CLI's output.
//! [`Error::code`] gives a stable machine-readable code, so the desktop UI never matches message text.

use std::path::PathBuf;

/// Everything the engine's API can fail with.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("invalid feed URL `{url}`: {reason}")]
    InvalidUrl { url: String, reason: String },

    #[error("invalid header `{header}`: {reason}")]
    InvalidHeader { header: String, reason: String },

    #[error("invalid feed name `{name}`: {reason}")]
    InvalidName { name: String, reason: String },

    #[error("invalid {setting}: {reason}")]
    InvalidSetting { setting: String, reason: String },

    #[error("no feed named `{0}`; `tidings feed list` shows the feeds there are")]
    FeedNotFound(String),

    #[error("a feed named `{0}` already exists; choose another name with --name")]
    FeedExists(String),

    #[error(
        "another Tidings is already following the feeds in {dir} (the desktop app or `tidings run`); \
         stop it first, or use another --data-dir"
    )]
    AlreadyRunning { dir: PathBuf },

    #[error(
        "cannot use the data directory {dir}: {source}; check that it exists and is writable, or choose another with --data-dir"
    )]
    DataDir { dir: PathBuf, source: std::io::Error },

    #[error(
        "cannot keep {} of feed `{feed}` in a keyring: {why}. Choose one: start a Secret \
         Service and unlock it (GNOME Keyring, or KeePassXC with its Secret Service integration on), then try \
         again; or add --plaintext-secrets to store them as plain text in the Tidings database, where anyone \
         who can read its file or a backup of it can read them",
        secrets.join(" and ")
    )]
    NoKeyring {
        feed: String,
        secrets: Vec<String>,
        why: String,
    },

    #[error(transparent)]
    Store(#[from] crate::store::StoreError),

    #[error("cannot start: {0}")]
    Startup(String),

    #[error("internal error: {0}; please report it")]
    Internal(String),
}

impl Error {
    /// A stable code for this kind of error, for the desktop UI and for scripts.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::InvalidHeader { .. } => "invalid_header",
            Error::InvalidName { .. } => "invalid_name",
            Error::InvalidSetting { .. } => "invalid_setting",
            Error::FeedNotFound(_) => "feed_not_found",
            Error::FeedExists(_) => "feed_exists",
            Error::AlreadyRunning { .. } => "already_running",
            Error::DataDir { .. } => "data_dir",
            Error::NoKeyring { .. } => "no_keyring",
            Error::Store(_) => "store",
            Error::Startup(_) => "startup",
            Error::Internal(_) => "internal",
        }
    }
}
