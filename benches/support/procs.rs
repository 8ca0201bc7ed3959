//! Processes and measurements shared by the whole-program benchmarks (parts 4-6 of issue 5): the local
//! event source (`examples/bench_source.rs`), a `tidings` process on a data directory of its own, and
//! what /proc says about a process (RSS, CPU time).

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The `tidings` binary built with this bench.
pub fn tidings_bin() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_tidings"))
}

/// `cargo test --all-targets` (the test suite) runs each bench once without `--bench`: these benches measure for
/// minutes against release builds, so there they only say how to run them. True when that is the case.
pub fn not_benchmarking(name: &str) -> bool {
    let benchmarking = std::env::args().any(|arg| arg == "--bench");
    if !benchmarking {
        println!("benches/{name}.rs measures for minutes: run it with `cargo bench --bench {name}` or `bench/run`");
    }
    !benchmarking
}

/// The event source: `$TIDINGS_BENCH_SOURCE`, or the example built next to this bench
/// (`cargo build --release --example bench_source`).
pub fn source_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("TIDINGS_BENCH_SOURCE") {
        return PathBuf::from(path);
    }
    let exe = std::env::current_exe().expect("the bench's own path");
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>/deps/<bench>");
    let path = profile_dir.join("examples").join("bench_source");
    assert!(
        path.exists(),
        "{} is missing: run `cargo build --release --example bench_source` first (bench/run does)",
        path.display()
    );
    path
}

/// A running event source, killed on drop.
pub struct Source {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
}

impl Source {
    pub fn start(args: &[&str]) -> Source {
        let mut child = Command::new(source_bin())
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start bench_source");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("piped"))
            .read_line(&mut line)
            .expect("read the source's address");
        Source {
            child,
            url: line.trim().to_string(),
        }
    }

    /// (connections open, events written) as the source counts them.
    pub fn stats(&self) -> (u64, u64) {
        let address = self.url.trim_start_matches("http://");
        let mut stream = TcpStream::connect(address).expect("connect to the source");
        stream
            .write_all(b"GET /stats HTTP/1.1\r\nhost: x\r\n\r\n")
            .expect("ask the source");
        let mut text = String::new();
        let _ = stream.read_to_string(&mut text);
        let body = text.split("\r\n\r\n").nth(1).unwrap_or("{}");
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
        (json["open"].as_u64().unwrap_or(0), json["served"].as_u64().unwrap_or(0))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Source {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `tidings --data-dir DIR ARGS…` with no inherited session bus and quiet logs.
pub fn tidings(dir: &Path, args: &[&str]) -> Command {
    let mut command = Command::new(tidings_bin());
    command
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env_remove("TIDINGS_DATA_DIR")
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("RUST_LOG", std::env::var("RUST_LOG").unwrap_or_else(|_| "warn".into()));
    command
}

/// Run a `tidings` command to completion; panics with its output when it fails.
pub fn tidings_ok(dir: &Path, args: &[&str]) -> String {
    let output = tidings(dir, args).output().expect("run tidings");
    assert!(
        output.status.success(),
        "tidings {args:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A child process stopped with SIGINT (a clean shutdown) on drop, killed if it does not go.
pub struct Running(pub Child);

impl Running {
    pub fn pid(&self) -> u32 {
        self.0.id()
    }

    /// Ask it to stop (SIGINT) and wait up to 30 s.
    pub fn stop(&mut self) {
        let _ = Command::new("kill").arg("-INT").arg(self.0.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.0.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Ok(None) = self.0.try_wait() {
            self.stop();
        }
    }
}

/// Resident set size in KiB (`VmRSS`).
pub fn rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmRSS:")
}

/// Peak resident set size in KiB (`VmHWM`).
pub fn peak_rss_kib(pid: u32) -> u64 {
    status_field(pid, "VmHWM:")
}

fn status_field(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix(field))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// User + system CPU time of a process so far, in seconds.
pub fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|f| f.parse::<u64>().ok()).unwrap_or(0);
    // utime and stime are fields 14 and 15 of stat; here, counted from field 3, at 11 and 12.
    (ticks(11) + ticks(12)) as f64 / clock_ticks_per_second()
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// Poll `check` every 50 ms until it is true or `timeout` passes; false on timeout.
pub fn wait_until(timeout: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    check()
}

/// The `q` quantile (0..=1) of sorted values.
pub fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let index = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[index]
}

/// One row of the figures table: `| figure | ours | comparison | ratio | target | met? |`.
pub fn row(figure: &str, ours: &str, comparison: &str, ratio: &str, target: &str, met: bool) {
    println!(
        "| {figure} | {ours} | {comparison} | {ratio} | {target} | {} |",
        if met { "yes" } else { "**no**" }
    );
}
