//! End to end, in the real WebView: the built `tidings-desktop` driven through WebDriver (`tauri-driver` in
//! front of WebKitWebDriver), with a private D-Bus session whose recording notification server stands in for
//! the desktop's, and a local SSE server standing in for the user's feed.
//!
//! It walks the first-run path a person takes: the empty state, testing and adding a feed, its events
//! arriving, searching, reading an event's raw payload, an event whose data is HTML that must stay text (and
//! run nothing), a feed added from another process (the CLI) showing up, pausing a feed; then it checks the
//! notifications that were raised. A failing test leaves a screenshot in `artifacts/`. Two shorter walks: the demo
//! feed from the empty state, and a clicked notification opening the window on its event (`--show-event`).
//!
//! Needs a display (`xvfb-run`), `tauri-driver` (`cargo install tauri-driver --locked`; or set
//! `TAURI_DRIVER`), `WebKitWebDriver` (Debian: webkit2gtk-driver) and `dbus-daemon`. `scripts/test` runs it.

#[path = "../../tests/support/dbus.rs"]
mod dbus;

use std::net::{Ipv4Addr, TcpListener as StdListener};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use dbus::NotificationBus;
use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::process::{Child, Command};
use tokio::time::{Instant, sleep, timeout};

/// How long any one step may take: generous for a cold WebView on a small CI machine.
const STEP: Duration = Duration::from_secs(30);

/// How long a screenshot may take before a passing test goes on without it, and a failing one.
const SCREENSHOT: Duration = Duration::from_secs(5);
const SCREENSHOT_OF_A_FAILURE: Duration = Duration::from_secs(100);

