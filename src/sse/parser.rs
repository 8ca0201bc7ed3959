//! The `text/event-stream` parser: bytes in, events out.
//!
//! This module owns the wire format of Server-Sent Events and nothing else: it follows the WHATWG
//! HTML standard's "Parsing an event stream" and "Interpreting an event stream" steps exactly, and
//! does no I/O, no async and no allocation per byte. `sse::connection` speaks HTTP to a feed, checks
//! the status and Content-Type, and hands every chunk of the response body, as it arrives, to
//! [`Parser::push`]; what comes back is a list of [`Dispatch`]es, in stream order.
//!
//! A chunk may end anywhere: inside a line, between the CR and the LF of a CRLF, inside the UTF-8
//! byte order mark, or inside a multibyte character. The parser keeps just enough state across
//! pushes (the incomplete line, whether the last byte was a CR, how much of a leading BOM it has
//! seen) that every way of cutting the same bytes gives the same dispatches.
//!
//! Complete lines are parsed straight from the pushed slice; only the unterminated tail of a push
//! is copied, into the line buffer. The data, event type and last event ID buffers are reused from
//! one event to the next, so the strings of each dispatched [`Event`] are the only allocations per
//! event.
//!
//! Memory is bounded: a line longer than the limit ([`DEFAULT_MAX_BYTES`] unless set with
//! [`Parser::with_max_bytes`]) fails with [`ParseError::LineTooLong`] as soon as the buffered part
//! exceeds it, and an event whose data buffer would exceed it fails with
//! [`ParseError::EventTooLarge`].

use memchr::{memchr, memchr2_iter};

/// Default limit for one line and for one event's data: 4 MiB.
pub const DEFAULT_MAX_BYTES: usize = 4 * 1024 * 1024;

/// The UTF-8 byte order mark; one is stripped from the very start of a stream.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// A dispatched event (spec: the `MessageEvent` fired at a blank line with a non-empty data buffer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The last event ID when this event was dispatched (spec: MessageEvent.lastEventId); "" when none.
    pub id: String,
    /// True when this event's own block contained a valid `id` field (so `id` identifies THIS event,
    /// rather than being inherited from an earlier block).
    pub id_in_block: bool,
    /// The `event` field, or "message" when the block had none / an empty one.
    pub event_type: String,
    /// The `data` lines joined with '\n' (the final '\n' removed).
    pub data: String,
}

/// What a blank line produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dispatch {
    /// An event, dispatched because its block had at least one `data` field.
    Event(Event),
    /// A blank line ended a block that dispatched no event (empty data buffer) but the last event ID
    /// changed (e.g. `id: 7\n\n`): a consumer persists this as its resume cursor.
    IdOnly(String),
}

/// Why the parser refused the stream. After one, the connection is dropped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// A single line (without its line ending) is longer than the limit.
    #[error("a line longer than {limit} bytes arrived; the feed sends more than Tidings keeps in memory")]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// One event's data buffer (its `data` values, each followed by '\n') would exceed the limit.
    #[error("an event larger than {limit} bytes arrived; the feed sends more than Tidings keeps in memory")]
    EventTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

/// How far the parser is in recognising the one leading byte order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BomState {
    /// At the start of the stream: this many bytes of the BOM (0, 1 or 2) have been seen so far and
    /// held back, because they cannot yet be told from the start of a line.
    Pending(usize),
    /// Past the start of the stream: a BOM was stripped, or the stream did not begin with one.
    Done,
}

/// A streaming `text/event-stream` parser. Feed it with [`Parser::push`].
#[derive(Debug, Clone)]
pub struct Parser {
    /// Limit in bytes for one line and for one event's data buffer.
    max_bytes: usize,
    /// Whether the leading BOM is still being looked for.
    bom: BomState,
    /// The bytes of a line whose end has not arrived yet (the tail of the previous push).
    line: Vec<u8>,
    /// The previous push ended with a CR: an LF at the start of the next push belongs to it.
    last_was_cr: bool,
    /// Spec: the data buffer. Each `data` value followed by '\n'.
    data: String,
    /// Spec: the event type buffer.
    event_type: String,
    /// Spec: the last event ID buffer. Persists across blocks; a blank line commits it.
    id_buffer: String,
    /// Whether the current block has had a valid `id` field.
    id_in_block: bool,
    /// Spec: the event source's last event ID string, as committed by the latest blank line.
    last_event_id: String,
    /// Spec: the reconnection time, in milliseconds, from the latest valid `retry` field.
    retry: Option<u64>,
    /// The error that ended this stream, if any; every later push returns it again.
    failed: Option<ParseError>,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new()
    }
}

