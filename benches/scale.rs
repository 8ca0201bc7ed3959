//! Issue 5, item 5: thousands of idle feeds in one `tidings run` — memory per feed and CPU while idle.
//!
//! A local source holds every stream open and sends only heartbeats (an SSE comment or a WebSocket ping every
//! 15 s). Half the feeds are SSE, half WebSocket; they are created with `tidings feed import` of a generated
//! file. Once every feed is connected (the source counts its open connections) and a few seconds have
//! passed, RSS is read from /proc and CPU time is measured over an idle span. RSS per feed is
//! (RSS with N feeds − RSS with 0 feeds) / N. Beside it, in the same run: the source itself, a minimal tokio
//! program holding the other end of the same connections (per-connection RSS and CPU).
//!
//! `TIDINGS_SCALE_FEEDS` (default `1000,10000`), `TIDINGS_SCALE_IDLE_SECS` (default 30) and
//! `TIDINGS_SCALE_KIND` (`mixed`, `sse` or `ws`: to see what each kind costs) change the run.

#[path = "support/procs.rs"]
mod procs;

use std::time::{Duration, Instant};

use procs::{Running, Source, cpu_seconds, row, rss_kib, tidings, tidings_ok, wait_until};
use tidings::FeedSpec;

/// Heartbeat period of the source, seconds.
const HEARTBEAT: &str = "15";
/// CPU is also reported per slice of this length, to show it is flat (no start-up work left).
const SLICE: Duration = Duration::from_secs(10);
/// Time given to a process to settle before it is measured.
const SETTLE: Duration = Duration::from_secs(5);

fn main() {
    if procs::not_benchmarking("scale") {
        return;
    }
    let counts: Vec<usize> = std::env::var("TIDINGS_SCALE_FEEDS")
        .unwrap_or_else(|_| "1000,10000".into())
        .split(',')
        .filter_map(|n| n.trim().parse().ok())
        .collect();
    let idle = Duration::from_secs(
        std::env::var("TIDINGS_SCALE_IDLE_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(30),
    );
    let empty = measure(0, idle, None);
    println!("Scale: idle feeds (half SSE, half WebSocket), heartbeats every {HEARTBEAT} s\n");
    println!("| figure | ours | comparison | ratio | target | met? |");
    println!("|---|---|---|---|---|---|");
    let mut notes = vec![format!(
        "0 feeds: `tidings run` RSS {} KiB, CPU {:.2}% over {} s",
        empty.rss_kib,
        empty.cpu_percent,
        idle.as_secs()
    )];
    for n in counts {
        let m = measure(n, idle, Some(&empty));
        let per_feed = (m.rss_kib.saturating_sub(empty.rss_kib)) as f64 / n as f64;
        let source_per = m.source_rss_delta_kib as f64 / n as f64;
        row(
            &format!("RSS per feed, {n} idle feeds (source's RSS per connection)"),
            &format!("{per_feed:.1} KiB"),
            &format!("{source_per:.1} KiB"),
            &format!("{:.1}x", per_feed / source_per),
            "<= 40 KiB",
            per_feed <= 40.0,
        );
        let target_cpu = n < 10_000 || m.cpu_percent < 1.0;
        row(
            &format!("CPU while idle, {n} feeds (source sending the heartbeats)"),
            &format!("{:.2}% of a core", m.cpu_percent),
            &format!("{:.2}%", m.source_cpu_percent),
            &format!("{:.1}x", m.cpu_percent / m.source_cpu_percent.max(0.001)),
            if n >= 10_000 { "< 1%" } else { "-" },
            target_cpu,
        );
        notes.push(format!(
            "{n} feeds: import {:.1} s, all connected {:.1} s after start, RSS {} KiB (peak {} KiB), CPU {:.2}% \
             over {} s (per 10 s: {})",
            m.import_secs,
            m.connect_secs,
            m.rss_kib,
            m.peak_kib,
            m.cpu_percent,
            idle.as_secs(),
            m.slices
                .iter()
                .map(|c| format!("{c:.2}%"))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    println!();
    for note in notes {
        println!("- {note}");
    }
}

struct Measured {
    rss_kib: u64,
    peak_kib: u64,
    cpu_percent: f64,
    import_secs: f64,
    connect_secs: f64,
    source_rss_delta_kib: u64,
    source_cpu_percent: f64,
    /// CPU % in each 10-s slice of the idle span.
    slices: Vec<f64>,
}

fn measure(n: usize, idle: Duration, _empty: Option<&Measured>) -> Measured {
    let source = Source::start(&["--heartbeat", HEARTBEAT]);
    let source_before = rss_kib(source.pid());
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let started = Instant::now();
    if n > 0 {
        let file = dir.path().join("feeds.json");
        std::fs::write(&file, feeds_file(&source.url, n)).expect("write the import file");
        tidings_ok(dir.path(), &["feed", "import", file.to_str().expect("utf-8 path")]);
    }
    let import_secs = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let mut run = Running(
        tidings(dir.path(), &["run", "--no-notify"])
            .spawn()
            .expect("start tidings run"),
    );
    let connected = wait_until(Duration::from_secs(300), || source.stats().0 >= n as u64);
    assert!(
        connected,
        "only {} of {n} feeds connected within 300 s",
        source.stats().0
    );
    let connect_secs = started.elapsed().as_secs_f64();
    std::thread::sleep(SETTLE);
    let (pid, source_pid) = (run.pid(), source.pid());
    let (cpu_before, source_cpu_before) = (cpu_seconds(pid), cpu_seconds(source_pid));
    let idle_start = Instant::now();
    let mut slices = Vec::new();
    let mut slice_start = (Instant::now(), cpu_before);
    while idle_start.elapsed() < idle {
        std::thread::sleep(SLICE.min(idle.saturating_sub(idle_start.elapsed())));
        let now = (Instant::now(), cpu_seconds(pid));
        slices.push((now.1 - slice_start.1) / (now.0 - slice_start.0).as_secs_f64() * 100.0);
        slice_start = now;
    }
    let span = idle_start.elapsed().as_secs_f64();
    let cpu_percent = (cpu_seconds(pid) - cpu_before) / span * 100.0;
    let source_cpu_percent = (cpu_seconds(source_pid) - source_cpu_before) / span * 100.0;
    let measured = Measured {
        rss_kib: rss_kib(pid),
        peak_kib: procs::peak_rss_kib(pid),
        cpu_percent,
        import_secs,
        connect_secs,
        source_rss_delta_kib: rss_kib(source_pid).saturating_sub(source_before),
        source_cpu_percent,
        slices,
    };
    run.stop();
    measured
}

/// An export file of `n` feeds, half SSE and half WebSocket, all on the local source.
fn feeds_file(base: &str, n: usize) -> String {
    let ws_base = base.replacen("http://", "ws://", 1);
    let kind = std::env::var("TIDINGS_SCALE_KIND").unwrap_or_else(|_| "mixed".into());
    let configs: Vec<_> = (0..n)
        .map(|i| {
            let sse = match kind.as_str() {
                "sse" => true,
                "ws" => false,
                _ => i % 2 == 0,
            };
            let url = if sse {
                format!("{base}/sse?feed={i}")
            } else {
                format!("{ws_base}/ws?feed={i}")
            };
            FeedSpec {
                url,
                name: Some(format!("feed-{i}")),
                ..FeedSpec::default()
            }
            .validate()
            .expect("a valid feed")
        })
        .collect();
    tidings::portable::export(&configs)
}
