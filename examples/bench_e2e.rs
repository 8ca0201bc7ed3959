//! End to end into the store (issue 5, items 2 and 3): follow one feed the way `tidings run --no-notify`
//! does — the engine API, a fresh data directory, its real SQLite file — and time how long it takes until the
//! store holds `--events` events. Prints one line of `key=value` figures for `bench/part-2-sse-e2e` and
//! `bench/part-3-ws-e2e`: events, seconds, events_per_s, peak_rss_kib (VmHWM of this process), and cpu_s: each
//! thread's CPU seconds until the clock stopped (name:seconds, comma-separated; the feeds run on `bench_e2e`).
//!
//! The clock starts when following starts (so it includes connecting, parsing, the supervisor, presenting,
//! dedup and every SQLite commit) and stops when a reader sees the last event committed.

use std::time::{Duration, Instant};

use clap::Parser;
use tidings::{Engine, FeedSpec, FollowOptions};

#[derive(Debug, Parser)]
struct Args {
    /// The feed: http://…/sse or ws://…/ws?after={{cursor}}
    url: String,
    /// Stop once the store holds this many events
    #[arg(long, default_value_t = 2_000_000)]
    events: i64,
    /// Each event's id at this JSON pointer (WebSocket feeds)
    #[arg(long)]
    cursor_pointer: Option<String>,
    /// Give up after this many seconds
    #[arg(long, default_value_t = 600)]
    timeout: u64,
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// CPU seconds each thread of this process has used so far, by thread name (from /proc; Linux reports
/// them in USER_HZ ticks, 100 a second). The feeds run on the main thread (`bench_e2e`).
fn cpu_by_thread() -> Vec<(String, f64)> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return Vec::new();
    };
    let mut threads: Vec<(String, f64)> = tasks
        .filter_map(|task| std::fs::read_to_string(task.ok()?.path().join("stat")).ok())
        .filter_map(|stat| {
            let (head, rest) = stat.rsplit_once(") ")?;
            let name = head.split_once(" (")?.1.to_owned();
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
            Some((name, ticks as f64 / 100.0))
        })
        .filter(|(_, seconds)| *seconds > 0.0)
        .collect();
    threads.sort_by(|a, b| b.1.total_cmp(&a.1));
    threads
}

// The runtime `tidings run` has (src/main.rs): one thread for the feeds; the writer has its own.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    let dir = tempfile::tempdir()?;
    let engine = Engine::open(dir.path())?;
    engine
        .add_feed(FeedSpec {
            url: args.url.clone(),
            name: Some("bench".into()),
            cursor_pointer: args.cursor_pointer.clone(),
            ..FeedSpec::default()
        })
        .await?;
    let reader = rusqlite::Connection::open(engine.store().path())?;
    if let Ok(sql) = std::env::var("BENCH_E2E_SQL") {
        reader.execute_batch(&sql)?;
    }
    let options = FollowOptions {
        notifications: false,
        ..FollowOptions::default()
    };
    let started = Instant::now();
    let following = engine.follow(options).await?;
    let mut stored: i64 = 0;
    while stored < args.events {
        if started.elapsed() > Duration::from_secs(args.timeout) {
            following.shutdown().await;
            return Err(format!("only {stored} of {} events stored in {} s", args.events, args.timeout).into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        stored = reader.query_row("SELECT coalesce(max(seq), 0) FROM events", [], |row| row.get(0))?;
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_by_thread();
    following.shutdown().await;
    let (count, last): (i64, i64) = reader.query_row("SELECT count(*), max(seq) FROM events", [], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })?;
    let distinct: i64 = reader.query_row("SELECT count(DISTINCT event_id) FROM events", [], |row| row.get(0))?;
    if count != last || distinct != count {
        return Err(
            format!("{count} rows, {distinct} distinct ids, last seq {last}: events were lost or repeated").into(),
        );
    }
    let cpu: Vec<String> = cpu
        .iter()
        .map(|(name, seconds)| format!("{name}:{seconds:.2}"))
        .collect();
    println!(
        "events={stored} seconds={seconds:.3} events_per_s={:.0} peak_rss_kib={} cpu_s={}",
        stored as f64 / seconds,
        peak_rss_kib(),
        cpu.join(",")
    );
    Ok(())
}
