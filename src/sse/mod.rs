//! Server-Sent Events: the event-stream parser and the HTTP connection that feeds it.

pub mod connection;
mod line_ends;
pub mod parser;
