//! Closing the window ends its process, and the tray brings it back: the built `tidings-desktop`, started with
//! its window in a fresh home and data directory, starts `tidings-tray` and paints; its window is closed as a
//! window manager's close button does (`WM_DELETE_WINDOW`); the window's process exits, and WebKit's web and
//! network processes with it, while `tidings-tray` goes on following the feeds and shows the tray icon. A
//! click on the icon (as a panel sends it, over D-Bus) starts the window again, which must paint and load its
//! data through the core (the UI's paint marks, `src/commands/painted.rs`). Do not disturb is toggled from the
//! tray's menu; `tidings-tray` is killed, and the open window starts it again; its Quit then closes the window
//! and stops following.
//!
//! Needs a display (`xvfb-run`) and `dbus-daemon`: the tray item and the window's single-instance plugin live
//! on the session bus, here a private one. No panel runs here: the test reads and clicks the tray item as a
//! panel would. `scripts/test` runs it.

#![cfg(target_os = "linux")]

#[path = "../../tests/support/dbus.rs"]
mod dbus;
#[allow(dead_code)]
#[path = "../examples/desktop_bench/pss.rs"]
mod pss;
#[path = "support/tray.rs"]
mod tray;
#[path = "../examples/desktop_bench/x11.rs"]
mod x11;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

use dbus::NotificationBus;
use tidings::Engine;
use tray::TrayItem;

/// How long any one step may take: generous for a cold WebView on a small, shared CI machine.
const STEP: Duration = Duration::from_secs(60);
/// The window's title (`tauri.conf.json`).
const TITLE: &str = "Tidings";
/// The UI's paint marks: its first frame, and its first frame with the feeds and events loaded.
const SHELL: &str = "window painted: shell";
const LOADED: &str = "window painted: loaded";
/// WebKit's processes, by the start of their names (`comm` is cut at 15 bytes).
const WEB_PROCESS: &str = "WebKitWebProces";
const NETWORK_PROCESS: &str = "WebKitNetworkPr";

#[test]
#[ignore = "needs Xvfb and dbus-daemon: scripts/test runs it"]
fn the_window_closes_to_the_tray_and_comes_back() {
    assert!(
        std::env::var_os("DISPLAY").is_some(),
        "no DISPLAY: run this test under a display, e.g. \
         `xvfb-run -a cargo test -p tidings-desktop --test reopen -- --include-ignored`"
    );
    let bus = NotificationBus::start();
    let home = tempfile::tempdir().unwrap();
    let data = tempfile::tempdir().unwrap();
    let mut app = App::start(bus.address(), home.path(), data.path());
    app.wait_for_log(SHELL, "the window's first paint");
    app.wait_for_log(LOADED, "the window's data loaded");

    // The window started the background process, which follows the feeds and shows the tray icon.
    let engine = Engine::open(data.path()).unwrap();
    let mut follower = None;
    app.wait_until("a process to follow the feeds", |_| {
        follower = engine.follower_pid();
        follower.is_some()
    });
    let background = follower.unwrap_or_default();
    let _stop_background = StopOnDrop(background);
    assert_ne!(
        background,
        app.child.id(),
        "the window follows the feeds itself\n{}",
        app.log()
    );
    let mut item = None;
    app.wait_until("tidings-tray's item on the bus", |_| {
        item = TrayItem::of(bus.address(), background).ok();
        item.is_some()
    });
    let item = item.expect("waited for above");
    assert_eq!(item.tooltip(), "Tidings: nothing unread");
    let webkit: Vec<u32> = [WEB_PROCESS, NETWORK_PROCESS]
        .iter()
        .flat_map(|name| app.children_named(name))
        .collect();
    assert!(
        !webkit.is_empty(),
        "expected WebKit's processes under the window\n{}",
        app.log()
    );

    // Closed as a window manager's close button does: the window's process ends, and WebKit's with it.
    let asked = x11::close_window(TITLE).unwrap_or_else(|e| panic!("cannot close the window: {e}"));
    assert_eq!(asked, 1, "expected one viewable window titled {TITLE:?}\n{}", app.log());
    let status = app.wait_for_exit();
    assert!(
        status.success(),
        "the window's process failed ({status})\n{}",
        app.log()
    );
    app.wait_until("WebKit's web and network processes to exit", |_| {
        webkit.iter().all(|pid| !pss::is_running(*pid))
    });
    assert_eq!(engine.follower_pid(), Some(background), "the feeds are still followed");

    // A click on the tray icon starts the window again.
    item.activate();
    app.wait_for_log(SHELL, "the reopened window's first paint");
    app.wait_for_log(LOADED, "the reopened window's data loaded");
    let reopened = pss::children_named(background, "tidings-desktop");
    assert_eq!(
        reopened.len(),
        1,
        "expected the window under the tray process\n{}",
        app.log()
    );

    assert_eq!(
        item.menu()
            .iter()
            .map(|(_, label, _)| label.as_str())
            .collect::<Vec<_>>(),
        [
            "Show Tidings",
            "Pause all feeds",
            "Resume all feeds",
            "Do not disturb",
            "Quit Tidings"
        ]
    );
    // Do not disturb from the menu is saved for every face, and the menu shows it checked.
    item.click("Do not disturb");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    app.wait_until("do not disturb to be on, in the store and the menu", |_| {
        runtime.block_on(engine.do_not_disturb()).unwrap_or(false)
            && item
                .menu()
                .iter()
                .any(|(_, label, checked)| label == "Do not disturb" && *checked == Some(true))
    });

    // Should tidings-tray die, the open window starts it again: the feeds stay followed after the window closes.
    // SAFETY: a plain kill(2) of the tray process this test found above.
    unsafe { libc::kill(background as i32, libc::SIGKILL) };
    let mut follower = None;
    app.wait_until("the window to start tidings-tray again", |_| {
        follower = engine.follower_pid().filter(|pid| *pid != background);
        follower.is_some()
    });
    let background = follower.unwrap_or_default();
    let _stop_background_again = StopOnDrop(background);
    let mut item = None;
    app.wait_until("the new tidings-tray's item on the bus", |_| {
        item = TrayItem::of(bus.address(), background).ok();
        item.is_some()
    });
    let item = item.expect("waited for above");

    // Quit closes the window and stops following.
    item.click("Quit Tidings");
    app.wait_until("the window and the tray to quit", |_| {
        !pss::is_running(background) && !pss::is_running(reopened[0])
    });
    assert_eq!(engine.follower_pid(), None, "nothing follows the feeds after Quit");
}

