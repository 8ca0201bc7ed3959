//! Issue 5, item 4: latency from the server's write to the `Notify` call arriving on a D-Bus notification
//! server, at 10 events/s for 60 s, through a real `tidings run`.
//!
//! The source stamps each event with the wall-clock time of its write (`t_us`); the feed's body template is
//! `{{/t_us}}`, so every notification carries its event's stamp, and the recording notification server
//! (tests/support/dbus.rs) notes when each call arrived. The feed's rate limit is set above the event rate
//! (a user who wants every event), so no event is folded. Beside it, in the same run: a bare TCP reader of the
//! same paced stream (the wire alone, no parsing, storing or D-Bus) — the floor.
//!
//! `TIDINGS_LATENCY_EVENTS` (default 600) and `TIDINGS_LATENCY_RATE` (default 10) change the run.

#[path = "../tests/support/dbus.rs"]
mod dbus;
#[path = "support/procs.rs"]
mod procs;

use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use procs::{Running, Source, quantile, row, tidings, tidings_ok};

/// The first events come this long after the connection opens, past the catch-up window (2 s) in which
/// events may be a backlog and are gathered for a summary instead of being raised at once.
const START_AFTER_MS: &str = "3000";

fn main() {
    if procs::not_benchmarking("latency") {
        return;
    }
    let events: usize = env_or("TIDINGS_LATENCY_EVENTS", 600);
    let rate: f64 = env_or("TIDINGS_LATENCY_RATE", 10.0);
    let bus = dbus::NotificationBus::start();
    let source = Source::start(&[
        "--events",
        &events.to_string(),
        "--rate",
        &rate.to_string(),
        "--start-after-ms",
        START_AFTER_MS,
    ]);
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let feed_url = format!("{}/sse", source.url);
    tidings_ok(
        dir.path(),
        &[
            "feed",
            "add",
            &feed_url,
            "--name",
            "latency",
            "--title",
            "Event {{/n}}",
            "--body",
            "{{/t_us}}",
            "--rate-limit",
            "1000000",
        ],
    );
    let wire = std::thread::spawn({
        let address = source.url.trim_start_matches("http://").to_string();
        move || wire_latencies(&address, events)
    });
    let mut run = Running(
        tidings(dir.path(), &["run"])
            .env("DBUS_SESSION_BUS_ADDRESS", bus.address())
            .spawn()
            .expect("start tidings run"),
    );
    let duration = Duration::from_secs_f64(events as f64 / rate) + Duration::from_secs(30);
    let calls = bus.wait_for(events, duration);
    run.stop();
    let mut ours: Vec<f64> = bus
        .recorded_with_times()
        .iter()
        .filter_map(|(arrived, call)| Some(ms_between(call.body.trim().parse().ok()?, *arrived)))
        .collect();
    ours.sort_by(f64::total_cmp);
    let mut floor = wire.join().expect("the wire reader");
    floor.sort_by(f64::total_cmp);

    println!("Latency: {events} events at {rate}/s, server write → Notify received (ms)\n");
    println!("| figure | ours | comparison | ratio | target | met? |");
    println!("|---|---|---|---|---|---|");
    let (p50, p99) = (quantile(&ours, 0.5), quantile(&ours, 0.99));
    let (w50, w99) = (quantile(&floor, 0.5), quantile(&floor, 0.99));
    row(
        "latency p50, write → Notify (bare TCP read)",
        &format!("{p50:.2} ms"),
        &format!("{w50:.2} ms"),
        &format!("{:.1}x", p50 / w50),
        "-",
        true,
    );
    row(
        "latency p99, write → Notify (bare TCP read)",
        &format!("{p99:.2} ms"),
        &format!("{w99:.2} ms"),
        &format!("{:.1}x", p99 / w99),
        "<= 20 ms",
        p99 <= 20.0,
    );
    println!(
        "\nnotifications: {} of {events} events (each raised, none folded); max {:.2} ms; {} calls recorded",
        ours.len(),
        ours.last().copied().unwrap_or(f64::NAN),
        calls.len()
    );
}

/// Read the same paced stream over a bare TCP socket and note each event's latency on arrival.
fn wire_latencies(address: &str, events: usize) -> Vec<f64> {
    let mut stream = TcpStream::connect(address).expect("connect to the source");
    std::io::Write::write_all(&mut stream, b"GET /sse HTTP/1.1\r\nhost: x\r\n\r\n").expect("request");
    let mut latencies = Vec::with_capacity(events);
    let mut buf = vec![0u8; 64 * 1024];
    let mut pending = String::new();
    while latencies.len() < events {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let arrived = SystemTime::now();
        pending.push_str(&String::from_utf8_lossy(&buf[..n]));
        while let Some(start) = pending.find("\"t_us\":") {
            let digits: String = pending[start + 7..].chars().take_while(char::is_ascii_digit).collect();
            if let Ok(stamp) = digits.parse() {
                latencies.push(ms_between(stamp, arrived));
            }
            pending.drain(..start + 7);
        }
    }
    latencies
}

fn ms_between(stamp_us: u64, arrived: SystemTime) -> f64 {
    let arrived_us = arrived.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_micros() as u64);
    arrived_us.saturating_sub(stamp_us) as f64 / 1000.0
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}
