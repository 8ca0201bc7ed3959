//! Issue 5, item 6: catching up after being offline — 100,000 events wait on the server, `tidings run`
//! starts and resumes from its cursor with `Last-Event-ID`.
//!
//! First a `tidings run` sees one event (id 0) and stops: the app was used, then closed. The source holds
//! events 1..=100,000 for anyone resuming after 0. The second `tidings run` is timed from its start until the
//! store holds every event and the cursor is at the last one (what the UI shows is then up to date), with a
//! recording D-Bus notification server counting the notifications it raises (target: one summary per feed).
//! Beside it, in the same run: a bare TCP reader fetching the same backlog (the wire alone).
//!
//! `TIDINGS_CATCHUP_EVENTS` (default 100000) changes the run.

#[path = "../tests/support/dbus.rs"]
mod dbus;
#[path = "support/procs.rs"]
mod procs;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

use procs::{Running, Source, peak_rss_kib, row, tidings, tidings_ok, wait_until};

fn main() {
    if procs::not_benchmarking("catchup") {
        return;
    }
    let events: u64 = std::env::var("TIDINGS_CATCHUP_EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let bus = dbus::NotificationBus::start();
    let source = Source::start(&["--events", &events.to_string(), "--fresh-id", "0"]);
    let dir = tempfile::tempdir().expect("a temporary data directory");
    tidings_ok(
        dir.path(),
        &["feed", "add", &format!("{}/sse", source.url), "--name", "catchup"],
    );

    // Before going offline: the app saw event 0.
    let mut first = start_run(dir.path(), &bus);
    let seen = wait_until(Duration::from_secs(30), || stored(dir.path()) == (1, "0".into()));
    assert!(seen, "the first run did not store event 0: {:?}", stored(dir.path()));
    bus.wait_for(1, Duration::from_secs(10));
    first.stop();
    let before = bus.settle(Duration::from_millis(500)).len();

    let wire_secs = wire_seconds(source.url.trim_start_matches("http://"), events);

    let started = Instant::now();
    let mut run = start_run(dir.path(), &bus);
    let last = events.to_string();
    let caught_up = wait_until(Duration::from_secs(600), || stored(dir.path()).1 == last);
    let secs = started.elapsed().as_secs_f64();
    let (count, cursor) = stored(dir.path());
    assert!(
        caught_up,
        "not caught up within 600 s: {count} events stored, cursor {cursor}"
    );
    // The catch-up summary comes once the backlog has stopped coming for a moment.
    bus.wait_for(before + 1, Duration::from_secs(60));
    let summary_secs = started.elapsed().as_secs_f64();
    let calls = bus.settle(Duration::from_secs(4));
    let peak = peak_rss_kib(run.pid());
    run.stop();
    let raised: Vec<_> = calls[before..]
        .iter()
        .map(|c| format!("{}: {}", c.summary, c.body))
        .collect();

    println!("Catch-up: {events} events waiting after the app was offline, resumed with Last-Event-ID\n");
    println!("| figure | ours | comparison | ratio | target | met? |");
    println!("|---|---|---|---|---|---|");
    row(
        &format!("catch-up: start → {events} events stored, cursor at the last (bare TCP read of the backlog)"),
        &format!("{secs:.2} s"),
        &format!("{wire_secs:.2} s"),
        &format!("{:.1}x", secs / wire_secs),
        "-",
        true,
    );
    row(
        "catch-up: notifications raised for 1 feed",
        &raised.len().to_string(),
        "-",
        "-",
        "1 summary",
        raised.len() == 1,
    );
    println!(
        "\nstored {} events (event 0 from before included) at {:.0} events/s; first notification {summary_secs:.2} s \
         after start; peak RSS {peak} KiB; raised: {raised:?}",
        count - 1,
        (count - 1) as f64 / secs
    );
}

fn start_run(dir: &Path, bus: &dbus::NotificationBus) -> Running {
    Running(
        tidings(dir, &["run"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .spawn()
            .expect("start tidings run"),
    )
}

/// (events stored, the feed's cursor), read from the database as another process would.
fn stored(dir: &Path) -> (u64, String) {
    let path = dir.join("tidings.db");
    let Ok(db) = rusqlite::Connection::open_with_flags(&path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY) else {
        return (0, String::new());
    };
    let _ = db.busy_timeout(Duration::from_secs(5));
    let count = db
        .query_row("SELECT count(*) FROM events", [], |row| row.get::<_, i64>(0))
        .unwrap_or(0);
    let cursor = db
        .query_row("SELECT last_event_id FROM cursors LIMIT 1", [], |row| row.get(0))
        .unwrap_or_default();
    (count as u64, cursor)
}

/// Seconds a bare TCP reader takes to receive the same backlog (resuming after event 0).
fn wire_seconds(address: &str, events: u64) -> f64 {
    let started = Instant::now();
    let mut stream = TcpStream::connect(address).expect("connect to the source");
    stream
        .write_all(b"GET /sse HTTP/1.1\r\nhost: x\r\nlast-event-id: 0\r\n\r\n")
        .expect("request");
    let needle = format!("id: {events}\n");
    let mut buf = vec![0u8; 1024 * 1024];
    let mut tail = Vec::new();
    loop {
        let n = stream.read(&mut buf).expect("read the backlog");
        assert!(n > 0, "the source closed before the last event");
        tail.extend_from_slice(&buf[..n]);
        if memchr::memmem::find(&tail, needle.as_bytes()).is_some() {
            return started.elapsed().as_secs_f64();
        }
        let keep = tail.len().saturating_sub(64);
        tail.drain(..keep);
    }
}