/// The feed the test adds through the UI, and what its server sends.
const FEED: &str = "e2e";
const XSS: &str = "<img src=x onerror=alert(1)>";
const EVENTS: &[(u32, &str, &str)] = &[
    (
        1,
        "deploy",
        r#"{"title":"deploy api v1.4.2 to production","message":"api v1.4.2 is live on production.","link":"https://example.com/deploys/api-v1.4.2"}"#,
    ),
    (
        2,
        "build",
        r#"{"title":"build web #42 passed","message":"All 312 tests passed in 4 min."}"#,
    ),
    (3, "message", XSS),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: scripts/test runs it"]
async fn a_feed_from_first_run_to_pause() {
    let feed = SseServer::start().await;
    let app = App::start().await;
    let result = walk(&app.client, &feed, app.data.path(), &app.bus).await;
    app.finish("e2e.png", result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: scripts/test runs it"]
async fn the_demo_feed_from_the_empty_state() {
    let app = App::start().await;
    let result = async {
        click(&app.client, "[data-testid=demo-button]").await?;
        let row = "[data-testid=feed-row][data-feed-name=demo]";
        eventually(&app.client, "the demo feed to be live", async || {
            Ok(text(&app.client, &format!("{row} [data-testid=feed-state]"))
                .await?
                .contains("live"))
        })
        .await?;
        eventually(&app.client, "a demo event to be listed", async || {
            Ok(count(&app.client, "[data-testid=event-row]").await? >= 1)
        })
        .await
    }
    .await;
    app.finish("e2e-demo.png", result).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Xvfb, tauri-driver and WebKitWebDriver: scripts/test runs it"]
async fn a_clicked_notification_opens_the_window_on_its_event() {
    // What a click on a notification without a link does when no window is open: `tidings-tray` starts the
    // window with `--show-event <seq>`, and the window opens on that event's detail.
    let feed = SseServer::start().await;
    let data = tempfile::tempdir().unwrap();
    let (url, dir) = (feed.url("/events"), data.path().to_path_buf());
    // On a runtime of its own, which ends with it: nothing the engine started stays on the test's.
    let build = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(store_the_feeds_events(&url, &dir))
    })
    .join()
    .unwrap();
    let app = App::start_on(data, &[tidings_desktop::SHOW_EVENT, &build.to_string()]).await;
    let result = eventually(&app.client, "the build event's detail to show", async || {
        let detail = text(&app.client, "[data-testid=event-detail] [data-testid=event-data]").await?;
        Ok(detail.contains("build web #42 passed"))
    })
    .await;
    app.finish("e2e-show-event.png", result).await;
}

/// Follow [`FEED`] at `url` with the engine alone (no window) until its events are stored; returns the build's seq.
async fn store_the_feeds_events(url: &str, data_dir: &Path) -> i64 {
    let engine = tidings::Engine::open(data_dir).unwrap();
    let spec = tidings::FeedSpec {
        url: url.to_string(),
        name: Some(FEED.into()),
        ..tidings::FeedSpec::default()
    };
    engine.add_feed(spec).await.unwrap();
    let options = tidings::FollowOptions {
        notifications: false,
        ..tidings::FollowOptions::default()
    };
    let following = engine.follow(options).await.unwrap();
    let deadline = Instant::now() + STEP;
    let events = loop {
        let events = engine.store().events(&Default::default()).unwrap();
        if events.len() == EVENTS.len() {
            break events;
        }
        assert!(Instant::now() < deadline, "only {} events stored", events.len());
        sleep(Duration::from_millis(50)).await;
    };
    following.shutdown().await;
    events.iter().find(|event| event.event_type == "build").unwrap().seq
}

/// One app under WebDriver, with its own notification bus and data directory. The apps of different tests
/// take turns: two WebViews at once make both slow on a small machine.
struct App {
    client: Client,
    driver: Driver,
    bus: NotificationBus,
    data: tempfile::TempDir,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

impl App {
    async fn start() -> App {
        App::start_on(tempfile::tempdir().unwrap(), &[]).await
    }

    /// Start the app on the data directory `data`, with these command-line arguments.
    async fn start_on(data: tempfile::TempDir, args: &[&str]) -> App {
        assert!(
            std::env::var_os("DISPLAY").is_some(),
            "no DISPLAY: run this test under a display, e.g. \
             `xvfb-run -a cargo test -p tidings-desktop --test e2e -- --include-ignored`"
        );
        let turn = TURN.lock().await;
        let bus = NotificationBus::start();
        let driver = Driver::start(bus.address(), data.path()).await;
        let client = driver.session(args).await;
        App {
            client,
            driver,
            bus,
            data,
            _turn: turn,
        }
    }

    /// Keep a screenshot in `artifacts/` (always for a failure, so it can be seen); then stop the app.
    async fn finish(self, screenshot: &str, result: Result<(), String>) {
        // WebKitWebDriver answers once the app next updates the page: on a page where nothing changes, that is
        // the next change of a feed's state (a silent feed reconnects after 90 s). A passing test does not wait.
        let patience = if result.is_ok() {
            SCREENSHOT
        } else {
            SCREENSHOT_OF_A_FAILURE
        };
        match timeout(patience, self.client.screenshot()).await {
            Ok(Ok(png)) => save_screenshot(screenshot, &png),
            Ok(Err(e)) => eprintln!("cannot take a screenshot: {e}"),
            Err(_) => eprintln!("no screenshot `{screenshot}`: WebKit gave none within {patience:?}"),
        }
        // `tidings-tray` first: the window standing by then takes over the feeds, the page shows it, and
        // WebKitWebDriver, which answers once the page next changes, ends the session at once (the other way
        // round, on a quiet page, closing waited about 85 s).
        stop_background(self.data.path()).await;
        let _ = self.client.close().await;
        self.driver.stop().await;
        // The window, should it outlive its session, lets go of the data directory too.
        stop_background(self.data.path()).await;
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }
}

/// The steps; an `Err` says which one failed and what the window showed.
async fn walk(app: &Client, feed: &SseServer, data_dir: &Path, bus: &NotificationBus) -> Result<(), String> {
    // First run: the empty state.
    find(app, "[data-testid=empty-state]").await?;
    // Record what must never happen from here on: an alert, or anything the CSP blocks.
    app.execute(
        "window.__alerted = undefined; window.alert = (m) => { window.__alerted = String(m); };
         window.__csp = []; document.addEventListener('securitypolicyviolation',
           (e) => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));",
        vec![],
    )
    .await
    .map_err(|e| format!("cannot instrument the page: {e}"))?;

    // Test a feed before adding it: its first events show.
    type_into(app, "[data-testid=add-feed-url]", &feed.url("/events")).await?;
    type_into(app, "[data-testid=add-feed-name]", FEED).await?;
    click(app, "[data-testid=add-feed-test]").await?;
    eventually(app, "the probe to show the feed's first events", async || {
        Ok(count(app, "[data-testid=probe-event]").await? >= 1)
    })
    .await?;

    // Add it: it shows up, live, and its events arrive in the list.
    click(app, "[data-testid=add-feed-submit]").await?;
    let row = format!("[data-testid=feed-row][data-feed-name={FEED}]");
    find(app, &row).await?;
    eventually(app, "the three events to be listed", async || {
        Ok(count(app, "[data-testid=event-row]").await? == EVENTS.len())
    })
    .await?;
    eventually(app, "three unread events", async || {
        Ok(text(app, "[data-testid=unread-count]").await? == "3")
    })
    .await?;
    eventually(app, "the feed to be live", async || {
        Ok(text(app, &format!("{row} [data-testid=feed-state]"))
            .await?
            .contains("live"))
    })
    .await?;

    // Search: only the deploy is left; its detail shows the raw payload, pretty-printed.
    type_into(app, "[data-testid=search]", "deploy").await?;
    eventually(app, "the search to leave only the deploy", async || {
        let titles = texts(app, "[data-testid=event-row] [data-testid=event-title]").await?;
        Ok(titles == ["deploy api v1.4.2 to production"])
    })
    .await?;
    click(app, "[data-testid=event-row]").await?;
    eventually(app, "the deploy's raw payload in the detail pane", async || {
        let data = text(app, "[data-testid=event-detail] [data-testid=event-data]").await?;
        Ok(data.contains("\"title\": \"deploy api v1.4.2 to production\""))
    })
    .await?;

    // The HTML event: searching its text finds it, and its detail shows the markup as text.
    clear(app, "[data-testid=search]").await?;
    type_into(app, "[data-testid=search]", "onerror").await?;
    eventually(app, "the search to find the HTML event", async || {
        let rows = texts(app, "[data-testid=event-row]").await?;
        Ok(rows.len() == 1 && rows[0].contains(XSS))
    })
    .await?;
    click(app, "[data-testid=event-row]").await?;
    eventually(app, "the HTML event's payload shown as text", async || {
        Ok(text(app, "[data-testid=event-detail] [data-testid=event-data]").await? == XSS)
    })
    .await?;
    if count(app, "img[src=x]").await? != 0 {
        return Err("an <img> element was created: event data was rendered as HTML".into());
    }
    let alerted = app
        .execute("return window.__alerted ?? null;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    if alerted != json!(null) {
        return Err(format!("the event's markup ran script: alert({alerted})"));
    }
    clear(app, "[data-testid=search]").await?;

    // A feed added by another process (as `tidings feed add` does) shows up within seconds.
    let other = tidings::Engine::open(data_dir).map_err(|e| e.to_string())?;
    other
        .add_feed(tidings::FeedSpec {
            url: feed.url("/quiet"),
            name: Some("from-cli".into()),
            ..Default::default()
        })
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    find(app, "[data-testid=feed-row][data-feed-name=from-cli]").await?;
    eprintln!("a feed added by another process showed after {:?}", started.elapsed());
    eventually(app, "the app to follow the feed added by another process", async || {
        let state = text(
            app,
            "[data-testid=feed-row][data-feed-name=from-cli] [data-testid=feed-state]",
        )
        .await?;
        Ok(state.contains("live"))
    })
    .await?;

    // Pause the feed: its state says so.
    click(app, &format!("{row} [data-testid=feed-pause]")).await?;
    eventually(app, "the feed to show as paused", async || {
        Ok(text(app, &format!("{row} [data-testid=feed-state]"))
            .await?
            .contains("paused"))
    })
    .await?;
    find(app, &format!("{row} [data-testid=feed-resume]")).await?;

    // Mark all read: nothing unread is left.
    click(app, "[data-testid=mark-all-read]").await?;
    eventually(app, "nothing unread after marking all read", async || {
        Ok(text(app, "[data-testid=unread-count]").await? == "0")
    })
    .await?;

    // Notifications were raised for the new events, with the markup escaped.
    let recorded = tokio::task::block_in_place(|| bus.wait_for(1, STEP));
    if recorded.is_empty() {
        return Err("no desktop notification was raised".into());
    }
    eprintln!(
        "notifications: {:?}",
        recorded.iter().map(|n| (&n.summary, &n.body)).collect::<Vec<_>>()
    );
    if recorded.iter().any(|n| n.body.contains("<img")) {
        return Err(format!("a notification carried raw markup: {recorded:?}"));
    }

    // Nothing was blocked by the CSP, and no dialog is open.
    let blocked = app
        .execute("return window.__csp;", vec![])
        .await
        .map_err(|e| e.to_string())?;
    if blocked != json!([]) {
        return Err(format!("the CSP blocked: {blocked}"));
    }
    if let Ok(text) = app.get_alert_text().await {
        return Err(format!("a dialog is open: {text}"));
    }
    Ok(())
}

async fn find(app: &Client, css: &str) -> Result<Element, String> {
    app.wait()
        .at_most(STEP)
        .for_element(Locator::Css(css))
        .await
        .map_err(|e| format!("`{css}` did not appear within {STEP:?}: {e}"))
}

async fn click(app: &Client, css: &str) -> Result<(), String> {
    find(app, css)
        .await?
        .click()
        .await
        .map_err(|e| format!("cannot click `{css}`: {e}"))
}

async fn type_into(app: &Client, css: &str, text: &str) -> Result<(), String> {
    find(app, css)
        .await?
        .send_keys(text)
        .await
        .map_err(|e| format!("cannot type into `{css}`: {e}"))
}

/// Empty a text field the way a person does: select everything, delete.
async fn clear(app: &Client, css: &str) -> Result<(), String> {
    const CONTROL: char = '\u{E009}';
    const DELETE: char = '\u{E017}';
    type_into(app, css, &format!("{CONTROL}a{CONTROL}{DELETE}")).await
}

async fn count(app: &Client, css: &str) -> Result<usize, String> {
    app.find_all(Locator::Css(css))
        .await
        .map(|found| found.len())
        .map_err(|e| format!("cannot look for `{css}`: {e}"))
}

/// The text of the first element matching `css` (its `textContent`: WebKitWebDriver's rendered text leaves
/// out text inside transformed rows).
async fn text(app: &Client, css: &str) -> Result<String, String> {
    texts(app, css)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| format!("no `{css}`"))
}

async fn texts(app: &Client, css: &str) -> Result<Vec<String>, String> {
    let script = "return Array.from(document.querySelectorAll(arguments[0]), (e) => e.textContent.trim());";
    let found = app
        .execute(script, vec![json!(css)])
        .await
        .map_err(|e| format!("cannot read `{css}`: {e}"))?;
    serde_json::from_value(found).map_err(|e| format!("cannot read `{css}`: {e}"))
}

/// Check `condition` every 100 ms until it holds, for at most [`STEP`]. A check that errors (an element
/// re-rendered between finding and reading it) counts as not yet.
async fn eventually(app: &Client, what: &str, condition: impl AsyncFn() -> Result<bool, String>) -> Result<(), String> {
    let deadline = Instant::now() + STEP;
    let mut last = String::new();
    loop {
        match condition().await {
            Ok(true) => return Ok(()),
            Ok(false) => last.clear(),
            Err(e) => last = e,
        }
        if Instant::now() >= deadline {
            let shown = text(app, "body").await.unwrap_or_default();
            return Err(format!(
                "timed out after {STEP:?} waiting for {what}{}\nthe window showed:\n{shown}",
                if last.is_empty() {
                    String::new()
                } else {
                    format!(" ({last})")
                }
            ));
        }
        sleep(Duration::from_millis(100)).await;
    }
}

fn save_screenshot(name: &str, png: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts");
    let path = dir.join(name);
    match std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, png)) {
        Ok(()) => eprintln!("screenshot: {}", path.display()),
        Err(e) => eprintln!("cannot save the screenshot to {}: {e}", path.display()),
    }
}

