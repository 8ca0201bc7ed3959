//! `sse::parser` against the WHATWG "Parsing an event stream" rules and the web-platform-tests
//! `eventsource/format-*` cases.
//!
//! Every case is fed whole, split in two at every byte position, and one byte per push (with an
//! empty push between bytes), and all of these must give the same dispatches, `last_event_id()`
//! and `retry()`.

use tidings::sse::parser::{DEFAULT_MAX_BYTES, Dispatch, Event, ParseError, Parser};

/// Everything observable after feeding a stream.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Outcome {
    dispatches: Vec<Dispatch>,
    result: Result<(), ParseError>,
    last_event_id: String,
    retry: Option<u64>,
}

/// Feed `chunks` to a fresh parser from `make`, stopping at the first error.
fn feed<'a>(make: &dyn Fn() -> Parser, chunks: impl IntoIterator<Item = &'a [u8]>) -> Outcome {
    let mut parser = make();
    let mut dispatches = Vec::new();
    let mut result = Ok(());
    for chunk in chunks {
        result = parser.push(chunk, &mut dispatches);
        if result.is_err() {
            break;
        }
    }
    Outcome {
        dispatches,
        result,
        last_event_id: parser.last_event_id().to_owned(),
        retry: parser.retry(),
    }
}

/// Feed `input` whole, then split in two at every byte position, then one byte per push with an
/// empty push after each byte; panic (naming `name`) unless all agree. Returns the outcome.
fn feed_every_way(name: &str, make: &dyn Fn() -> Parser, input: &[u8]) -> Outcome {
    let whole = feed(make, [input]);
    for at in 0..=input.len() {
        let (head, tail) = input.split_at(at);
        let split = feed(make, [head, tail]);
        assert_eq!(split, whole, "case {name:?}: split into two pushes at byte {at}");
    }
    let bytewise = feed(make, input.chunks(1).flat_map(|byte| [byte, &[][..]]));
    assert_eq!(bytewise, whole, "case {name:?}: one byte per push");
    whole
}

/// One row of the table.
struct Case {
    name: &'static str,
    input: Vec<u8>,
    expected: Vec<Dispatch>,
    last_event_id: &'static str,
    retry: Option<u64>,
}

fn case(
    name: &'static str,
    input: impl AsRef<[u8]>,
    expected: Vec<Dispatch>,
    last_event_id: &'static str,
    retry: Option<u64>,
) -> Case {
    Case {
        name,
        input: input.as_ref().to_vec(),
        expected,
        last_event_id,
        retry,
    }
}

/// An event: its id, whether its own block set the id, its type, its data.
fn ev(id: &str, id_in_block: bool, event_type: &str, data: &str) -> Dispatch {
    Dispatch::Event(Event {
        id: id.to_owned(),
        id_in_block,
        event_type: event_type.to_owned(),
        data: data.to_owned(),
    })
}

/// A "message" event with no id.
fn msg(data: &str) -> Dispatch {
    ev("", false, "message", data)
}

fn id_only(id: &str) -> Dispatch {
    Dispatch::IdOnly(id.to_owned())
}

