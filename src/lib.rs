//! Tidings' core: follow live event feeds, store every event exactly once, raise desktop notifications.
//!
//! # Layout
//! - [`feed`]: what a feed is: the user's input, the validated configuration, the state a user sees.
//! - [`sse`]: Server-Sent Events. [`sse::parser`] turns bytes into events and does no I/O;
//!   [`sse::connection`] speaks HTTP to a feed and applies the status and Content-Type policy.
//! - [`source`]: one connection to a feed whatever its protocol, and how its failures are judged.
//! - [`websocket`]: WebSocket channels: handshake, messages to send, liveness, close codes.
//! - [`supervisor`]: follows one feed: connect, hand bursts on, reconnect with [`backoff`].
//! - [`store`]: the SQLite database: feeds, cursors, events (exactly once), full-text search.
//! - [`notify`]: payloads as safe text, folding bursts into summaries, desktop notifications.
//! - [`template`]: notification templates over JSON pointers (`{{/title ?? type}}`); the event rules also read.
//! - [`html`]: HTML payloads (Mastodon's) as readable text, for the `|text` template filter.
//! - [`rules`]: `--skip-when` / `--notify-when` conditions, parsed once with errors that point at the mistake.
//! - [`quiet`]: quiet hours, priority to urgency, do not disturb; the clock is passed in, never read.
//! - [`exec`]: running a feed's `--exec` program for each new event, bounded and never through a shell.
//! - [`engine`]: the one handle every face uses (CLI, desktop app, tests).
//! - [`logging`]: logs on stderr, set up alike by every program.
//! - [`limits`]: the open-file limit thousands of feeds need, and the error when it runs out.
//! - [`probe`]: trying a feed before saving it.
//! - [`preset`]: what ntfy, Gotify, Home Assistant and Mastodon feeds need, filled in from an address and a token.
//! - [`discover`]: asking a service where its stream is when a feed is added (Mastodon's streaming server).
//! - [`portable`]: exporting feeds without their secrets, and importing them.
//! - [`secret`]: where feed secrets live: the OS keyring, with only a reference in the database.
//! - [`demo`]: a demo SSE feed served on loopback, so a newcomer sees events without a server of their own.
//! - [`error`]: the errors the engine returns, each saying what to do next.

pub mod backoff;
pub mod demo;
pub mod discover;
pub mod engine;
pub mod error;
pub mod exec;
pub mod feed;
pub mod html;
mod json_pointer;
pub mod limits;
pub mod logging;
pub mod notify;
pub mod portable;
pub mod preset;
pub mod probe;
pub mod quiet;
pub mod rules;
pub mod secret;
pub mod source;
pub mod sse;
pub mod store;
pub mod supervisor;
pub mod template;
pub mod websocket;

pub use engine::{Change, Engine, FollowOptions, Following};
pub use error::Error;
pub use feed::{FeedSpec, FeedState};