/// One `tidings-desktop` process, its log read as it comes.
struct App {
    child: Child,
    lines: Receiver<String>,
    /// Every line read so far, for failure messages.
    seen: Vec<String>,
}

impl App {
    /// Start the app with its window, in `home` on the data directory `data`, on the session bus `bus`.
    fn start(bus: &str, home: &Path, data: &Path) -> App {
        let program = env!("CARGO_BIN_EXE_tidings-desktop");
        let mut child = Command::new(program)
            .env("HOME", home)
            .env("XDG_CONFIG_HOME", home.join(".config"))
            .env("XDG_CACHE_HOME", home.join(".cache"))
            .env("XDG_DATA_HOME", home.join(".local/share"))
            .env("DBUS_SESSION_BUS_ADDRESS", bus)
            .env("TIDINGS_DATA_DIR", data)
            .env("RUST_LOG", "info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {program}: {e}"));
        let stderr = child.stderr.take().expect("stderr is piped");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        App {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Read the log until a line containing `mark` (after those already read); panic after [`STEP`].
    fn wait_for_log(&mut self, mark: &str, what: &str) {
        let deadline = Instant::now() + STEP;
        loop {
            match self
                .lines
                .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            {
                Ok(line) => {
                    let found = line.contains(mark);
                    self.seen.push(line);
                    if found {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout) => panic!("no {what} (`{mark}`) within {STEP:?}\n{}", self.log()),
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the app exited before {what} (`{mark}`)\n{}", self.log())
                }
            }
        }
    }

    /// Poll `done` until it holds; panic after [`STEP`].
    fn wait_until(&mut self, what: &str, mut done: impl FnMut(&App) -> bool) {
        let deadline = Instant::now() + STEP;
        while !done(self) {
            assert!(Instant::now() < deadline, "waited {STEP:?} for {what}\n{}", self.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The app's descendants whose name contains `part`.
    fn children_named(&self, part: &str) -> Vec<u32> {
        pss::children_named(self.child.id(), part)
    }

    /// Wait for the process to exit by itself. Panics after [`STEP`].
    fn wait_for_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + STEP;
        loop {
            if let Some(status) = self.child.try_wait().expect("cannot wait for the app") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the app still runs after {STEP:?}\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The log read so far, and what is waiting, for a failure message.
    fn log(&self) -> String {
        let waiting: Vec<String> = self.lines.try_iter().collect();
        format!(
            "--- the app's log ---\n{}\n{}",
            self.seen.join("\n"),
            waiting.join("\n")
        )
    }
}

impl Drop for App {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Stops `tidings-tray` should the test fail before its Quit: it is not this test's child.
struct StopOnDrop(u32);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if pss::is_running(self.0) {
            // SAFETY: a plain kill(2); the pid was checked to be running just before.
            unsafe { libc::kill(self.0 as i32, libc::SIGTERM) };
        }
    }
}