fn cases() -> Vec<Case> {
    let long_comment = "x".repeat(2048);
    vec![
        // --- byte order mark ---
        // wpt eventsource/format-bom: only the BOM at the very start is stripped; a later one
        // makes "\u{FEFF}data" an unknown field.
        case(
            "bom: one leading BOM stripped, later BOM kept",
            b"\xEF\xBB\xBFdata:1\n\n\xEF\xBB\xBFdata:2\n\ndata:3\n\n",
            vec![msg("1"), msg("3")],
            "",
            None,
        ),
        // wpt eventsource/format-bom-2
        case(
            "bom: two leading BOMs, second kept",
            b"\xEF\xBB\xBF\xEF\xBB\xBFdata:1\n\ndata:2\n\ndata:3\n\n",
            vec![msg("2"), msg("3")],
            "",
            None,
        ),
        case(
            "bom: BOM inside a value is data",
            b"data:\xEF\xBB\xBFx\n\n",
            vec![msg("\u{FEFF}x")],
            "",
            None,
        ),
        case(
            "bom: BOM alone then a stream",
            b"\xEF\xBB\xBF\ndata:x\n\n",
            vec![msg("x")],
            "",
            None,
        ),
        case(
            "bom: first two bytes of a BOM are not a BOM",
            b"\xEF\xBBdata:1\n\ndata:2\n\n",
            vec![msg("2")],
            "",
            None,
        ),
        case(
            "bom: first byte of a BOM then a line end",
            b"\xEF\ndata:1\n\n",
            vec![msg("1")],
            "",
            None,
        ),
        case("bom: stream that is only a BOM", b"\xEF\xBB\xBF", vec![], "", None),
        // --- line endings ---
        case(
            "line ends: LF",
            "data:a\ndata:b\n\ndata:c\n\n",
            vec![msg("a\nb"), msg("c")],
            "",
            None,
        ),
        case(
            "line ends: CR",
            "data:a\rdata:b\r\rdata:c\r\r",
            vec![msg("a\nb"), msg("c")],
            "",
            None,
        ),
        case(
            "line ends: CRLF",
            "data:a\r\ndata:b\r\n\r\ndata:c\r\n\r\n",
            vec![msg("a\nb"), msg("c")],
            "",
            None,
        ),
        case(
            "line ends: mixed",
            "data:a\rdata:b\ndata:c\r\n\ndata:d\n\r\n",
            vec![msg("a\nb\nc"), msg("d")],
            "",
            None,
        ),
        case(
            "line ends: LF CR is two line ends",
            "data:a\n\rdata:b\n\n",
            vec![msg("a"), msg("b")],
            "",
            None,
        ),
        case(
            "line ends: CR CR LF is two line ends",
            "data:a\r\r\ndata:b\n\n",
            vec![msg("a"), msg("b")],
            "",
            None,
        ),
        case(
            "line ends: CR LF LF is two line ends",
            "data:a\r\n\ndata:b\n\n",
            vec![msg("a"), msg("b")],
            "",
            None,
        ),
        case(
            "line ends: a final CR dispatches without waiting for LF",
            "data:x\n\r",
            vec![msg("x")],
            "",
            None,
        ),
        case("line ends: only line ends", "\n\n\r\n\r\r\n", vec![], "", None),
        case("empty stream", "", vec![], "", None),
        // --- comments ---
        // wpt eventsource/format-comments (message.php appends a final "\n")
        case(
            "comments: wpt comment fest",
            format!("data:1\r:\0\n:\r\ndata:2\n:{long_comment}\rdata:3\n:data:fail\r:{long_comment}\ndata:4\n\n"),
            vec![msg("1\n2\n3\n4")],
            "",
            None,
        ),
        case(
            "comments: a block of only comments dispatches nothing",
            ": hello\n:\n\n",
            vec![],
            "",
            None,
        ),
        case(
            "comments: colon first even with field syntax",
            ":data: x\n\ndata: y\n\n",
            vec![msg("y")],
            "",
            None,
        ),
        // --- data field ---
        // wpt eventsource/format-field-data
        case(
            "data: wpt empty values and data without colon",
            "data:\n\ndata\ndata\n\ndata:test\n\n",
            vec![msg(""), msg("\n"), msg("test")],
            "",
            None,
        ),
        case(
            "data: lines joined with LF",
            "data: first\ndata: second\ndata: third\n\n",
            vec![msg("first\nsecond\nthird")],
            "",
            None,
        ),
        case(
            "data: empty lines in between kept",
            "data\ndata:\ndata: \ndata:x\ndata\n\n",
            vec![msg("\n\n\nx\n")],
            "",
            None,
        ),
        case(
            "data: exactly one leading space removed",
            "data:x\n\ndata: x\n\ndata:  x\n\ndata:\tx\n\ndata:x \n\n",
            vec![msg("x"), msg("x"), msg(" x"), msg("\tx"), msg("x ")],
            "",
            None,
        ),
        case(
            "data: value keeps later colons",
            "data: a:b: c\n\n",
            vec![msg("a:b: c")],
            "",
            None,
        ),
        // wpt eventsource/format-null-character
        case("data: NULL is data", "data:\0\n\n", vec![msg("\0")], "", None),
        // --- field names ---
        case(
            "fields: names are case-sensitive",
            "Data: x\nDATA: y\n\nEvent: e\nID: 1\nRetry: 5\ndata: z\n\n",
            vec![msg("z")],
            "",
            None,
        ),
        case(
            "fields: unknown fields ignored",
            "foo: bar\ndata: x\nbaz\nfield-with-no-value:\n\n",
            vec![msg("x")],
            "",
            None,
        ),
        case(
            "fields: spaces around the name make it unknown",
            " data: x\n\ndata : y\n\ndata: z\n\n",
            vec![msg("z")],
            "",
            None,
        ),
        // --- event field ---
        // wpt eventsource/format-field-event
        case(
            "event: custom type, then default again",
            "event:test\ndata:x\n\ndata:x\n\n",
            vec![ev("", false, "test", "x"), msg("x")],
            "",
            None,
        ),
        // wpt eventsource/format-field-event-empty
        case(
            "event: empty type is message",
            "event: \ndata:data\n\n",
            vec![msg("data")],
            "",
            None,
        ),
        case(
            "event: without colon is message",
            "event\ndata:x\n\n",
            vec![msg("x")],
            "",
            None,
        ),
        case(
            "event: last one in the block wins",
            "event: a\nevent: b\ndata: x\n\n",
            vec![ev("", false, "b", "x")],
            "",
            None,
        ),
        case(
            "event: reset by a block without data",
            "event: lost\n\ndata: x\n\n",
            vec![msg("x")],
            "",
            None,
        ),
        // --- id field ---
        // wpt eventsource/format-field-id-3, "persists"
        case(
            "id: persists to later events",
            "id: 1\ndata: 1\n\ndata:2\n\n",
            vec![ev("1", true, "message", "1"), ev("1", false, "message", "2")],
            "1",
            None,
        ),
        // wpt eventsource/format-field-id-3, "changes and persists"
        case(
            "id: changes and persists",
            "id: 1\ndata: 1\n\nid: 2\ndata:2\n\ndata:3\n\n",
            vec![
                ev("1", true, "message", "1"),
                ev("2", true, "message", "2"),
                ev("2", false, "message", "3"),
            ],
            "2",
            None,
        ),
        // wpt eventsource/format-field-id-3, "resets"
        case(
            "id: empty value resets",
            "id: 1\ndata: 1\n\nid:\ndata:2\n\ndata:3\n\n",
            vec![
                ev("1", true, "message", "1"),
                ev("", true, "message", "2"),
                ev("", false, "message", "3"),
            ],
            "",
            None,
        ),
        case(
            "id: without colon resets",
            "id: 1\ndata: 1\n\nid\ndata:2\n\n",
            vec![ev("1", true, "message", "1"), ev("", true, "message", "2")],
            "",
            None,
        ),
        // wpt eventsource/format-field-id-null (current spec: an id with U+0000 is ignored)
        case(
            "id: with NULL ignored",
            "id: \0\0\ndata: hello\n\n",
            vec![msg("hello")],
            "",
            None,
        ),
        case(
            "id: with NULL keeps the earlier id",
            "id: 1\n\nid: a\0b\ndata: x\n\n",
            vec![id_only("1"), ev("1", false, "message", "x")],
            "1",
            None,
        ),
        case(
            "id: after data in the same block",
            "data: x\nid: 5\n\n",
            vec![ev("5", true, "message", "x")],
            "5",
            None,
        ),
        case(
            "id: last one in the block wins",
            "id: 1\nid: 2\ndata: x\n\n",
            vec![ev("2", true, "message", "x")],
            "2",
            None,
        ),
        // wpt eventsource/format-field-id-2 uses a non-ASCII id
        case(
            "id: non-ASCII",
            "id: \u{2026}\ndata: x\n\n",
            vec![ev("\u{2026}", true, "message", "x")],
            "\u{2026}",
            None,
        ),
        case(
            "id: value keeps spaces after the first",
            "id:  7 \ndata: x\n\n",
            vec![ev(" 7 ", true, "message", "x")],
            " 7 ",
            None,
        ),
        // --- IdOnly ---
        case(
            "id only: emitted when the id changes",
            "id: 7\n\nid: 7\n\nid: 8\n: comment\n\n",
            vec![id_only("7"), id_only("8")],
            "8",
            None,
        ),
        case(
            "id only: reset to empty",
            "id: 7\n\nid\n\n",
            vec![id_only("7"), id_only("")],
            "",
            None,
        ),
        case(
            "id only: then an event inherits it",
            "id: 3\nevent: lost\n\ndata: d\n\n",
            vec![id_only("3"), ev("3", false, "message", "d")],
            "3",
            None,
        ),
        case(
            "id only: not emitted when the block also dispatches an event",
            "id: 4\ndata: x\n\n\n",
            vec![ev("4", true, "message", "x")],
            "4",
            None,
        ),
        // --- retry field ---
        case(
            "retry: digits",
            "retry: 1000\ndata: x\n\n",
            vec![msg("x")],
            "",
            Some(1000),
        ),
        // wpt eventsource/format-field-retry: leading zero is still base ten
        case(
            "retry: leading zeros are decimal",
            "retry:02000\ndata:x\n\n",
            vec![msg("x")],
            "",
            Some(2000),
        ),
        // wpt eventsource/format-field-retry-bogus
        case(
            "retry: bogus value ignored, earlier one kept",
            "retry:2000\nretry:1000x\ndata:x\n\n",
            vec![msg("x")],
            "",
            Some(2000),
        ),
        case("retry: in a block without data", "retry: 5\n\n", vec![], "", Some(5)),
        case(
            "retry: takes effect before the block ends",
            "retry: 5\ndata: never dispatched",
            vec![],
            "",
            Some(5),
        ),
        case("retry: empty ignored", "retry:\nretry\nretry: \n\n", vec![], "", None),
        case(
            "retry: non-digits ignored",
            "retry: -1\nretry: 1 2\nretry:  5\nretry: 5 \nretry: +5\nretry: 1e3\nretry: 0x10\n\n",
            vec![],
            "",
            None,
        ),
        case(
            "retry: non-ASCII digits ignored",
            "retry: \u{0661}\u{0662}\nretry: \u{FF11}\n\n",
            vec![],
            "",
            None,
        ),
        case(
            "retry: latest valid wins",
            "retry: 10\n\nretry: 20\nretry: x\n\n",
            vec![],
            "",
            Some(20),
        ),
        case("retry: zero", "retry: 0\n\n", vec![], "", Some(0)),
        case(
            "retry: huge value saturates",
            "retry: 99999999999999999999999999999\n\n",
            vec![],
            "",
            Some(u64::MAX),
        ),
        case(
            "retry: u64::MAX exactly",
            "retry: 18446744073709551615\n\n",
            vec![],
            "",
            Some(u64::MAX),
        ),
        // --- incomplete last block ---
        // wpt eventsource/format-data-before-final-empty-line
        case(
            "incomplete: wpt data before final empty line",
            "retry:1000\ndata:test1\n\nid:test\ndata:test2",
            vec![msg("test1")],
            "",
            Some(1000),
        ),
        case(
            "incomplete: last block without blank line discarded",
            "data: a\n\ndata: b\n",
            vec![msg("a")],
            "",
            None,
        ),
        case(
            "incomplete: its id never becomes the last event id",
            "id: 1\ndata: a\n\nid: 2\ndata: b\n",
            vec![ev("1", true, "message", "a")],
            "1",
            None,
        ),
        case(
            "incomplete: id-only block without blank line",
            "id: 1\n\nid: 2\n",
            vec![id_only("1")],
            "1",
            None,
        ),
        // --- UTF-8 ---
        // wpt eventsource/format-utf-8 (always UTF-8, whatever the charset)
        case(
            "utf-8: multibyte decoded",
            b"data:ok\xE2\x80\xA6\n\n",
            vec![msg("ok\u{2026}")],
            "",
            None,
        ),
        case(
            "utf-8: multibyte characters of every width",
            "event: \u{e9}t\u{e9}\ndata: \u{e9}\u{2026}\u{1F600}\n\n",
            vec![ev("", false, "\u{e9}t\u{e9}", "\u{e9}\u{2026}\u{1F600}")],
            "",
            None,
        ),
        case(
            "utf-8: invalid byte replaced",
            b"data: a\xFFb\n\n",
            vec![msg("a\u{FFFD}b")],
            "",
            None,
        ),
        case(
            "utf-8: truncated sequence at line end is one replacement",
            b"data: \xE2\x80\ndata: \xF0\x9F\x98\rdata: x\n\n",
            vec![msg("\u{FFFD}\n\u{FFFD}\nx")],
            "",
            None,
        ),
        case(
            "utf-8: surrogate and overlong encodings replaced",
            b"data: \xED\xA0\x80|\xC0\xAF\n\n",
            vec![msg("\u{FFFD}\u{FFFD}\u{FFFD}|\u{FFFD}\u{FFFD}")],
            "",
            None,
        ),
        case(
            "utf-8: invalid id and event type replaced",
            b"id: \xFF\nevent: \xFE\ndata: x\n\n",
            vec![ev("\u{FFFD}", true, "\u{FFFD}", "x")],
            "\u{FFFD}",
            None,
        ),
        case(
            "utf-8: invalid byte in a field name makes it unknown",
            b"data\xFF: x\n\ndata: y\n\n",
            vec![msg("y")],
            "",
            None,
        ),
    ]
}

