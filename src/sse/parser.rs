//! The `text/event-stream` parser: bytes in, events out.
//!
//! This module owns the wire format of Server-Sent Events and nothing else: it follows the WHATWG
//! HTML standard's "Parsing an event stream" and "Interpreting an event stream" steps exactly, and
//! does no I/O, no async and no allocation per line. `sse::connection` speaks HTTP to a feed, checks
//! the status and Content-Type, and hands every chunk of the response body, as it arrives, to
//! [`Parser::push`]; what comes back is a list of [`Dispatch`]es, in stream order. [`Parser::push_with`]
//! is the same parser handing each dispatch to a callback as borrowed text ([`DispatchRef`]), for a
//! caller that does not need to keep it.
//!
//! A chunk may end anywhere: inside a line, between the CR and the LF of a CRLF, inside the UTF-8
//! byte order mark, or inside a multibyte character. The parser keeps just enough state across
//! pushes (the incomplete line, whether the last byte was a CR, how much of a leading BOM it has
//! seen) that every way of cutting the same bytes gives the same dispatches.
//!
//! How it stays fast: line ends are found by one pass over the whole chunk ([`super::line_ends`]);
//! lines are parsed straight from the pushed slice (the common field names are matched without
//! searching for the colon); an event whose only `data` line arrived in this push is dispatched
//! straight from the pushed bytes, without a copy; the data, event type and ID buffers are reused
//! from one event to the next; and UTF-8 is decoded once per event, when it is dispatched. Invalid
//! UTF-8 is replaced with U+FFFD as the standard says (per value: a line ending always ends an
//! invalid sequence, so decoding the joined data once gives the same text as decoding each line).
//!
//! Memory is bounded: a line longer than the limit ([`DEFAULT_MAX_BYTES`] unless set with
//! [`Parser::with_max_bytes`]) fails with [`ParseError::LineTooLong`] as soon as the buffered part
//! exceeds it, and an event whose data buffer (the bytes of its `data` values as they arrived, each
//! followed by '\n') would exceed it fails with [`ParseError::EventTooLarge`].

use std::borrow::Cow;

use memchr::memchr;

use super::line_ends::LineEnds;

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

/// An [`Event`] lent to the callback of [`Parser::push_with`]: the same fields, borrowed from the
/// parser and the pushed bytes, valid during the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EventRef<'a> {
    /// See [`Event::id`].
    pub id: &'a str,
    /// See [`Event::id_in_block`].
    pub id_in_block: bool,
    /// See [`Event::event_type`].
    pub event_type: &'a str,
    /// See [`Event::data`].
    pub data: &'a str,
}

/// A [`Dispatch`] lent to the callback of [`Parser::push_with`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchRef<'a> {
    /// See [`Dispatch::Event`].
    Event(EventRef<'a>),
    /// See [`Dispatch::IdOnly`].
    IdOnly(&'a str),
}

impl DispatchRef<'_> {
    /// An owned copy, to keep after the callback returns.
    pub fn to_dispatch(&self) -> Dispatch {
        match *self {
            DispatchRef::Event(event) => Dispatch::Event(Event {
                id: event.id.to_owned(),
                id_in_block: event.id_in_block,
                event_type: event.event_type.to_owned(),
                data: event.data.to_owned(),
            }),
            DispatchRef::IdOnly(id) => Dispatch::IdOnly(id.to_owned()),
        }
    }
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

/// Where the current block's data buffer is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Data {
    /// No `data` field yet: the data buffer is empty.
    Empty,
    /// One `data` field, whose line lies wholly in the current push: the data buffer is
    /// `bytes[start..end]` of that push followed by '\n'. Copied into [`Parser::data`] before the
    /// push returns.
    InPush { start: usize, end: usize, ascii: bool },
    /// In [`Parser::data`].
    Buffered,
}

