//! Tidings' core: follow live event feeds, store every event exactly once, raise desktop notifications.
//!
//! # Layout
//! - [`sse`]: Server-Sent Events. [`sse::parser`] turns bytes into events and does no I/O;
//!   [`sse::connection`] speaks HTTP to a feed and applies the status and Content-Type policy.
//! - [`demo`]: a demo SSE feed served on loopback, so a newcomer sees events without a server of their own.

pub mod backoff;
pub mod demo;
pub mod engine;
pub mod error;
pub mod feed;
pub mod notify;
pub mod source;
pub mod sse;
pub mod store;
pub mod supervisor;

pub use engine::{Change, Engine, FollowOptions, Following};
pub use error::Error;
pub use feed::{FeedSpec, FeedState};