#[test]
fn table() {
    let cases = cases();
    for (i, case) in cases.iter().enumerate() {
        assert!(
            cases[..i].iter().all(|earlier| earlier.name != case.name),
            "duplicate case name {:?}",
            case.name
        );
        let outcome = feed_every_way(case.name, &Parser::new, &case.input);
        let expected = Outcome {
            dispatches: case.expected.clone(),
            result: Ok(()),
            last_event_id: case.last_event_id.to_owned(),
            retry: case.retry,
        };
        assert_eq!(outcome, expected, "case {:?}", case.name);
    }
}

#[test]
fn resume_seeds_the_last_event_id() {
    let make = || Parser::new().with_last_event_id("41");
    assert_eq!(make().last_event_id(), "41");
    let outcome = feed_every_way("resume", &make, b"data: x\n\nid: 41\n\nid: 42\n\ndata: y\n\n");
    assert_eq!(
        outcome,
        Outcome {
            dispatches: vec![
                ev("41", false, "message", "x"),
                // "id: 41" is no change from the seed, so no IdOnly for it.
                id_only("42"),
                ev("42", false, "message", "y"),
            ],
            result: Ok(()),
            last_event_id: "42".to_owned(),
            retry: None,
        }
    );
}

#[test]
fn last_event_id_changes_only_at_a_blank_line() {
    let mut parser = Parser::new();
    let mut out = Vec::new();
    parser.push(b"id: 9\ndata: x\n", &mut out).unwrap();
    assert_eq!(parser.last_event_id(), "");
    assert!(out.is_empty());
    parser.push(b"\r", &mut out).unwrap();
    assert_eq!(parser.last_event_id(), "9");
    assert_eq!(out, vec![ev("9", true, "message", "x")]);
    // The LF of that CRLF ends no further line.
    parser.push(b"\n", &mut out).unwrap();
    assert_eq!(out.len(), 1);
}

