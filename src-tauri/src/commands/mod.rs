//! The commands the UI invokes (`docs/desktop-ipc.md`). Each takes the shared [`tidings::Engine`], calls one
//! engine method and maps the error to a [`CommandError`](crate::CommandError); none holds logic of its own.
//!
//! - [`feeds`]: list, add, edit, remove, pause, resume and test feeds.
//! - [`events`]: list, read and mark events, and the event a notification click asked to show.
//! - [`settings`]: do not disturb, start at login, and opening links.
//! - [`painted`]: the UI's marks of its first frames, logged (how start-up is timed).
//! - [`crate::demo`] holds `add_demo_feed`, which also owns the demo server.

pub mod events;
pub mod feeds;
mod list;
pub mod painted;
pub mod settings;

pub use list::COMMANDS;