impl Parser {
    /// A parser at the start of a stream: limit [`DEFAULT_MAX_BYTES`], no last event ID.
    pub fn new() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            bom: BomState::Pending(0),
            line: Vec::new(),
            last_was_cr: false,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            id_in_block: false,
            last_event_id: String::new(),
            retry: None,
            failed: None,
        }
    }

    /// Set the limit in bytes for one line (without its line ending) and for one event's data
    /// buffer (the `data` values, each followed by '\n', before the final '\n' is removed).
    pub fn with_max_bytes(mut self, max: usize) -> Self {
        self.max_bytes = max;
        self
    }

    /// Resume after a reconnect: seed both the last event ID buffer and the committed last event
    /// ID with the ID the previous connection ended on, so events that carry no `id` of their own
    /// report it, and an `id` equal to it is no change.
    pub fn with_last_event_id(mut self, id: impl Into<String>) -> Self {
        let id = id.into();
        self.id_buffer.clone_from(&id);
        self.last_event_id = id;
        self
    }

    /// Parse the next bytes of the stream; push dispatched items onto `out` in order.
    ///
    /// Items dispatched before an error in the same push are still on `out`.
    /// After an Err the parser must not be used again (the connection is dropped); if it is, it
    /// returns the same error again and parses nothing.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Dispatch>) -> Result<(), ParseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.push_inner(bytes, out);
        if let Err(err) = &result {
            self.failed = Some(err.clone());
        }
        result
    }

    /// The reconnection time in ms from the latest valid `retry:` field, if any (also when the
    /// block had no data).
    pub fn retry(&self) -> Option<u64> {
        self.retry
    }

    /// The last event ID as of the last dispatch (blank line) — NOT the buffer of an incomplete
    /// block.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    fn push_inner(&mut self, bytes: &[u8], out: &mut Vec<Dispatch>) -> Result<(), ParseError> {
        let bytes = match self.bom {
            BomState::Pending(seen) => match self.strip_bom(seen, bytes)? {
                Some(rest) => rest,
                None => return Ok(()),
            },
            BomState::Done => bytes,
        };

        // Start of the current line within `bytes`.
        let mut start = 0;
        // Where an LF would be the second half of a CRLF (and so end no line).
        let mut lf_ends_nothing_at = if self.last_was_cr { Some(0) } else { None };
        for end in memchr2_iter(b'\r', b'\n', bytes) {
            let is_cr = bytes[end] == b'\r';
            if !is_cr && lf_ends_nothing_at == Some(end) {
                start = end + 1;
                continue;
            }
            self.end_line(&bytes[start..end], out)?;
            start = end + 1;
            if is_cr {
                lf_ends_nothing_at = Some(start);
            }
        }
        // A CR as the very last byte: the LF that may follow arrives with the next push. An empty
        // push keeps a pending CR pending.
        self.last_was_cr = lf_ends_nothing_at == Some(bytes.len());

        let tail = bytes.get(start..).unwrap_or_default();
        if !tail.is_empty() {
            if self.line.len() + tail.len() > self.max_bytes {
                return Err(ParseError::LineTooLong { limit: self.max_bytes });
            }
            self.line.extend_from_slice(tail);
        }
        Ok(())
    }

    /// Look for the leading BOM, `seen` bytes of which arrived in earlier pushes. Returns the
    /// bytes left to parse, or `None` when all of `bytes` may still be part of the BOM.
    fn strip_bom<'a>(&mut self, mut seen: usize, mut bytes: &'a [u8]) -> Result<Option<&'a [u8]>, ParseError> {
        while seen < BOM.len() {
            match bytes.split_first() {
                None => {
                    self.bom = BomState::Pending(seen);
                    return Ok(None);
                }
                Some((&byte, rest)) if Some(&byte) == BOM.get(seen) => {
                    seen += 1;
                    bytes = rest;
                }
                Some(_) => {
                    // Not a BOM after all: the bytes held back start the first line.
                    self.bom = BomState::Done;
                    let held = BOM.get(..seen).unwrap_or_default();
                    if held.len() > self.max_bytes {
                        return Err(ParseError::LineTooLong { limit: self.max_bytes });
                    }
                    self.line.extend_from_slice(held);
                    return Ok(Some(bytes));
                }
            }
        }
        self.bom = BomState::Done;
        Ok(Some(bytes))
    }

    /// A line ending arrived: `rest` is the part of the line in this push, after whatever the
    /// line buffer holds from earlier pushes.
    fn end_line(&mut self, rest: &[u8], out: &mut Vec<Dispatch>) -> Result<(), ParseError> {
        if self.line.len() + rest.len() > self.max_bytes {
            return Err(ParseError::LineTooLong { limit: self.max_bytes });
        }
        if self.line.is_empty() {
            return self.process_line(rest, out);
        }
        // Borrow the buffer out of `self` (no allocation) so it can be read while `self` changes.
        let mut line = std::mem::take(&mut self.line);
        line.extend_from_slice(rest);
        let result = self.process_line(&line, out);
        line.clear();
        self.line = line;
        result
    }

    /// Spec: "Interpreting an event stream", for one complete line without its line ending.
    ///
    /// The line is split on bytes and only the field value is decoded: ':' and ' ' are ASCII, so
    /// they are never part of a multibyte sequence nor produced by replacing invalid bytes, and a
    /// field name with invalid UTF-8 in it matches no known name either way.
    fn process_line(&mut self, line: &[u8], out: &mut Vec<Dispatch>) -> Result<(), ParseError> {
        if line.is_empty() {
            self.dispatch(out);
            return Ok(());
        }
        let (name, value) = match memchr(b':', line) {
            Some(0) => return Ok(()), // a comment
            Some(colon) => {
                let value = line.get(colon + 1..).unwrap_or_default();
                let value = value.strip_prefix(b" ").unwrap_or(value);
                (line.get(..colon).unwrap_or_default(), value)
            }
            None => (line, &[][..]),
        };
        match name {
            b"data" => {
                let value = decode(value);
                // The data buffer may hold at most `max_bytes`, counting the '\n' after each value.
                if self.data.len() + value.len() + 1 > self.max_bytes {
                    return Err(ParseError::EventTooLarge { limit: self.max_bytes });
                }
                self.data.push_str(&value);
                self.data.push('\n');
            }
            b"event" => {
                self.event_type.clear();
                self.event_type.push_str(&decode(value));
            }
            // An id containing U+0000 is ignored.
            b"id" if memchr(0, value).is_none() => {
                self.id_buffer.clear();
                self.id_buffer.push_str(&decode(value));
                self.id_in_block = true;
            }
            // A retry that is not all ASCII digits (or is empty) is ignored.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                let millis = value.iter().fold(0u64, |acc, digit| {
                    acc.saturating_mul(10).saturating_add(u64::from(digit - b'0'))
                });
                self.retry = Some(millis);
            }
            _ => {} // unknown fields, and the ignored values above
        }
        Ok(())
    }

    /// Spec: "dispatch the event", at a blank line.
    fn dispatch(&mut self, out: &mut Vec<Dispatch>) {
        let id_changed = self.last_event_id != self.id_buffer;
        if id_changed {
            self.last_event_id.clone_from(&self.id_buffer);
        }
        let id_in_block = std::mem::replace(&mut self.id_in_block, false);
        if self.data.is_empty() {
            self.event_type.clear();
            if id_changed {
                out.push(Dispatch::IdOnly(self.last_event_id.clone()));
            }
            return;
        }
        let data = self.data.strip_suffix('\n').unwrap_or(&self.data);
        let event_type = if self.event_type.is_empty() {
            String::from("message")
        } else {
            self.event_type.clone()
        };
        out.push(Dispatch::Event(Event {
            id: self.last_event_id.clone(),
            id_in_block,
            event_type,
            data: String::from(data),
        }));
        self.data.clear();
        self.event_type.clear();
    }
}

/// UTF-8 decode one field value, replacing invalid sequences with U+FFFD. Borrows (no copy)
/// unless the bytes are invalid.
fn decode(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