#[test]
fn default_parser_is_new() {
    let mut out = Vec::new();
    let mut parser = Parser::default();
    parser.push(b"data: x\n\n", &mut out).unwrap();
    assert_eq!(out, vec![msg("x")]);
    assert_eq!(parser.last_event_id(), "");
    assert_eq!(parser.retry(), None);
}

// --- limits ---

fn limited(max: usize) -> impl Fn() -> Parser {
    move || Parser::new().with_max_bytes(max)
}

#[test]
fn line_too_long_errors() {
    // "data: 0123456789ab" is 18 bytes; the limit is 16.
    let outcome = feed_every_way(
        "line too long",
        &limited(16),
        b"data: a\n\ndata: 0123456789ab\n\ndata: never\n\n",
    );
    assert_eq!(
        outcome,
        Outcome {
            dispatches: vec![msg("a")],
            result: Err(ParseError::LineTooLong { limit: 16 }),
            last_event_id: String::new(),
            retry: None,
        }
    );
}

#[test]
fn line_of_exactly_the_limit_is_fine() {
    // "data: 0123456789" is 16 bytes, CRLF not counted.
    let outcome = feed_every_way("line at limit", &limited(16), b"data: 0123456789\r\n\r\n");
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.dispatches, vec![msg("0123456789")]);
}