/// `tauri-driver` on a free port, with the app's environment: the private bus and a fresh data directory.
struct Driver {
    child: Child,
    port: u16,
}

impl Driver {
    async fn start(bus: &str, data_dir: &Path) -> Driver {
        let program = std::env::var_os("TAURI_DRIVER").unwrap_or_else(|| "tauri-driver".into());
        let (port, native_port) = (free_port(), free_port());
        let child = Command::new(&program)
            .args(["--port", &port.to_string(), "--native-port", &native_port.to_string()])
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("TIDINGS_DATA_DIR", data_dir)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {program:?}: {e}; install it with `cargo install tauri-driver --version '^2' --locked` \
                     (it needs WebKitWebDriver: apt-get install webkit2gtk-driver)"
                )
            });
        Driver { child, port }
    }

    /// A WebDriver session on the app started with `args`; retried while tauri-driver and WebKitWebDriver come up.
    async fn session(&self, args: &[&str]) -> Client {
        let app = env!("CARGO_BIN_EXE_tidings-desktop");
        let capabilities = json!({"browserName": "wry", "tauri:options": {"application": app, "args": args}});
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let url = format!("http://127.0.0.1:{}", self.port);
        let deadline = Instant::now() + STEP;
        loop {
            let mut builder = ClientBuilder::native();
            builder.capabilities(capabilities.clone());
            match timeout(STEP, builder.connect(&url)).await {
                Ok(Ok(client)) => return client,
                Ok(Err(_)) if Instant::now() < deadline => sleep(Duration::from_millis(250)).await,
                Ok(Err(e)) => panic!("no WebDriver session on {url} within {STEP:?}: {e}"),
                Err(_) => panic!("creating a WebDriver session on {url} took longer than {STEP:?}"),
            }
        }
    }

    async fn stop(mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }
}

