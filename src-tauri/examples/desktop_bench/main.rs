//! Part 7 of the benchmarks (issue 5): the desktop app, run by `bench/part-7-desktop` inside Xvfb and a
//! private D-Bus session. Prints markdown table rows (`| figure | ours | comparison | ratio | target | met? |`)
//! on stdout and its progress on stderr.
//!
//! 1. Seeds a data directory through the core: `--feeds` feeds on a local SSE source with heartbeats and
//!    `--events` stored events.
//! 2. Search: `Engine::events` (what the UI's `list_events` command calls) with typed text, p50.
//! 3. Cold start to first paint, `--runs` times, beside the hello-world window: the time from starting the
//!    process to the UI's paint marks in its log (the UI reports a frame once the next one has begun).
//! 4. Memory with the window open on those events (PSS over the window's process tree, i.e. with WebKit's
//!    processes, plus `tidings-tray`, which follows the feeds), beside the hello-world window's.
//! 5. The window closed (`WM_DELETE_WINDOW`, as a close button does): its process and WebKit's must exit; the
//!    memory left is `tidings-tray` following the feeds. Then the same after starting hidden (at login).

mod app;
mod pss;
mod search;
mod seed;
mod source;
mod streams;
mod x11;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use app::{LOADED, Running, SHELL};

/// How long any one step may take before the run fails.
const STEP: Duration = Duration::from_secs(60);

struct Options {
    app: PathBuf,
    hello: PathBuf,
    source: Option<String>,
    feeds: u64,
    events: u64,
    runs: usize,
    settle: Duration,
}

fn main() {
    if let Err(e) = run(parse(std::env::args().skip(1).collect())) {
        eprintln!("desktop_bench: {e}");
        std::process::exit(1);
    }
}

fn parse(args: Vec<String>) -> Options {
    let mut options = Options {
        app: PathBuf::new(),
        hello: PathBuf::new(),
        source: None,
        feeds: 100,
        events: 100_000,
        runs: 5,
        settle: Duration::from_secs(5),
    };
    let mut args = args.into_iter();
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage(&format!("{flag} needs a value")));
        let number = || {
            value
                .parse::<u64>()
                .unwrap_or_else(|_| usage(&format!("{flag} needs a number")))
        };
        match flag.as_str() {
            "--app" => options.app = value.clone().into(),
            "--hello" => options.hello = value.clone().into(),
            "--source" => options.source = Some(value.clone()),
            "--feeds" => options.feeds = number(),
            "--events" => options.events = number(),
            "--runs" => options.runs = number() as usize,
            "--settle" => options.settle = Duration::from_secs(number()),
            _ => usage(&format!("unknown option {flag}")),
        }
    }
    if options.app.as_os_str().is_empty() || options.hello.as_os_str().is_empty() {
        usage("--app and --hello are required");
    }
    options
}

fn usage(problem: &str) -> ! {
    eprintln!(
        "desktop_bench: {problem}\nusage: desktop_bench --app BIN --hello BIN [--source URL] [--feeds 100] \
         [--events 100000] [--runs 5] [--settle SECS]"
    );
    std::process::exit(2)
}