#[test]
fn line_too_long_errors_as_soon_as_the_buffer_exceeds_the_limit() {
    // One byte per push, a line with no end: the 17th byte must fail, not just the line end.
    let mut parser = Parser::new().with_max_bytes(16);
    let mut out = Vec::new();
    for i in 0..16 {
        assert_eq!(parser.push(b"x", &mut out), Ok(()), "byte {i}");
    }
    assert_eq!(parser.push(b"x", &mut out), Err(ParseError::LineTooLong { limit: 16 }));
    // A chunk that would take the buffer past the limit fails before it is copied.
    let mut parser = Parser::new().with_max_bytes(16);
    assert_eq!(parser.push(b"0123456789", &mut out), Ok(()));
    assert_eq!(
        parser.push(b"0123456", &mut out),
        Err(ParseError::LineTooLong { limit: 16 })
    );
    assert!(out.is_empty());
}

#[test]
fn comment_lines_count_against_the_line_limit() {
    let outcome = feed_every_way("long comment", &limited(8), b":123456789\n\n");
    assert_eq!(outcome.result, Err(ParseError::LineTooLong { limit: 8 }));
}

#[test]
fn a_failed_parser_keeps_failing() {
    let mut parser = Parser::new().with_max_bytes(4);
    let mut out = Vec::new();
    assert_eq!(
        parser.push(b"data: x\n\n", &mut out),
        Err(ParseError::LineTooLong { limit: 4 })
    );
    assert_eq!(
        parser.push(b"\n\n", &mut out),
        Err(ParseError::LineTooLong { limit: 4 })
    );
    assert!(out.is_empty());
}

