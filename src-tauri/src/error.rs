//! [`CommandError`]: how every command fails, as the UI sees it.
//!
//! The `code` is stable and machine-readable ([`tidings::Error::code`] for the engine's errors, a few of the
//! shell's own below), so the UI branches on it and shows `message` to the person; it never matches text.

use serde::Serialize;
use ts_rs::TS;

/// A command's failure: `{ code, message }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
pub struct CommandError {
    pub code: String,
    pub message: String,
}

impl CommandError {
    pub fn new(code: &str, message: impl Into<String>) -> CommandError {
        CommandError {
            code: code.to_string(),
            message: message.into(),
        }
    }
}

impl From<tidings::Error> for CommandError {
    fn from(error: tidings::Error) -> CommandError {
        CommandError::new(error.code(), error.to_string())
    }
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.code)
    }
}