/// Stop the process following the feeds of `data_dir` (the `tidings-tray` the window started, which outlives
/// the window as it does for a user, or the window that took over from it), and wait until it has let go.
async fn stop_background(data_dir: &Path) {
    let Ok(engine) = tidings::Engine::open(data_dir) else {
        return;
    };
    let Some(pid) = engine.follower_pid() else {
        return;
    };
    // SAFETY: a plain kill(2) of the process that holds this test's own follower lock.
    #[cfg(unix)]
    unsafe {
        libc::kill(pid as i32, libc::SIGTERM)
    };
    let deadline = Instant::now() + STEP;
    while engine.is_following() && Instant::now() < deadline {
        sleep(Duration::from_millis(50)).await;
    }
}

fn free_port() -> u16 {
    StdListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port on 127.0.0.1")
}

/// A tiny SSE server on 127.0.0.1:0: `/events` sends [`EVENTS`] after the client's `Last-Event-ID`, then holds
/// the connection open; any other path is a live feed that never says anything.
struct SseServer {
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl SseServer {
    async fn start() -> SseServer {
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream));
            }
        });
        SseServer { port, task }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for SseServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(mut stream: TcpStream) {
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let request = String::from_utf8_lossy(&request).to_string();
    let path = request.split_whitespace().nth(1).unwrap_or("/").to_string();
    let after: u32 = request
        .lines()
        .find_map(|line| {
            line.to_ascii_lowercase()
                .strip_prefix("last-event-id:")
                .map(str::to_string)
        })
        .and_then(|id| id.trim().parse().ok())
        .unwrap_or(0);
    let mut response = String::from(
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n\
         retry: 1000\n: tidings e2e feed\n\n",
    );
    if path == "/events" {
        for (id, kind, data) in EVENTS.iter().filter(|(id, _, _)| *id > after) {
            response.push_str(&format!("id: {id}\nevent: {kind}\ndata: {data}\n\n"));
        }
    }
    if stream.write_all(response.as_bytes()).await.is_err() {
        return;
    }
    // Hold the stream open until the client goes away.
    while matches!(stream.read(&mut buf).await, Ok(n) if n > 0) {}
}