#[test]
fn event_too_large_errors() {
    // Each line is within 16 bytes, but the data buffer is not: "0123456\n012345\n" is 15 bytes,
    // and "x\n" would make it 17.
    let outcome = feed_every_way(
        "event too large",
        &limited(16),
        b"data: a\n\ndata: 0123456\ndata: 012345\ndata: x\n\ndata: never\n\n",
    );
    assert_eq!(
        outcome,
        Outcome {
            dispatches: vec![msg("a")],
            result: Err(ParseError::EventTooLarge { limit: 16 }),
            last_event_id: String::new(),
            retry: None,
        }
    );
}

#[test]
fn event_data_of_exactly_the_limit_is_fine() {
    // Data buffer "0123456\n0123456\n" is exactly 16 bytes.
    let outcome = feed_every_way(
        "event at limit",
        &limited(16),
        b"data: 0123456\ndata: 0123456\n\ndata: again\n\n",
    );
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.dispatches, vec![msg("0123456\n0123456"), msg("again")]);
}

#[test]
fn error_messages_name_the_limit() {
    assert_eq!(
        ParseError::LineTooLong { limit: 16 }.to_string(),
        "a line longer than 16 bytes arrived; the feed sends more than Tidings keeps in memory"
    );
    assert_eq!(
        ParseError::EventTooLarge { limit: 16 }.to_string(),
        "an event larger than 16 bytes arrived; the feed sends more than Tidings keeps in memory"
    );
}

/// Feed `input` in a few ways that stay linear in its size (for inputs too big for every split).
fn feed_some_ways(make: &dyn Fn() -> Parser, input: &[u8]) -> Outcome {
    let whole = feed(make, [input]);
    for chunk in [1 << 16, 4093, 1 << 20] {
        assert_eq!(feed(make, input.chunks(chunk)), whole, "chunks of {chunk}");
    }
    for at in [1, input.len() / 2, input.len() - 1] {
        let (head, tail) = input.split_at(at);
        assert_eq!(feed(make, [head, tail]), whole, "split at {at}");
    }
    whole
}

#[test]
fn big_input_under_the_default_limit_works() {
    assert_eq!(DEFAULT_MAX_BYTES, 4 * 1024 * 1024);
    // One line just under the limit: "data:" + value = DEFAULT_MAX_BYTES - 1 bytes.
    let value = "v".repeat(DEFAULT_MAX_BYTES - 6);
    let mut input = format!("id: big\ndata:{value}\r\n\r\n").into_bytes();
    // Then many small events.
    for i in 0..20_000 {
        input.extend_from_slice(format!("id: {i}\nevent: tick\ndata: {{\"n\":{i}}}\n\n").as_bytes());
    }
    let outcome = feed_some_ways(&Parser::new, &input);
    assert_eq!(outcome.result, Ok(()));
    assert_eq!(outcome.dispatches.len(), 20_001);
    assert_eq!(outcome.dispatches[0], ev("big", true, "message", &value));
    assert_eq!(outcome.dispatches[20_000], ev("19999", true, "tick", "{\"n\":19999}"));
    assert_eq!(outcome.last_event_id, "19999");
}

#[test]
fn big_input_over_the_default_limit_fails() {
    let value = "v".repeat(DEFAULT_MAX_BYTES);
    let input = format!("data: ok\n\ndata:{value}\n\n").into_bytes();
    let outcome = feed_some_ways(&Parser::new, &input);
    assert_eq!(outcome.dispatches, vec![msg("ok")]);
    assert_eq!(
        outcome.result,
        Err(ParseError::LineTooLong {
            limit: DEFAULT_MAX_BYTES
        })
    );
}

#[test]
fn many_lines_over_the_default_event_limit_fail() {
    // 64 lines of 64 KiB: each line is fine, their data buffer is over 4 MiB.
    let line = format!("data:{}\n", "d".repeat(64 * 1024));
    let input = line.repeat(64).into_bytes();
    let outcome = feed_some_ways(&Parser::new, &input);
    assert!(outcome.dispatches.is_empty());
    assert_eq!(
        outcome.result,
        Err(ParseError::EventTooLarge {
            limit: DEFAULT_MAX_BYTES
        })
    );
}