/// A streaming `text/event-stream` parser. Feed it with [`Parser::push`] or [`Parser::push_with`].
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
    /// Where the data buffer is.
    data_at: Data,
    /// Spec: the data buffer, when [`Data::Buffered`]: each `data` value, as raw bytes, followed by '\n'.
    data: Vec<u8>,
    /// Every byte in `data` is ASCII (so it needs no UTF-8 check).
    data_ascii: bool,
    /// Spec: the event type buffer, as raw bytes (decoded at dispatch).
    event_type: Vec<u8>,
    /// Every byte in `event_type` is ASCII.
    event_type_ascii: bool,
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
            data_at: Data::Empty,
            data: Vec::new(),
            data_ascii: true,
            event_type: Vec::new(),
            event_type_ascii: true,
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
        self.push_with(bytes, |item| out.push(item.to_dispatch()))
    }

    /// Parse the next bytes of the stream; call `on_dispatch` with each dispatched item, in order,
    /// lent rather than copied. Errors as [`Parser::push`].
    pub fn push_with(&mut self, bytes: &[u8], mut on_dispatch: impl FnMut(DispatchRef<'_>)) -> Result<(), ParseError> {
        if let Some(err) = &self.failed {
            return Err(err.clone());
        }
        let result = self.push_inner(bytes, &mut on_dispatch);
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

    fn push_inner<F: FnMut(DispatchRef<'_>)>(&mut self, bytes: &[u8], sink: &mut F) -> Result<(), ParseError> {
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
        for (end, ascii) in LineEnds::new(bytes) {
            let is_cr = bytes.get(end) == Some(&b'\r');
            if !is_cr && lf_ends_nothing_at == Some(end) {
                start = end + 1;
                continue;
            }
            if self.line.is_empty() {
                if end - start > self.max_bytes {
                    return Err(ParseError::LineTooLong { limit: self.max_bytes });
                }
                self.process_line(bytes, Line::InPush { start, end, ascii }, sink)?;
            } else {
                self.end_carried_line(bytes, bytes.get(start..end).unwrap_or_default(), sink)?;
            }
            start = end + 1;
            if is_cr {
                lf_ends_nothing_at = Some(start);
            }
        }
        // A CR as the very last byte: the LF that may follow arrives with the next push. An empty
        // push keeps a pending CR pending.
        self.last_was_cr = lf_ends_nothing_at == Some(bytes.len());

        // The pushed bytes are the caller's: keep a data value that is still needed.
        if let Data::InPush { start, end, ascii } = self.data_at {
            self.data_ascii = ascii;
            self.data.clear();
            self.data.extend_from_slice(bytes.get(start..end).unwrap_or_default());
            self.data.push(b'\n');
            self.data_at = Data::Buffered;
        }

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

    /// A line ending arrived for a line that began in an earlier push: `rest` is the part of the
    /// line in this push, after what the line buffer holds.
    fn end_carried_line<F: FnMut(DispatchRef<'_>)>(
        &mut self,
        bytes: &[u8],
        rest: &[u8],
        sink: &mut F,
    ) -> Result<(), ParseError> {
        if self.line.len() + rest.len() > self.max_bytes {
            return Err(ParseError::LineTooLong { limit: self.max_bytes });
        }
        // Borrow the buffer out of `self` (no allocation) so it can be read while `self` changes.
        let mut line = std::mem::take(&mut self.line);
        line.extend_from_slice(rest);
        let result = self.process_line(bytes, Line::Carried(&line), sink);
        line.clear();
        self.line = line;
        result
    }

    /// Spec: "Interpreting an event stream", for one complete line without its line ending.
    ///
    /// The line is split on bytes: ':' and ' ' are ASCII, so they are never part of a multibyte
    /// sequence nor produced by replacing invalid bytes, and a field name with invalid UTF-8 in it
    /// matches no known name either way.
    #[inline]
    fn process_line<F: FnMut(DispatchRef<'_>)>(
        &mut self,
        bytes: &[u8],
        line: Line<'_>,
        sink: &mut F,
    ) -> Result<(), ParseError> {
        let (text, ascii) = match line {
            Line::InPush { start, end, ascii } => (bytes.get(start..end).unwrap_or_default(), ascii),
            Line::Carried(text) => (text, false),
        };
        if text.is_empty() {
            self.dispatch(bytes, sink);
            return Ok(());
        }
        let Some((name, value_at)) = split_field(text) else {
            return Ok(()); // a comment
        };
        let value = text.get(value_at..).unwrap_or_default();
        match name {
            b"data" => match (self.data_at, line) {
                (Data::Empty, Line::InPush { start, end, ascii }) => {
                    self.data_at = Data::InPush {
                        start: start + value_at,
                        end,
                        ascii,
                    };
                }
                (held, _) => {
                    if let Data::InPush { start, end, ascii } = held {
                        self.data_ascii = ascii;
                        self.data.clear();
                        self.data.extend_from_slice(bytes.get(start..end).unwrap_or_default());
                        self.data.push(b'\n');
                    } else if held == Data::Empty {
                        self.data_ascii = true;
                        self.data.clear();
                    }
                    self.data_ascii &= ascii;
                    // The data buffer may hold at most `max_bytes`, counting the '\n' after each value.
                    if self.data.len() + value.len() + 1 > self.max_bytes {
                        return Err(ParseError::EventTooLarge { limit: self.max_bytes });
                    }
                    self.data.extend_from_slice(value);
                    self.data.push(b'\n');
                    self.data_at = Data::Buffered;
                }
            },
            b"event" => {
                self.event_type.clear();
                self.event_type.extend_from_slice(value);
                self.event_type_ascii = ascii;
            }
            // An id containing U+0000 is ignored.
            b"id" if !value.contains(&0) => {
                self.id_buffer.clear();
                self.id_buffer.push_str(&text_of(value, ascii));
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
    #[inline]
    fn dispatch<F: FnMut(DispatchRef<'_>)>(&mut self, bytes: &[u8], sink: &mut F) {
        // Without a valid `id` in this block the buffer still holds the committed ID.
        if self.id_in_block && self.last_event_id != self.id_buffer {
            self.last_event_id.clone_from(&self.id_buffer);
            if self.data_at == Data::Empty {
                sink(DispatchRef::IdOnly(&self.last_event_id));
            }
        }
        let id_in_block = std::mem::replace(&mut self.id_in_block, false);
        let (raw, ascii) = match self.data_at {
            Data::Empty => {
                self.event_type.clear();
                return;
            }
            Data::InPush { start, end, ascii } => (bytes.get(start..end).unwrap_or_default(), ascii),
            // The final '\n' is removed.
            Data::Buffered => (
                self.data.split_last().map(|(_, data)| data).unwrap_or_default(),
                self.data_ascii,
            ),
        };
        let data = text_of(raw, ascii);
        let event_type = text_of(&self.event_type, self.event_type_ascii);
        sink(DispatchRef::Event(EventRef {
            id: &self.last_event_id,
            id_in_block,
            event_type: if event_type.is_empty() { "message" } else { &event_type },
            data: &data,
        }));
        self.data_at = Data::Empty;
        self.event_type.clear();
    }
}

/// A complete line: where it is.
#[derive(Debug, Clone, Copy)]
enum Line<'a> {
    /// `bytes[start..end]` of the current push.
    InPush { start: usize, end: usize, ascii: bool },
    /// Begun in an earlier push: the line buffer with this push's part appended.
    Carried(&'a [u8]),
}

/// The text of a field value: `ascii` when the line scan saw only ASCII bytes in it, which are
/// UTF-8 as they are; otherwise decoded with [`decode`].
#[inline]
fn text_of(bytes: &[u8], ascii: bool) -> Cow<'_, str> {
    if ascii {
        debug_assert!(bytes.is_ascii(), "the line scan called non-ASCII bytes ASCII");
        // SAFETY: `ascii` comes from `LineEnds`, which sets it only when no byte of the line has its
        // top bit set (tested against a byte-by-byte check in `line_ends`); ASCII bytes are valid UTF-8.
        Cow::Borrowed(unsafe { std::str::from_utf8_unchecked(bytes) })
    } else {
        decode(bytes)
    }
}

/// Split a non-empty line into its field name and the index where its value starts (after the
/// first ':' and one space after it, if any; the line's end when it has no ':'). `None` for a
/// comment (a line starting with ':'). The usual field names are recognised without a search.
#[inline]
fn split_field(line: &[u8]) -> Option<(&[u8], usize)> {
    let colon = if line.starts_with(b"data:") {
        4
    } else if line.starts_with(b"id:") {
        2
    } else if line.starts_with(b"event:") {
        5
    } else {
        match memchr(b':', line) {
            Some(0) => return None,
            Some(colon) => colon,
            None => return Some((line, line.len())),
        }
    };
    let value_at = if line.get(colon + 1) == Some(&b' ') {
        colon + 2
    } else {
        colon + 1
    };
    Some((line.get(..colon).unwrap_or_default(), value_at))
}

/// UTF-8 decode one field value, replacing invalid sequences with U+FFFD. Borrows (no copy)
/// unless the bytes are invalid.
fn decode(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    }
}