fn run(options: Options) -> Result<(), String> {
    let source = match &options.source {
        Some(url) => url.trim_end_matches('/').to_string(),
        None => source::start().map_err(|e| format!("cannot start the local source: {e}"))?,
    };
    let port: u16 = source
        .rsplit(':')
        .next()
        .and_then(|port| port.parse().ok())
        .ok_or_else(|| format!("cannot read the port of {source}"))?;
    let data = tempfile::tempdir().map_err(|e| e.to_string())?;
    let (feeds, events) = (options.feeds, options.events);

    eprintln!("seeding {feeds} feeds and {events} events on {source}");
    let started = Instant::now();
    seed::seed(data.path(), &source, feeds, events)?;
    eprintln!("  seeded in {:.1} s", started.elapsed().as_secs_f64());

    eprintln!("search");
    let mut times = search::run(data.path(), 20)?;
    times.sort();
    let (p50, p90) = (ms(percentile(&times, 0.5)), ms(percentile(&times, 0.9)));
    row(
        &format!(
            "search over {events} events, p50 (core API, no IPC; first page of {})",
            search::PAGE
        ),
        &format!("{p50:.1} ms (p90 {p90:.1})"),
        "-",
        "-",
        "<= 30 ms",
        p50 <= 30.0,
    );

    eprintln!("cold starts");
    let (mut shell, mut loaded, mut hello) = (Vec::new(), Vec::new(), Vec::new());
    for run in 1..=options.runs {
        let mut app = Running::start(&options.app, &[], data.path())?;
        shell.push(app.wait_for(SHELL, STEP)?);
        loaded.push(app.wait_for(LOADED, STEP)?);
        app.quit();
        // Each start is cold: the window starts tidings-tray too.
        stop(background(data.path())?, data.path())?;
        let mut window = Running::start(&options.hello, &[], data.path())?;
        hello.push(window.wait_for(SHELL, STEP)?);
        window.quit();
        eprintln!(
            "  run {run}: app {:.0} ms (data {:.0} ms), hello {:.0} ms",
            ms(shell[run - 1]),
            ms(loaded[run - 1]),
            ms(hello[run - 1])
        );
    }
    let (shell, loaded, hello) = (median(&mut shell), median(&mut loaded), median(&mut hello));
    row(
        &format!("cold start to first paint, median of {}", options.runs),
        &format!("{shell:.0} ms"),
        &format!("hello-world {hello:.0} ms"),
        &format!("{:.2}x", shell / hello),
        "<= 1000 ms",
        shell <= 1000.0,
    );
    row(
        &format!("cold start to first paint with {events} events listed, median"),
        &format!("{loaded:.0} ms"),
        &format!("hello-world {hello:.0} ms"),
        &format!("{:.2}x", loaded / hello),
        "<= 1000 ms",
        loaded <= 1000.0,
    );

    eprintln!("memory: hello-world window");
    let mut window = Running::start(&options.hello, &[], data.path())?;
    window.wait_for(SHELL, STEP)?;
    std::thread::sleep(options.settle);
    let baseline = pss::measure(window.pid());
    eprintln!("  {}", baseline.breakdown());
    window.quit();

    eprintln!("memory: the app's window open");
    let mut app = Running::start(&options.app, &[], data.path())?;
    app.wait_for(LOADED, STEP)?;
    let tray = background(data.path())?;
    wait_until(STEP, || streams::connected(tray, port) >= feeds as usize)
        .map_err(|_| format!("tidings-tray did not connect its {feeds} feeds"))?;
    std::thread::sleep(options.settle);
    let open = pss::measure_trees(&[app.pid(), tray]);
    eprintln!("  {}", open.breakdown());
    let ratio = open.pss_mib() / baseline.pss_mib();
    row(
        &format!("memory, window open on {events} events, {feeds} feeds (PSS, window + WebKit + tidings-tray)"),
        &format!("{:.0} MiB (RSS {:.0})", open.pss_mib(), open.rss_kib as f64 / 1024.0),
        &format!(
            "hello-world {:.0} MiB (RSS {:.0})",
            baseline.pss_mib(),
            baseline.rss_kib as f64 / 1024.0
        ),
        &format!("{ratio:.2}x"),
        "<= 1.3x",
        ratio <= 1.3,
    );

    eprintln!("memory: the window closed to the tray");
    let asked = x11::close_window("Tidings")?;
    if asked == 0 {
        return Err("found no window titled Tidings to close".into());
    }
    let webkit: Vec<u32> = pss::children_named(app.pid(), "WebKit");
    let since = Instant::now();
    wait_until(STEP, || {
        !pss::is_running(app.pid()) && webkit.iter().all(|pid| !pss::is_running(*pid))
    })
    .map_err(|_| "the window's process or WebKit's still run after the close".to_string())?;
    let released = since.elapsed();
    app.quit();
    std::thread::sleep(options.settle);
    let closed = pss::measure(tray);
    let following = streams::connected(tray, port);
    eprintln!(
        "  the window's and WebKit's processes exited {:.0} ms after the close; {following} streams open; {}",
        ms(released),
        closed.breakdown()
    );
    eprintln!("  largest mappings: {}", pss::top_mappings(tray, 12));
    stop(tray, data.path())?;
    row(
        &format!("memory, window closed to the tray, following {feeds} feeds (PSS in all)"),
        &format!("{:.1} MiB", closed.pss_mib()),
        &format!("window open {:.0} MiB", open.pss_mib()),
        &format!("{:.2}x", closed.pss_mib() / open.pss_mib()),
        "<= 40 MiB",
        closed.pss_mib() <= 40.0 && following >= feeds as usize,
    );

    eprintln!("memory: started hidden (at login)");
    let hidden = Running::start(&options.app, &["--hidden"], data.path())?;
    let started = background(data.path())?;
    hidden.quit();
    wait_until(STEP, || streams::connected(started, port) >= feeds as usize)
        .map_err(|_| format!("the hidden app did not connect its {feeds} feeds"))?;
    std::thread::sleep(options.settle);
    let tray = pss::measure(started);
    eprintln!("  {}", tray.breakdown());
    eprintln!("  largest mappings: {}", pss::top_mappings(started, 12));
    stop(started, data.path())?;
    row(
        &format!("memory, started hidden in the tray, following {feeds} feeds (PSS in all)"),
        &format!("{:.1} MiB", tray.pss_mib()),
        &format!("closed after opening {:.1} MiB", closed.pss_mib()),
        &format!("{:.2}x", tray.pss_mib() / closed.pss_mib()),
        "<= 40 MiB",
        tray.pss_mib() <= 40.0,
    );
    Ok(())
}

/// The process following the feeds (`tidings-tray`, started by the window), once it does.
fn background(data: &std::path::Path) -> Result<u32, String> {
    let engine = tidings::Engine::open(data).map_err(|e| e.to_string())?;
    let mut pid = None;
    wait_until(STEP, || {
        pid = engine.follower_pid();
        pid.is_some()
    })
    .map_err(|_| "no process follows the feeds: tidings-tray did not start".to_string())?;
    Ok(pid.unwrap_or_default())
}

/// Stop `tidings-tray` (SIGTERM, as a logout does) and wait until it has let go of the data directory.
fn stop(tray: u32, data: &std::path::Path) -> Result<(), String> {
    let _ = std::process::Command::new("kill")
        .args(["-TERM", &tray.to_string()])
        .status();
    let engine = tidings::Engine::open(data).map_err(|e| e.to_string())?;
    wait_until(STEP, || !engine.is_following()).map_err(|_| "tidings-tray did not stop on SIGTERM".to_string())
}

fn wait_until(limit: Duration, mut done: impl FnMut() -> bool) -> Result<(), ()> {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(())
}

fn row(figure: &str, ours: &str, comparison: &str, ratio: &str, target: &str, met: bool) {
    println!(
        "| 7. {figure} | {ours} | {comparison} | {ratio} | {target} | {} |",
        if met { "yes" } else { "no" }
    );
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn median(times: &mut [Duration]) -> f64 {
    times.sort();
    ms(percentile(times, 0.5))
}
